//! The signature flags `strata report` and `strata ci` share.

use std::path::PathBuf;

use clap::Args;

/// What registry signatures are checked against (see docs/signatures.md).
#[derive(Debug, Clone, Default, Args)]
pub struct SignatureArgs {
    /// Verify cosign signatures with this public key (PEM: ECDSA P-256/P-384, ed25519, RSA).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Sigstore trusted-root JSON: keyless certificates must chain to one of its authorities.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// The signer identity a keyless certificate must carry (SAN email or URI, exact).
    #[arg(long, value_name = "IDENTITY")]
    pub certificate_identity: Option<String>,
    /// The OIDC issuer a keyless certificate must carry (exact).
    #[arg(long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,
}

impl SignatureArgs {
    /// Reads the key and trusted root (a bad file is a one-line error naming it).
    pub fn options(&self) -> crate::Result<crate::analysis::signatures::SignatureOptions> {
        crate::analysis::signatures::SignatureOptions::load(
            self.key.as_deref(),
            self.trusted_root.as_deref(),
            self.certificate_identity.clone(),
            self.certificate_oidc_issuer.clone(),
        )
    }
}
