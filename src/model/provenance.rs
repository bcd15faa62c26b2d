//! Who made an image and from what: the attestations stored next to it (BuildKit's attestation
//! manifests holding in-toto statements), the SLSA provenance and SBOM they carry, and the
//! signatures found for it. The source fills [`Provenance::attestations`] (raw statements
//! included); `analysis::provenance` reads the statements into the other fields.

use std::sync::Arc;

use serde::Serialize;

use super::signature::Signature;

/// `in-toto.io/predicate-type` of SLSA provenance v0.2.
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
/// `in-toto.io/predicate-type` of SLSA provenance v1.
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// `in-toto.io/predicate-type` of an SPDX document (BuildKit writes SPDX 2.3 under it).
pub const SPDX: &str = "https://spdx.dev/Document";
/// `in-toto.io/predicate-type` of a CycloneDX BOM.
pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";

/// Everything known about who made the image. `Default` is "nothing found".
#[derive(Debug, Clone, Default, Serialize)]
pub struct Provenance {
    /// The in-toto statements found in attestation manifests pointing at this image.
    pub attestations: Vec<Attestation>,
    /// The manifest digest every statement's subject must name (the image's platform
    /// manifest); `None` when the layout records no manifest.
    pub subject_digest: Option<String>,
    /// The first SLSA provenance statement, read.
    pub slsa: Option<Slsa>,
    /// The first SBOM statement (SPDX or CycloneDX), read.
    pub sbom: Option<SbomAttestation>,
    /// Signatures found for the image (filled by the registry signature reader).
    pub signatures: Vec<Signature>,
}

/// One in-toto statement (a layer of an attestation manifest).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Attestation {
    /// Digest of the attestation manifest holding the statement.
    pub manifest: String,
    /// Media type of the statement blob (`application/vnd.in-toto+json`).
    pub media_type: String,
    /// `in-toto.io/predicate-type` (from the descriptor, else the statement).
    pub predicate_type: Option<String>,
    /// Digest of the statement blob.
    pub digest: String,
    /// Size of the statement blob in bytes, as the descriptor records it.
    pub size: u64,
    /// `sha256:` digests the statement's `subject` names.
    pub subjects: Vec<String>,
    /// Whether one subject is [`Provenance::subject_digest`]; `None` when not checked (the
    /// statement could not be read, or the image's manifest digest is unknown).
    pub subject_matches: Option<bool>,
    /// Why the statement could not be read (blob absent, invalid JSON), when it could not.
    pub problem: Option<String>,
    /// The statement as stored (raw JSON; never printed without the redactor).
    #[serde(skip)]
    pub statement: Option<Arc<str>>,
}

/// SLSA provenance, v0.2 or v1, read into one shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Slsa {
    /// `v0.2` or `v1`.
    pub version: String,
    /// Builder id (`builder.id` / `runDetails.builder.id`).
    pub builder_id: Option<String>,
    /// Build type (`buildType` / `buildDefinition.buildType`).
    pub build_type: Option<String>,
    /// Source repository (config source URI or buildx's `vcs:source`).
    pub source_repo: Option<String>,
    /// Source commit (config source `sha1` digest or buildx's `vcs:revision`).
    pub source_commit: Option<String>,
    /// Dockerfile path (config source entry point / path, or the `filename` argument).
    pub dockerfile: Option<String>,
    /// Build arguments (`build-arg:NAME` entries), raw; every output masks them through the
    /// redactor.
    pub build_args: Vec<BuildArg>,
    /// Materials (v0.2) or resolved dependencies (v1).
    pub materials: Vec<Material>,
    /// The base image: the first `pkg:docker/` material that is not a Dockerfile frontend.
    pub base_image: Option<Material>,
    /// Build start (`metadata.buildStartedOn` / `runDetails.metadata.startedOn`).
    pub started_on: Option<String>,
    /// Build end (`metadata.buildFinishedOn` / `runDetails.metadata.finishedOn`).
    pub finished_on: Option<String>,
}

/// One build argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildArg {
    /// Name (without `build-arg:`).
    pub name: String,
    /// Value.
    pub value: String,
}

/// One material / resolved dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Material {
    /// URI (`pkg:docker/alpine@3.20?platform=linux%2Famd64`, a git URL, …).
    pub uri: String,
    /// `sha256:` digest, when recorded.
    pub digest: Option<String>,
}

/// An SBOM attestation's package list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SbomAttestation {
    /// `spdx` or `cyclonedx`.
    pub format: String,
    /// Packages it lists, in its order.
    pub packages: Vec<AttestedPackage>,
}

/// One package named by an SBOM attestation (or by strata's inventory, when compared).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AttestedPackage {
    /// Package name.
    pub name: String,
    /// Version, when recorded.
    pub version: Option<String>,
}

impl Provenance {
    /// The attestation holding the SLSA provenance that was read.
    pub fn provenance_attestation(&self) -> Option<&Attestation> {
        self.attestations
            .iter()
            .find(|a| a.problem.is_none() && is_slsa(a.predicate_type.as_deref()))
    }

    /// True when SLSA provenance was read and its statement names this image.
    pub fn valid_provenance(&self) -> bool {
        self.slsa.is_some()
            && self
                .provenance_attestation()
                .is_some_and(|a| a.subject_matches == Some(true))
    }

    /// Statements whose subject names another image.
    pub fn mismatched(&self) -> impl Iterator<Item = &Attestation> {
        self.attestations
            .iter()
            .filter(|a| a.subject_matches == Some(false))
    }
}

/// True for the SLSA provenance predicate types strata reads.
pub fn is_slsa(predicate_type: Option<&str>) -> bool {
    matches!(predicate_type, Some(SLSA_V02 | SLSA_V1))
}
