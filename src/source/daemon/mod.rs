//! The Docker daemon as a source, through bollard.
//!
//! Connection follows the docker CLI: `--host` ([`set_host`]), then `DOCKER_HOST`, then the
//! Docker context (`DOCKER_CONTEXT`, else `currentContext` in `~/.docker/config.json`), then
//! the default socket (with rootless Docker and Podman sockets as fallbacks when the default
//! socket does not exist). A Podman socket given by `DOCKER_HOST` works as well.
//!
//! Every call runs on a private single-threaded tokio runtime in its own thread, so the blocking
//! functions here work from any thread, with or without an ambient runtime. The export is
//! streamed from that thread through a bounded channel into the engine's one-pass parser: no
//! temporary file, at most [`CHANNEL_CHUNKS`] chunks in flight.

mod export;
mod list;
mod metadata;

pub use export::export_blocking;
use export::start_export;
pub use list::{list_images, list_images_from, sort_newest_first, tags_for_untagged, LocalImage};
use metadata::fetch_metadata;
pub use metadata::{metadata, preview, DaemonMetadata};

use std::future::Future;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::models::{ImageHistoryResponseItem, ImageInspect};
use bollard::query_parameters::ListImagesOptions;
use bollard::{Docker, API_DEFAULT_VERSION};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use tokio_util::bytes::Bytes;

use super::{LoadOptions, Progress, ProgressEvent};
use crate::model::{HistoryEntry, Image, ImageConfig, Layer, Origin};
use crate::{Error, Result};

/// The docker CLI's default endpoint.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// Chunks (≈ 25 KB each from a local socket) buffered between the daemon and the parser.
pub const CHANNEL_CHUNKS: usize = 64;
/// Timeout for metadata calls (list, inspect, history), up to the response headers.
const META_TIMEOUT_SECS: u64 = 60;
/// Timeout up to the first byte of an export: the classic daemon prepares the whole export
/// before it answers, which takes minutes for very large images.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(3600);
/// Oldest Engine API strata talks to (Docker 1.12).
const MIN_API: (usize, usize) = (1, 24);

static HOST_OVERRIDE: OnceLock<String> = OnceLock::new();

/// Sets the daemon address from `--host`, overriding `DOCKER_HOST` and contexts.
/// Only the first call has an effect.
pub fn set_host(host: &str) {
    let _ = HOST_OVERRIDE.set(host.to_owned());
}

// ------------------------------------------------------------------ endpoint

/// The daemon address and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `unix:///path`, `tcp://host:port`, ...
    pub host: String,
    /// `--host`, `DOCKER_HOST`, `context NAME`, or empty for the default socket.
    pub via: String,
}

impl Endpoint {
    /// `HOST` or `HOST (from VIA)`, for messages.
    pub fn describe(&self) -> String {
        if self.via.is_empty() {
            self.host.clone()
        } else {
            format!("{} (from {})", self.host, self.via)
        }
    }
}

/// Resolves the daemon address the way the docker CLI does.
pub fn endpoint() -> Result<Endpoint> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(h) = HOST_OVERRIDE.get() {
        return Ok(Endpoint {
            host: h.clone(),
            via: "--host".into(),
        });
    }
    if let Some(h) = env("DOCKER_HOST") {
        return Ok(Endpoint {
            host: h,
            via: "DOCKER_HOST".into(),
        });
    }
    let config_dir = env("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".docker")));
    let context = env("DOCKER_CONTEXT").or_else(|| {
        let cfg = std::fs::read(config_dir.as_ref()?.join("config.json")).ok()?;
        let v: Value = serde_json::from_slice(&cfg).ok()?;
        v.get("currentContext")?
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    });
    if let Some(name) = context.filter(|n| n != "default") {
        return context_endpoint(config_dir.as_deref(), &name);
    }
    Ok(default_endpoint())
}

fn context_endpoint(config_dir: Option<&Path>, name: &str) -> Result<Endpoint> {
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = config_dir
        .unwrap_or_else(|| Path::new(".docker"))
        .join("contexts/meta")
        .join(hash)
        .join("meta.json");
    let missing = || {
        Error::Daemon(format!(
            "Docker context `{name}` (from DOCKER_CONTEXT or currentContext) has no docker endpoint in {}: \
             check `docker context ls`, or set DOCKER_HOST",
            meta.display()
        ))
    };
    let bytes = std::fs::read(&meta).map_err(|_| missing())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| missing())?;
    let host = v
        .pointer("/Endpoints/docker/Host")
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
        .ok_or_else(missing)?;
    Ok(Endpoint {
        host: host.to_owned(),
        via: format!("context {name}"),
    })
}

/// The default socket, or a rootless Docker / Podman socket when the default does not exist.
fn default_endpoint() -> Endpoint {
    let default = Endpoint {
        host: DEFAULT_HOST.into(),
        via: String::new(),
    };
    if Path::new(DEFAULT_HOST.trim_start_matches("unix://")).exists() {
        return default;
    }
    let mut candidates = Vec::new();
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
        let x = PathBuf::from(x);
        candidates.push((x.join("docker.sock"), "rootless Docker socket"));
        candidates.push((x.join("podman/podman.sock"), "Podman socket"));
    }
    candidates.push((PathBuf::from("/run/podman/podman.sock"), "Podman socket"));
    for (path, what) in candidates {
        if path.exists() {
            return Endpoint {
                host: format!("unix://{}", path.display()),
                via: format!("{what}; {DEFAULT_HOST} does not exist"),
            };
        }
    }
    default
}

// ------------------------------------------------------------------ connection

/// A negotiated connection to the daemon.
#[derive(Debug, Clone)]
struct Conn {
    docker: Docker,
    ep: Endpoint,
}

fn unreachable_msg(ep: &Endpoint, detail: &str) -> String {
    format!(
        "cannot reach the Docker daemon at {}: {detail}is dockerd running? start it with `dockerd` or set DOCKER_HOST",
        ep.describe()
    )
}

/// True for a full or short image id (`sha256:…` or hex only), which cannot be pulled.
fn is_id(reference: &str) -> bool {
    let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
    !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Opens a client for `ep` (no I/O yet).
fn client(ep: &Endpoint) -> Result<Docker> {
    let host = ep.host.as_str();
    let tls = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty());
    let r = if let Some(path) = host.strip_prefix("unix://") {
        if !Path::new(path).exists() {
            return Err(Error::Daemon(unreachable_msg(ep, "no socket there; ")));
        }
        Docker::connect_with_unix(host, META_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else if (host.starts_with("tcp://") || host.starts_with("http://")) && !tls {
        Docker::connect_with_http(host, META_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else if host.starts_with("tcp://") || host.starts_with("https://") {
        return Err(Error::Daemon(format!(
            "{}: TLS connections are not supported by this build of strata; \
             use a unix socket, or forward the daemon's socket (e.g. `ssh -L /tmp/d.sock:/var/run/docker.sock HOST`) \
             and set DOCKER_HOST=unix:///tmp/d.sock",
            ep.describe()
        )));
    } else if host.starts_with("ssh://") {
        return Err(Error::Daemon(format!(
            "{}: ssh:// hosts are not supported by this build of strata; forward the socket instead: \
             `ssh -NL /tmp/d.sock:/var/run/docker.sock HOST` and DOCKER_HOST=unix:///tmp/d.sock",
            ep.describe()
        )));
    } else {
        return Err(Error::Daemon(format!(
            "{}: unsupported Docker host (expected unix:///path or tcp://host:port)",
            ep.describe()
        )));
    };
    r.map_err(|e| map_error(ep, None, &e))
}

async fn connect(ep: Endpoint) -> Result<Conn> {
    let docker = client(&ep)?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| map_error(&ep, None, &e))?;
    let v = docker.client_version();
    if (v.major_version, v.minor_version) < MIN_API {
        return Err(Error::Daemon(format!(
            "the Docker daemon at {} speaks Engine API {}.{}, older than the {}.{} strata needs: upgrade the daemon",
            ep.describe(),
            v.major_version,
            v.minor_version,
            MIN_API.0,
            MIN_API.1
        )));
    }
    Ok(Conn { docker, ep })
}

/// Runs `fut` to completion on a private current-thread runtime in a scoped thread, so it
/// works whether or not the caller is inside a tokio runtime.
fn block_on<F>(fut: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        let handle = s.spawn(move || runtime().map(|rt| rt.block_on(fut)));
        handle
            .join()
            .unwrap_or_else(|_| Err(Error::Daemon("the Docker client thread panicked".into())))
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Daemon(format!("cannot start the async runtime: {e}")))
}

/// The first `io::Error` in an error's source chain.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

/// Full text of an error and its sources, on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        cur = s.source();
    }
    out.replace('\n', " ")
}

/// Maps a bollard error to one line saying what to do. `reference` is the image asked for.
fn map_error(ep: &Endpoint, reference: Option<&str>, e: &BollardError) -> Error {
    let subject = reference.map(|r| format!("{r}: ")).unwrap_or_default();
    let msg = match e {
        BollardError::SocketNotFoundError(_) => unreachable_msg(ep, "no socket there; "),
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => {
            let m = message.trim();
            let lower = m.to_lowercase();
            if *status_code == 404 && reference.is_some() {
                let r = reference.unwrap_or_default();
                if is_id(r) {
                    format!(
                        "{r}: image not found on the Docker daemon at {}: no local image has this id \
                         (list local images with `strata images`)",
                        ep.describe()
                    )
                } else {
                    format!(
                        "{r}: image not found on the Docker daemon at {} (it is not pulled; strata never pulls: \
                         run `docker pull {r}` first, or list local images with `strata images`)",
                        ep.describe()
                    )
                }
            } else if lower.contains("api version") || lower.contains("client version") {
                format!(
                    "Engine API version mismatch with the Docker daemon at {}: {m} (upgrade the daemon or strata)",
                    ep.describe()
                )
            } else {
                format!(
                    "{subject}the Docker daemon at {} answered {status_code}: {m}",
                    ep.describe()
                )
            }
        }
        BollardError::RequestTimeoutError => format!(
            "{subject}the Docker daemon at {} did not answer in time: is it overloaded or hung?",
            ep.describe()
        ),
        BollardError::JsonDataError { message, .. } => format!(
            "{subject}unexpected answer from {} (is it a Docker Engine API?): {message}",
            ep.describe()
        ),
        BollardError::APIVersionParseError {} => format!(
            "{subject}the daemon at {} did not report a usable Engine API version (is it a Docker Engine API?)",
            ep.describe()
        ),
        other => match io_kind(other) {
            Some(io::ErrorKind::PermissionDenied) => format!(
                "permission denied on the Docker socket {}: add your user to the docker group \
                 (`sudo usermod -aG docker $USER`, then log in again) or run strata with sudo",
                ep.describe()
            ),
            Some(io::ErrorKind::ConnectionRefused) => unreachable_msg(ep, "connection refused; "),
            Some(io::ErrorKind::NotFound) => unreachable_msg(ep, "no socket there; "),
            Some(
                io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::HostUnreachable
                | io::ErrorKind::NetworkUnreachable,
            ) => unreachable_msg(ep, "host unreachable; "),
            _ => format!(
                "{subject}cannot talk to the Docker daemon at {}: {}",
                ep.describe(),
                chain(other)
            ),
        },
    };
    Error::Daemon(msg)
}

/// Rejects strings that are not image references or ids before they reach a URL path.
fn check_reference(reference: &str) -> Result<()> {
    let ok = !reference.is_empty()
        && reference.len() <= 512
        && !reference.starts_with(['/', '-', ':', '@'])
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/@+".contains(&b))
        && !reference
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if ok {
        Ok(())
    } else {
        Err(Error::Daemon(format!(
            "{}: not an image reference (expected name[:tag], name@sha256:…, or an image id)",
            crate::model::sanitize(reference)
        )))
    }
}

/// A reference on the Docker daemon as a [`super::Source`].
pub struct DaemonImage<'a>(pub &'a str);

impl super::Source for DaemonImage<'_> {
    fn load(&self, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
        load(self.0, opts, progress)
    }
}

/// Whether the daemon has `reference`: `Some(true)` or `Some(false)`, `None` when no daemon
/// answers (or the reference is not one the daemon takes).
pub fn has_image(reference: &str) -> Option<bool> {
    check_reference(reference).ok()?;
    let ep = endpoint().ok()?;
    let r = reference.to_owned();
    block_on(async move {
        let conn = connect(ep).await.ok()?;
        match conn.docker.inspect_image(&r).await {
            Ok(_) => Some(true),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Some(false),
            Err(_) => None,
        }
    })
    .ok()
    .flatten()
}

/// Loads an image from the daemon: inspect and history first (reported as
/// [`ProgressEvent::Metadata`]), then the export streamed into the engine's parser.
/// Never pulls.
pub fn load(reference: &str, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
    load_from(&endpoint()?, reference, opts, progress)
}

/// What the anatomy view says about an image read from the daemon.
pub const DAEMON_DOCUMENTS: &str = "read from the Docker daemon: these are the documents of its \
    export (`docker save`). `docker inspect` has no manifest; the daemon's classic store keeps \
    none (only `manifest.json` and the config are written, layers uncompressed, so each blob \
    digest is its diff_id); the registry manifest `docker push` would send, with compressed \
    sizes, does not exist until a push";

/// [`load`] from an explicit endpoint.
pub fn load_from(
    ep: &Endpoint,
    reference: &str,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Image> {
    check_reference(reference)?;
    let ep_for_base = ep.clone();
    let ep = ep.clone();
    let r = reference.to_owned();
    let (conn, meta) = block_on(async move {
        let conn = connect(ep).await?;
        let meta = fetch_metadata(&conn, &r).await?;
        Ok::<_, Error>((conn, meta))
    })??;
    progress.emit(ProgressEvent::Metadata(Box::new(preview(reference, &meta))));
    progress.emit(ProgressEvent::Phase(
        "waiting for the daemon to start the export (it prepares the whole image first)".into(),
    ));
    let p = progress.clone();
    let on_first: Box<dyn FnOnce() + Send> = Box::new(move || {
        p.emit(ProgressEvent::Phase(
            "reading the export from the daemon".into(),
        ));
    });
    // Export by id: what was inspected is what gets read, even if the tag moves meanwhile.
    let (reader, failure) = start_export(conn, &meta.id, reference, Some(on_first))?;
    let origin = Origin::Daemon(meta.id.clone());
    let loaded = super::load_stream(reader, reference, origin, opts, progress);
    let mut image = match loaded {
        Ok(image) => image,
        Err(e) => {
            let daemon_side = failure.lock().ok().and_then(|f| f.clone());
            return Err(daemon_side.map_or(e, Error::Daemon));
        }
    };
    image.reference = reference.to_owned();
    image.repo_tags = meta.repo_tags;
    image.repo_digests = meta.repo_digests;
    image.known_base = metadata::known_base(ep_for_base, &image.config.labels);
    image.documents.notes.push(DAEMON_DOCUMENTS.into());
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_checked_before_reaching_a_url() {
        for ok in [
            "alpine",
            "a/b:1",
            "a@sha256:00ff",
            "0123abcd",
            "sha256:ab",
            "localhost:5000/x",
        ] {
            assert!(check_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../containers/json",
            "a/../b",
            "a?b",
            "a b",
            "/x",
            "a#b",
            "a//b",
            "a%2f",
        ] {
            assert!(check_reference(bad).is_err(), "{bad}");
        }
    }
}
