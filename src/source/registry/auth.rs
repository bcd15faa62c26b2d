//! Registry credentials, found the way the docker CLI finds them: `$DOCKER_CONFIG/config.json`
//! (or `~/.docker/config.json`) `credHelpers`, `auths` and `credsStore` (through
//! `docker-credential-NAME get`), then Podman's `auth.json` (`$REGISTRY_AUTH_FILE`,
//! `$XDG_RUNTIME_DIR/containers/auth.json`). Nothing found means an anonymous pull.

use docker_credential::{CredentialRetrievalError as E, DockerCredential};
use oci_client::secrets::RegistryAuth;

use crate::{Error, Result};

/// The key the docker CLI files Docker Hub credentials under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The credentials key of a registry host (`docker.io` is filed under its legacy URL).
pub fn server_key(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_KEY,
        other => other,
    }
}

/// Credentials for `registry` (a host, `host:port`, or `docker.io`).
pub fn credentials(registry: &str) -> Result<RegistryAuth> {
    let key = server_key(registry);
    match found(docker_credential::get_credential(key), registry)? {
        Some(auth) => Ok(auth),
        None => Ok(
            found(docker_credential::get_podman_credential(key), registry)?
                .unwrap_or(RegistryAuth::Anonymous),
        ),
    }
}

fn found(
    r: std::result::Result<DockerCredential, E>,
    registry: &str,
) -> Result<Option<RegistryAuth>> {
    match r {
        Ok(DockerCredential::UsernamePassword(u, p)) => Ok(Some(RegistryAuth::Basic(u, p))),
        // The docker CLI sends an identity token as a refresh token under the user `<token>`.
        Ok(DockerCredential::IdentityToken(t)) => Ok(Some(RegistryAuth::Basic("<token>".into(), t))),
        Err(E::NoCredentialConfigured | E::ConfigNotFound | E::ConfigReadError) => Ok(None),
        // Helpers answer "credentials not found" (exit 1) for a registry they do not hold.
        Err(E::HelperFailure { stdout, stderr, .. })
            if format!("{stdout}{stderr}")
                .to_lowercase()
                .contains("credentials not found") =>
        {
            Ok(None)
        }
        Err(E::HelperFailure { helper, stderr, .. }) => Err(Error::Other(format!(
            "{registry}: the credential helper {helper} failed: {} \
             (log in again with `docker login {registry}`)",
            crate::model::sanitize(stderr.trim())
        ))),
        Err(E::HelperCommunicationError) => Err(Error::Other(format!(
            "{registry}: the credential helper named in the docker config could not be run \
             (is docker-credential-NAME on PATH?)"
        ))),
        Err(e) => Err(Error::Other(format!(
            "{registry}: cannot read the stored credentials: {e} (log in again with `docker login {registry}`)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_uses_the_legacy_key() {
        assert_eq!(server_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(server_key("ghcr.io"), "ghcr.io");
        assert_eq!(server_key("127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
