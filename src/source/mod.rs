//! Where images come from: archives and OCI layouts on disk, the Docker daemon, and the
//! built-in demo. Every source ends in [`assemble`], which builds the [`Image`] model.

pub mod archive;
pub mod attestations;
pub mod cache;
pub mod content;
#[cfg(feature = "daemon")]
pub mod daemon;
pub mod demo;
pub mod documents;
pub mod layer;
#[cfg(feature = "registry")]
pub mod registry;
pub mod resolve;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::model::fs::FileSystem;
use crate::model::{HistoryEntry, Image, ImageConfig, Layer, LayerLocation, Origin};
use crate::{Error, Result};
use archive::{scan_stream, ArchiveIndex, LayoutDir};
use layer::{LayerScan, ScanOptions};
use resolve::{resolve, BlobStore, ImageSelector, ImageSummary, Platform, Resolved};

/// What the user asked to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A tar archive (any supported layout, optionally gzip/zstd compressed), and the image
    /// asked for inside it (skopeo's `PATH:REF` / `PATH:@N`).
    Archive(PathBuf, Option<ImageSelector>),
    /// An OCI image layout directory, and the image asked for inside it (`oci:DIR:REF`).
    Directory(PathBuf, Option<ImageSelector>),
    /// A reference on the Docker daemon (name:tag, name@digest, id); with the `registry`
    /// feature, read from its registry when the daemon lacks it (see `LoadOptions::source`).
    Daemon(String),
    /// A reference read from its registry (`registry:HOST/REPO:TAG`).
    Registry(String),
    /// The built-in demo image.
    Demo,
}

/// One place images come from. Every source reads config, history and layers into the same
/// [`Image`] model (most through [`assemble`] or [`load_stream`]).
///
/// Adding a source (e.g. a registry) is one new file implementing this trait and one arm in
/// [`Input::source`] (plus, if it has its own syntax, one case in [`Input::parse`]).
pub trait Source {
    /// Reads the image, reporting progress as it goes.
    fn load(&self, opts: &LoadOptions, progress: &Progress) -> Result<Image>;
}

impl Input {
    /// The source that reads this input.
    pub fn source(&self) -> Box<dyn Source + '_> {
        match self {
            Self::Archive(path, _) => Box::new(ArchiveFile(path)),
            Self::Directory(path, _) => Box::new(LayoutDirectory(path)),
            #[cfg(feature = "registry")]
            Self::Daemon(reference) => Box::new(registry::BareReference(reference)),
            #[cfg(all(feature = "daemon", not(feature = "registry")))]
            Self::Daemon(reference) => Box::new(daemon::DaemonImage(reference)),
            #[cfg(feature = "registry")]
            Self::Registry(reference) => Box::new(registry::RegistryImage(reference)),
            #[cfg(not(feature = "registry"))]
            Self::Registry(reference) => Box::new(NoRegistry(reference)),
            #[cfg(not(any(feature = "daemon", feature = "registry")))]
            Self::Daemon(reference) => Box::new(NoDaemon(reference)),
            Self::Demo => Box::new(demo::Demo),
        }
    }
}

/// Loads any input the engine reads, through its [`Source`]. The image chosen by the input's
/// own `PATH:REF` and by [`LoadOptions::image`] must agree; only archives and layouts hold
/// several images.
pub fn load(input: &Input, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
    let image = match (input.selector(), &opts.image) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::Other(format!(
                "the reference asks for image {a} but --image asks for {b}: give one"
            )))
        }
        (Some(a), _) => Some(a.clone()),
        (None, b) => b.clone(),
    };
    if let (Some(sel), Input::Daemon(_) | Input::Registry(_) | Input::Demo) = (&image, input) {
        return Err(Error::Other(format!(
            "--image {sel} chooses an image inside an archive or layout; name the daemon image directly"
        )));
    }
    let opts = LoadOptions {
        image,
        ..opts.clone()
    };
    match input.source().load(&opts, progress) {
        // A streamed layer was taken for a shared one and was not: read without sharing.
        Err(_) if opts.layer_cache.as_ref().is_some_and(|c| c.missed()) => {
            if let Some(c) = &opts.layer_cache {
                c.forget_reuse();
            }
            let alone = LoadOptions {
                layer_cache: None,
                ..opts
            };
            input.source().load(&alone, progress)
        }
        loaded => loaded,
    }
}

/// A registry reference in a build without the `registry` feature: an error naming it.
#[cfg(not(feature = "registry"))]
struct NoRegistry<'a>(&'a str);

#[cfg(not(feature = "registry"))]
impl Source for NoRegistry<'_> {
    fn load(&self, _: &LoadOptions, _: &Progress) -> Result<Image> {
        Err(Error::Other(format!(
            "registry:{}: this build has no registry source (cargo feature `registry`)",
            self.0
        )))
    }
}

/// A daemon reference in a build without the `daemon` feature: an error naming it.
#[cfg(not(any(feature = "daemon", feature = "registry")))]
struct NoDaemon<'a>(&'a str);

#[cfg(not(any(feature = "daemon", feature = "registry")))]
impl Source for NoDaemon<'_> {
    fn load(&self, _: &LoadOptions, _: &Progress) -> Result<Image> {
        Err(no_daemon(self.0))
    }
}

/// The error for a daemon reference when strata was built without the daemon source.
#[cfg(not(feature = "daemon"))]
pub(crate) fn no_daemon(reference: &str) -> Error {
    Error::Other(format!(
        "{reference}: not a file or directory, and this build has no daemon source (cargo feature `daemon`)"
    ))
}

/// A saved archive: any `docker save` / OCI layout, plain or gzip/zstd-compressed.
struct ArchiveFile<'a>(&'a Path);

impl Source for ArchiveFile<'_> {
    fn load(&self, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
        load_archive(self.0, opts, progress)
    }
}

/// An OCI image layout directory.
struct LayoutDirectory<'a>(&'a Path);

impl Source for LayoutDirectory<'_> {
    fn load(&self, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
        let path = self.0;
        let dir = LayoutDir::open(path)?;
        let resolved = resolve_in(&dir, opts)?;
        let reference = path.display().to_string();
        let origin = Origin::Directory(path.to_owned());
        progress.emit(ProgressEvent::Metadata(Box::new(preview(
            &reference, &resolved, &origin,
        )?)));
        let scans = scan_resolved(&resolved, &reference, opts, |m| {
            dir.scan_layers(m, &opts.scan, progress)
        })?;
        let mut image = assemble(&reference, &resolved, scans, origin, |_| None, opts)?;
        image.documents = documents::from_store(&dir, &resolved);
        Ok(image)
    }
}

impl Input {
    /// Parses skopeo-style transports (`docker-archive:PATH[:REF|:@N]`,
    /// `oci-archive:PATH[:REF]`, `oci:DIR[:REF]`, `docker-daemon:`, `docker://`) or a bare path
    /// or reference. As in skopeo, the path ends at the first `:`.
    pub fn parse(s: &str) -> Self {
        for prefix in ["docker-archive:", "oci-archive:", "oci:"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                let (path, image) = split_reference(rest);
                return if Path::new(&path).is_dir() {
                    Self::Directory(path, image)
                } else {
                    Self::Archive(path, image)
                };
            }
        }
        if let Some(rest) = s.strip_prefix("registry:") {
            return Self::Registry(rest.to_owned());
        }
        // `docker://` keeps dive's meaning (the daemon); skopeo uses it for registries.
        for prefix in ["docker-daemon:", "docker://", "daemon:"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                return Self::Daemon(rest.to_owned());
            }
        }
        let p = Path::new(s);
        if p.is_dir() {
            Self::Directory(p.to_owned(), None)
        } else if p.exists() || looks_like_path(s) {
            Self::Archive(p.to_owned(), None)
        } else {
            Self::Daemon(s.to_owned())
        }
    }

    /// The image chosen inside an archive or layout by the reference itself.
    pub fn selector(&self) -> Option<&ImageSelector> {
        match self {
            Self::Archive(_, s) | Self::Directory(_, s) => s.as_ref(),
            Self::Daemon(_) | Self::Registry(_) | Self::Demo => None,
        }
    }
}

/// A string meant as a file even when the file is missing (so the error names the file
/// instead of asking the daemon for an image of that name).
fn looks_like_path(s: &str) -> bool {
    s.starts_with('/')
        || s.starts_with("./")
        || s.starts_with("../")
        || [".tar", ".tar.gz", ".tgz", ".tar.zst"]
            .iter()
            .any(|e| s.ends_with(e))
}

/// skopeo's `PATH[:REF]`: the path ends at the first `:`. A whole string naming an existing
/// path whose first part does not exist is kept as a path (a file name with a colon).
fn split_reference(rest: &str) -> (PathBuf, Option<ImageSelector>) {
    match rest.split_once(':') {
        Some((p, _)) if !Path::new(p).exists() && Path::new(rest).exists() => {
            (PathBuf::from(rest), None)
        }
        Some((p, r)) if !r.is_empty() => (PathBuf::from(p), Some(ImageSelector::parse(r))),
        Some((p, _)) => (PathBuf::from(p), None),
        None => (PathBuf::from(rest), None),
    }
}

/// Which source a bare reference (`nginx:1.27`) is read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SourceChoice {
    /// The daemon when it has the image, else the registry (with a note on stderr).
    #[default]
    Auto,
    /// Only the Docker daemon (never the registry).
    Daemon,
    /// Always the registry.
    Registry,
}

/// Options for loading an image.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Platform to pick from a multi-platform index (default: the host's).
    pub platform: Option<Platform>,
    /// Image to pick in a multi-image archive or layout (`--image`); without one (and without
    /// a `PATH:REF` in the input), several images are an error.
    pub image: Option<ImageSelector>,
    /// Layer reading options (inspector, digests).
    pub scan: ScanOptions,
    /// Where a bare reference is read from (`--source`).
    pub source: SourceChoice,
    /// Registry options (TLS, cache, parallel downloads).
    #[cfg(feature = "registry")]
    pub registry: registry::RegistryOptions,
    /// The command line's own output: notes and a progress bar on stderr (off with `--quiet`).
    pub progress_bar: bool,
    /// Layer scans shared with another load (`strata diff` reads a layer both images hold
    /// once).
    pub layer_cache: Option<Arc<cache::LayerCache>>,
}

/// Progress of a load, reported from worker threads.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// Config, history and layer list are known; the filesystem is not yet.
    Metadata(Box<Image>),
    /// A status line (e.g. "waiting for the daemon to start the export").
    Phase(String),
    /// Bytes received from the source so far.
    Bytes(u64),
    /// A layer started (streaming sources, where the total is unknown).
    LayerStarted(usize),
    /// Bytes of one layer blob received so far, of its known total (registry downloads).
    LayerBytes {
        /// Layer index (the first layer using the blob).
        index: usize,
        /// Bytes received.
        received: u64,
        /// Blob size from the manifest.
        total: u64,
    },
    /// A one-line note for the user (e.g. that a reference is read from its registry).
    Notice(String),
    /// `done` of `total` layers read.
    LayerDone {
        /// Layers finished.
        done: usize,
        /// Layers to read.
        total: usize,
    },
}

/// Receiver of [`ProgressEvent`]s; cheap to clone, a no-op by default.
#[derive(Clone, Default)]
pub struct Progress {
    sink: Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>,
    bytes: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl Progress {
    /// A progress reporter calling `f` for each event.
    pub fn new(f: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Self {
            sink: Some(Arc::new(f)),
            bytes: Arc::default(),
        }
    }

    /// Sends an event.
    pub fn emit(&self, e: ProgressEvent) {
        if let Some(s) = &self.sink {
            s(e);
        }
    }

    /// True when nobody listens (events are dropped).
    pub fn is_silent(&self) -> bool {
        self.sink.is_none()
    }

    pub(crate) fn bytes(&self, n: u64) {
        let total = self
            .bytes
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed)
            + n;
        if self.sink.is_some() {
            self.emit(ProgressEvent::Bytes(total));
        }
    }

    pub(crate) fn layer_started(&self, n: usize) {
        self.emit(ProgressEvent::LayerStarted(n));
    }

    pub(crate) fn layer_done(&self, done: usize, total: usize) {
        self.emit(ProgressEvent::LayerDone { done, total });
    }
}

fn resolve_in(store: &dyn BlobStore, opts: &LoadOptions) -> Result<Resolved> {
    resolve(
        store,
        opts.platform.as_ref(),
        opts.image.as_ref(),
        !opts.scan.skip_digests,
    )
}

/// Lists the images of an archive or layout (tag, digest, image ID, platforms, size,
/// creation time), in the order `@N` counts them; reads metadata only.
pub fn list_images(input: &Input) -> Result<Vec<ImageSummary>> {
    match input {
        Input::Directory(path, _) => resolve::list_images(&LayoutDir::open(path)?),
        Input::Archive(path, _) => {
            let label = path.display().to_string();
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            let mut reader = BufReader::with_capacity(256 << 10, file);
            let head = reader.fill_buf().map_err(|e| Error::io(path, e))?.to_vec();
            match layer::sniff(&head) {
                Some(crate::model::Compression::None) => {
                    resolve::list_images(&ArchiveIndex::open(path)?)
                }
                Some(crate::model::Compression::Gzip) => resolve::list_images(
                    &archive::scan_stream_meta(flate2::read::MultiGzDecoder::new(reader), &label)?,
                ),
                Some(crate::model::Compression::Zstd) => {
                    let dec = zstd::stream::read::Decoder::with_buffer(reader)
                        .map_err(|e| Error::invalid(&label, format!("zstd: {e}")))?;
                    resolve::list_images(&archive::scan_stream_meta(dec, &label)?)
                }
                None => Err(not_an_archive(&label, &head)),
            }
        }
        Input::Daemon(r) => Err(Error::Other(format!(
            "{r}: not a file or directory (list the daemon's images with `strata images`)"
        ))),
        Input::Registry(r) => Err(Error::Other(format!(
            "registry:{}: one image per reference; open it, or pick a platform with --platform",
            crate::model::sanitize(r)
        ))),
        Input::Demo => Err(Error::Other(
            "the demo is one image; there is no list to show".into(),
        )),
    }
}

fn not_an_archive(label: &str, head: &[u8]) -> Error {
    if head.is_empty() {
        return Error::invalid(label, "file is empty");
    }
    match layer::unsupported_compression(head) {
        Some(kind) => Error::invalid(
            label,
            format!(
                "{kind}-compressed archive: decompress it first; strata reads tar, gzip and zstd"
            ),
        ),
        None => Error::invalid(
            label,
            "not an image archive: neither a tar nor a gzip/zstd-compressed tar",
        ),
    }
}

fn load_archive(path: &Path, opts: &LoadOptions, progress: &Progress) -> Result<Image> {
    let label = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(256 << 10, file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?.to_vec();
    if head.is_empty() {
        return Err(Error::invalid(&label, "file is empty"));
    }
    let reference = label.clone();
    let origin = Origin::Archive(path.to_owned());
    match layer::sniff(&head) {
        Some(crate::model::Compression::None) => {
            let index = ArchiveIndex::open(path)?;
            let resolved = resolve_in(&index, opts)?;
            progress.emit(ProgressEvent::Metadata(Box::new(preview(
                &reference, &resolved, &origin,
            )?)));
            let scans = scan_resolved(&resolved, &reference, opts, |m| {
                index.scan_layers(m, &opts.scan, progress)
            })?;
            let mut image = assemble(
                &reference,
                &resolved,
                scans,
                origin,
                |m| index.locate(m).map(|l| l.0),
                opts,
            )?;
            image.documents = documents::from_store(&index, &resolved);
            Ok(image)
        }
        Some(crate::model::Compression::Gzip) => {
            let dec = flate2::read::MultiGzDecoder::new(reader);
            load_stream(dec, &label, origin, opts, progress)
        }
        Some(crate::model::Compression::Zstd) => {
            let dec = zstd::stream::read::Decoder::with_buffer(reader)
                .map_err(|e| Error::invalid(&label, format!("zstd: {e}")))?;
            load_stream(dec, &label, origin, opts, progress)
        }
        None => Err(not_an_archive(&label, &head)),
    }
}

/// Scans the layers of a resolved image, through the layer cache when the load shares one.
fn scan_resolved(
    resolved: &Resolved,
    reference: &str,
    opts: &LoadOptions,
    scan: impl FnOnce(&[String]) -> Result<HashMap<String, LayerScan>>,
) -> Result<HashMap<String, LayerScan>> {
    match &opts.layer_cache {
        Some(cache) => cache.scan(resolved, reference, &opts.scan, scan),
        None => {
            let members: Vec<String> = resolved.layers.iter().map(|l| l.member.clone()).collect();
            scan(&members)
        }
    }
}

/// Loads an image from a non-seekable image tar stream (daemon export, compressed archive).
pub fn load_stream<R: Read>(
    reader: R,
    label: &str,
    origin: Origin,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Image> {
    let shared = opts.layer_cache.as_deref();
    let mut contents = scan_stream(reader, label, &opts.scan, progress, shared)?;
    let resolved = resolve_in(&contents, opts)?;
    let scans = std::mem::take(&mut contents.scans);
    if let Some(cache) = shared {
        cache.keep_streamed(&resolved, label, &scans)?;
    }
    let mut image = assemble(label, &resolved, scans, origin, |_| None, opts)?;
    image.documents = documents::from_store(&contents, &resolved);
    Ok(image)
}

/// Parsed image config JSON.
#[derive(Debug, Clone, Default)]
pub struct ParsedConfig {
    /// `os`.
    pub os: String,
    /// `architecture`.
    pub architecture: String,
    /// `variant`.
    pub variant: Option<String>,
    /// `created`.
    pub created: Option<String>,
    /// `config`.
    pub config: ImageConfig,
    /// `history`, mapped to layer indexes.
    pub history: Vec<HistoryEntry>,
    /// `rootfs.diff_ids`.
    pub diff_ids: Vec<String>,
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect()
    })
}

fn keys(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Parses an image config JSON and maps its history onto `layer_count` layers.
pub fn parse_config(bytes: &[u8], label: &str, layer_count: usize) -> Result<ParsedConfig> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::invalid(label, format!("config is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(Error::invalid(label, "config is not a JSON object"));
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let c = v.get("config").or_else(|| v.get("Config"));
    let cs = |k: &str| {
        c.and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let config = ImageConfig {
        user: cs("User"),
        env: strings(c.and_then(|c| c.get("Env"))).unwrap_or_default(),
        cmd: strings(c.and_then(|c| c.get("Cmd"))),
        entrypoint: strings(c.and_then(|c| c.get("Entrypoint"))),
        exposed_ports: keys(c.and_then(|c| c.get("ExposedPorts"))),
        labels: c
            .and_then(|c| c.get("Labels"))
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        healthcheck: strings(c.and_then(|c| c.pointer("/Healthcheck/Test"))),
        workdir: cs("WorkingDir").filter(|w| !w.is_empty()),
        volumes: keys(c.and_then(|c| c.get("Volumes"))),
        stop_signal: cs("StopSignal"),
    };
    let diff_ids = strings(v.pointer("/rootfs/diff_ids")).unwrap_or_default();
    let mut history: Vec<HistoryEntry> = v
        .get("history")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|h| {
                    let g = |k: &str| h.get(k).and_then(Value::as_str).map(str::to_owned);
                    HistoryEntry {
                        created_by: g("created_by").unwrap_or_default(),
                        created: g("created"),
                        comment: g("comment"),
                        author: g("author"),
                        empty_layer: h
                            .get("empty_layer")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        layer: None,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut li = 0;
    for h in &mut history {
        if h.empty_layer {
            continue;
        }
        if li < layer_count {
            h.layer = Some(li);
            li += 1;
        } else {
            // More non-empty steps than layers: treat the surplus as empty, as BuildKit does.
            h.empty_layer = true;
        }
    }
    Ok(ParsedConfig {
        os: s("os").unwrap_or_default(),
        architecture: s("architecture").unwrap_or_default(),
        variant: s("variant"),
        created: s("created"),
        config,
        history,
        diff_ids,
    })
}

/// The image as known before its layers are read (no filesystem yet).
pub(crate) fn preview(reference: &str, resolved: &Resolved, origin: &Origin) -> Result<Image> {
    let parsed = parse_config(&resolved.config, reference, resolved.layers.len())?;
    let layers = resolved
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| Layer {
            index: i,
            diff_id: parsed.diff_ids.get(i).cloned().unwrap_or_default(),
            blob_digest: l.blob_digest.clone().unwrap_or_default(),
            location: LayerLocation {
                member: l.member.clone(),
                ..LayerLocation::default()
            },
            ..Layer::default()
        })
        .collect();
    let mut image = base_image(reference, resolved, parsed, origin.clone());
    image.layers = layers;
    attach_history(&mut image);
    Ok(image)
}

fn base_image(reference: &str, resolved: &Resolved, parsed: ParsedConfig, origin: Origin) -> Image {
    Image {
        reference: reference.to_owned(),
        id: resolved.config_digest.clone(),
        repo_tags: resolved.repo_tags.clone(),
        repo_digests: Vec::new(),
        manifest_digest: resolved.manifest_digest.clone(),
        os: parsed.os,
        architecture: parsed.architecture,
        variant: parsed.variant,
        created: parsed.created,
        config: parsed.config,
        history: parsed.history,
        layers: Vec::new(),
        fs: FileSystem::default(),
        warnings: resolved.warnings.clone(),
        origin,
        content_matches: Vec::new(),
        captured: HashMap::new(),
        known_base: None,
        provenance: resolved.provenance.clone(),
        referrers: None,
        documents: Default::default(),
    }
}

fn attach_history(image: &mut Image) {
    for (hi, h) in image.history.iter().enumerate() {
        if let Some(li) = h.layer {
            if let Some(l) = image.layers.get_mut(li) {
                l.created_by.clone_from(&h.created_by);
                l.history_index = Some(hi);
            }
        }
    }
}

/// Builds the image model from the resolved manifest and the layer scans.
/// `offset_of` gives a member's data offset in a seekable archive.
pub fn assemble(
    reference: &str,
    resolved: &Resolved,
    mut scans: HashMap<String, LayerScan>,
    origin: Origin,
    offset_of: impl Fn(&str) -> Option<u64>,
    opts: &LoadOptions,
) -> Result<Image> {
    let parsed = parse_config(&resolved.config, reference, resolved.layers.len())?;
    if parsed.diff_ids.len() != resolved.layers.len() {
        return Err(Error::invalid(
            reference,
            format!(
                "config lists {} diff_ids but the manifest lists {} layers",
                parsed.diff_ids.len(),
                resolved.layers.len()
            ),
        ));
    }
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for l in &resolved.layers {
        *uses.entry(l.member.as_str()).or_default() += 1;
    }
    let mut layer_inputs = Vec::with_capacity(resolved.layers.len());
    let mut layers = Vec::with_capacity(resolved.layers.len());
    let mut matches = Vec::new();
    let mut captured = Vec::new();
    let mut warnings = resolved.warnings.clone();
    for (i, lref) in resolved.layers.iter().enumerate() {
        let left = uses.get_mut(lref.member.as_str()).map_or(0, |n| {
            *n -= 1;
            *n
        });
        let scan = if left == 0 {
            scans.remove(&lref.member)
        } else {
            scans.get(&lref.member).cloned()
        }
        .ok_or_else(|| {
            Error::invalid(
                reference,
                format!("layer {} was not read from the archive", lref.member),
            )
        })?;
        let expected = &parsed.diff_ids[i];
        if !opts.scan.skip_digests {
            // Compressed blobs named by digest were hashed as stored (see
            // `ScanOptions::blob_digest_declared`); every other layer by its tar.
            if !scan.diff_id.is_empty() && &scan.diff_id != expected {
                return Err(Error::DigestMismatch {
                    path: format!("{reference}: {}", lref.member),
                    what: format!("layer {i} diff_id"),
                    expected: expected.clone(),
                    actual: scan.diff_id.clone(),
                });
            }
            let blob_digest = if scan.compression == crate::model::Compression::None {
                &scan.diff_id
            } else {
                &scan.blob_digest
            };
            if scan.diff_id.is_empty() && scan.blob_digest.is_empty() {
                return Err(Error::invalid(
                    format!("{reference}: {}", lref.member),
                    "layer could not be verified: no digest was computed",
                ));
            }
            if let Some(want) = lref
                .blob_digest
                .as_ref()
                .filter(|_| !blob_digest.is_empty())
            {
                if want != blob_digest {
                    return Err(Error::DigestMismatch {
                        path: format!("{reference}: {}", lref.member),
                        what: format!("layer {i} blob"),
                        expected: want.clone(),
                        actual: blob_digest.clone(),
                    });
                }
            }
        }
        for (e, m) in &scan.matches {
            matches.push((i, *e, m.clone()));
        }
        for (e, c) in &scan.captured {
            captured.push((i, *e, c.clone()));
        }
        warnings.extend(scan.warnings.iter().cloned());
        let blob_digest = match (&lref.blob_digest, scan.compression) {
            (Some(d), _) => d.clone(),
            (None, crate::model::Compression::None) => expected.clone(),
            (None, _) => scan.blob_digest.clone(),
        };
        layers.push(Layer {
            index: i,
            diff_id: expected.clone(),
            blob_digest,
            compression: scan.compression,
            tar_bytes: scan.tar_bytes,
            blob_bytes: scan.blob_bytes,
            entries: scan.entries.entries.len() + scan.entries.markers.len(),
            location: LayerLocation {
                member: lref.member.clone(),
                offset: offset_of(&lref.member),
                blob_bytes: scan.blob_bytes,
            },
            markers: scan.entries.markers.clone(),
            warnings: scan.warnings,
            ..Layer::default()
        });
        layer_inputs.push(scan.entries);
    }
    let fs = FileSystem::build(layer_inputs);
    for (layer, stats) in layers.iter_mut().zip(&fs.stats) {
        layer.size_bytes = stats.size_bytes;
        layer.files_added = stats.added;
        layer.files_modified = stats.modified + stats.metadata_changed;
        layer.files_unchanged = stats.unchanged;
        layer.files_removed = stats.removed;
        layer.bytes_superseded = stats.bytes_superseded;
    }
    let mut image = base_image(reference, resolved, parsed, origin);
    image.layers = layers;
    image.warnings = warnings;
    attach_history(&mut image);
    image.fs = fs;
    image.content_matches = matches
        .into_iter()
        .filter_map(|(l, e, m)| image.fs.version_for_entry(l, e).map(|v| (v, m)))
        .collect();
    image.captured = captured
        .into_iter()
        .filter_map(|(l, e, c)| image.fs.version_for_entry(l, e).map(|v| (v, c)))
        .collect();
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_parse_by_transport_and_shape() {
        assert_eq!(
            Input::parse("nginx:1.25"),
            Input::Daemon("nginx:1.25".into())
        );
        assert_eq!(
            Input::parse("docker-daemon:app"),
            Input::Daemon("app".into())
        );
        assert_eq!(
            Input::parse("reg.io/team/app@sha256:ab"),
            Input::Daemon("reg.io/team/app@sha256:ab".into())
        );
        assert_eq!(
            Input::parse("/missing/image"),
            Input::Archive("/missing/image".into(), None)
        );
        assert_eq!(Input::parse("./x"), Input::Archive("./x".into(), None));
        assert_eq!(
            Input::parse("registry:127.0.0.1:5000/app:1"),
            Input::Registry("127.0.0.1:5000/app:1".into())
        );
        assert_eq!(
            Input::parse("docker://alpine:3"),
            Input::Daemon("alpine:3".into())
        );
        assert_eq!(
            Input::parse("saved.tar"),
            Input::Archive("saved.tar".into(), None)
        );
        // skopeo: the path ends at the first colon; the rest is the reference.
        assert_eq!(
            Input::parse("oci-archive:/tmp/a.tar:app:1"),
            Input::Archive(
                "/tmp/a.tar".into(),
                Some(ImageSelector::Reference("app:1".into()))
            )
        );
        assert_eq!(
            Input::parse("docker-archive:/tmp/a.tar:@2"),
            Input::Archive("/tmp/a.tar".into(), Some(ImageSelector::Index(2)))
        );
        assert_eq!(
            Input::parse("docker-archive:/tmp/a.tar:"),
            Input::Archive("/tmp/a.tar".into(), None)
        );
        let dir = std::env::temp_dir();
        assert_eq!(
            Input::parse(&format!("oci:{}", dir.display())),
            Input::Directory(dir.clone(), None)
        );
        assert_eq!(
            Input::parse(&format!("oci:{}:sha256:ABC", dir.display())),
            Input::Directory(dir, Some(ImageSelector::Digest("sha256:abc".into())))
        );
    }
}
