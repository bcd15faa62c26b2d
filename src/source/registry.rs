//! The registry source: reads an image straight from an OCI distribution registry (Docker Hub,
//! GHCR, a registry on loopback), with no daemon.
//!
//! Manifest and config come first (the layer list, history and sizes are on screen before any
//! layer byte), then the layer blobs stream into the layer scanner as they download, several at
//! once, each verified against its digest and kept in the blob cache ([`cache`]). Credentials
//! are found as the docker CLI finds them ([`auth`]); TLS, plain HTTP on loopback, retries and
//! resuming cut-off transfers live in [`transport`].

pub mod auth;
pub mod cache;
pub mod referrers;
pub mod transport;

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use serde_json::Value;

use super::layer::{scan_layer, LayerScan, ScanOptions};
use super::resolve::{blob_member, LayerRef, Platform, Resolved};
use super::{assemble, preview, LoadOptions, Progress, ProgressEvent};
use crate::model::{Image, Origin, RegistryOrigin};
use crate::{Error, Result};
use cache::BlobCache;
use transport::{BlobAuth, BlobSource, TlsSettings, MAX_ATTEMPTS};

/// Layers downloaded at once unless configured otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Registry options from the command line.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Verify TLS certificates; `false` (`--tls-verify=false`) also allows plain HTTP.
    pub tls_verify: bool,
    /// Use the blob cache (`--no-cache` turns it off).
    pub use_cache: bool,
    /// Layers downloaded at once.
    pub concurrency: usize,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            tls_verify: true,
            use_cache: true,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const IMAGE_CONFIG_TYPES: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// The reference grammar of distribution's `reference` package (and of `oci-spec`), with
/// `\w` meaning ASCII word characters as in Go: `oci-spec` compiles it with Unicode classes,
/// a regex so large that compiling it took a tenth of a second before the first request.
const REFERENCE_GRAMMAR: &str = r"^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?/)?[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}))?$";

static REFERENCE: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(REFERENCE_GRAMMAR).ok());

/// Splits `name` into registry and repository as the docker CLI does: a first component
/// with a `.` or `:`, or `localhost`, is a registry; otherwise Docker Hub, where a one-part
/// name is under `library/`.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut rest) = match name.split_once('/') {
        Some((left, right)) if left.contains(['.', ':']) || left == "localhost" => {
            (left.to_owned(), right.to_owned())
        }
        _ => ("docker.io".to_owned(), name.to_owned()),
    };
    if domain == "index.docker.io" {
        domain = "docker.io".to_owned();
    }
    if domain == "docker.io" && !rest.contains('/') {
        rest = format!("library/{rest}");
    }
    (domain, rest)
}

/// Why `s` is not a reference, in the words of the distribution grammar.
fn reference_problem(s: &str) -> std::result::Result<Reference, &'static str> {
    if s.is_empty() {
        return Err("repository name must have at least one component");
    }
    let caps = REFERENCE
        .as_ref()
        .and_then(|re| re.captures(s))
        .ok_or("invalid reference format")?;
    let (registry, repository) = split_domain(&caps[1]);
    if repository.len() > 255 {
        return Err("repository name must not be more than 255 characters");
    }
    let tag = caps.get(2).map(|m| m.as_str().to_owned());
    let digest = caps.get(3).map(|m| m.as_str().to_owned());
    if let Some(d) = &digest {
        let ok = match d.split_once(':') {
            Some(("sha256", h)) => h.len() == 64,
            Some(("sha384", h)) => h.len() == 96,
            Some(("sha512", h)) => h.len() == 128,
            _ => return Err("unsupported digest algorithm"),
        };
        if !ok {
            return Err("invalid checksum digest length");
        }
    }
    Ok(match (tag, digest) {
        (Some(t), Some(d)) => Reference::with_tag_and_digest(registry, repository, t, d),
        (None, Some(d)) => Reference::with_digest(registry, repository, d),
        (t, None) => {
            Reference::with_tag(registry, repository, t.unwrap_or_else(|| "latest".into()))
        }
    })
}

/// Parses a registry reference the way the docker CLI does: `alpine` is
/// `docker.io/library/alpine:latest`, `user/app` is `docker.io/user/app:latest`.
pub fn parse_reference(s: &str) -> Result<Reference> {
    reference_problem(s).map_err(|e| {
        Error::Other(format!(
            "{}: not an image reference ({e}); expected [HOST[:PORT]/]REPO[:TAG][@sha256:DIGEST]",
            crate::model::sanitize(s)
        ))
    })
}

/// The full, normalised form of a reference (`alpine` -> `docker.io/library/alpine:latest`).
pub fn full_reference(s: &str) -> Result<String> {
    parse_reference(s).map(|r| r.whole())
}

/// A connection to one repository: the `oci-client` for manifests, the blob transport.
struct Remote {
    reference: Reference,
    client: oci_client::Client,
    auth: RegistryAuth,
    blobs: BlobSource,
}

fn oci_error(
    r: &Reference,
    auth: &RegistryAuth,
    e: &OciDistributionError,
    tls: &TlsSettings,
) -> Error {
    let registry = r.registry();
    let repo = format!("{registry}/{}", r.repository());
    let unauthorized = || {
        if matches!(auth, RegistryAuth::Anonymous) {
            format!(
                "{repo}: unauthorized: {registry} wants credentials and none are stored for it; \
                 log in with `docker login {registry}`"
            )
        } else {
            format!(
                "{repo}: unauthorized: {registry} refused the stored credentials; \
                 log in again with `docker login {registry}`"
            )
        }
    };
    let not_found = |code: &str| match code {
        "NAME_UNKNOWN" => format!("{repo}: repository not found on {registry}"),
        _ => match (r.digest(), r.tag()) {
            (Some(d), _) => format!("{repo}: digest {d} not found in the repository"),
            (None, Some(t)) => format!("{repo}: tag {t} not found in the repository"),
            _ => format!("{repo}: manifest not found"),
        },
    };
    let msg = match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => unauthorized(),
        OciDistributionError::RegistryError { envelope, .. } => {
            let code = envelope
                .errors
                .first()
                .map(|e| format!("{:?}", e.code))
                .unwrap_or_default();
            let upper = code.to_uppercase().replace(['_', '-'], "");
            match upper.as_str() {
                "NAMEUNKNOWN" => not_found("NAME_UNKNOWN"),
                "MANIFESTUNKNOWN" | "BLOBUNKNOWN" => not_found("MANIFEST_UNKNOWN"),
                "UNAUTHORIZED" | "DENIED" => unauthorized(),
                "TOOMANYREQUESTS" => format!(
                    "{registry}: rate limited (429 Too Many Requests), still after {MAX_ATTEMPTS} attempts; \
                     wait and try again, or `docker login {registry}` for a higher limit"
                ),
                _ => format!(
                    "{repo}: the registry refused the request: {}",
                    crate::model::sanitize(&envelope.errors.first().map(|e| e.message.clone()).unwrap_or(code))
                ),
            }
        }
        OciDistributionError::ServerError { code: 404, .. }
        | OciDistributionError::ImageManifestNotFoundError(_) => not_found(""),
        OciDistributionError::ServerError { code: 429, .. } => format!(
            "{registry}: rate limited (429 Too Many Requests), still after {MAX_ATTEMPTS} attempts; \
             wait and try again, or `docker login {registry}` for a higher limit"
        ),
        OciDistributionError::ServerError { code, .. } => format!(
            "{registry}: the registry answered {code}, still after {MAX_ATTEMPTS} attempts; try again later"
        ),
        OciDistributionError::RequestError(re) => transport::describe(registry, re, tls),
        OciDistributionError::DigestError(d) => format!("{repo}: manifest digest mismatch: {d}"),
        other => format!(
            "{repo}: {}",
            crate::model::sanitize(&other.to_string())
                .lines()
                .next()
                .unwrap_or("")
        ),
    };
    Error::Other(msg)
}

fn transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| format!("{:?}", e.code).to_uppercase().contains("TOOMANY")),
        OciDistributionError::RequestError(re) => {
            !re.is_builder() && !format!("{re:?}").to_lowercase().contains("certificate")
        }
        _ => false,
    }
}

impl Remote {
    async fn connect(reference: Reference, ropts: &RegistryOptions) -> Result<Self> {
        let registry = reference.registry().to_owned();
        let host = reference.resolve_registry().to_owned();
        let tls = TlsSettings::for_registry(&registry, ropts.tls_verify);
        let http = transport::http_client(&tls)?;
        let scheme = transport::choose_scheme(&http, &host, &registry, &tls).await?;
        let config = ClientConfig {
            protocol: if scheme == "http" {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            accept_invalid_certificates: !tls.verify,
            extra_root_certificates: tls.oci_certificates(),
            platform_resolver: None,
            connect_timeout: Some(transport::timeouts().1),
            read_timeout: Some(transport::timeouts().0),
            user_agent: concat!("strata/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let client = oci_client::Client::try_from(config)
            .map_err(|e| Error::Other(format!("{registry}: cannot set up the client: {e}")))?;
        let auth = auth::credentials(&registry)?;
        let mut attempt = 0;
        let token = loop {
            match client
                .auth(&reference, &auth, RegistryOperation::Pull)
                .await
            {
                Ok(t) => break t,
                Err(e) if transient(&e) && attempt + 1 < MAX_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                Err(e) => return Err(oci_error(&reference, &auth, &e, &tls)),
            }
        };
        let blob_auth = match (token, &auth) {
            (Some(t), _) => BlobAuth::Bearer(t),
            (None, RegistryAuth::Basic(u, p)) => BlobAuth::Basic(u.clone(), p.clone()),
            _ => BlobAuth::Anonymous,
        };
        let blobs = BlobSource {
            client: http,
            scheme,
            host,
            display: registry,
            repository: reference.repository().to_owned(),
            auth: blob_auth,
            tls,
        };
        Ok(Self {
            reference,
            client,
            auth,
            blobs,
        })
    }

    /// Fetches a manifest (by the reference or a digest), retrying transient failures.
    async fn manifest(&self, digest: Option<&str>) -> Result<(Vec<u8>, String)> {
        let r = match digest {
            Some(d) => self.reference.clone_with_digest(d.to_owned()),
            None => self.reference.clone(),
        };
        let accepted = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];
        let mut attempt = 0;
        loop {
            match self
                .client
                .pull_manifest_raw(&r, &self.auth, &accepted)
                .await
            {
                Ok((bytes, digest)) => return Ok((bytes.to_vec(), digest)),
                Err(e) if transient(&e) && attempt + 1 < MAX_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                Err(e) if not_found(&e) && !self.repository_exists().await => {
                    return Err(Error::Other(format!(
                        "{}/{}: repository not found on {}",
                        r.registry(),
                        r.repository(),
                        r.registry()
                    )));
                }
                Err(e) => return Err(oci_error(&r, &self.auth, &e, &self.blobs.tls)),
            }
        }
    }

    /// False when the registry says the repository is unknown (registries answer
    /// `MANIFEST_UNKNOWN` for a tag of a missing repository too; the tag list tells them apart).
    async fn repository_exists(&self) -> bool {
        match self
            .client
            .list_tags(&self.reference, &self.auth, Some(1), None)
            .await
        {
            Ok(_) => true,
            Err(e) => !not_found(&e),
        }
    }
}

fn not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            let c = format!("{:?}", e.code).to_uppercase();
            c.contains("UNKNOWN") || c.contains("NOTFOUND")
        }),
        _ => false,
    }
}

/// One layer blob as the manifest declares it.
#[derive(Debug, Clone)]
struct BlobDesc {
    digest: String,
    size: u64,
}

/// What the manifest stage found: a registry image's layer list, config and documents,
/// fetched before any layer blob.
#[derive(Debug)]
pub(crate) struct Metadata {
    resolved: Resolved,
    layers: Vec<BlobDesc>,
    /// `registry/repo@digest` of what the reference names (index or manifest).
    repo_digest: String,
    /// The digest the reference names (index or manifest) and, when different, the platform
    /// manifest's: what signatures and attestations can refer to.
    subjects: Vec<String>,
    /// The documents fetched (index, manifest) by digest, raw, for the anatomy view.
    documents: Vec<(String, Vec<u8>)>,
}

fn json(label: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::invalid(label, format!("manifest is not valid JSON: {e}")))
}

fn platform_of(desc: &Value) -> Option<(String, String, Option<String>)> {
    let p = desc.get("platform")?;
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Some((
        s("os"),
        s("architecture"),
        p.get("variant").and_then(Value::as_str).map(str::to_owned),
    ))
}

use super::attestations::is_attestation;

fn platform_text(p: &(String, String, Option<String>)) -> String {
    match &p.2 {
        Some(v) => format!("{}/{}/{v}", p.0, p.1),
        None => format!("{}/{}", p.0, p.1),
    }
}

/// Picks the platform manifest from an index: the requested platform, else the host's, else
/// the only one. Attestation manifests are counted, never offered.
fn pick_platform(label: &str, index: &Value, wanted: Option<&Platform>) -> Result<(String, usize)> {
    let list = index
        .get("manifests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let attestations = list.iter().filter(|d| is_attestation(d)).count();
    let images: Vec<&Value> = list.iter().filter(|d| !is_attestation(d)).collect();
    let want = wanted.cloned().unwrap_or_else(Platform::host);
    let matches = |d: &Value| {
        platform_of(d).is_some_and(|(os, arch, v)| {
            os == want.os
                && arch == want.architecture
                && want
                    .variant
                    .as_deref()
                    .is_none_or(|w| Some(w) == v.as_deref())
        })
    };
    let chosen = images
        .iter()
        .find(|d| matches(d))
        .or_else(|| (wanted.is_none() && images.len() == 1).then(|| &images[0]));
    match chosen.and_then(|d| d.get("digest")).and_then(Value::as_str) {
        Some(d) => Ok((d.to_owned(), attestations)),
        None => {
            let names: Vec<String> = images
                .iter()
                .map(|d| platform_of(d).map_or_else(|| "unknown".into(), |p| platform_text(&p)))
                .collect();
            let att = match attestations {
                0 => String::new(),
                1 => " (plus 1 attestation manifest)".into(),
                n => format!(" (plus {n} attestation manifests)"),
            };
            Err(Error::invalid(
                label,
                format!(
                    "no image for platform {want}; available: {}{att} (choose with --platform)",
                    names.join(", ")
                ),
            ))
        }
    }
}

async fn fetch_metadata(
    remote: &Remote,
    wanted: Option<&Platform>,
    cache: Option<&BlobCache>,
    progress: &Progress,
) -> Result<Metadata> {
    let r = &remote.reference;
    let label = r.whole();
    let repo = format!("{}/{}", r.registry(), r.repository());
    let (top, top_digest) = remote.manifest(None).await?;
    let mut value = json(&label, &top)?;
    let mut documents = vec![(top_digest.clone(), top.clone())];
    let mut manifest_digest = top_digest.clone();
    let mut warnings = Vec::new();
    let mut attestation_entries = Vec::new();
    let media = value.get("mediaType").and_then(Value::as_str).unwrap_or("");
    if media == OCI_INDEX || media == DOCKER_LIST || value.get("manifests").is_some() {
        let (digest, attestations) = pick_platform(&label, &value, wanted)?;
        attestation_entries = value
            .get("manifests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|d| is_attestation(d))
            .cloned()
            .collect();
        if attestations > 0 {
            progress.emit(ProgressEvent::Phase(format!(
                "the index lists {attestations} attestation manifest{}",
                if attestations == 1 { "" } else { "s" }
            )));
        }
        let (bytes, d) = remote.manifest(Some(&digest)).await?;
        value = json(&label, &bytes)?;
        documents.push((d.clone(), bytes));
        manifest_digest = d;
        if value.get("manifests").is_some() {
            return Err(Error::invalid(
                &label,
                "an index inside an index: not supported",
            ));
        }
    }
    if value.get("schemaVersion").and_then(Value::as_i64) == Some(1) {
        return Err(Error::invalid(
            &label,
            "schema 1 manifests are obsolete and not supported",
        ));
    }
    let config_type = value
        .pointer("/config/mediaType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !config_type.is_empty() && !IMAGE_CONFIG_TYPES.contains(&config_type) {
        return Err(Error::invalid(
            &label,
            format!("not a container image: an artifact with config type {config_type}"),
        ));
    }
    let desc = |v: &Value| -> Result<BlobDesc> {
        let digest = v
            .get("digest")
            .and_then(Value::as_str)
            .filter(|d| blob_member(d).is_some() && d.starts_with("sha256:"))
            .ok_or_else(|| Error::invalid(&label, "a descriptor has no sha256 digest"))?;
        let size = v
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::invalid(&label, format!("descriptor {digest} has no size")))?;
        Ok(BlobDesc {
            digest: digest.to_owned(),
            size,
        })
    };
    let config_desc = desc(
        value
            .get("config")
            .ok_or_else(|| Error::invalid(&label, "manifest has no config"))?,
    )?;
    let mut layers = Vec::new();
    let mut refs = Vec::new();
    for l in value
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid(&label, "manifest has no layers"))?
    {
        let d = desc(l)?;
        let media_type = l
            .get("mediaType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if media_type
            .as_deref()
            .is_some_and(|m| m.ends_with("+encrypted"))
        {
            return Err(Error::invalid(
                &label,
                format!(
                    "layer {} is encrypted (ocicrypt), which strata cannot read",
                    d.digest
                ),
            ));
        }
        refs.push(LayerRef {
            member: blob_member(&d.digest).unwrap_or_default(),
            blob_digest: Some(d.digest.clone()),
            media_type,
        });
        layers.push(d);
    }
    let config = match cache.and_then(|c| read_cached_small(c, &config_desc)) {
        Some(bytes) => bytes,
        None => {
            let bytes = remote
                .blobs
                .fetch_small(&config_desc.digest, config_desc.size)
                .await?;
            if let Some(c) = cache {
                if let Some(mut p) = c.start(&config_desc.digest) {
                    p.write(&bytes);
                    p.commit();
                }
            }
            bytes
        }
    };
    if layers.is_empty() {
        warnings.push(format!("{label}: the manifest lists no layers"));
    }
    let repo_tags = r
        .tag()
        .map(|t| vec![format!("{repo}:{t}")])
        .unwrap_or_default();
    let provenance = fetch_attestations(
        remote,
        &attestation_entries,
        &manifest_digest,
        cache,
        &mut warnings,
    )
    .await;
    Ok(Metadata {
        resolved: Resolved {
            config,
            config_digest: config_desc.digest,
            layers: refs,
            repo_tags,
            manifest_digest: Some(manifest_digest.clone()),
            warnings,
            provenance,
        },
        layers,
        subjects: [Some(top_digest.clone()), Some(manifest_digest)]
            .into_iter()
            .flatten()
            .fold(Vec::new(), |mut v, d| {
                if !v.contains(&d) {
                    v.push(d);
                }
                v
            }),
        repo_digest: format!("{repo}@{top_digest}"),
        documents,
    })
}

/// Reads the attestation manifests among `entries` that point at `subject`, and their
/// in-toto statements, through the blob cache. Nothing here fails the load: what cannot be
/// read becomes a warning (see [`super::attestations`]).
async fn fetch_attestations(
    remote: &Remote,
    entries: &[Value],
    subject: &str,
    cache: Option<&BlobCache>,
    warnings: &mut Vec<String>,
) -> crate::model::provenance::Provenance {
    use super::attestations as att;
    let mut prov = crate::model::provenance::Provenance {
        subject_digest: Some(subject.to_owned()),
        ..Default::default()
    };
    let label = remote.reference.whole();
    for desc in entries
        .iter()
        .filter(|d| att::subject_of(d) == Some(subject))
    {
        let Some(digest) = att::digest_of(desc) else {
            continue;
        };
        let manifest = match remote.manifest(Some(digest)).await {
            Ok((bytes, _)) => serde_json::from_slice::<Value>(&bytes).ok(),
            Err(e) => {
                warnings.push(format!("attestation manifest {digest}: {e}"));
                None
            }
        };
        let Some(manifest) = manifest else {
            prov.attestations
                .push(crate::model::provenance::Attestation {
                    manifest: digest.to_owned(),
                    problem: Some("attestation manifest absent or unreadable".into()),
                    ..Default::default()
                });
            continue;
        };
        for mut a in att::statements_of(digest, &manifest) {
            let d = BlobDesc {
                digest: a.digest.clone(),
                size: a.size,
            };
            let bytes = match cache.and_then(|c| read_cached_small(c, &d)) {
                Some(b) => Some(b),
                None => match remote.blobs.fetch_small(&d.digest, d.size).await {
                    Ok(b) => {
                        if let Some(mut p) = cache.and_then(|c| c.start(&d.digest)) {
                            p.write(&b);
                            p.commit();
                        }
                        Some(b)
                    }
                    Err(_) => None,
                },
            };
            match bytes {
                Some(b) => warnings.extend(att::fill(&mut a, &b)),
                None => warnings.push(att::missing(&mut a, &format!("the registry ({label})"))),
            }
            prov.attestations.push(a);
        }
    }
    prov
}

fn read_cached_small(cache: &BlobCache, d: &BlobDesc) -> Option<Vec<u8>> {
    let mut f = cache.get(&d.digest, d.size)?;
    let mut buf = Vec::with_capacity(d.size as usize);
    f.read_to_end(&mut buf).ok()?;
    if crate::source::resolve::sha256_digest(&buf) == d.digest {
        Some(buf)
    } else {
        cache.remove(&d.digest);
        None
    }
}

/// A `Read` over chunks arriving from a download task, copying them into a cache entry.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    tee: Option<cache::PendingBlob>,
    failure: Arc<Mutex<Option<String>>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => {
                    if let Some(t) = &mut self.tee {
                        t.write(&b);
                    }
                    self.current = b;
                }
                Some(Err(e)) => {
                    self.tee = None;
                    if let Ok(mut f) = self.failure.lock() {
                        f.get_or_insert_with(|| e.to_string());
                    }
                    return Err(e);
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// True when the scan authenticated the blob as `digest` (its stored bytes hashed, or the tar
/// itself for an uncompressed blob).
fn verified(scan: &LayerScan, digest: &str) -> bool {
    match scan.compression {
        crate::model::Compression::None => scan.diff_id == digest,
        _ => scan.blob_digest == digest,
    }
}

/// Runs `f` on a fresh thread with its own async runtime (the caller may be inside one).
fn with_runtime<T: Send>(f: impl FnOnce(&tokio::runtime::Handle) -> T + Send) -> Result<T> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))?;
    let handle = rt.handle().clone();
    let out = std::thread::scope(|s| {
        s.spawn(|| f(&handle))
            .join()
            .map_err(|_| Error::Other("the registry client thread panicked".into()))
    });
    rt.shutdown_background();
    out
}

/// `registry:REF`: always the registry.
pub struct RegistryImage<'a>(pub &'a str);

impl super::Source for RegistryImage<'_> {
    fn load(&self, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
        load(self.0, opts, progress)
    }
}

/// A bare reference: the daemon's image when the daemon has it, else the registry's (after a
/// note naming the full reference), as `LoadOptions::source` allows.
pub struct BareReference<'a>(pub &'a str);

/// True for an image id (hex, or `sha256:` hex), which only the daemon knows.
fn is_image_id(r: &str) -> bool {
    let hex = r.strip_prefix("sha256:").unwrap_or(r);
    hex.len() >= 12 && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The "did you mean" end of a not-found message for a reference given without a tag, naming
/// the daemon's tags of that repository (empty when there are none).
fn did_you_mean(tags: &[String]) -> String {
    match tags {
        [] => String::new(),
        [one] => format!("; no tag was given, so :latest was asked for: did you mean {one}?"),
        many => format!(
            "; no tag was given, so :latest was asked for: the daemon has {}",
            many.iter()
                .take(5)
                .map(|t| crate::model::sanitize(t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A source's load function.
type LoadFn = fn(&str, &LoadOptions, &Progress) -> Result<Image>;

impl super::Source for BareReference<'_> {
    fn load(&self, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
        use super::SourceChoice;
        let r = self.0;
        #[cfg(feature = "daemon")]
        let (daemon_load, has, suggest): (LoadFn, _, fn(&str) -> Vec<String>) = (
            super::daemon::load,
            || super::daemon::has_image(r),
            super::daemon::tags_for_untagged,
        );
        #[cfg(not(feature = "daemon"))]
        let (daemon_load, has, suggest): (LoadFn, _, fn(&str) -> Vec<String>) = (
            |r: &str, _: &LoadOptions, _: &Progress| Err(super::no_daemon(r)),
            || None::<bool>,
            |_: &str| Vec::new(),
        );
        match opts.source {
            SourceChoice::Daemon => daemon_load(r, opts, progress).map_err(|e| match e {
                Error::Daemon(m) if m.contains("image not found") => {
                    Error::Daemon(format!("{m}{}", did_you_mean(&suggest(r))))
                }
                other => other,
            }),
            SourceChoice::Registry => load(r, opts, progress),
            SourceChoice::Auto if is_image_id(r) => daemon_load(r, opts, progress),
            SourceChoice::Auto => match has() {
                Some(true) => daemon_load(r, opts, progress),
                found => {
                    let full = full_reference(r)?;
                    // `local/debian` with only `local/debian:bookworm` on the daemon: the user
                    // means the local image, not the registry's `:latest`. Say so, do not guess.
                    let tags = if found.is_some() {
                        suggest(r)
                    } else {
                        Vec::new()
                    };
                    if !tags.is_empty() {
                        return Err(Error::Other(format!(
                            "{r}: not on the Docker daemon{} (or --source registry to read {full})",
                            did_you_mean(&tags)
                        )));
                    }
                    let why = if found.is_some() {
                        "not on the Docker daemon"
                    } else {
                        "no Docker daemon answers"
                    };
                    let note = format!(
                        "{full}: {why}; reading it from the registry (nothing is stored in the daemon; \
                         --source daemon forbids this)"
                    );
                    if !progress.is_silent() {
                        progress.emit(ProgressEvent::Notice(note));
                    } else if opts.progress_bar {
                        use std::io::Write;
                        let _ = writeln!(
                            std::io::stderr(),
                            "strata: {}",
                            crate::model::sanitize(&note)
                        );
                    }
                    load(r, opts, progress)
                }
            },
        }
    }
}

/// The blob cache the options ask for (`None` with `--no-cache` or without a cache directory).
fn blob_cache(ropts: &RegistryOptions) -> Result<Option<BlobCache>> {
    if ropts.use_cache {
        BlobCache::open_default()
    } else {
        Ok(None)
    }
}

/// Connects to the repository `reference` names and fetches its manifest stage, unless it
/// was `prefetched`.
async fn connect_and_fetch(
    reference: Reference,
    opts: &LoadOptions,
    cache: Option<&BlobCache>,
    progress: &Progress,
    prefetched: Option<Metadata>,
) -> Result<(Remote, Metadata)> {
    let remote = Remote::connect(reference, &opts.registry).await?;
    let meta = match prefetched {
        Some(meta) => meta,
        None => fetch_metadata(&remote, opts.platform.as_ref(), cache, progress).await?,
    };
    Ok((remote, meta))
}

impl Metadata {
    /// The image as the manifest and config describe it.
    pub(crate) fn resolved(&self) -> &Resolved {
        &self.resolved
    }
}

/// The manifest stage of a registry image (manifest and config only, no layer blob): what a
/// diff needs to know which layers the image shares with the other one before reading
/// either. The diff's layer cache hands it to the image's own load, which then does not
/// fetch it again.
pub(crate) fn resolve(reference: &str, opts: &LoadOptions) -> Result<Metadata> {
    let parsed = parse_reference(reference)?;
    let cache = blob_cache(&opts.registry)?;
    with_runtime(|rt| {
        rt.block_on(connect_and_fetch(
            parsed,
            opts,
            cache.as_ref(),
            &Progress::default(),
            None,
        ))
        .map(|(_, meta)| meta)
    })?
}

/// Loads an image from a registry (see the module documentation).
pub fn load(reference: &str, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
    let parsed = parse_reference(reference)?;
    let full = parsed.whole();
    let ropts = &opts.registry;
    let cache = blob_cache(ropts)?;
    // In a diff, the manifest stage fetched to learn the layer list: the same manifest, not
    // asked for again (a tag moved in between would be a different image than the one shared).
    let prefetched = opts
        .layer_cache
        .as_ref()
        .and_then(|c| c.take_registry_metadata(reference));
    with_runtime(|rt| {
        let (remote, meta) = rt.block_on(connect_and_fetch(
            parsed,
            opts,
            cache.as_ref(),
            progress,
            prefetched,
        ))?;
        let origin = Origin::Registry(Box::new(RegistryOrigin {
            repository: format!(
                "{}/{}",
                remote.reference.registry(),
                remote.reference.repository()
            ),
            tls_verify: ropts.tls_verify,
            cache_dir: cache.as_ref().map(|c| c.root().to_owned()),
        }));
        let mut preview_image = preview(&full, &meta.resolved, &origin)?;
        preview_image.repo_digests = vec![meta.repo_digest.clone()];
        for (l, d) in preview_image.layers.iter_mut().zip(&meta.layers) {
            l.blob_bytes = d.size;
            l.location.blob_bytes = d.size;
        }
        progress.emit(ProgressEvent::Metadata(Box::new(preview_image)));
        // Through the layer cache of a diff: a layer the other image already read is not
        // fetched or scanned again.
        let scans = super::scan_resolved(&meta.resolved, &full, opts, |members| {
            let members: HashSet<&str> = members.iter().map(String::as_str).collect();
            read_layers(
                rt,
                &remote.blobs,
                &meta.layers,
                &members,
                cache.as_ref(),
                &full,
                opts,
                progress,
            )
        })?;
        if let Some(c) = &cache {
            let keep: HashSet<String> = meta
                .layers
                .iter()
                .map(|l| l.digest.clone())
                .chain([meta.resolved.config_digest.clone()])
                .collect();
            c.enforce_cap(&keep);
        }
        progress.emit(ProgressEvent::Phase(
            "asking the registry for signatures and attestations".into(),
        ));
        let found = rt.block_on(referrers::discover(&remote, &meta.subjects));
        let mut image = assemble(&full, &meta.resolved, scans, origin, |_| None, opts)?;
        let top = meta
            .documents
            .first()
            .map(|d| d.0.clone())
            .unwrap_or_default();
        image.documents = super::documents::from_fetched(&meta.documents, &top, &meta.resolved);
        image.repo_digests = vec![meta.repo_digest];
        image.warnings.extend(
            found
                .problems
                .iter()
                .map(|p| format!("{full}: asking for signatures and attestations: {p}")),
        );
        // Cosign attestations join the index's: the same provenance and SBOM reading.
        image
            .provenance
            .attestations
            .extend(referrers::cosign_statements(&found));
        image.referrers = Some(found);
        Ok(image)
    })?
}

/// Reads every distinct layer blob of `members` once: from the cache when a verified entry is
/// there, else streamed from the registry into the scanner (and into the cache), `concurrency`
/// at a time.
#[allow(clippy::too_many_arguments)]
fn read_layers(
    rt: &tokio::runtime::Handle,
    blobs: &BlobSource,
    layers: &[BlobDesc],
    members: &HashSet<&str>,
    cache: Option<&BlobCache>,
    label: &str,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<HashMap<String, LayerScan>> {
    let mut seen = HashSet::new();
    let mut jobs: Vec<(usize, BlobDesc)> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            members.contains(blob_member(&l.digest).unwrap_or_default().as_str())
                && seen.insert(l.digest.clone())
        })
        .map(|(i, l)| (i, l.clone()))
        .collect();
    jobs.sort_by_key(|(_, l)| std::cmp::Reverse(l.size));
    let total = jobs.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(total));
    let scan_opts = ScanOptions {
        blob_digest_declared: true,
        ..opts.scan.clone()
    };
    // Downloads overlap to fill the link; blobs all in the cache only need the cores.
    let all_cached = cache.is_some_and(|c| jobs.iter().all(|(_, d)| c.holds(&d.digest, d.size)));
    let parallel = if all_cached {
        crate::source::archive::worker_count().min(opts.registry.concurrency)
    } else {
        opts.registry.concurrency
    };
    let workers = parallel.max(1).min(total.max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((index, desc)) = jobs.get(i) else {
                    break;
                };
                progress.layer_started(*index);
                let r = read_one(rt, blobs, *index, desc, cache, label, &scan_opts, progress);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress.layer_done(n, total);
                let failed = r.is_err();
                results
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((blob_member(&desc.digest).unwrap_or_default(), r));
                if failed {
                    next.store(usize::MAX / 2, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    let mut out = HashMap::with_capacity(total);
    for (m, r) in results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        out.insert(m, r?);
    }
    Ok(out)
}

/// Downloaded chunks queued per layer for its scanner (see [`read_one`]).
const LAYER_CHUNKS_IN_FLIGHT: usize = 8;

#[allow(clippy::too_many_arguments)]
fn read_one(
    rt: &tokio::runtime::Handle,
    blobs: &BlobSource,
    index: usize,
    desc: &BlobDesc,
    cache: Option<&BlobCache>,
    label: &str,
    opts: &ScanOptions,
    progress: &Progress,
) -> Result<LayerScan> {
    let name = format!("{label}: layer {index} ({})", desc.digest);
    let check = |scan: &LayerScan| opts.skip_digests || verified(scan, &desc.digest);
    if let Some(file) = cache.and_then(|c| c.get(&desc.digest, desc.size)) {
        let reader = io::BufReader::with_capacity(256 << 10, file);
        match scan_layer(reader, &name, opts) {
            Ok(scan) if check(&scan) => {
                progress.emit(ProgressEvent::LayerBytes {
                    index,
                    received: desc.size,
                    total: desc.size,
                });
                progress.bytes(desc.size);
                return Ok(scan);
            }
            // A damaged entry: drop it and fetch the blob again.
            _ => {
                if let Some(c) = cache {
                    c.remove(&desc.digest);
                }
            }
        }
    }
    // Chunks in flight per layer. On loopback the download outruns decompression and the
    // channel stays full: with up to `concurrency` layers at once, its depth is most of the
    // memory the registry source adds over reading an archive.
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(LAYER_CHUNKS_IN_FLIGHT);
    let failure = Arc::new(Mutex::new(None));
    let reader = ChannelReader {
        rx,
        current: Bytes::new(),
        tee: if opts.skip_digests {
            None
        } else {
            cache.and_then(|c| c.start(&desc.digest))
        },
        failure: failure.clone(),
    };
    let source = blobs.clone();
    let digest = desc.digest.clone();
    let size = desc.size;
    let p = progress.clone();
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let task = rt.spawn(async move {
        source
            .stream(&digest, size, tx, |n| {
                let got = received.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
                p.bytes(n);
                p.emit(ProgressEvent::LayerBytes {
                    index,
                    received: got,
                    total: size,
                });
            })
            .await;
    });
    let mut reader = reader;
    let scanned = scan_layer(&mut reader, &name, opts);
    // Drain what is left so the download finishes (or fails) before the verdict.
    let mut sink = [0u8; 64 << 10];
    let drained = scanned.is_ok()
        && loop {
            match reader.read(&mut sink) {
                Ok(0) => break true,
                Ok(_) => {}
                Err(_) => break false,
            }
        };
    let tee = reader.tee.take();
    drop(reader);
    let _ = rt.block_on(task);
    if let Some(msg) = failure.lock().ok().and_then(|f| f.clone()) {
        return Err(Error::Other(msg));
    }
    let scan = scanned?;
    if !drained {
        return Err(Error::invalid(
            &name,
            "the layer stream ended with an error",
        ));
    }
    if scan.blob_bytes != desc.size {
        return Err(Error::invalid(
            &name,
            format!(
                "blob is {} bytes but the manifest declares {}",
                scan.blob_bytes, desc.size
            ),
        ));
    }
    if let Some(t) = tee {
        if verified(&scan, &desc.digest) {
            t.commit();
        }
    }
    Ok(scan)
}

/// Opens the stored bytes of blob `digest` of a registry image: from the cache, else
/// downloaded again (the file viewer and extract read layers through this).
pub fn open_blob(origin: &RegistryOrigin, digest: &str, size: u64) -> Result<Box<dyn Read + Send>> {
    if let Some(dir) = &origin.cache_dir {
        let cache = BlobCache::new(dir.clone(), u64::MAX);
        if let Some(f) = cache.get(digest, size) {
            return Ok(Box::new(io::BufReader::new(f)));
        }
    }
    let parsed = parse_reference(&origin.repository)?;
    let ropts = RegistryOptions {
        tls_verify: origin.tls_verify,
        use_cache: false,
        concurrency: 1,
    };
    let bytes = with_runtime(|rt| {
        rt.block_on(async {
            let remote = Remote::connect(parsed, &ropts).await?;
            remote.blobs.fetch_small(digest, size).await
        })
    })??;
    Ok(Box::new(io::Cursor::new(bytes)))
}

/// `strata cache`: the cache's place, size and cap, optionally pruned first.
pub fn cache_command(prune: bool) -> Result<String> {
    let Some(cache) = BlobCache::open_default()? else {
        return Ok("no cache directory (set XDG_CACHE_HOME or HOME)\n".into());
    };
    let mut out = String::new();
    if prune {
        let freed = cache.prune();
        out.push_str(&format!(
            "pruned {}\n",
            humansize::format_size(freed, humansize::BINARY)
        ));
    }
    let u = cache.usage();
    out.push_str(&format!(
        "cache: {}\nsize: {} in {} blob{} (limit {}; set {} to change it)\n",
        cache.root().display(),
        humansize::format_size(u.bytes, humansize::BINARY),
        u.blobs,
        if u.blobs == 1 { "" } else { "s" },
        humansize::format_size(cache.max_bytes(), humansize::BINARY),
        cache::MAX_ENV,
    ));
    Ok(out)
}

/// Where the cache lives, for documentation and tests.
pub fn default_cache_dir() -> Option<PathBuf> {
    BlobCache::open_default()
        .ok()
        .flatten()
        .map(|c| c.root().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_names_normalise_as_docker_does() {
        assert_eq!(
            full_reference("alpine").unwrap(),
            "docker.io/library/alpine:latest"
        );
        assert_eq!(
            full_reference("user/app").unwrap(),
            "docker.io/user/app:latest"
        );
        assert_eq!(
            full_reference("127.0.0.1:5000/app:1").unwrap(),
            "127.0.0.1:5000/app:1"
        );
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            full_reference(&format!("ghcr.io/org/app@{d}")).unwrap(),
            format!("ghcr.io/org/app@{d}")
        );
        assert!(full_reference("UPPER/Case").is_err());
    }

    /// Our parser agrees with `oci-spec`'s on what is a reference and what it names, except
    /// that a tag is ASCII as in Docker's grammar.
    #[test]
    fn references_parse_as_oci_spec_parses_them() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let cases = [
            "alpine".to_owned(),
            "alpine:3.19".to_owned(),
            "library/alpine".to_owned(),
            "index.docker.io/library/alpine:1".to_owned(),
            "docker.io/user/app".to_owned(),
            "localhost/app:dev".to_owned(),
            "localhost:5000/a/b/c:v1.2_3-x".to_owned(),
            "127.0.0.1:5000/team/app:1".to_owned(),
            "ghcr.io/org/app_x__y--z.w".to_owned(),
            format!("ghcr.io/org/app@{d}"),
            format!("ghcr.io/org/app:1.0@{d}"),
            format!("app@sha256:{}", "a".repeat(63)),
            format!("app@sha512:{}", "a".repeat(128)),
            format!("app@md5:{}", "a".repeat(32)),
            "UPPER/Case".to_owned(),
            "app:".to_owned(),
            ":tag".to_owned(),
            "a//b".to_owned(),
            "app:-bad".to_owned(),
            format!("app:{}", "t".repeat(129)),
            format!("host.io/{}", "a".repeat(256)),
            String::new(),
        ];
        for c in &cases {
            let ours = reference_problem(c).map(|r| r.whole());
            let theirs = Reference::try_from(c.as_str()).map(|r| r.whole());
            assert_eq!(
                ours.is_ok(),
                theirs.is_ok(),
                "{c:?}: {ours:?} vs {theirs:?}"
            );
            if let (Ok(a), Ok(b)) = (&ours, &theirs) {
                assert_eq!(a, b, "{c:?}");
            }
        }
        // Docker's tags are ASCII; oci-spec's Unicode classes would take this one.
        assert!(reference_problem("app:t\u{e9}").is_err());
    }

    #[test]
    fn attestations_are_counted_not_offered() {
        let index = json!({"manifests": [
            {"digest": "sha256:aa", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:bb", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"digest": "sha256:cc", "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
        ]});
        let arm = Platform::parse("linux/arm64").unwrap();
        assert_eq!(
            pick_platform("x", &index, Some(&arm)).unwrap(),
            ("sha256:bb".into(), 1)
        );
        let s390 = Platform::parse("linux/s390x").unwrap();
        let err = pick_platform("x", &index, Some(&s390))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("available: linux/amd64, linux/arm64/v8 (plus 1 attestation manifest)"),
            "{err}"
        );
        assert!(!err.contains("unknown"), "{err}");
    }
}
