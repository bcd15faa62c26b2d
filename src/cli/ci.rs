//! `strata ci`: the command-line side of the policy gate. Reads the policy and flags, runs the
//! engine entry point, evaluates the policy ([`crate::policy`]) and writes the summary
//! ([`crate::report::ci`]).
//!
//! Exit codes: 0 every rule passed (warnings allowed), 1 a rule failed, 2 the image could not
//! be analysed or the policy is invalid. The rules, config keys and dive mapping are documented
//! in `docs/ci.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::write_out;
use crate::analysis::pipeline::{analyse, Settings};
use crate::analysis::signatures::SignatureOptions;
use crate::config::FindingsConfig;
use crate::policy::{evaluate, Policy, Raw};
use crate::report::ci::{render_json, render_text};
use crate::source::{Input, LoadOptions};
use crate::{Error, Result};

/// Arguments of `strata ci`. Every rule flag mirrors a `[ci]` key of `.strata.toml` and
/// overrides it; list flags add to the lists of the file.
#[derive(Debug, Clone, Args)]
pub struct CiArgs {
    /// Image reference or archive.
    pub image: String,
    /// Policy file: `.strata.toml` style, or a dive `.dive-ci` [default: `.dive-ci` then
    /// `.strata.toml` in the working directory, when present].
    #[arg(long, short, alias = "ci-config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Fail when the efficiency score is below this (0.9 or "90%"; "off" disables).
    #[arg(long, alias = "lowestEfficiency", value_name = "FRACTION")]
    pub lowest_efficiency: Option<String>,
    /// Fail when reclaimable bytes exceed this ("20MB", "20MiB", "1.5GiB", "5%" of the image).
    #[arg(long, alias = "highestWastedBytes", value_name = "SIZE")]
    pub highest_reclaimable_bytes: Option<String>,
    /// Fail when reclaimable bytes of layers 1..n exceed this share of their bytes (0.1 or "10%").
    #[arg(long, alias = "highestUserWastedPercent", value_name = "FRACTION")]
    pub highest_user_reclaimable_percent: Option<String>,
    /// Highest severity allowed for a category, e.g. `secret=low` or `config=none` (repeatable).
    #[arg(long, value_name = "CATEGORY=LEVEL")]
    pub max_severity: Vec<String>,
    /// Fail whenever this rule id fires (repeatable).
    #[arg(long = "forbid-rules", alias = "forbid-rule", value_name = "ID")]
    pub forbid_rules: Vec<String>,
    /// Ignore findings of this rule id (repeatable).
    #[arg(long = "allow-rules", alias = "allow-rule", value_name = "ID")]
    pub allow_rules: Vec<String>,
    /// Ignore findings under this path: a glob (`/app/test/**`) or `re:REGEX` (repeatable).
    #[arg(long = "allow-paths", alias = "allow-path", value_name = "PATTERN")]
    pub allow_paths: Vec<String>,
    /// Ignore findings inherited from the base image (`--ignore-inherited`, or `=false`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub ignore_inherited: Option<String>,
    /// Fail unless a valid SLSA provenance attestation names the image
    /// (`--require-provenance`, or `=false`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub require_provenance: Option<String>,
    /// Fail when a finding of at least this severity remains [default: high].
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<String>,
    /// Warn when a finding of at least this severity remains [default: medium].
    #[arg(long, value_name = "LEVEL")]
    pub warn_on: Option<String>,
    /// Fail unless the image has a valid signature (`--require-signature`, or `=false`);
    /// needs `--key`, or `--certificate-identity` with `--trusted-root`.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub require_signature: Option<String>,
    /// Signature checks (override the `[ci]` keys of the same names).
    #[command(flatten)]
    pub signatures: super::signatures::SignatureArgs,
    /// Format of the summary.
    #[arg(long, short, value_enum, default_value_t = CiFormat::Text)]
    pub format: CiFormat,
    /// Write the summary to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write SARIF 2.1.0 (for code scanning) to this file.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// Formats of the `strata ci` summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiFormat {
    /// Readable text.
    Text,
    /// The outcome as JSON (`strata.ci/v1`).
    Json,
    /// A pull-request comment.
    Markdown,
}

impl CiArgs {
    /// Applies the rule flags on top of `policy`.
    pub fn apply_flags(&self, policy: &mut Policy) -> Result<()> {
        let flag = |name: &str, p: String| Error::Other(format!("--{name}: {p}"));
        let sig = &self.signatures;
        let path_text = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let (key, root) = (path_text(&sig.key), path_text(&sig.trusted_root));
        let scalars = [
            ("require-signature", &self.require_signature),
            ("key", &key),
            ("trusted-root", &root),
            ("certificate-identity", &sig.certificate_identity),
            ("certificate-oidc-issuer", &sig.certificate_oidc_issuer),
            ("lowest-efficiency", &self.lowest_efficiency),
            ("highest-reclaimable-bytes", &self.highest_reclaimable_bytes),
            (
                "highest-user-reclaimable-percent",
                &self.highest_user_reclaimable_percent,
            ),
            ("ignore-inherited", &self.ignore_inherited),
            ("require-provenance", &self.require_provenance),
            ("fail-on", &self.fail_on),
            ("warn-on", &self.warn_on),
        ];
        for (name, v) in scalars {
            if let Some(v) = v {
                policy
                    .set(name, &Raw::Str(v.clone()))
                    .map_err(|p| flag(name, p))?;
            }
        }
        let lists = [
            ("max-severity", &self.max_severity),
            ("forbid-rules", &self.forbid_rules),
            ("allow-rules", &self.allow_rules),
            ("allow-paths", &self.allow_paths),
        ];
        for (name, vs) in lists {
            for v in vs {
                policy
                    .set(name, &Raw::Str(v.clone()))
                    .map_err(|p| flag(name, p))?;
            }
        }
        policy
            .validate()
            .map_err(|p| Error::Other(format!("policy: {p}")))
    }
}

/// The `[secrets]` / `[findings]` configuration for `strata ci`: from the `--config` file
/// when it is a `.strata.toml`-style file, else `.strata.toml` in the working directory.
fn findings_config(explicit: Option<&Path>) -> Result<FindingsConfig> {
    if let Some(f) = explicit {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        if !crate::policy::config::is_dive_ci(f, &text) {
            return FindingsConfig::from_toml(&text, &f.display().to_string());
        }
    }
    FindingsConfig::discover()
}

/// Runs `strata ci`: loads the policy (exit 2 when invalid), analyses the image (exit 2 when it
/// cannot), evaluates and prints; returns 0 or 1.
pub fn run(args: &CiArgs, opts: &LoadOptions) -> Result<ExitCode> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let mut policy = Policy::load(args.config.as_deref(), &cwd)?;
    args.apply_flags(&mut policy)?;
    for w in &policy.warnings {
        eprintln!("strata: warning: {w}");
    }
    let cfg = findings_config(args.config.as_deref())?;
    let settings = Settings {
        signatures: std::sync::Arc::new(SignatureOptions::load(
            policy.key.as_deref(),
            policy.trusted_root.as_deref(),
            policy.certificate_identity.clone(),
            policy.certificate_oidc_issuer.clone(),
        )?),
        ..Settings::new(opts.clone(), cfg)
    };
    let (progress, bar) = super::progress::Bar::for_load(opts);
    let analysed = analyse(&Input::parse(&args.image), &settings, &progress);
    if let Some(b) = bar {
        b.finish();
    }
    let a = analysed?;
    let outcome = evaluate(&a.image, &a.efficiency, &a.findings, &policy);
    let text = match args.format {
        CiFormat::Text => render_text(&a, &policy, &outcome),
        CiFormat::Json => render_json(&a, &outcome),
        CiFormat::Markdown => crate::report::markdown::render(&a, Some(&outcome)),
    };
    if let Some(p) = &args.sarif {
        let sarif = crate::report::sarif::render(&a);
        std::fs::write(p, sarif).map_err(|e| Error::io(p, e))?;
    }
    write_out(args.output.as_deref(), &text)?;
    Ok(ExitCode::from(outcome.exit_code()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ByteLimit;

    #[test]
    fn flags_override_and_errors_name_the_flag() {
        let mut args = CiArgs {
            image: "x".into(),
            config: None,
            lowest_efficiency: Some("0.5".into()),
            highest_reclaimable_bytes: Some("20MiB".into()),
            highest_user_reclaimable_percent: None,
            max_severity: vec!["secret=low".into()],
            forbid_rules: vec!["a.b".into()],
            allow_rules: Vec::new(),
            allow_paths: vec!["/tmp/**".into()],
            fail_on: Some("critical".into()),
            ignore_inherited: None,
            require_provenance: None,
            warn_on: Some("off".into()),
            require_signature: None,
            signatures: Default::default(),
            format: CiFormat::Text,
            output: None,
            sarif: None,
        };
        let mut p = Policy::default();
        args.apply_flags(&mut p).unwrap();
        assert_eq!(p.lowest_efficiency, Some(0.5));
        assert_eq!(
            p.highest_reclaimable_bytes,
            Some(ByteLimit::Bytes(20_971_520))
        );
        assert_eq!(p.warn_on, None);
        assert_eq!(p.forbid_rules, ["a.b"]);
        args.highest_reclaimable_bytes = Some("20XB".into());
        let e = args
            .apply_flags(&mut Policy::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--highest-reclaimable-bytes: invalid size"),
            "{e}"
        );
        args.highest_reclaimable_bytes = None;
        args.max_severity = vec!["secrets:low".into()];
        let e = args
            .apply_flags(&mut Policy::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--max-severity:"), "{e}");
    }
}
