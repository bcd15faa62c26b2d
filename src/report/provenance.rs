//! The report's `provenance` section (added in `strata.report/v1.2`) and the "Who made this"
//! block at the top of the text and markdown reports. Build arguments go through the
//! redactor; the raw statements never appear here.

use serde::Serialize;

use crate::analysis::pipeline::Analysed;
use crate::analysis::provenance::{compare, redacted_arg, SbomComparison};
use crate::model::provenance::{Attestation, Material, Provenance};
use crate::model::sanitize;
use crate::model::signature::{Signature, Verified};

/// `provenance` in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenanceSection {
    /// True when SLSA provenance was read and its subject is this image's manifest.
    pub valid: bool,
    /// The manifest digest subjects are checked against.
    pub subject_digest: Option<String>,
    /// Every in-toto statement found for the image.
    pub attestations: Vec<Attestation>,
    /// The SLSA provenance read, or null.
    pub slsa: Option<SlsaSection>,
    /// The SBOM attestation read, or null.
    pub sbom: Option<SbomSection>,
    /// Signatures found for the image.
    pub signatures: Vec<Signature>,
}

/// `provenance.slsa`: the SLSA fields, build argument values redacted.
#[derive(Debug, Clone, Serialize)]
pub struct SlsaSection {
    /// `v0.2` or `v1`.
    pub version: String,
    /// Builder id.
    pub builder_id: Option<String>,
    /// Build type.
    pub build_type: Option<String>,
    /// Source repository.
    pub source_repo: Option<String>,
    /// Source commit.
    pub source_commit: Option<String>,
    /// Dockerfile path.
    pub dockerfile: Option<String>,
    /// Build arguments as `NAME=value`, secret values masked.
    pub build_args: Vec<String>,
    /// Materials / resolved dependencies.
    pub materials: Vec<Material>,
    /// The base image material.
    pub base_image: Option<Material>,
    /// Build start.
    pub started_on: Option<String>,
    /// Build end.
    pub finished_on: Option<String>,
}

/// `provenance.sbom`: the attested SBOM and how it compares with strata's inventory.
#[derive(Debug, Clone, Serialize)]
pub struct SbomSection {
    /// `spdx` or `cyclonedx`.
    pub format: String,
    /// Number of packages it lists.
    pub package_count: usize,
    /// The packages it lists.
    pub packages: Vec<crate::model::provenance::AttestedPackage>,
    /// Differences with strata's package inventory; null when not compared (no package
    /// listed, or the findings pass was off).
    pub comparison: Option<SbomComparison>,
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(sanitize)
}

impl ProvenanceSection {
    /// Builds the section for an analysed image (its packages feed the SBOM comparison when
    /// the findings pass ran).
    pub fn build(a: &Analysed) -> Self {
        let ran = !a.findings.is_empty() || !a.packages.is_empty();
        Self::of(
            &a.image.provenance,
            &a.redactor,
            ran.then_some(&a.packages[..]),
        )
    }

    /// Builds the section from the image's provenance; `packages` (strata's inventory, when
    /// read) feeds the SBOM comparison.
    pub fn of(
        p: &Provenance,
        r: &crate::redact::Redactor,
        packages: Option<&[crate::analysis::finding::Package]>,
    ) -> Self {
        let material = |m: &Material| Material {
            uri: r.command(&m.uri),
            digest: clean(&m.digest),
        };
        Self {
            valid: p.valid_provenance(),
            subject_digest: clean(&p.subject_digest),
            attestations: p
                .attestations
                .iter()
                .map(|x| Attestation {
                    manifest: sanitize(&x.manifest),
                    digest: sanitize(&x.digest),
                    subjects: x.subjects.iter().map(|d| sanitize(d)).collect(),
                    predicate_type: clean(&x.predicate_type),
                    media_type: sanitize(&x.media_type),
                    problem: clean(&x.problem),
                    ..x.clone()
                })
                .collect(),
            slsa: p.slsa.as_ref().map(|s| SlsaSection {
                version: s.version.clone(),
                builder_id: s.builder_id.as_deref().map(|x| r.command(x)),
                build_type: s.build_type.as_deref().map(|x| r.command(x)),
                source_repo: s.source_repo.as_deref().map(|x| r.command(x)),
                source_commit: clean(&s.source_commit),
                dockerfile: s.dockerfile.as_deref().map(|x| r.command(x)),
                build_args: s.build_args.iter().map(|b| redacted_arg(b, r)).collect(),
                materials: s.materials.iter().map(material).collect(),
                base_image: s.base_image.as_ref().map(material),
                started_on: clean(&s.started_on),
                finished_on: clean(&s.finished_on),
            }),
            sbom: p.sbom.as_ref().map(|s| SbomSection {
                format: s.format.clone(),
                package_count: s.packages.len(),
                packages: s
                    .packages
                    .iter()
                    .map(|x| crate::model::provenance::AttestedPackage {
                        name: sanitize(&x.name),
                        version: clean(&x.version),
                    })
                    .collect(),
                comparison: packages.and_then(|pk| compare(s, pk)),
            }),
            signatures: p
                .signatures
                .iter()
                .map(|s| Signature {
                    location: sanitize(&s.location),
                    signed_digest: clean(&s.signed_digest),
                    identity: clean(&s.identity),
                    issuer: clean(&s.issuer),
                    reason: sanitize(&s.reason),
                    mismatch: clean(&s.mismatch),
                    ..s.clone()
                })
                .collect(),
        }
    }

    /// The "Who made this" lines: `(label, text)` pairs, already redacted and sanitised.
    pub fn who_made_this(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match &self.slsa {
            None => out.push(("Provenance", "no provenance attestation".to_owned())),
            Some(s) => {
                let subject = if self.valid {
                    "subject matches this image"
                } else {
                    "subject does NOT name this image"
                };
                out.push(("Provenance", format!("SLSA {} ({subject})", s.version)));
                out.push((
                    "Builder",
                    s.builder_id.clone().unwrap_or_else(|| "unknown".into()),
                ));
                let source = match (&s.source_repo, &s.source_commit) {
                    (Some(r), Some(c)) => format!("{r}@{c}"),
                    (Some(r), None) => r.clone(),
                    (None, Some(c)) => format!("commit {c}"),
                    (None, None) => "unknown".into(),
                };
                out.push(("Source", source));
                if let Some(d) = &s.dockerfile {
                    out.push(("Dockerfile", d.clone()));
                }
                if let Some(b) = &s.base_image {
                    out.push((
                        "Base image",
                        match &b.digest {
                            Some(d) => {
                                format!("{}@{d}", crate::analysis::base::purl_image_name(&b.uri))
                            }
                            None => crate::analysis::base::purl_image_name(&b.uri),
                        },
                    ));
                }
                let built = match (&s.started_on, &s.finished_on) {
                    (Some(a), Some(b)) => format!("{a} to {b}"),
                    (Some(a), None) => format!("started {a}"),
                    (None, Some(b)) => format!("finished {b}"),
                    (None, None) => "unknown".into(),
                };
                out.push(("Built", built));
            }
        }
        out.push(("Attestations", self.attestations_line()));
        out.push(("Signatures", self.signatures_line()));
        out
    }

    fn attestations_line(&self) -> String {
        if self.attestations.is_empty() {
            return "none".into();
        }
        let kinds: Vec<String> = self
            .attestations
            .iter()
            .map(|a| {
                let kind = short_predicate(a.predicate_type.as_deref());
                match (&a.problem, a.subject_matches) {
                    (Some(_), _) => format!("{kind} (unreadable)"),
                    (None, Some(false)) => format!("{kind} (subject mismatch)"),
                    _ => kind,
                }
            })
            .collect();
        kinds.join(", ")
    }

    fn signatures_line(&self) -> String {
        signatures_summary(&self.signatures)
    }
}

/// "none found", or "2: 1 verified, 1 unverified".
pub fn signatures_summary(sigs: &[Signature]) -> String {
    if sigs.is_empty() {
        return "none found".into();
    }
    let count = |v: Verified| sigs.iter().filter(|s| s.verified == v).count();
    let mut parts = Vec::new();
    for (v, word) in [
        (Verified::True, "verified"),
        (Verified::False, "INVALID"),
        (Verified::Unknown, "not verified"),
    ] {
        let n = count(v);
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    format!("{}: {}", sigs.len(), parts.join(", "))
}

/// A short name for a predicate type (`SLSA provenance v1`, `SPDX SBOM`, …).
pub fn short_predicate(p: Option<&str>) -> String {
    use crate::model::provenance::{CYCLONEDX, SLSA_V02, SLSA_V1, SPDX};
    match p {
        Some(SLSA_V02) => "SLSA provenance v0.2".into(),
        Some(SLSA_V1) => "SLSA provenance v1".into(),
        Some(SPDX) => "SPDX SBOM".into(),
        Some(c) if c.starts_with(CYCLONEDX) => "CycloneDX SBOM".into(),
        Some(other) => sanitize(other),
        None => "unknown predicate".into(),
    }
}
