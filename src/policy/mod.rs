//! The CI policy: the `[ci]` section of `.strata.toml` or a dive `.dive-ci` file
//! ([`config`]), and its pure evaluation against an analysed image ([`rules`]). Rendering the
//! outcome is the report's job ([`crate::report::ci`]); running the gate is the CLI's.
//!
//! Exit codes of the gate: 0 every rule passed (warnings allowed), 1 a rule failed, 2 the image
//! could not be analysed or the policy is invalid. The rules, config keys and dive mapping are
//! documented in `docs/ci.md`.

pub mod config;
pub mod diff;
pub mod rules;

pub use config::{ByteLimit, PathPattern, Policy, Raw};
pub use rules::{evaluate, Metrics, Outcome, RuleResult, Status, Verdict};

#[cfg(test)]
pub(crate) mod tests {
    use crate::model::{Image, ImageConfig, Origin};

    /// An image with no layers, for unit tests.
    pub(crate) fn empty_image() -> Image {
        Image {
            reference: "unit-test".into(),
            id: "sha256:00".into(),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            manifest_digest: None,
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            created: None,
            config: ImageConfig::default(),
            history: Vec::new(),
            layers: Vec::new(),
            fs: crate::model::FileSystem::default(),
            warnings: Vec::new(),
            origin: Origin::Daemon("unit-test".into()),
            content_matches: Vec::new(),
            captured: std::collections::HashMap::new(),
            known_base: None,
            provenance: Default::default(),
            referrers: None,
            documents: Default::default(),
        }
    }
}
