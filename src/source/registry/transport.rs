//! HTTP to a registry: TLS settings as the docker CLI reads them, choosing HTTPS or plain HTTP,
//! naming network failures, and streaming blobs with retries (resuming with `Range`).
//!
//! Manifests and the token handshake go through `oci-client`; blob bodies come through here so
//! that every byte can be handed to the layer scanner as it arrives, a cut-off transfer can be
//! resumed where it stopped, and `429 Retry-After` can be honoured.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, AUTHORIZATION, RANGE, RETRY_AFTER};
use reqwest::StatusCode;

use crate::{Error, Result};

/// Attempts per request before a transient failure becomes an error.
pub const MAX_ATTEMPTS: u32 = 6;
/// Longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Environment variable setting the network timeout in seconds (default 60; connecting at
/// most 20).
pub const TIMEOUT_ENV: &str = "STRATA_REGISTRY_TIMEOUT_SECS";
/// Environment variable naming the directory read instead of `/etc/docker/certs.d`.
pub const CERTS_DIR_ENV: &str = "STRATA_REGISTRY_CERTS_DIR";

/// How to talk TLS to a registry.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// Verify certificates (`--tls-verify=false` turns this off and allows plain HTTP).
    pub verify: bool,
    /// Extra trusted CAs (PEM), from `/etc/docker/certs.d/HOST/*.crt`.
    pub extra_roots: Vec<Vec<u8>>,
    /// The files they came from (for error messages).
    pub extra_root_files: Vec<PathBuf>,
}

/// True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port: registries Docker
/// lets speak plain HTTP without configuration.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                registry
            }
        })
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The directory the docker CLI reads per-registry CAs from.
pub fn certs_dir() -> PathBuf {
    std::env::var_os(CERTS_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/etc/docker/certs.d"), PathBuf::from)
}

impl TlsSettings {
    /// Settings for `registry`: the system roots plus `certs.d/REGISTRY/*.crt`.
    pub fn for_registry(registry: &str, verify: bool) -> Self {
        let dir = certs_dir().join(registry);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "crt"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut extra_roots = Vec::new();
        let mut extra_root_files = Vec::new();
        for f in files {
            if let Ok(pem) = std::fs::read(&f) {
                extra_roots.push(pem);
                extra_root_files.push(f);
            }
        }
        Self {
            verify,
            extra_roots,
            extra_root_files,
        }
    }

    /// The same settings for `oci-client`.
    pub fn oci_certificates(&self) -> Vec<oci_client::client::Certificate> {
        self.extra_roots
            .iter()
            .map(|pem| oci_client::client::Certificate {
                encoding: oci_client::client::CertificateEncoding::Pem,
                data: pem.clone(),
            })
            .collect()
    }
}

/// The read timeout, and the connect timeout (at most 20 s).
pub fn timeouts() -> (Duration, Duration) {
    let read = std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(Duration::from_secs(60), Duration::from_secs);
    (read, read.min(Duration::from_secs(20)))
}

/// Installs the TLS crypto provider once per process.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client with these TLS settings and strata's timeouts.
pub fn http_client(tls: &TlsSettings) -> Result<reqwest::Client> {
    install_crypto();
    let mut certs = Vec::new();
    for (pem, file) in tls.extra_roots.iter().zip(&tls.extra_root_files) {
        let c = reqwest::Certificate::from_pem(pem)
            .map_err(|e| Error::Other(format!("{}: not a PEM certificate: {e}", file.display())))?;
        certs.push(c);
    }
    reqwest::Client::builder()
        .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeouts().1)
        .read_timeout(timeouts().0)
        .danger_accept_invalid_certs(!tls.verify)
        .tls_certs_merge(certs)
        .build()
        .map_err(|e| Error::Other(format!("cannot set up the HTTP client: {e}")))
}

/// How a request failed, in words a user can act on.
pub fn describe(registry: &str, e: &reqwest::Error, tls: &TlsSettings) -> String {
    let mut chain = String::new();
    let mut io_kind = None;
    let mut tls_error = false;
    for s in causes(e) {
        chain.push_str(&s.to_string());
        chain.push(' ');
        if let Some(ioe) = s.downcast_ref::<io::Error>() {
            if ioe.kind() != io::ErrorKind::Other {
                io_kind.get_or_insert(ioe.kind());
            }
        }
        if s.downcast_ref::<rustls::Error>().is_some() {
            tls_error = true;
        }
    }
    let lower = chain.to_lowercase();
    if tls_error || lower.contains("certificate") || lower.contains("invalid peer") {
        let ca = certs_dir().join(registry).join("ca.crt");
        let extra = if tls.extra_root_files.is_empty() {
            String::new()
        } else {
            format!(" (also trusting {})", ca.display())
        };
        return format!(
            "{registry}: TLS failure: {}{extra}; trust the registry's CA by putting it in {} \
             (or the system store), or pass --tls-verify=false for a registry you trust",
            first_line(&chain),
            ca.display()
        );
    }
    if e.is_timeout() || io_kind == Some(io::ErrorKind::TimedOut) {
        return format!(
            "{registry}: timed out waiting for the registry; check the address and the network"
        );
    }
    if io_kind == Some(io::ErrorKind::ConnectionRefused) || lower.contains("connection refused") {
        return format!(
            "{registry}: connection refused: no registry is listening there; check the host and port"
        );
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        return format!(
            "{registry}: DNS failure: the host name does not resolve; check the spelling and the network"
        );
    }
    if io_kind == Some(io::ErrorKind::ConnectionReset) || lower.contains("connection reset") {
        return format!("{registry}: the connection was reset by the registry or a proxy");
    }
    format!("{registry}: request failed: {}", first_line(&chain))
}

fn first_line(s: &str) -> String {
    crate::model::sanitize(s.trim())
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// True when the server spoke TLS but its certificate was not trusted (then plain HTTP is no
/// way out: the registry does speak TLS).
fn certificate_error(e: &reqwest::Error) -> bool {
    causes(e).into_iter().any(|s| {
        matches!(
            s.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        )
    })
}

/// The error and its causes, innermost last. `io::Error::source` skips the error an
/// `io::Error` wraps (hyper and rustls wrap theirs twice), so that one is taken with `get_ref`.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(s) = next {
        out.push(s);
        if out.len() > 32 {
            break;
        }
        next = match s.downcast_ref::<io::Error>().and_then(|i| i.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => s.source(),
        };
    }
    out
}

/// Picks `https` or `http` for `registry`: HTTPS first; plain HTTP after it only for loopback
/// registries or with `--tls-verify=false` (as Docker treats insecure registries).
pub async fn choose_scheme(
    client: &reqwest::Client,
    registry_host: &str,
    display: &str,
    tls: &TlsSettings,
) -> Result<&'static str> {
    let insecure_ok = !tls.verify || is_loopback(registry_host);
    let mut first_error = None;
    for scheme in ["https", "http"] {
        if scheme == "http" && !insecure_ok {
            break;
        }
        let url = format!("{scheme}://{registry_host}/v2/");
        match client.get(&url).send().await {
            // Go's servers answer plain HTTP on a TLS port with this 400: the registry speaks
            // TLS, so the HTTPS failure is the one to report.
            Ok(r) if scheme == "http" && r.status() == StatusCode::BAD_REQUEST => {
                let body = r.text().await.unwrap_or_default();
                if body.contains("HTTPS server") {
                    break;
                }
                return Ok(scheme);
            }
            Ok(_) => return Ok(scheme),
            Err(e) => {
                let msg = describe(display, &e, tls);
                let stop = msg.contains("connection refused") || certificate_error(&e);
                first_error.get_or_insert(msg);
                if stop {
                    break;
                }
            }
        }
    }
    Err(Error::Other(first_error.unwrap_or_else(|| {
        format!("{display}: cannot reach the registry")
    })))
}

/// Credentials for blob requests, as settled by the handshake.
#[derive(Clone)]
pub enum BlobAuth {
    /// No `Authorization` header.
    Anonymous,
    /// HTTP basic.
    Basic(String, String),
    /// A bearer token from the registry's token service.
    Bearer(String),
}

impl std::fmt::Debug for BlobAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Anonymous => "Anonymous",
            Self::Basic(..) => "Basic(..)",
            Self::Bearer(_) => "Bearer(..)",
        })
    }
}

/// Where blobs of one repository are fetched.
#[derive(Debug, Clone)]
pub struct BlobSource {
    /// The HTTP client.
    pub client: reqwest::Client,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Host (and port) to connect to.
    pub host: String,
    /// The registry as the user wrote it, for messages.
    pub display: String,
    /// Repository path.
    pub repository: String,
    /// Credentials.
    pub auth: BlobAuth,
    /// TLS settings (for messages).
    pub tls: TlsSettings,
}

/// Why one attempt failed.
enum Attempt {
    /// Worth retrying after this long.
    Retry(Duration, String, bool),
    /// Not worth retrying.
    Fatal(String),
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(8))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER))
}

impl BlobSource {
    fn url(&self, digest: &str) -> String {
        format!(
            "{}://{}/v2/{}/blobs/{digest}",
            self.scheme, self.host, self.repository
        )
    }

    /// Reads the whole blob `digest` (small blobs: the config). Checks the size and digest.
    pub async fn fetch_small(&self, digest: &str, size: u64) -> Result<Vec<u8>> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let me = self.clone();
        let d = digest.to_owned();
        let task = tokio::spawn(async move { me.stream(&d, size, tx, |_| {}).await });
        let mut out = Vec::with_capacity(size.min(64 << 20) as usize);
        while let Some(chunk) = rx.recv().await {
            match chunk {
                Ok(b) => out.extend_from_slice(&b),
                Err(e) => return Err(Error::Other(e.to_string())),
            }
        }
        let _ = task.await;
        let actual = crate::source::resolve::sha256_digest(&out);
        if actual != digest {
            return Err(Error::DigestMismatch {
                path: format!("{}/{}", self.display, self.repository),
                what: format!("blob {digest}"),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(out)
    }

    /// Streams blob `digest` of `size` bytes into `tx`, retrying transient failures and
    /// resuming where a transfer was cut off. A failure for good is sent as the last item.
    /// `on_bytes` hears every chunk's length.
    pub async fn stream(
        &self,
        digest: &str,
        size: u64,
        tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
        on_bytes: impl Fn(u64),
    ) {
        let mut offset = 0u64;
        let mut attempt = 0u32;
        loop {
            let outcome = self
                .attempt(digest, size, &mut offset, &tx, &on_bytes)
                .await;
            let (wait, why, rate_limited) = match outcome {
                Ok(()) => return,
                Err(Attempt::Fatal(msg)) => {
                    let _ = tx.send(Err(io::Error::other(msg))).await;
                    return;
                }
                Err(Attempt::Retry(wait, why, rate_limited)) => (wait, why, rate_limited),
            };
            if tx.is_closed() {
                return;
            }
            attempt += 1;
            if attempt >= MAX_ATTEMPTS {
                let msg = if rate_limited {
                    format!(
                        "{}: rate limited (429 Too Many Requests) on blob {digest}, still after {attempt} attempts; \
                         wait and try again, or `docker login {}` for a higher limit",
                        self.display, self.display
                    )
                } else {
                    format!(
                        "{}: blob {digest} could not be read in {attempt} attempts ({offset} of {size} bytes received): {why}",
                        self.display
                    )
                };
                let _ = tx.send(Err(io::Error::other(msg))).await;
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        digest: &str,
        size: u64,
        offset: &mut u64,
        tx: &tokio::sync::mpsc::Sender<io::Result<Bytes>>,
        on_bytes: &impl Fn(u64),
    ) -> std::result::Result<(), Attempt> {
        let mut req = self.client.get(self.url(digest));
        req = match &self.auth {
            BlobAuth::Anonymous => req,
            BlobAuth::Basic(u, p) => req.basic_auth(u, Some(p)),
            BlobAuth::Bearer(t) => req.header(AUTHORIZATION, format!("Bearer {t}")),
        };
        if *offset > 0 {
            req = req.header(RANGE, format!("bytes={offset}-"));
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let msg = describe(&self.display, &e, &self.tls);
                let retry = !(msg.contains("TLS failure") || msg.contains("DNS failure"));
                return Err(if retry {
                    Attempt::Retry(backoff(0), msg, false)
                } else {
                    Attempt::Fatal(msg)
                });
            }
        };
        let status = resp.status();
        let mut skip = 0u64;
        match status {
            StatusCode::OK => skip = *offset,
            StatusCode::PARTIAL_CONTENT if *offset > 0 => {}
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = retry_after(resp.headers()).unwrap_or(backoff(2));
                return Err(Attempt::Retry(wait, "429 Too Many Requests".into(), true));
            }
            s if s.is_server_error() => {
                let wait = retry_after(resp.headers()).unwrap_or(backoff(1));
                return Err(Attempt::Retry(
                    wait,
                    format!("the registry answered {s}"),
                    false,
                ));
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(Attempt::Fatal(format!(
                    "{}: unauthorized to read {}: log in with `docker login {}`",
                    self.display, self.repository, self.display
                )));
            }
            StatusCode::NOT_FOUND => {
                return Err(Attempt::Fatal(format!(
                    "{}/{}: blob {digest} not found in the registry (the image is incomplete there)",
                    self.display, self.repository
                )));
            }
            s => {
                return Err(Attempt::Fatal(format!(
                    "{}: unexpected answer {s} for blob {digest}",
                    self.display
                )));
            }
        }
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let mut chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    return Err(Attempt::Retry(
                        backoff(0),
                        describe(&self.display, &e, &self.tls),
                        false,
                    ))
                }
            };
            if skip > 0 {
                let n = skip.min(chunk.len() as u64);
                skip -= n;
                chunk = chunk.slice(n as usize..);
                if chunk.is_empty() {
                    continue;
                }
            }
            let n = chunk.len() as u64;
            if *offset + n > size {
                return Err(Attempt::Fatal(format!(
                    "{}: blob {digest} is longer than the {size} bytes its manifest declares",
                    self.display
                )));
            }
            *offset += n;
            on_bytes(n);
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(()); // the reader stopped (it failed on its own)
            }
        }
        if *offset < size {
            return Err(Attempt::Retry(
                backoff(0),
                format!("the transfer ended after {offset} of {size} bytes"),
                false,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("127.3.2.1"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example.com:5000"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }

    #[test]
    fn retry_after_in_seconds_is_capped() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, "86400".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
    }
}
