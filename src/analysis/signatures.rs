//! Offline checks of an image's signatures, as found next to it in its registry
//! ([`crate::model::referrer`]), and the findings they give.
//!
//! - Cosign key-based signatures: with `--key cosign.pub` (PEM public key: ECDSA P-256 or
//!   P-384, ed25519, RSA), the signature (base64 in the layer annotation
//!   `dev.cosignproject.cosign/signature`) is verified over the exact payload blob bytes, and
//!   the payload's `critical.image.docker-manifest-digest` must be the digest the signature was
//!   found for, one of this image's. A `critical.identity.docker-reference` naming another
//!   repository is reported as a mismatch.
//! - Cosign keyless signatures (a Fulcio certificate in `dev.sigstore.cosign/certificate`):
//!   the certificate's identity (SAN URI or email) and OIDC issuer (Fulcio extensions
//!   1.3.6.1.4.1.57264.1.8, else .1.1) are shown, and the signature is checked against the
//!   certificate's key. Without `--trusted-root` the certificate itself is not verified
//!   (`verified: unknown`); with it, the chain must lead to a certificate authority of the
//!   Sigstore trusted root and the identity and issuer must be the required ones
//!   (`--certificate-identity`, `--certificate-oidc-issuer`).
//! - Notation signatures are listed, never verified (no offline verifier here).
//!
//! The cryptography is rustls-webpki over *ring* (both already in the registry source's TLS
//! stack); certificates are read with RustCrypto's `x509-cert`.

use std::path::{Path, PathBuf};

use super::context::finding;
use super::finding::{Category, Finding, Severity};
use crate::model::referrer::Referrers;
use crate::model::signature::{Signature, Verified};
use crate::model::Image;
use crate::{Error, Result};

/// What to check signatures against (`--key`, `--trusted-root`, `--certificate-identity`,
/// `--certificate-oidc-issuer`, or the same keys of the `[ci]` policy).
#[derive(Debug, Clone, Default)]
pub struct SignatureOptions {
    /// A public key cosign signatures must verify with.
    pub key: Option<PublicKey>,
    /// Sigstore trusted root: the certificate authorities keyless certificates must chain to.
    pub trusted_root: Option<TrustedRoot>,
    /// The signer identity a keyless certificate must carry (SAN URI or email, exact).
    pub identity: Option<String>,
    /// The OIDC issuer a keyless certificate must carry (exact).
    pub issuer: Option<String>,
}

impl SignatureOptions {
    /// Reads the key and trusted-root files; a bad file is a one-line error naming it.
    pub fn load(
        key: Option<&Path>,
        trusted_root: Option<&Path>,
        identity: Option<String>,
        issuer: Option<String>,
    ) -> Result<Self> {
        Ok(Self {
            key: key.map(PublicKey::load).transpose()?,
            trusted_root: trusted_root.map(TrustedRoot::load).transpose()?,
            identity,
            issuer,
        })
    }

    /// True when something was given that signatures can be checked against.
    pub fn can_verify(&self) -> bool {
        self.key.is_some() || self.trusted_root.is_some()
    }
}

/// Public-key algorithms cosign signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA over P-256 with SHA-256 (cosign's default).
    EcdsaP256,
    /// ECDSA over P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA, PKCS#1 v1.5 with SHA-256 (cosign's RSA verifier).
    Rsa,
}

impl KeyAlgorithm {
    /// Name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ECDSA P-256",
            Self::EcdsaP384 => "ECDSA P-384",
            Self::Ed25519 => "ed25519",
            Self::Rsa => "RSA",
        }
    }
}

/// A public key read from a PEM file (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The file it came from, as given.
    pub file: PathBuf,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
    /// The DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
}

impl PublicKey {
    /// Reads and parses `file`.
    pub fn load(file: &Path) -> Result<Self> {
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        Self::from_pem(&bytes)
            .map(|(algorithm, spki)| Self {
                file: file.to_owned(),
                algorithm,
                spki,
            })
            .map_err(|p| Error::invalid(file.display().to_string(), p))
    }

    /// A short description: `cosign.pub (ECDSA P-256)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({})",
            crate::model::sanitize(&self.file.display().to_string()),
            self.algorithm.as_str()
        )
    }

    #[cfg(feature = "registry")]
    fn from_pem(pem: &[u8]) -> std::result::Result<(KeyAlgorithm, Vec<u8>), String> {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::SubjectPublicKeyInfoDer::from_pem_slice(pem).map_err(|e| {
            format!("not a PEM public key (expected -----BEGIN PUBLIC KEY-----): {e}")
        })?;
        let algorithm = crypto::spki_algorithm(der.as_ref())?;
        Ok((algorithm, der.as_ref().to_vec()))
    }

    #[cfg(not(feature = "registry"))]
    fn from_pem(_: &[u8]) -> std::result::Result<(KeyAlgorithm, Vec<u8>), String> {
        Err("this strata was built without the registry feature, which checks signatures".into())
    }
}

/// The certificate authorities of a Sigstore trusted root (`trusted_root.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRoot {
    /// The file it came from.
    pub file: PathBuf,
    /// Each authority's chain, DER, leaf-most first and its root last.
    pub authorities: Vec<Vec<Vec<u8>>>,
}

impl TrustedRoot {
    /// Reads `certificateAuthorities[].certChain.certificates[].rawBytes` (base64 DER) of a
    /// Sigstore trusted-root JSON file.
    pub fn load(file: &Path) -> Result<Self> {
        let text = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        let bad = |p: String| Error::invalid(file.display().to_string(), p);
        let v: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| bad(format!("not a Sigstore trusted root: invalid JSON: {e}")))?;
        let cas = v
            .get("certificateAuthorities")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| {
                bad("not a Sigstore trusted root: no certificateAuthorities array".into())
            })?;
        let mut authorities = Vec::new();
        for (i, ca) in cas.iter().enumerate() {
            let certs = ca
                .pointer("/certChain/certificates")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| {
                    bad(format!(
                        "certificateAuthorities[{i}]: no certChain.certificates"
                    ))
                })?;
            let mut chain = Vec::new();
            for (j, c) in certs.iter().enumerate() {
                let raw = c
                    .get("rawBytes")
                    .and_then(serde_json::Value::as_str)
                    .and_then(decode_base64)
                    .ok_or_else(|| {
                        bad(format!(
                            "certificateAuthorities[{i}].certChain.certificates[{j}]: rawBytes is not base64"
                        ))
                    })?;
                chain.push(raw);
            }
            if !chain.is_empty() {
                authorities.push(chain);
            }
        }
        if authorities.is_empty() {
            return Err(bad(
                "not a Sigstore trusted root: no certificate authority in it".into(),
            ));
        }
        Ok(Self {
            file: file.to_owned(),
            authorities,
        })
    }
}

#[cfg(feature = "registry")]
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

#[cfg(not(feature = "registry"))]
fn decode_base64(_: &str) -> Option<Vec<u8>> {
    None
}

/// Checks every signature the registry holds for `image` (nothing when the source had no
/// registry to ask).
pub fn check(image: &Image, opts: &SignatureOptions) -> Vec<Signature> {
    match &image.referrers {
        None => Vec::new(),
        Some(r) => check_referrers(r, &image_repository(image), opts),
    }
}

/// `registry/repository` of a registry image.
fn image_repository(image: &Image) -> Option<String> {
    match &image.origin {
        crate::model::Origin::Registry(o) => Some(o.repository.clone()),
        _ => None,
    }
}

#[cfg(not(feature = "registry"))]
fn check_referrers(_: &Referrers, _: &Option<String>, _: &SignatureOptions) -> Vec<Signature> {
    Vec::new()
}

#[cfg(feature = "registry")]
fn check_referrers(
    r: &Referrers,
    repo: &Option<String>,
    opts: &SignatureOptions,
) -> Vec<Signature> {
    crypto::check_referrers(r, repo.as_deref(), opts)
}

/// True when `s` failed for a reason other than an identity mismatch alone.
fn is_invalid(s: &Signature) -> bool {
    s.verified == Verified::False && s.mismatch.as_deref() != Some(s.reason.as_str())
}

/// True when `s` is valid and names the right signer and repository.
pub fn is_valid(s: &Signature) -> bool {
    s.verified == Verified::True && s.mismatch.is_none()
}

/// The findings: `signature-missing` (a registry image without any signature),
/// `signature-invalid` and `signature-identity-mismatch`. Inputs with no registry to ask
/// (archives, layouts, the daemon) get none: their signatures are not where strata can see.
pub fn findings(image: &Image) -> Vec<Finding> {
    let Some(referrers) = &image.referrers else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if image.provenance.signatures.is_empty() {
        let asked = referrers
            .subjects
            .iter()
            .map(|d| crate::model::sanitize(d))
            .collect::<Vec<_>>()
            .join(" and ");
        let problems = if referrers.problems.is_empty() {
            String::new()
        } else {
            format!(
                " (problems while asking: {})",
                crate::model::sanitize(&referrers.problems.join("; "))
            )
        };
        let mut f = finding(
            "signature-missing",
            Category::Config,
            Severity::Info,
            "The image is not signed",
            format!(
                "the registry holds no cosign or Notation signature for {asked} (asked the OCI \
                 referrers API and cosign's sha256-<hex>.sig tag){problems}"
            ),
        );
        f.fix = Some(
            "Sign the image by digest in CI: `cosign sign --key cosign.key IMAGE@DIGEST` (or \
             keyless with the CI's OIDC identity), or `notation sign IMAGE@DIGEST`."
                .into(),
        );
        f.why = Some(
            "Without a signature nothing ties the image to its publisher: a pushed-over tag or \
             a compromised registry account serves other bytes under the same name."
                .into(),
        );
        out.push(f);
    }
    for s in &image.provenance.signatures {
        let at = crate::model::sanitize(&s.location);
        if is_invalid(s) {
            let mut f = finding(
                "signature-invalid",
                Category::Config,
                Severity::Critical,
                "A signature does not verify",
                format!(
                    "{} signature at {at}: {}",
                    kind_name(s),
                    crate::model::sanitize(&s.reason)
                ),
            );
            f.fix = Some(
                "Do not run this image. Check that the key is the publisher's; if it is, the \
                 image or its signature was altered: pull it by a digest you trust and sign it \
                 again."
                    .into(),
            );
            f.why = Some(
                "A signature that does not verify means the signed claims, the image digest or \
                 the signer are not what they say."
                    .into(),
            );
            out.push(f);
        }
        if let Some(m) = &s.mismatch {
            let mut f = finding(
                "signature-identity-mismatch",
                Category::Config,
                Severity::High,
                "A signature names another signer or repository",
                format!(
                    "{} signature at {at}: {}",
                    kind_name(s),
                    crate::model::sanitize(m)
                ),
            );
            f.fix = Some(
                "Require the identity the publisher signs with (--certificate-identity, \
                 --certificate-oidc-issuer), and pull from the repository the signature names."
                    .into(),
            );
            f.why = Some(
                "A valid signature by someone else, or for another repository, proves nothing \
                 about this image's publisher: signatures can be copied along with images."
                    .into(),
            );
            out.push(f);
        }
    }
    out
}

fn kind_name(s: &Signature) -> &'static str {
    match s.kind {
        crate::model::signature::SignatureKind::Cosign => "cosign",
        crate::model::signature::SignatureKind::CosignKeyless => "cosign keyless",
        crate::model::signature::SignatureKind::Notation => "Notation",
    }
}

#[cfg(feature = "registry")]
mod crypto {
    //! The checks themselves (rustls-webpki over *ring*, x509-cert).

    use std::time::Duration;

    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
    use serde_json::Value;
    use webpki::ring as algs;
    use x509_cert::der::{Decode, Encode};

    use super::{decode_base64, KeyAlgorithm, SignatureOptions};
    use crate::model::referrer::{Referrer, ReferrerKind, Referrers};
    use crate::model::signature::{Signature, SignatureKind, Verified};
    use crate::source::registry::referrers::COSIGN_SIMPLESIGNING;

    /// Layer annotation holding a cosign signature (base64).
    pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
    /// Layer annotation holding a keyless signature's Fulcio certificate (PEM).
    pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
    /// Layer annotation holding the certificate's chain (PEM).
    pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
    /// Layer annotation holding the Rekor bundle (JSON).
    pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
    /// Fulcio's OIDC issuer extension (v2: a DER UTF8String).
    const FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
    /// Fulcio's first OIDC issuer extension (the raw string).
    const FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
    /// Subject alternative name.
    const SAN: &str = "2.5.29.17";
    /// id-kp-codeSigning (1.3.6.1.5.5.7.3.3), the extended key usage of Fulcio certificates.
    const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

    /// The algorithm of a DER SubjectPublicKeyInfo.
    pub fn spki_algorithm(der: &[u8]) -> std::result::Result<KeyAlgorithm, String> {
        let spki = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| format!("not a public key: {e}"))?;
        let oid = spki.algorithm.oid.to_string();
        let param = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
            .map(|o| o.to_string());
        match (oid.as_str(), param.as_deref()) {
            ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => Ok(KeyAlgorithm::EcdsaP256),
            ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => Ok(KeyAlgorithm::EcdsaP384),
            ("1.2.840.10045.2.1", c) => Err(format!(
                "ECDSA key on curve {} (supported: P-256, P-384)",
                c.unwrap_or("unknown")
            )),
            ("1.3.101.112", _) => Ok(KeyAlgorithm::Ed25519),
            ("1.2.840.113549.1.1.1", _) => Ok(KeyAlgorithm::Rsa),
            (other, _) => Err(format!(
                "unsupported key algorithm {other} (supported: ECDSA P-256/P-384, ed25519, RSA)"
            )),
        }
    }

    fn algorithm(a: KeyAlgorithm) -> &'static dyn SignatureVerificationAlgorithm {
        match a {
            KeyAlgorithm::EcdsaP256 => algs::ECDSA_P256_SHA256,
            KeyAlgorithm::EcdsaP384 => algs::ECDSA_P384_SHA384,
            KeyAlgorithm::Ed25519 => algs::ED25519,
            KeyAlgorithm::Rsa => algs::RSA_PKCS1_2048_8192_SHA256,
        }
    }

    /// True when `signature` over `message` verifies with the SubjectPublicKeyInfo `spki`.
    pub fn verify(spki: &[u8], alg: KeyAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        let der = rustls_pki_types::SubjectPublicKeyInfoDer::from(spki);
        webpki::RawPublicKeyEntity::try_from(&der)
            .and_then(|k| k.verify_signature(algorithm(alg), message, signature))
            .is_ok()
    }

    /// What a keyless certificate says.
    struct CertInfo {
        der: Vec<u8>,
        spki: Vec<u8>,
        algorithm: std::result::Result<KeyAlgorithm, String>,
        identity: Option<String>,
        issuer: Option<String>,
        not_before: Duration,
    }

    fn read_certificate(pem: &str) -> std::result::Result<CertInfo, String> {
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| format!("the certificate annotation is not a PEM certificate: {e}"))?;
        read_certificate_der(der.as_ref())
    }

    fn read_certificate_der(der: &[u8]) -> std::result::Result<CertInfo, String> {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|e| format!("the certificate cannot be read: {e}"))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| format!("the certificate's key cannot be read: {e}"))?;
        let mut identity = None;
        let mut issuer_v1 = None;
        let mut issuer_v2 = None;
        for ext in tbs.extensions().map(|e| e.as_slice()).unwrap_or_default() {
            let value = ext.extn_value.as_bytes();
            match ext.extn_id.to_string().as_str() {
                SAN => {
                    if let Ok(names) = x509_cert::ext::pkix::SubjectAltName::from_der(value) {
                        use x509_cert::ext::pkix::name::GeneralName;
                        identity = names.0.iter().find_map(|n| match n {
                            GeneralName::Rfc822Name(s)
                            | GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
                            _ => None,
                        });
                    }
                }
                FULCIO_ISSUER_V2 => {
                    issuer_v2 = x509_cert::der::asn1::Utf8StringRef::from_der(value)
                        .ok()
                        .map(|s| s.to_string());
                }
                FULCIO_ISSUER_V1 => {
                    issuer_v1 = std::str::from_utf8(value).ok().map(str::to_owned);
                }
                _ => {}
            }
        }
        Ok(CertInfo {
            der: der.to_vec(),
            algorithm: spki_algorithm(&spki),
            spki,
            identity,
            issuer: issuer_v2.or(issuer_v1),
            not_before: tbs.validity().not_before.to_unix_duration(),
        })
    }

    /// The signed claims of a cosign simple-signing payload.
    struct Claims {
        digest: Option<String>,
        reference: Option<String>,
    }

    fn read_payload(bytes: &[u8]) -> Option<Claims> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
        Some(Claims {
            digest: s("/critical/image/docker-manifest-digest"),
            reference: s("/critical/identity/docker-reference"),
        })
    }

    /// `registry/repository` of a reference as the docker CLI normalises it.
    fn repository_of(reference: &str) -> Option<String> {
        let r = crate::source::registry::parse_reference(reference).ok()?;
        Some(format!("{}/{}", r.registry(), r.repository()))
    }

    pub fn check_referrers(
        r: &Referrers,
        repo: Option<&str>,
        opts: &SignatureOptions,
    ) -> Vec<Signature> {
        let mut out = Vec::new();
        for referrer in &r.found {
            match referrer.kind {
                ReferrerKind::CosignSignature => {
                    for layer in referrer
                        .layers
                        .iter()
                        .filter(|l| l.media_type == COSIGN_SIMPLESIGNING)
                    {
                        out.push(check_cosign(referrer, layer, repo, opts));
                    }
                }
                ReferrerKind::SigstoreBundle => {
                    out.extend(referrer.layers.iter().filter_map(|l| bundle(referrer, l)));
                }
                ReferrerKind::NotationSignature => out.push(Signature {
                    kind: SignatureKind::Notation,
                    location: referrer.location.clone(),
                    signed_digest: Some(referrer.subject.clone()),
                    identity: None,
                    issuer: None,
                    verified: Verified::Unknown,
                    reason: "Notation signatures are listed, not verified: strata has no offline \
                             Notation verifier (use `notation verify`)"
                        .into(),
                    mismatch: None,
                }),
                _ => {}
            }
        }
        out
    }

    /// The in-toto predicate type of cosign 3's image signatures in a Sigstore bundle.
    const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

    /// A Sigstore bundle that signs the image (a message signature, or a DSSE statement with
    /// cosign's signing predicate): listed with its certificate's identity, not verified.
    /// Bundles holding other attestations are not signatures and give `None`.
    fn bundle(
        referrer: &Referrer,
        layer: &crate::model::referrer::ReferrerLayer,
    ) -> Option<Signature> {
        let v: Value = serde_json::from_slice(layer.bytes.as_deref()?).ok()?;
        let mut signed_digest = None;
        if let Some(env) = v.get("dsseEnvelope") {
            let statement: Value = env
                .get("payload")
                .and_then(Value::as_str)
                .and_then(decode_base64)
                .and_then(|b| serde_json::from_slice(&b).ok())?;
            if statement.get("predicateType").and_then(Value::as_str) != Some(COSIGN_SIGN_PREDICATE)
            {
                return None;
            }
            signed_digest = statement
                .pointer("/subject/0/digest/sha256")
                .and_then(Value::as_str)
                .map(|h| format!("sha256:{h}"));
        } else if v.get("messageSignature").is_none() {
            return None;
        }
        let material = v.get("verificationMaterial");
        let cert = material
            .and_then(|m| {
                m.pointer("/certificate/rawBytes")
                    .or_else(|| m.pointer("/x509CertificateChain/certificates/0/rawBytes"))
            })
            .and_then(Value::as_str)
            .and_then(decode_base64)
            .and_then(|der| read_certificate_der(&der).ok());
        Some(Signature {
            kind: if cert.is_some() {
                SignatureKind::CosignKeyless
            } else {
                SignatureKind::Cosign
            },
            location: referrer.location.clone(),
            signed_digest,
            identity: cert.as_ref().and_then(|c| c.identity.clone()),
            issuer: cert.as_ref().and_then(|c| c.issuer.clone()),
            verified: Verified::Unknown,
            reason: "Sigstore bundle (cosign 3 format): listed with its certificate identity, \
                     not verified offline by strata"
                .into(),
            mismatch: None,
        })
    }

    fn check_cosign(
        referrer: &Referrer,
        layer: &crate::model::referrer::ReferrerLayer,
        repo: Option<&str>,
        opts: &SignatureOptions,
    ) -> Signature {
        let cert = layer
            .annotations
            .get(CERTIFICATE_ANNOTATION)
            .filter(|c| !c.trim().is_empty())
            .map(|c| read_certificate(c));
        let mut sig = Signature {
            kind: if cert.is_some() {
                SignatureKind::CosignKeyless
            } else {
                SignatureKind::Cosign
            },
            location: referrer.location.clone(),
            signed_digest: None,
            identity: None,
            issuer: None,
            verified: Verified::Unknown,
            reason: String::new(),
            mismatch: None,
        };
        if let Some(Ok(c)) = &cert {
            sig.identity = c.identity.clone();
            sig.issuer = c.issuer.clone();
        }
        let Some(payload) = &layer.bytes else {
            sig.reason = format!(
                "the payload blob {} could not be read from the registry",
                layer.digest
            );
            return sig;
        };
        let claims = read_payload(payload);
        sig.signed_digest = claims.as_ref().and_then(|c| c.digest.clone());
        // Repository named by the payload.
        if let (Some(named), Some(repo)) =
            (claims.as_ref().and_then(|c| c.reference.as_deref()), repo)
        {
            if let (Some(named_repo), Some(this)) = (repository_of(named), repository_of(repo)) {
                if named_repo != this {
                    sig.mismatch = Some(format!(
                        "the payload names repository {named_repo}, the image is {this}"
                    ));
                }
            }
        }
        let signature = layer
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .and_then(|s| decode_base64(s));
        let fail = |mut sig: Signature, reason: String| {
            sig.verified = Verified::False;
            sig.reason = reason;
            sig
        };
        let Some(claims) = claims else {
            return fail(
                sig,
                "the payload is not a cosign simple-signing JSON document".into(),
            );
        };
        let Some(signature) = signature else {
            return fail(
                sig,
                format!("no base64 signature in the {SIGNATURE_ANNOTATION} annotation"),
            );
        };
        let digest_ok = claims.digest.as_deref() == Some(referrer.subject.as_str());
        let digest_problem = || match &claims.digest {
            Some(d) => format!(
                "the payload is signed for {d}, not for this image's {}",
                referrer.subject
            ),
            None => "the payload names no critical.image.docker-manifest-digest".into(),
        };
        if let Some(key) = &opts.key {
            if !verify(&key.spki, key.algorithm, payload, &signature) {
                return fail(
                    sig,
                    format!(
                        "the signature does not verify with key {} (tampered payload or another key)",
                        key.describe()
                    ),
                );
            }
            if !digest_ok {
                return fail(sig, digest_problem());
            }
            if sig.kind == SignatureKind::Cosign {
                sig.identity = Some(format!("key {}", key.describe()));
            }
            sig.verified = Verified::True;
            sig.reason = format!("signature valid for key {}", key.describe());
            return sig;
        }
        match cert {
            None => {
                if !digest_ok {
                    return fail(sig, digest_problem());
                }
                sig.reason = "no key given (--key): the signature is not checked".into();
                sig
            }
            Some(Err(p)) => fail(sig, p),
            Some(Ok(c)) => check_keyless(
                sig,
                &c,
                layer,
                payload,
                &signature,
                digest_ok,
                digest_problem,
                opts,
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_keyless(
        mut sig: Signature,
        c: &CertInfo,
        layer: &crate::model::referrer::ReferrerLayer,
        payload: &[u8],
        signature: &[u8],
        digest_ok: bool,
        digest_problem: impl Fn() -> String,
        opts: &SignatureOptions,
    ) -> Signature {
        let fail = |mut sig: Signature, reason: String| {
            sig.verified = Verified::False;
            sig.reason = reason;
            sig
        };
        let alg = match &c.algorithm {
            Ok(a) => *a,
            Err(p) => return fail(sig, format!("the certificate's key: {p}")),
        };
        if !verify(&c.spki, alg, payload, signature) {
            return fail(
                sig,
                "the signature does not verify with its certificate's key (tampered payload)"
                    .into(),
            );
        }
        if !digest_ok {
            return fail(sig, digest_problem());
        }
        let mut wrong = Vec::new();
        if let Some(want) = &opts.identity {
            if sig.identity.as_deref() != Some(want.as_str()) {
                wrong.push(format!(
                    "the certificate identity is {}, not the required {want}",
                    sig.identity.as_deref().unwrap_or("(none)")
                ));
            }
        }
        if let Some(want) = &opts.issuer {
            if sig.issuer.as_deref() != Some(want.as_str()) {
                wrong.push(format!(
                    "the OIDC issuer is {}, not the required {want}",
                    sig.issuer.as_deref().unwrap_or("(none)")
                ));
            }
        }
        if !wrong.is_empty() {
            let m = wrong.join("; ");
            let m = match sig.mismatch.take() {
                Some(repo) => format!("{m}; {repo}"),
                None => m,
            };
            sig.mismatch = Some(m.clone());
            sig.verified = Verified::False;
            sig.reason = m;
            return sig;
        }
        let Some(root) = &opts.trusted_root else {
            sig.reason = "keyless: the signature matches its certificate, but the certificate \
                          is not verified offline (give --trusted-root)"
                .into();
            return sig;
        };
        if opts.identity.is_none() && opts.issuer.is_none() {
            sig.reason = "keyless: the certificate chain is checked only with \
                          --certificate-identity or --certificate-oidc-issuer"
                .into();
            return sig;
        }
        let time = bundle_time(layer).unwrap_or(c.not_before);
        let when = if bundle_time(layer).is_some() {
            "at the bundle's integrated time"
        } else {
            "at the certificate's start of validity (no transparency-log bundle)"
        };
        match chains_to(c, layer, root, time) {
            Ok(()) => {
                sig.verified = Verified::True;
                sig.reason = format!(
                    "keyless: certificate chains to a certificate authority of {} {when}; \
                     the transparency-log entry is not checked offline",
                    root.file.display()
                );
            }
            Err(e) => {
                sig.verified = Verified::False;
                sig.reason = format!(
                    "keyless: the certificate does not chain to a certificate authority of {}: {e}",
                    root.file.display()
                );
            }
        }
        sig
    }

    /// The Rekor bundle's `Payload.integratedTime` (Unix seconds).
    fn bundle_time(layer: &crate::model::referrer::ReferrerLayer) -> Option<Duration> {
        let v: Value = serde_json::from_str(layer.annotations.get(BUNDLE_ANNOTATION)?).ok()?;
        v.pointer("/Payload/integratedTime")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
    }

    fn chains_to(
        c: &CertInfo,
        layer: &crate::model::referrer::ReferrerLayer,
        root: &super::TrustedRoot,
        time: Duration,
    ) -> std::result::Result<(), String> {
        let leaf = CertificateDer::from(c.der.as_slice());
        let ee = webpki::EndEntityCert::try_from(&leaf).map_err(|e| format!("{e:?}"))?;
        let mut intermediates: Vec<CertificateDer<'static>> = layer
            .annotations
            .get(CHAIN_ANNOTATION)
            .map(|pem| {
                CertificateDer::pem_slice_iter(pem.as_bytes())
                    .filter_map(std::result::Result::ok)
                    .collect()
            })
            .unwrap_or_default();
        let mut anchor_ders = Vec::new();
        for chain in &root.authorities {
            let (last, rest) = chain.split_last().expect("non-empty chain");
            anchor_ders.push(CertificateDer::from(last.clone()));
            intermediates.extend(rest.iter().map(|d| CertificateDer::from(d.clone())));
        }
        let anchors: Vec<_> = anchor_ders
            .iter()
            .filter_map(|d| webpki::anchor_from_trusted_cert(d).ok())
            .collect();
        if anchors.is_empty() {
            return Err("no usable root certificate in the trusted root".into());
        }
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            UnixTime::since_unix_epoch(time + Duration::from_secs(1)),
            webpki::KeyUsage::required(EKU_CODE_SIGNING),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::signature::SignatureKind;

    fn sig(verified: Verified, reason: &str, mismatch: Option<&str>) -> Signature {
        Signature {
            kind: SignatureKind::Cosign,
            location: "sha256-aa.sig".into(),
            signed_digest: Some("sha256:aa".into()),
            identity: None,
            issuer: None,
            verified,
            reason: reason.into(),
            mismatch: mismatch.map(str::to_owned),
        }
    }

    fn rules(image: &Image) -> Vec<String> {
        findings(image).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn findings_follow_the_verification_state() {
        let mut image = crate::source::demo::load(
            &crate::source::LoadOptions::default(),
            &crate::source::Progress::new(|_| {}),
        )
        .expect("demo image");
        // No registry asked: nothing at all, even without signatures.
        assert!(rules(&image).is_empty());
        image.referrers = Some(Referrers {
            subjects: vec!["sha256:aa".into()],
            ..Referrers::default()
        });
        assert_eq!(rules(&image), ["signature-missing"]);

        image.provenance.signatures = vec![sig(Verified::True, "valid", None)];
        assert!(rules(&image).is_empty());
        assert!(is_valid(&image.provenance.signatures[0]));

        image.provenance.signatures = vec![sig(Verified::Unknown, "no key given", None)];
        assert!(rules(&image).is_empty());
        assert!(!is_valid(&image.provenance.signatures[0]));

        image.provenance.signatures = vec![sig(Verified::False, "does not verify", None)];
        assert_eq!(rules(&image), ["signature-invalid"]);

        // Valid, but for another repository: a mismatch only, and not valid for the gate.
        image.provenance.signatures = vec![sig(Verified::True, "valid", Some("other repo"))];
        assert_eq!(rules(&image), ["signature-identity-mismatch"]);
        assert!(!is_valid(&image.provenance.signatures[0]));

        // Failed only because of the identity: a mismatch, not an invalid signature.
        image.provenance.signatures =
            vec![sig(Verified::False, "other signer", Some("other signer"))];
        assert_eq!(rules(&image), ["signature-identity-mismatch"]);

        // Failed cryptographically and names another repository: both.
        image.provenance.signatures =
            vec![sig(Verified::False, "does not verify", Some("other repo"))];
        assert_eq!(
            rules(&image),
            ["signature-invalid", "signature-identity-mismatch"]
        );
    }

    #[cfg(feature = "registry")]
    #[test]
    fn key_files_name_their_problem() {
        let dir = std::env::temp_dir().join(format!("strata-sig-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("cert-not-key.pem");
        std::fs::write(
            &f,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = PublicKey::load(&f).unwrap_err().to_string();
        assert!(
            e.contains("cert-not-key.pem") && e.contains("not a PEM public key"),
            "{e}"
        );
        let root = dir.join("root.json");
        std::fs::write(&root, r#"{"certificateAuthorities": []}"#).unwrap();
        let e = TrustedRoot::load(&root).unwrap_err().to_string();
        assert!(
            e.contains("root.json") && e.contains("no certificate authority"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
