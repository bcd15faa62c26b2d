//! What the CycloneDX and SPDX documents share: the image's name and purl, a timestamp taken
//! from the image (never the clock), deterministic identifiers, license classification, and
//! the package list with layer digests.

use sha2::{Digest, Sha256};

use super::Report;
use crate::analysis::finding::Package;
use crate::analysis::packages::{purl, Detail, Inventory};
use crate::config::FindingsConfig;

/// The two SBOM formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CycloneDX 1.6 JSON.
    CycloneDx,
    /// SPDX 2.3 JSON.
    Spdx,
}

/// The SBOM of an opened image (read with the package inspector, which keeps the package
/// databases) in `format`. Same image, same bytes.
pub fn document(
    opened: &crate::analysis::pipeline::Opened,
    cfg: &FindingsConfig,
    format: Format,
) -> String {
    let ctx = crate::analysis::context::Ctx::new(&opened.image, cfg);
    let inventory = crate::analysis::packages::inventory(&ctx);
    let analysed = crate::analysis::pipeline::Analysed {
        image: opened.image.clone(),
        efficiency: opened.efficiency.clone(),
        findings: Vec::new(),
        packages: inventory.packages.clone(),
        redactor: opened.redactor.clone(),
    };
    let report = Report::build(&analysed);
    let sbom = Sbom {
        report: &report,
        inventory: &inventory,
    };
    match format {
        Format::CycloneDx => super::cyclonedx::render(&sbom),
        Format::Spdx => super::spdx::render(&sbom),
    }
}

/// The SBOM input: the redacted report (image, configuration, layers) and the inventory.
pub struct Sbom<'a> {
    /// The report; its configuration is already masked.
    pub report: &'a Report,
    /// The package inventory.
    pub inventory: &'a Inventory,
}

/// One package as both formats write it.
pub struct Item<'a> {
    /// The package.
    pub package: &'a Package,
    /// Its details (empty for declared dependencies).
    pub detail: Option<&'a Detail>,
    /// Read from a lock file, not installed.
    pub declared: bool,
    /// Unique, deterministic reference.
    pub reference: String,
}

impl<'a> Sbom<'a> {
    /// The image's display name: its first tag, else what the user gave.
    pub fn image_name(&self) -> String {
        let i = &self.report.image;
        crate::model::sanitize(i.repo_tags.first().unwrap_or(&i.reference))
    }

    /// The image's digest: the manifest digest when known, else the config digest (image ID).
    pub fn image_digest(&self) -> &str {
        let i = &self.report.image;
        i.manifest_digest.as_deref().unwrap_or(&i.id)
    }

    /// `pkg:oci/NAME@DIGEST?arch=…`.
    pub fn image_purl(&self) -> String {
        let name = self.image_name();
        let repo = name.split(['@']).next().unwrap_or(&name);
        let repo = match repo.rsplit_once(':') {
            Some((r, tag)) if !tag.contains('/') => r,
            _ => repo,
        };
        let last = repo.rsplit('/').next().unwrap_or(repo).to_ascii_lowercase();
        let i = &self.report.image;
        purl::build(
            "oci",
            None,
            &last,
            self.image_digest(),
            &[
                ("arch", i.architecture.clone()),
                ("os", i.os.clone()),
                ("variant", i.variant.clone().unwrap_or_default()),
            ],
        )
    }

    /// `os/arch[/variant]`.
    pub fn platform(&self) -> String {
        let i = &self.report.image;
        match &i.variant {
            Some(v) => format!("{}/{}/{v}", i.os, i.architecture),
            None => format!("{}/{}", i.os, i.architecture),
        }
    }

    /// The image's creation time as `YYYY-MM-DDTHH:MM:SSZ`, if it has a readable one.
    pub fn created(&self) -> Option<String> {
        let c = self.report.image.created.as_deref()?;
        let t: jiff::Timestamp = c.parse().ok()?;
        Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// A UUID derived from the image and `salt` (same image, same UUID).
    pub fn uuid(&self, salt: &str) -> String {
        let mut h = Sha256::new();
        h.update(salt.as_bytes());
        h.update(self.report.image.id.as_bytes());
        h.update(self.image_digest().as_bytes());
        let mut b: [u8; 16] = h.finalize()[..16].try_into().unwrap_or([0; 16]);
        b[6] = (b[6] & 0x0f) | 0x50; // name-based
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// The digest of layer `index` (diff ID), if it exists.
    pub fn layer_digest(&self, index: Option<usize>) -> Option<&str> {
        let l = self.report.layers.get(index?)?;
        let d = if l.diff_id.is_empty() {
            l.blob_digest.as_str()
        } else {
            l.diff_id.as_str()
        };
        Some(d).filter(|d| !d.is_empty())
    }

    /// Installed packages, then declared-only ones (lock-file entries not installed), each
    /// with a unique reference (the purl, suffixed `#N` on a repeat).
    pub fn items(&self) -> Vec<Item<'a>> {
        let inv = self.inventory;
        let installed: std::collections::HashSet<&str> =
            inv.packages.iter().map(|p| p.purl.as_str()).collect();
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        let mut reference = |purl: &str| {
            let n = seen.entry(purl.to_owned()).or_insert(0);
            *n += 1;
            if *n == 1 {
                purl.to_owned()
            } else {
                format!("{purl}#{n}")
            }
        };
        let mut out: Vec<Item<'a>> = inv
            .packages
            .iter()
            .zip(&inv.details)
            .map(|(p, d)| Item {
                package: p,
                detail: Some(d),
                declared: false,
                reference: reference(&p.purl),
            })
            .collect();
        let mut declared_seen = std::collections::HashSet::new();
        for p in &inv.declared {
            if installed.contains(p.purl.as_str()) || !declared_seen.insert(p.purl.as_str()) {
                continue;
            }
            out.push(Item {
                package: p,
                detail: None,
                declared: true,
                reference: reference(&p.purl),
            });
        }
        out
    }
}

/// How a license string is written in an SBOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// A single SPDX license identifier.
    Id(String),
    /// An SPDX expression over known identifiers (`MIT OR Apache-2.0`).
    Expression(String),
    /// Anything else, as written.
    Name(String),
}

fn known_ids() -> &'static std::collections::HashSet<&'static str> {
    static IDS: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        include_str!("../../assets/spdx-license-ids.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

/// Classifies a declared license: an SPDX id, an SPDX expression of known ids, or a name.
pub fn license(s: &str) -> License {
    let s = s.trim();
    let ids = known_ids();
    if ids.contains(s) {
        return License::Id(s.to_owned());
    }
    let spaced = s.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut operands = 0;
    let valid = !tokens.is_empty()
        && tokens.iter().all(|t| match *t {
            "AND" | "OR" | "WITH" | "(" | ")" => true,
            t => {
                operands += 1;
                ids.contains(t.trim_end_matches('+'))
            }
        });
    if valid && operands > 1 {
        License::Expression(tokens.join(" ").replace("( ", "(").replace(" )", ")"))
    } else {
        License::Name(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses() {
        assert_eq!(license("MIT"), License::Id("MIT".into()));
        assert_eq!(
            license("MIT OR Apache-2.0"),
            License::Expression("MIT OR Apache-2.0".into())
        );
        assert_eq!(
            license("(MIT OR Apache-2.0) AND BSD-3-Clause"),
            License::Expression("(MIT OR Apache-2.0) AND BSD-3-Clause".into())
        );
        assert_eq!(
            license("GPL-2.0-or-later WITH Classpath-exception-2.0"),
            License::Expression("GPL-2.0-or-later WITH Classpath-exception-2.0".into())
        );
        assert_eq!(license("BSD License"), License::Name("BSD License".into()));
        assert_eq!(license("GPLv2+"), License::Name("GPLv2+".into()));
    }
}
