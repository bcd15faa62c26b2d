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

// ------------------------------------------------------------------ image list

/// One row of the local image list (like a row of `docker images`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalImage {
    /// Repository, or `<none>`.
    pub repository: String,
    /// Tag, or `<none>`.
    pub tag: String,
    /// Full image id (`sha256:…`).
    pub id: String,
    /// The first 12 hex digits of the id, as `docker images` shows it.
    pub short_id: String,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
    /// Size the daemon reports (all layers, shared ones included), in bytes.
    pub size_bytes: u64,
    /// No tag and no digest: `<none>:<none>`.
    pub dangling: bool,
    /// Every tag of the image (a multi-tag image has one row per tag).
    pub repo_tags: Vec<String>,
    /// Registry digests of the image.
    pub repo_digests: Vec<String>,
    /// What to pass to `strata` to open this row: `repository:tag`, or the id.
    pub reference: String,
}

/// Strips `docker.io/library/` and `docker.io/` like the docker CLI's familiar names.
fn familiar(name: &str) -> &str {
    name.strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

/// Splits `repo:tag` at the last `:` after the last `/`.
fn split_tag(r: &str) -> Option<(&str, &str)> {
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    let colon = r[slash..].rfind(':')? + slash;
    Some((&r[..colon], &r[colon + 1..]))
}

fn rows_of(s: &bollard::models::ImageSummary) -> Vec<LocalImage> {
    let tags: Vec<String> = s
        .repo_tags
        .iter()
        .filter(|t| t.as_str() != "<none>:<none>")
        .cloned()
        .collect();
    let digests: Vec<String> = s
        .repo_digests
        .iter()
        .filter(|d| d.as_str() != "<none>@<none>")
        .cloned()
        .collect();
    let hex = s.id.strip_prefix("sha256:").unwrap_or(&s.id);
    let short_id: String = hex.chars().take(12).collect();
    let row = |repository: &str, tag: &str| {
        let dangling = tags.is_empty() && digests.is_empty();
        LocalImage {
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            id: s.id.clone(),
            short_id: short_id.clone(),
            created: s.created,
            size_bytes: u64::try_from(s.size).unwrap_or(0),
            dangling,
            repo_tags: tags.clone(),
            repo_digests: digests.clone(),
            reference: if tag == "<none>" {
                s.id.clone()
            } else {
                format!("{repository}:{tag}")
            },
        }
    };
    let mut rows = Vec::new();
    let mut tagged_repos = Vec::new();
    for t in &tags {
        if let Some((repo, tag)) = split_tag(t) {
            let repo = familiar(repo);
            rows.push(row(repo, tag));
            tagged_repos.push(repo.to_owned());
        }
    }
    // Repositories known only by digest get one `<none>` row each, as in the docker CLI.
    let mut digest_repos: Vec<&str> = Vec::new();
    for d in &digests {
        if let Some((repo, _)) = d.split_once('@') {
            let repo = familiar(repo);
            if !tagged_repos.iter().any(|r| r == repo) && !digest_repos.contains(&repo) {
                digest_repos.push(repo);
            }
        }
    }
    for repo in digest_repos {
        rows.push(row(repo, "<none>"));
    }
    if rows.is_empty() {
        rows.push(row("<none>", "<none>"));
    }
    rows
}

/// Lists the daemon's images (not the intermediate ones): one row per `repository:tag`, one
/// `<none>:<none>` row per dangling image, newest first.
pub fn list_images() -> Result<Vec<LocalImage>> {
    list_images_from(&endpoint()?)
}

/// [`list_images`] on an explicit endpoint.
pub fn list_images_from(ep: &Endpoint) -> Result<Vec<LocalImage>> {
    let ep = ep.clone();
    block_on(async move {
        let conn = connect(ep).await?;
        let opts = ListImagesOptions {
            all: false,
            ..Default::default()
        };
        let list = conn
            .docker
            .list_images(Some(opts))
            .await
            .map_err(|e| map_error(&conn.ep, None, &e))?;
        Ok(list.iter().flat_map(rows_of).collect())
    })?
}

/// "7 minutes", "About an hour", ... like the docker CLI's human durations.
pub fn human_age(secs: i64) -> String {
    let s = secs.max(0);
    let m = s / 60;
    let h = (s + 1800) / 3600;
    match () {
        () if s < 1 => "Less than a second".into(),
        () if s == 1 => "1 second".into(),
        () if s < 60 => format!("{s} seconds"),
        () if m == 1 => "About a minute".into(),
        () if m < 60 => format!("{m} minutes"),
        () if h == 1 => "About an hour".into(),
        () if h < 48 => format!("{h} hours"),
        () if h < 24 * 14 => format!("{} days", h / 24),
        () if h < 24 * 60 => format!("{} weeks", h / 24 / 7),
        () if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        () => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// Renders the list like `docker images`; `now` is seconds since the epoch.
pub fn images_table(images: &[LocalImage], now: i64) -> String {
    let header = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];
    let rows: Vec<[String; 5]> = images
        .iter()
        .map(|i| {
            [
                crate::model::sanitize(&i.repository),
                crate::model::sanitize(&i.tag),
                crate::model::sanitize(&i.short_id),
                format!("{} ago", human_age(now - i.created)),
                humansize::format_size(i.size_bytes, humansize::DECIMAL),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(c);
                let pad = width[i] - c.chars().count() + 3;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    out
}

/// The list as the JSON array documented in docs/report-schema.md ("strata images --format json").
pub fn images_json(images: &[LocalImage]) -> String {
    let safe: Vec<LocalImage> = images
        .iter()
        .map(|i| LocalImage {
            repository: crate::model::sanitize(&i.repository),
            tag: crate::model::sanitize(&i.tag),
            repo_tags: i
                .repo_tags
                .iter()
                .map(|t| crate::model::sanitize(t))
                .collect(),
            repo_digests: i
                .repo_digests
                .iter()
                .map(|t| crate::model::sanitize(t))
                .collect(),
            reference: crate::model::sanitize(&i.reference),
            ..i.clone()
        })
        .collect();
    serde_json::to_string_pretty(&safe).unwrap_or_else(|_| "[]".into())
}

// ------------------------------------------------------------------ metadata

/// What inspect and history say about an image, fetched before the export.
#[derive(Debug, Clone)]
pub struct DaemonMetadata {
    /// The resolved image id.
    pub id: String,
    /// Tags.
    pub repo_tags: Vec<String>,
    /// Registry digests.
    pub repo_digests: Vec<String>,
    inspect: ImageInspect,
    history: Vec<ImageHistoryResponseItem>,
}

async fn fetch_metadata(conn: &Conn, reference: &str) -> Result<DaemonMetadata> {
    let inspect = conn
        .docker
        .inspect_image(reference)
        .await
        .map_err(|e| map_error(&conn.ep, Some(reference), &e))?;
    let id = inspect
        .id
        .clone()
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            Error::Daemon(format!(
                "{reference}: the Docker daemon at {} returned no image id",
                conn.ep.describe()
            ))
        })?;
    let history = conn
        .docker
        .image_history(&id)
        .await
        .map_err(|e| map_error(&conn.ep, Some(reference), &e))?;
    Ok(DaemonMetadata {
        repo_tags: inspect.repo_tags.clone().unwrap_or_default(),
        repo_digests: inspect.repo_digests.clone().unwrap_or_default(),
        id,
        inspect,
        history,
    })
}

/// BuildKit history steps that never make a layer.
const BUILDKIT_EMPTY: [&str; 13] = [
    "ENV ",
    "LABEL ",
    "CMD ",
    "ENTRYPOINT ",
    "EXPOSE ",
    "USER ",
    "ARG ",
    "VOLUME ",
    "STOPSIGNAL ",
    "HEALTHCHECK ",
    "SHELL ",
    "ONBUILD ",
    "MAINTAINER ",
];

/// Guesses whether an API history step made no layer (the API has no `EmptyLayer`).
fn looks_empty(created_by: &str) -> bool {
    if let Some(i) = created_by.find("#(nop)") {
        let rest = created_by[i + 6..].trim_start();
        return !(rest.starts_with("COPY")
            || rest.starts_with("ADD")
            || rest.starts_with("WORKDIR"));
    }
    BUILDKIT_EMPTY.iter().any(|p| created_by.starts_with(p))
}

/// Maps API history (newest first) onto `layers` layers, oldest first, by the heuristic of
/// formats.md §8. Returns the entries and each one's API size.
fn infer_history(items: &[ImageHistoryResponseItem], layers: usize) -> Vec<(HistoryEntry, i64)> {
    let mut out: Vec<(HistoryEntry, i64)> = items
        .iter()
        .rev()
        .map(|h| {
            let created = jiff::Timestamp::from_second(h.created)
                .ok()
                .filter(|_| h.created > 0)
                .map(|t| t.to_string());
            (
                HistoryEntry {
                    created_by: h.created_by.clone(),
                    created,
                    comment: Some(h.comment.clone()).filter(|c| !c.is_empty()),
                    author: None,
                    empty_layer: looks_empty(&h.created_by),
                    layer: None,
                },
                h.size,
            )
        })
        .collect();
    let mut surplus = out.iter().filter(|(h, _)| !h.empty_layer).count();
    // Too many candidates: zero-size WORKDIR steps first, then other zero-size steps
    // (newest first) are the likeliest to have made no layer.
    for pass in 0..2 {
        for (h, size) in out.iter_mut().rev() {
            if surplus <= layers {
                break;
            }
            let workdir = h.created_by.contains("WORKDIR");
            if !h.empty_layer && *size == 0 && (pass == 1 || workdir) {
                h.empty_layer = true;
                surplus -= 1;
            }
        }
    }
    let mut li = 0;
    for (h, _) in &mut out {
        if h.empty_layer {
            continue;
        }
        if li < layers {
            h.layer = Some(li);
            li += 1;
        } else {
            h.empty_layer = true;
        }
    }
    out
}

fn config_of(c: Option<&bollard::models::ImageConfig>) -> ImageConfig {
    let Some(c) = c else {
        return ImageConfig::default();
    };
    let mut exposed_ports = c.exposed_ports.clone().unwrap_or_default();
    exposed_ports.sort();
    let mut volumes = c.volumes.clone().unwrap_or_default();
    volumes.sort();
    ImageConfig {
        user: c.user.clone(),
        env: c.env.clone().unwrap_or_default(),
        cmd: c.cmd.clone(),
        entrypoint: c.entrypoint.clone(),
        exposed_ports,
        labels: c.labels.clone().unwrap_or_default().into_iter().collect(),
        healthcheck: c.healthcheck.as_ref().and_then(|h| h.test.clone()),
        workdir: c.working_dir.clone().filter(|w| !w.is_empty()),
        volumes,
        stop_signal: c.stop_signal.clone(),
    }
}

/// The image as inspect and history describe it: config, tags, layers (diff_ids and the
/// daemon's per-layer sizes) and history mapped onto layers by a heuristic. No filesystem.
pub fn preview(reference: &str, meta: &DaemonMetadata) -> Image {
    let i = &meta.inspect;
    let diff_ids = i
        .root_fs
        .as_ref()
        .and_then(|r| r.layers.clone())
        .unwrap_or_default();
    let mapped = infer_history(&meta.history, diff_ids.len());
    let mut layers: Vec<Layer> = diff_ids
        .iter()
        .enumerate()
        .map(|(index, d)| Layer {
            index,
            diff_id: d.clone(),
            ..Layer::default()
        })
        .collect();
    for (hi, (h, size)) in mapped.iter().enumerate() {
        if let Some(l) = h.layer.and_then(|li| layers.get_mut(li)) {
            l.created_by.clone_from(&h.created_by);
            l.history_index = Some(hi);
            l.size_bytes = u64::try_from(*size).unwrap_or(0);
        }
    }
    Image {
        reference: reference.to_owned(),
        id: meta.id.clone(),
        repo_tags: meta.repo_tags.clone(),
        repo_digests: meta.repo_digests.clone(),
        manifest_digest: None,
        os: i.os.clone().unwrap_or_default(),
        architecture: i.architecture.clone().unwrap_or_default(),
        variant: i.variant.clone().filter(|v| !v.is_empty()),
        created: i.created.as_ref().map(ToString::to_string),
        config: config_of(i.config.as_ref()),
        history: mapped.into_iter().map(|(h, _)| h).collect(),
        layers,
        fs: crate::model::FileSystem::default(),
        warnings: vec![
            "layer list from the daemon's inspect and history: the history-to-layer mapping and \
             layer sizes are inferred until the export is read"
                .into(),
        ],
        origin: Origin::Daemon(meta.id.clone()),
        content_matches: Vec::new(),
        captured: std::collections::HashMap::new(),
    }
}

/// Inspects `reference` on the daemon (never pulls) and returns what inspect and history say.
pub fn metadata(reference: &str) -> Result<DaemonMetadata> {
    check_reference(reference)?;
    let ep = endpoint()?;
    let r = reference.to_owned();
    block_on(async move {
        let conn = connect(ep).await?;
        fetch_metadata(&conn, &r).await
    })?
}

// ------------------------------------------------------------------ export

enum Msg {
    Data(Bytes),
    /// Failed before any byte (connection, 404, ...).
    Failed(Error),
    /// The stream broke after some bytes: the cause, on one line.
    Broken(String),
    End,
}

/// A blocking reader over a daemon export, fed by a thread running the async stream.
struct ExportReader {
    rx: Receiver<Msg>,
    cur: Bytes,
    received: u64,
    finished: bool,
    label: String,
    /// The daemon address, for messages.
    host: String,
    /// The daemon-side failure, if the stream broke (read by [`load`] to name the cause).
    failure: Arc<Mutex<Option<String>>>,
    /// Called once when the first byte arrives.
    on_first: Option<Box<dyn FnOnce() + Send>>,
}

impl ExportReader {
    fn fail(&mut self, msg: String) -> io::Error {
        self.finished = true;
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert_with(|| msg.clone());
        }
        io::Error::other(msg)
    }

    /// Waits for the first message so start-up errors (404, connection) surface as `Err`.
    fn wait_first(&mut self) -> Result<()> {
        match self.rx.recv() {
            Ok(Msg::Data(b)) => {
                self.received += b.len() as u64;
                self.cur = b;
                if let Some(f) = self.on_first.take() {
                    f();
                }
                Ok(())
            }
            Ok(Msg::End) => {
                self.finished = true;
                Err(Error::Daemon(format!(
                    "{}: the Docker daemon sent an empty export",
                    self.label
                )))
            }
            Ok(Msg::Failed(e)) => {
                self.finished = true;
                Err(e)
            }
            Ok(Msg::Broken(cause)) => {
                self.finished = true;
                Err(Error::Daemon(format!(
                    "{}: the export from the Docker daemon at {} broke off ({cause})",
                    self.label, self.host
                )))
            }
            Err(_) => {
                self.finished = true;
                Err(Error::Daemon(format!(
                    "{}: the export thread stopped before the daemon answered",
                    self.label
                )))
            }
        }
    }
}

impl Read for ExportReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            if self.finished {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Msg::Data(b)) => {
                    self.received += b.len() as u64;
                    self.cur = b;
                    if let Some(f) = self.on_first.take() {
                        f();
                    }
                }
                Ok(Msg::End) => {
                    self.finished = true;
                    return Ok(0);
                }
                Ok(Msg::Failed(e)) => {
                    let msg = e.to_string();
                    return Err(self.fail(msg));
                }
                Ok(Msg::Broken(cause)) => {
                    let msg = format!(
                        "{}: the export from the Docker daemon at {} broke off after {} bytes ({cause}); \
                         nothing is shown from a partial export: check the daemon (`docker info`) and retry",
                        self.label, self.host, self.received
                    );
                    return Err(self.fail(msg));
                }
                Err(_) => {
                    let msg = format!(
                        "{}: the export stream stopped after {} bytes without finishing",
                        self.label, self.received
                    );
                    return Err(self.fail(msg));
                }
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// Starts exporting `target` on a dedicated thread and waits for its first byte.
fn start_export(
    conn: Conn,
    target: &str,
    label: &str,
    on_first: Option<Box<dyn FnOnce() + Send>>,
) -> Result<(ExportReader, Arc<Mutex<Option<String>>>)> {
    check_reference(target)?;
    let host = conn.ep.describe();
    let (tx, rx) = sync_channel::<Msg>(CHANNEL_CHUNKS);
    let target_owned = target.to_owned();
    let thread_label = label.to_owned();
    std::thread::Builder::new()
        .name("strata-daemon-export".into())
        .spawn(move || export_thread(conn, target_owned, thread_label, tx))
        .map_err(|e| Error::Daemon(format!("{label}: cannot start the export thread: {e}")))?;
    let failure = Arc::new(Mutex::new(None));
    let mut reader = ExportReader {
        rx,
        cur: Bytes::new(),
        received: 0,
        finished: false,
        label: label.to_owned(),
        host,
        failure: failure.clone(),
        on_first,
    };
    reader.wait_first()?;
    Ok((reader, failure))
}

fn export_thread(conn: Conn, target: String, label: String, tx: SyncSender<Msg>) {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = tx.send(Msg::Failed(e));
            return;
        }
    };
    rt.block_on(async move {
        let docker = conn.docker.clone().with_timeout(EXPORT_TIMEOUT);
        let mut stream = docker.export_image(&target);
        let mut started = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(b) if b.is_empty() => {}
                Ok(b) => {
                    started = true;
                    // Blocking send: back-pressure stalls the socket when the parser is behind.
                    if tx.send(Msg::Data(b)).is_err() {
                        return; // reader dropped: the parser finished or gave up
                    }
                }
                Err(e) if started => {
                    let _ = tx.send(Msg::Broken(chain(&e)));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Msg::Failed(map_error(&conn.ep, Some(&label), &e)));
                    return;
                }
            }
        }
        let _ = tx.send(Msg::End);
    });
}

/// Exports `reference` from the daemon as a blocking reader of the image tar (`docker save`
/// format), streamed without a temporary file. Waits for the daemon's first byte.
pub fn export_blocking(reference: &str) -> Result<Box<dyn Read + Send>> {
    check_reference(reference)?;
    let ep = endpoint()?;
    let r = reference.to_owned();
    // Inspect first: a missing image then fails as "not found" (the export itself answers
    // 500 with a file path on Docker 20.10), e.g. when it was removed since it was loaded.
    let conn = block_on(async move {
        let conn = connect(ep).await?;
        conn.docker
            .inspect_image(&r)
            .await
            .map_err(|e| map_error(&conn.ep, Some(&r), &e))?;
        Ok::<_, Error>(conn)
    })??;
    let (reader, _) = start_export(conn, reference, reference, None)?;
    Ok(Box::new(reader))
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

/// [`load`] from an explicit endpoint.
pub fn load_from(
    ep: &Endpoint,
    reference: &str,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Image> {
    check_reference(reference)?;
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
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(created_by: &str, size: i64) -> ImageHistoryResponseItem {
        ImageHistoryResponseItem {
            id: "<missing>".into(),
            created: 1_700_000_000,
            created_by: created_by.into(),
            tags: Vec::new(),
            size,
            comment: String::new(),
        }
    }

    #[test]
    fn history_heuristic_maps_classic_and_buildkit_steps() {
        // Newest first, as the API returns it.
        let items = vec![
            item("/bin/sh -c #(nop)  LABEL a=b", 0),
            item("RUN /bin/sh -c echo hi > /x # buildkit", 3),
            item("ENV A=1", 0),
            item("/bin/sh -c rm /data/a", 0),
            item("/bin/sh -c #(nop) COPY file:abc in /data/a", 10),
            item("/bin/sh -c #(nop)  ENV PATH=/bin", 0),
            item("", 100),
        ];
        let h = infer_history(&items, 4);
        let layers: Vec<Option<usize>> = h.iter().map(|(e, _)| e.layer).collect();
        assert_eq!(
            layers,
            vec![Some(0), None, Some(1), Some(2), None, Some(3), None]
        );
        assert_eq!(h[0].0.created.as_deref(), Some("2023-11-14T22:13:20Z"));
    }

    #[test]
    fn history_heuristic_drops_zero_size_steps_when_too_many() {
        let items = vec![
            item("/bin/sh -c true", 0),
            item("/bin/sh -c #(nop) WORKDIR /app", 0),
            item("", 100),
        ];
        let h = infer_history(&items, 1);
        assert!(h[1].0.empty_layer && h[2].0.empty_layer);
        assert_eq!(h[0].0.layer, Some(0));
        let h = infer_history(&items, 2);
        assert_eq!(h[1].0.layer, None, "zero-size WORKDIR goes first");
        assert_eq!(h[2].0.layer, Some(1));
    }

    #[test]
    fn rows_follow_the_docker_cli() {
        let mut s = bollard::models::ImageSummary {
            id: "sha256:0123456789abcdef".into(),
            created: 5,
            size: 42,
            ..Default::default()
        };
        let r = rows_of(&s);
        assert_eq!(r.len(), 1);
        assert!(r[0].dangling);
        assert_eq!(
            (r[0].repository.as_str(), r[0].tag.as_str()),
            ("<none>", "<none>")
        );
        assert_eq!(r[0].short_id, "0123456789ab");
        assert_eq!(r[0].reference, "sha256:0123456789abcdef");
        s.repo_tags = vec![
            "localhost:5000/a/b:1".into(),
            "docker.io/library/c:latest".into(),
        ];
        s.repo_digests = vec![
            "x/y@sha256:aa".into(),
            "localhost:5000/a/b@sha256:bb".into(),
        ];
        let r = rows_of(&s);
        let names: Vec<String> = r
            .iter()
            .map(|x| format!("{}:{}", x.repository, x.tag))
            .collect();
        assert_eq!(names, ["localhost:5000/a/b:1", "c:latest", "x/y:<none>"]);
        assert!(r.iter().all(|x| !x.dangling));
        assert_eq!(r[0].reference, "localhost:5000/a/b:1");
    }

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

    #[test]
    fn ages_read_like_docker() {
        assert_eq!(human_age(0), "Less than a second");
        assert_eq!(human_age(59), "59 seconds");
        assert_eq!(human_age(60), "About a minute");
        assert_eq!(human_age(7 * 60 + 3), "7 minutes");
        assert_eq!(human_age(3600), "About an hour");
        assert_eq!(human_age(5 * 3600), "5 hours");
        assert_eq!(human_age(3 * 86400), "3 days");
        assert_eq!(human_age(20 * 86400), "2 weeks");
        assert_eq!(human_age(100 * 86400), "3 months");
        assert_eq!(human_age(800 * 86400), "2 years");
    }

    #[test]
    fn table_aligns_columns() {
        let img = LocalImage {
            repository: "strata-test/multi".into(),
            tag: "1".into(),
            id: "sha256:cc".into(),
            short_id: "cc9450dcc75d".into(),
            created: 100,
            size_bytes: 1_984_307,
            dangling: false,
            repo_tags: vec![],
            repo_digests: vec![],
            reference: "strata-test/multi:1".into(),
        };
        let t = images_table(&[img], 100 + 420);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "REPOSITORY          TAG   IMAGE ID       CREATED         SIZE"
        );
        assert_eq!(
            lines[1],
            "strata-test/multi   1     cc9450dcc75d   7 minutes ago   1.98 MB"
        );
    }
}
