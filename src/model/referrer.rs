//! What a registry holds next to an image: signatures, attestations and SBOMs found through
//! the OCI 1.1 referrers API (or its `sha256-<hex>` tag fallback) and cosign's tag schema
//! (`sha256-<hex>.sig`, `.att`, `.sbom`), as read, before any check.

use std::collections::BTreeMap;

/// The artifacts found for an image, and how the registry was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referrers {
    /// The manifest digests asked about: the digest the reference names (an index for a
    /// multi-platform image) and, when different, the platform manifest read.
    pub subjects: Vec<String>,
    /// Every artifact found, in the order found (referrers API first, then cosign tags).
    pub found: Vec<Referrer>,
    /// Problems met while asking (listed, never fatal: the image itself was read).
    pub problems: Vec<String>,
}

/// What kind of artifact a referrer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrerKind {
    /// Cosign signatures (`.sig`: simple-signing payload layers with signature annotations).
    CosignSignature,
    /// Cosign attestations (`.att`: DSSE envelopes around in-toto statements).
    CosignAttestation,
    /// A cosign-attached SBOM (`.sbom`).
    CosignSbom,
    /// A Notation (Notary Project) signature (`application/vnd.cncf.notary.signature`).
    NotationSignature,
    /// A Sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`, cosign 3's format):
    /// a signature or an attestation with its verification material.
    SigstoreBundle,
    /// Any other artifact (listed with its artifact type).
    Other,
}

/// One artifact that refers to the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// What it is.
    pub kind: ReferrerKind,
    /// Where it was found: the tag (`sha256-<hex>.sig`) or `referrer sha256:<digest>`.
    pub location: String,
    /// The image manifest digest it was found for.
    pub subject: String,
    /// Its manifest digest.
    pub digest: String,
    /// Its artifact type (or config media type when it has none).
    pub artifact_type: String,
    /// Its manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// Its layers, with the bytes of the small ones (signature payloads, envelopes).
    pub layers: Vec<ReferrerLayer>,
}

/// One layer of a referrer manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerLayer {
    /// Layer media type (`application/vnd.dev.cosign.simplesigning.v1+json`, …).
    pub media_type: String,
    /// Blob digest.
    pub digest: String,
    /// Blob size from the manifest.
    pub size: u64,
    /// Layer annotations (cosign keeps the signature and certificate here).
    pub annotations: BTreeMap<String, String>,
    /// The blob's bytes, verified against the digest; `None` when too large or unreadable.
    pub bytes: Option<Vec<u8>>,
}
