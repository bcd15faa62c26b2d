//! Image signatures as found next to an image (cosign, Notation) and the result of checking them.

use serde::Serialize;

/// Which signing scheme produced a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureKind {
    /// Cosign signature made with a key pair.
    Cosign,
    /// Cosign keyless signature (Fulcio certificate).
    CosignKeyless,
    /// Notation (Notary v2) signature.
    Notation,
}

/// Outcome of checking one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verified {
    /// Checked and valid.
    True,
    /// Checked and invalid.
    False,
    /// Not checked (no key or trusted root given, or a scheme strata cannot check offline).
    Unknown,
}

/// One signature found for the image, and what checking it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// Signing scheme.
    pub kind: SignatureKind,
    /// Where it was found: a tag (`sha256-<hex>.sig`) or a referrer manifest digest.
    pub location: String,
    /// Manifest digest the signed payload names, when readable.
    pub signed_digest: Option<String>,
    /// Signer identity: certificate SAN (URI or email) for keyless, key description otherwise.
    pub identity: Option<String>,
    /// OIDC issuer from the certificate, for keyless signatures.
    pub issuer: Option<String>,
    /// Verification state.
    pub verified: Verified,
    /// One line saying why (e.g. "signature valid for key cosign.pub", "no key given").
    pub reason: String,
    /// What the signed claims name that differs from this image or from the required signer:
    /// another repository in the payload, or a certificate identity or issuer other than the
    /// one required (`--certificate-identity`, `--certificate-oidc-issuer`). `None` when
    /// nothing differs or nothing could be compared.
    pub mismatch: Option<String>,
}
