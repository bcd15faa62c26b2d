//! Finding the image inside an archive or layout: `manifest.json` (Docker and skopeo saves,
//! crane tarballs) or `index.json` (OCI layouts, with nested indexes, platforms and
//! attestations).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Read access to the members of an archive or layout directory.
pub trait BlobStore {
    /// Label used in error messages (the archive or directory path).
    fn label(&self) -> String;
    /// Reads a small metadata member (JSON), following member symlinks. `None` if absent; an
    /// error for a link cycle or a link pointing outside the archive or layout.
    fn read_meta(&self, member: &str) -> Result<Option<Vec<u8>>>;
    /// True when a layer member exists (after following symlinks).
    fn has_layer(&self, member: &str) -> bool;
    /// Follows member symlinks to the member holding the bytes: an error naming the cycle or
    /// the link when they loop or point outside the archive or layout directory.
    fn canonical(&self, member: &str) -> Result<String>;
    /// Why a present layer member cannot be read, when known without reading it (e.g. a
    /// compression strata does not read, seen while streaming).
    fn unreadable(&self, _member: &str) -> Option<String> {
        None
    }
    /// Bytes stored in a member, when known.
    fn size_of(&self, _member: &str) -> Option<u64> {
        None
    }
}

/// A requested platform, `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// Operating system (`linux`).
    pub os: String,
    /// Architecture (`amd64`, `arm64`).
    pub architecture: String,
    /// Optional variant (`v8`).
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Self {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Self {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: Some((*v).into()),
            }),
            _ => Err(Error::Other(format!(
                "--platform {s}: expected os/arch[/variant], e.g. linux/arm64/v8"
            ))),
        }
    }

    /// The platform of the running machine, in OCI spelling.
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "arm" => "arm",
            other => other,
        };
        Self {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    fn matches(&self, os: &str, arch: &str, variant: Option<&str>) -> bool {
        self.os == os
            && self.architecture == arch
            && self.variant.as_deref().is_none_or(|v| Some(v) == variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One layer to read, as the manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    /// Member (or blob path) holding the bytes, symlinks followed.
    pub member: String,
    /// Expected `sha256:` of the blob, when the layout names blobs by digest.
    pub blob_digest: Option<String>,
    /// Media type, if the layout records one.
    pub media_type: Option<String>,
}

/// The image found in an archive or layout.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The config JSON bytes.
    pub config: Vec<u8>,
    /// `sha256:` of the config bytes.
    pub config_digest: String,
    /// Layers, bottom first.
    pub layers: Vec<LayerRef>,
    /// Tags recorded by the layout.
    pub repo_tags: Vec<String>,
    /// Manifest digest when the layout has one.
    pub manifest_digest: Option<String>,
    /// Non-fatal notes (skipped platforms, absent blobs).
    pub warnings: Vec<String>,
    /// The attestations pointing at the image (statements not yet read into fields).
    pub provenance: crate::model::provenance::Provenance,
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const SCHEMA1_TYPES: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// `sha256:` digest of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::from("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn parse_json(store: &dyn BlobStore, member: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::invalid(
            format!("{}: {member}", store.label()),
            format!("invalid JSON: {e}"),
        )
    })
}

/// Blob member for a digest `alg:hex` in an OCI layout.
pub fn blob_member(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let valid = !alg.is_empty()
        && alg.bytes().all(|b| b.is_ascii_alphanumeric())
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| format!("blobs/{alg}/{hex}"))
}

/// The digest a member name implies, for layouts that name blobs by digest.
pub fn digest_from_member(member: &str) -> Option<String> {
    let base = member.rsplit('/').next().unwrap_or(member);
    let hex = if let Some(rest) = member.strip_prefix("blobs/sha256/") {
        rest
    } else if let Some(rest) = base.strip_prefix("sha256:") {
        rest
    } else {
        base.strip_suffix(".tar.gz")
            .or_else(|| base.strip_suffix(".tar.zst"))
            .or_else(|| base.strip_suffix(".tar"))
            .or_else(|| base.strip_suffix(".json"))?
    };
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// Which image of a multi-image archive or layout to read: skopeo's `PATH:REF` and
/// `PATH:@N`, or the `--image` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSelector {
    /// `@N`: entry N (zero-based) of `manifest.json`, or of `index.json` when the layout has no
    /// `manifest.json`.
    Index(usize),
    /// `sha256:HEX` or a unique prefix of it: a manifest or index digest, or an image ID
    /// (config digest).
    Digest(String),
    /// A tag or name: a `RepoTags` entry (compared as Docker references, so `app` means
    /// `docker.io/library/app:latest`), an `org.opencontainers.image.ref.name` annotation
    /// (compared exactly), or an `io.containerd.image.name`.
    Reference(String),
}

impl ImageSelector {
    /// Parses `@N`, `sha256:HEX…` or a reference.
    pub fn parse(s: &str) -> Self {
        if let Some(n) = s.strip_prefix('@') {
            if let Ok(i) = n.parse::<usize>() {
                return Self::Index(i);
            }
        }
        if let Some(hex) = s.strip_prefix("sha256:") {
            if !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Self::Digest(format!("sha256:{}", hex.to_ascii_lowercase()));
            }
        }
        Self::Reference(s.to_owned())
    }
}

impl std::fmt::Display for ImageSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Index(i) => write!(f, "@{i}"),
            Self::Digest(d) => f.write_str(d),
            Self::Reference(r) => f.write_str(r),
        }
    }
}

/// Docker's normalisation of a reference: `alpine` → `docker.io/library/alpine:latest`,
/// `team/app:1` → `docker.io/team/app:1`; references with a registry host keep it.
pub fn normalize_reference(r: &str) -> String {
    let (name, digest) = match r.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (r, None),
    };
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name[slash..].rfind(':') {
        Some(i) => (&name[..slash + i], Some(&name[slash + i + 1..])),
        None => (name, None),
    };
    let first = repo.split('/').next().unwrap_or("");
    let has_host =
        repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut repo = if has_host {
        repo.to_owned()
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    if let Some(rest) = repo.strip_prefix("index.docker.io/") {
        repo = format!("docker.io/{rest}");
    }
    if let Some(rest) = repo.strip_prefix("docker.io/") {
        if !rest.contains('/') {
            repo = format!("docker.io/library/{rest}");
        }
    }
    match (tag, digest) {
        (Some(t), Some(d)) => format!("{repo}:{t}@{d}"),
        (Some(t), None) => format!("{repo}:{t}"),
        (None, Some(d)) => format!("{repo}@{d}"),
        (None, None) => format!("{repo}:latest"),
    }
}

/// True when the recorded name `full` (a `RepoTags` entry or containerd image name) is the
/// reference `wanted`, compared as Docker references; podman's `localhost/` prefix may be
/// left out.
pub fn reference_matches(full: &str, wanted: &str) -> bool {
    if full == wanted {
        return true;
    }
    let want = normalize_reference(wanted);
    normalize_reference(full) == want
        || full
            .strip_prefix("localhost/")
            .is_some_and(|rest| normalize_reference(rest) == want)
}

pub use crate::model::summary::{describe, ImageSummary};

// These messages list names: not capped like parser errors (the list is capped at ten).
fn several_images(store: &dyn BlobStore, images: &[ImageSummary]) -> Error {
    Error::SeveralImages {
        label: store.label(),
        images: images.to_vec(),
    }
}

fn not_there(store: &dyn BlobStore, sel: &ImageSelector, images: &[ImageSummary]) -> Error {
    let what = if images.is_empty() {
        "no container image".to_owned()
    } else {
        describe(images)
    };
    Error::Other(format!(
        "{}: no image {} here; it holds: {what}",
        store.label(),
        crate::model::sanitize(&sel.to_string())
    ))
}

fn ambiguous(store: &dyn BlobStore, sel: &ImageSelector, images: &[ImageSummary]) -> Error {
    Error::Other(format!(
        "{}: {} matches {} images: {}; use @N or a longer digest",
        store.label(),
        crate::model::sanitize(&sel.to_string()),
        images.len(),
        describe(images)
    ))
}

const SCHEMA1_ADVICE: &str = "Docker schema 1 manifests are not supported; convert the image to \
     a current format first, e.g. `skopeo copy --format v2s2 SRC docker-archive:OUT.tar` or \
     `skopeo copy SRC oci:DIR`";

fn schema1_error(store: &dyn BlobStore, member: &str, v: &Value) -> Error {
    let signed = if v.get("signatures").is_some()
        || v.get("mediaType").and_then(Value::as_str) == Some(SCHEMA1_TYPES[1])
    {
        "signed "
    } else {
        ""
    };
    Error::invalid(
        format!("{}: {member}", store.label()),
        format!("is a {signed}Docker schema 1 manifest. {SCHEMA1_ADVICE}"),
    )
}

fn is_schema1(v: &Value) -> bool {
    v.get("schemaVersion").and_then(Value::as_u64) == Some(1)
        || v.get("fsLayers").is_some()
        || v.get("mediaType")
            .and_then(Value::as_str)
            .is_some_and(|m| SCHEMA1_TYPES.contains(&m))
}

/// Reads `manifest.json`: `None` if absent, an empty list for `null` or `[]`.
fn read_manifest_list(store: &dyn BlobStore) -> Result<Option<Vec<Value>>> {
    let Some(bytes) = store.read_meta("manifest.json")? else {
        return Ok(None);
    };
    let v = parse_json(store, "manifest.json", &bytes)?;
    match v {
        Value::Null => Ok(Some(Vec::new())),
        Value::Array(list) => Ok(Some(list)),
        v if is_schema1(&v) => Err(schema1_error(store, "manifest.json", &v)),
        _ => Err(Error::invalid(
            format!("{}: manifest.json", store.label()),
            "expected a JSON array of images",
        )),
    }
}

fn read_index(store: &dyn BlobStore) -> Result<Option<Value>> {
    let Some(bytes) = store.read_meta("index.json")? else {
        return Ok(None);
    };
    let v = parse_json(store, "index.json", &bytes)?;
    if is_schema1(&v) {
        return Err(schema1_error(store, "index.json", &v));
    }
    Ok(Some(v))
}

/// Lists the images of an archive or layout (tags, digests, platforms, sizes), in the order
/// `@N` counts them.
pub fn list_images(store: &dyn BlobStore) -> Result<Vec<ImageSummary>> {
    let list = read_manifest_list(store)?;
    let index = read_index(store)?;
    match (&list, &index) {
        (Some(l), _) if !l.is_empty() => {
            let mut out = docker_summaries(store, l)?;
            if let Some(idx) = &index {
                let oci = oci_catalog(store, idx)?;
                for s in &mut out {
                    s.manifest_digest =
                        s.id.as_deref()
                            .and_then(|id| oci.manifest_digest_for_config(id));
                }
            }
            Ok(out)
        }
        (_, Some(idx)) => Ok(oci_catalog(store, idx)?.summaries()),
        (Some(_), None) => Ok(Vec::new()),
        (None, None) => Err(no_layout(store)),
    }
}

fn no_layout(store: &dyn BlobStore) -> Error {
    Error::invalid(
        store.label(),
        "no manifest.json or index.json: not a container image archive or layout",
    )
}

fn config_member_of(entry: &Value) -> Option<&str> {
    entry.get("Config").and_then(Value::as_str)
}

fn docker_summaries(store: &dyn BlobStore, list: &[Value]) -> Result<Vec<ImageSummary>> {
    let mut out = Vec::with_capacity(list.len());
    for (index, entry) in list.iter().enumerate() {
        let names = repo_tags(entry);
        let config = match config_member_of(entry) {
            Some(m) => store.read_meta(m)?,
            None => None,
        };
        let cfg: Option<Value> = config
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok());
        let platform = cfg.as_ref().and_then(platform_of_config);
        let size = entry.get("Layers").and_then(Value::as_array).map(|ls| {
            ls.iter()
                .filter_map(Value::as_str)
                .map(|l| {
                    store
                        .canonical(l)
                        .ok()
                        .and_then(|m| store.size_of(&m))
                        .unwrap_or(0)
                })
                .sum()
        });
        out.push(ImageSummary {
            index,
            names,
            manifest_digest: None,
            id: config.as_deref().map(sha256_digest),
            platforms: platform.map(|p| vec![p]).unwrap_or_default(),
            size,
            created: cfg
                .as_ref()
                .and_then(|c| c.get("created"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Ok(out)
}

fn platform_of_config(cfg: &Value) -> Option<String> {
    let os = cfg.get("os")?.as_str()?;
    let arch = cfg.get("architecture")?.as_str()?;
    Some(match cfg.get("variant").and_then(Value::as_str) {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    })
}

fn repo_tags(entry: &Value) -> Vec<String> {
    entry
        .get("RepoTags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Finds the image in `store`. `platform` picks from a multi-platform index (default: the
/// host's); `selector` picks one of several images (without one, several images are an
/// error); `verify` checks the config digest.
pub fn resolve(
    store: &dyn BlobStore,
    platform: Option<&Platform>,
    selector: Option<&ImageSelector>,
    verify: bool,
) -> Result<Resolved> {
    let list = read_manifest_list(store)?;
    let index = read_index(store)?;
    let docker_list = list.as_ref().filter(|l| !l.is_empty());
    if let Some(l) = docker_list {
        if platform.is_none() || index.is_none() {
            if let Some(entry) = select_docker(store, l, selector, index.is_some())? {
                let mut r = resolve_docker(store, entry, verify)?;
                if let Some(p) = platform {
                    check_platform(store, &r, p)?;
                }
                if let Some(idx) = &index {
                    let catalog = oci_catalog(store, idx)?;
                    r.manifest_digest = catalog.manifest_digest_for_config(&r.config_digest);
                    if let Some(platform_manifest) = catalog.platform_manifest_for(&r.config_digest)
                    {
                        attach_attestations(store, &catalog, &platform_manifest, &mut r);
                    }
                }
                return Ok(r);
            }
        }
    }
    match index {
        Some(idx) => {
            let r = resolve_oci(store, &idx, platform, selector, verify);
            match (r, list.as_ref()) {
                (Err(Error::Invalid { problem, .. }), Some(l))
                    if l.is_empty() && problem.starts_with("index.json lists no runnable") =>
                {
                    Err(Error::invalid(
                        store.label(),
                        "manifest.json lists no image (and index.json lists no runnable image)",
                    ))
                }
                (r, _) => r,
            }
        }
        None if list.is_some() => Err(Error::invalid(
            store.label(),
            "manifest.json lists no image",
        )),
        None => Err(no_layout(store)),
    }
}

/// The `manifest.json` entry asked for; `None` when the selector matches nothing and the
/// layout also has an `index.json` to try.
fn select_docker<'a>(
    store: &dyn BlobStore,
    list: &'a [Value],
    selector: Option<&ImageSelector>,
    has_index: bool,
) -> Result<Option<&'a Value>> {
    let summaries = || docker_summaries(store, list);
    let Some(sel) = selector else {
        return if list.len() == 1 {
            Ok(Some(&list[0]))
        } else {
            Err(several_images(store, &summaries()?))
        };
    };
    let matched: Vec<usize> = match sel {
        ImageSelector::Index(i) => {
            return match list.get(*i) {
                Some(e) => Ok(Some(e)),
                None => Err(not_there(store, sel, &summaries()?)),
            }
        }
        ImageSelector::Digest(d) => summaries()?
            .iter()
            .filter(|s| s.id.as_deref().is_some_and(|id| id.starts_with(d.as_str())))
            .map(|s| s.index)
            .collect(),
        ImageSelector::Reference(r) => list
            .iter()
            .enumerate()
            .filter(|(_, e)| repo_tags(e).iter().any(|t| reference_matches(t, r)))
            .map(|(i, _)| i)
            .collect(),
    };
    match matched.as_slice() {
        [i] => Ok(Some(&list[*i])),
        [] if has_index => Ok(None),
        [] => Err(not_there(store, sel, &summaries()?)),
        many => {
            let all = summaries()?;
            let hits: Vec<ImageSummary> = all
                .into_iter()
                .filter(|s| many.contains(&s.index))
                .collect();
            Err(ambiguous(store, sel, &hits))
        }
    }
}

fn check_platform(store: &dyn BlobStore, r: &Resolved, want: &Platform) -> Result<()> {
    let cfg: Value = serde_json::from_slice(&r.config).unwrap_or(Value::Null);
    let os = cfg.get("os").and_then(Value::as_str).unwrap_or("");
    let arch = cfg
        .get("architecture")
        .and_then(Value::as_str)
        .unwrap_or("");
    let variant = cfg.get("variant").and_then(Value::as_str);
    if want.matches(os, arch, variant) {
        Ok(())
    } else {
        Err(Error::invalid(
            store.label(),
            format!(
                "no image for platform {want}; available: {} (choose with --platform)",
                platform_of_config(&cfg).unwrap_or_else(|| "unknown".into())
            ),
        ))
    }
}

const FOREIGN_HINT: &str = "a foreign (non-distributable) layer whose blob is not in the archive; \
     fetch it from its source (e.g. `skopeo copy` from the registry)";

fn is_foreign(media_type: &str) -> bool {
    media_type.contains("foreign") || media_type.contains("nondistributable")
}

fn resolve_docker(store: &dyn BlobStore, entry: &Value, verify: bool) -> Result<Resolved> {
    let label = format!("{}: manifest.json", store.label());
    let config_member = config_member_of(entry)
        .ok_or_else(|| Error::invalid(&label, "image entry has no Config"))?;
    let config = store.read_meta(config_member)?.ok_or_else(|| {
        Error::invalid(
            &label,
            format!("points at config {config_member}, which is not in the archive"),
        )
    })?;
    let config_digest = sha256_digest(&config);
    if verify {
        if let Some(expected) = digest_from_member(&store.canonical(config_member)?) {
            if expected != config_digest {
                return Err(Error::DigestMismatch {
                    path: format!("{}: {config_member}", store.label()),
                    what: "config".into(),
                    expected,
                    actual: config_digest,
                });
            }
        }
    }
    let layer_names = entry
        .get("Layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid(&label, "image entry has no Layers"))?;
    let diff_ids: Vec<String> = serde_json::from_slice::<Value>(&config)
        .ok()
        .and_then(|c| strings_at(&c, "/rootfs/diff_ids"))
        .unwrap_or_default();
    let mut layers = Vec::with_capacity(layer_names.len());
    for (i, l) in layer_names.iter().enumerate() {
        let name = l
            .as_str()
            .ok_or_else(|| Error::invalid(&label, "a Layers entry is not a string"))?;
        let member = store.canonical(name)?;
        if !store.has_layer(&member) {
            if let Some(why) = store.unreadable(&member) {
                return Err(Error::invalid(format!("{}: {name}", store.label()), why));
            }
            let source = diff_ids
                .get(i)
                .and_then(|d| entry.pointer(&format!("/LayerSources/{}", d.replace('/', "~1"))));
            if let Some(src) = source {
                let media = src.get("mediaType").and_then(Value::as_str).unwrap_or("");
                return Err(Error::invalid(
                    &label,
                    format!(
                        "layer {i} ({name}, {}) is {FOREIGN_HINT}",
                        if media.is_empty() { "foreign" } else { media }
                    ),
                ));
            }
            return Err(Error::invalid(
                &label,
                format!("lists layer {name}, which is not in the archive"),
            ));
        }
        layers.push(LayerRef {
            blob_digest: digest_from_member(&member),
            member,
            media_type: None,
        });
    }
    Ok(Resolved {
        config,
        config_digest,
        layers,
        repo_tags: repo_tags(entry),
        manifest_digest: None,
        warnings: Vec::new(),
        provenance: Default::default(),
    })
}

fn strings_at(v: &Value, pointer: &str) -> Option<Vec<String>> {
    v.pointer(pointer).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    })
}

type PlatformTriple = (String, String, Option<String>);

fn platform_text(p: &PlatformTriple) -> String {
    match p {
        (os, a, Some(v)) => format!("{os}/{a}/{v}"),
        (os, a, None) => format!("{os}/{a}"),
    }
}

/// A runnable manifest found under `index.json`.
#[derive(Clone)]
struct Candidate {
    /// Position of the top-level `index.json` descriptor it was found under.
    top: usize,
    /// Digest of that top-level descriptor.
    top_digest: String,
    /// Digest of this manifest.
    digest: String,
    manifest: Value,
    platform: Option<PlatformTriple>,
    names: Vec<String>,
    /// Whether the top-level descriptor is an index (several platforms of one image).
    nested: bool,
    config_digest: Option<String>,
    /// `created` of its config.
    created: Option<String>,
}

/// Everything `index.json` leads to.
struct OciCatalog {
    candidates: Vec<Candidate>,
    warnings: Vec<String>,
    /// Media or artifact types of the non-image manifests.
    artifacts: Vec<String>,
    /// Number of top-level descriptors.
    tops: usize,
    /// Attestation manifest entries, at any depth.
    attestations: Vec<Value>,
}

impl OciCatalog {
    fn manifest_digest_for_config(&self, config: &str) -> Option<String> {
        let hits: Vec<&Candidate> = self
            .candidates
            .iter()
            .filter(|c| c.config_digest.as_deref() == Some(config))
            .collect();
        hits.first().map(|c| c.top_digest.clone())
    }

    /// The platform manifest digest of the image whose config is `config`.
    fn platform_manifest_for(&self, config: &str) -> Option<String> {
        self.candidates
            .iter()
            .find(|c| c.config_digest.as_deref() == Some(config))
            .map(|c| c.digest.clone())
    }

    /// The images: candidates grouped by top-level descriptor (same digest = same image);
    /// plain manifests that share their names and differ only by platform are one image.
    fn groups(cands: &[Candidate]) -> Vec<Vec<Candidate>> {
        let mut groups: Vec<Vec<Candidate>> = Vec::new();
        for c in cands {
            match groups.iter_mut().find(|g| g[0].top_digest == c.top_digest) {
                Some(g) => {
                    if !g.iter().any(|x| x.digest == c.digest) {
                        g.push(c.clone());
                    }
                    for x in g.iter_mut() {
                        for n in &c.names {
                            if !x.names.contains(n) {
                                x.names.push(n.clone());
                            }
                        }
                    }
                }
                None => groups.push(vec![c.clone()]),
            }
        }
        let platforms_split = groups.len() > 1
            && groups.iter().all(|g| !g[0].nested && g.len() == 1)
            && groups.iter().all(|g| g[0].names == groups[0][0].names)
            && {
                let ps: Vec<Option<String>> = groups
                    .iter()
                    .map(|g| g[0].platform.as_ref().map(platform_text))
                    .collect();
                ps.iter().all(Option::is_some)
                    && ps.iter().enumerate().all(|(i, p)| !ps[..i].contains(p))
            };
        if platforms_split {
            vec![groups.into_iter().flatten().collect()]
        } else {
            groups
        }
    }

    fn summary(group: &[Candidate]) -> ImageSummary {
        let host = Platform::host();
        let main = group
            .iter()
            .find(|c| {
                c.platform
                    .as_ref()
                    .is_some_and(|(o, a, v)| host.matches(o, a, v.as_deref()))
            })
            .unwrap_or(&group[0]);
        let size = main
            .manifest
            .get("layers")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| l.get("size").and_then(Value::as_u64))
                    .sum()
            });
        let single_top = group.iter().all(|c| c.top_digest == group[0].top_digest);
        ImageSummary {
            index: group.iter().map(|c| c.top).min().unwrap_or(0),
            names: group[0].names.clone(),
            manifest_digest: single_top.then(|| group[0].top_digest.clone()),
            id: main.config_digest.clone(),
            platforms: group
                .iter()
                .filter_map(|c| c.platform.as_ref().map(platform_text))
                .collect(),
            size,
            created: main.created.clone(),
        }
    }

    fn summaries(&self) -> Vec<ImageSummary> {
        Self::groups(&self.candidates)
            .iter()
            .map(|g| Self::summary(g))
            .collect()
    }
}

fn oci_catalog(store: &dyn BlobStore, idx: &Value) -> Result<OciCatalog> {
    let mut catalog = OciCatalog {
        candidates: Vec::new(),
        warnings: Vec::new(),
        artifacts: Vec::new(),
        tops: idx
            .get("manifests")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        attestations: Vec::new(),
    };
    collect(store, idx, 0, &mut catalog, &[], None)?;
    for c in &mut catalog.candidates {
        c.config_digest = c
            .manifest
            .pointer("/config/digest")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let config = match c.config_digest.as_deref().and_then(blob_member) {
            Some(m) => store.read_meta(&m)?,
            None => None,
        };
        c.created = config
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.get("created").and_then(Value::as_str).map(str::to_owned));
    }
    Ok(catalog)
}

fn resolve_oci(
    store: &dyn BlobStore,
    idx: &Value,
    platform: Option<&Platform>,
    selector: Option<&ImageSelector>,
    verify: bool,
) -> Result<Resolved> {
    let catalog = oci_catalog(store, idx)?;
    let mut r = choose_oci(store, idx, &catalog, platform, selector, verify)?;
    if let Some(d) = r.manifest_digest.clone() {
        attach_attestations(store, &catalog, &d, &mut r);
    }
    Ok(r)
}

/// Reads the attestations pointing at `platform_manifest` into `r`.
fn attach_attestations(
    store: &dyn BlobStore,
    catalog: &OciCatalog,
    platform_manifest: &str,
    r: &mut Resolved,
) {
    let (prov, warnings) =
        super::attestations::read(store, &catalog.attestations, platform_manifest);
    r.provenance = prov;
    r.warnings.extend(warnings);
}

fn choose_oci(
    store: &dyn BlobStore,
    idx: &Value,
    catalog: &OciCatalog,
    platform: Option<&Platform>,
    selector: Option<&ImageSelector>,
    verify: bool,
) -> Result<Resolved> {
    let warnings = catalog.warnings.clone();
    if catalog.candidates.is_empty() {
        if !catalog.artifacts.is_empty() {
            let mut kinds = catalog.artifacts.clone();
            kinds.dedup();
            return Err(Error::invalid(
                store.label(),
                format!(
                    "holds no container image, only artifacts: {}",
                    kinds.join(", ")
                ),
            ));
        }
        let extra = if warnings.is_empty() {
            String::new()
        } else {
            format!(" ({})", warnings.join("; "))
        };
        return Err(Error::invalid(
            store.label(),
            format!("index.json lists no runnable image whose blobs are present{extra}"),
        ));
    }
    let images = OciCatalog::groups(&catalog.candidates);
    let summaries: Vec<ImageSummary> = images.iter().map(|g| OciCatalog::summary(g)).collect();
    let mut candidates: Vec<Candidate> = match selector {
        None => {
            if images.len() > 1 {
                return Err(several_images(store, &summaries));
            }
            images.into_iter().flatten().collect()
        }
        Some(sel) => {
            let picked: Vec<Vec<Candidate>> = match sel {
                ImageSelector::Index(i) => {
                    if *i >= catalog.tops {
                        return Err(not_there(store, sel, &summaries));
                    }
                    let raw = idx
                        .pointer(&format!("/manifests/{i}/digest"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    images
                        .into_iter()
                        .filter(|g| g[0].top_digest == raw)
                        .map(|g| g.into_iter().filter(|c| c.top_digest == raw).collect())
                        .collect()
                }
                ImageSelector::Digest(d) => {
                    let hit = |x: &str| x.starts_with(d.as_str());
                    // A platform manifest or config digest picks that platform alone.
                    let exact: Vec<Candidate> = catalog
                        .candidates
                        .iter()
                        .filter(|c| {
                            c.nested
                                && (hit(&c.digest) || c.config_digest.as_deref().is_some_and(hit))
                        })
                        .cloned()
                        .collect();
                    if exact.is_empty() {
                        images
                            .into_iter()
                            .filter(|g| {
                                g.iter().any(|c| {
                                    hit(&c.top_digest)
                                        || hit(&c.digest)
                                        || c.config_digest.as_deref().is_some_and(hit)
                                })
                            })
                            .collect()
                    } else {
                        OciCatalog::groups(&exact)
                    }
                }
                ImageSelector::Reference(r) => images
                    .into_iter()
                    .filter(|g| g[0].names.iter().any(|n| n == r || reference_matches(n, r)))
                    .collect(),
            };
            match picked.len() {
                0 => return Err(not_there(store, sel, &summaries)),
                1 => picked.into_iter().flatten().collect(),
                _ => {
                    let hits: Vec<ImageSummary> =
                        picked.iter().map(|g| OciCatalog::summary(g)).collect();
                    return Err(ambiguous(store, sel, &hits));
                }
            }
        }
    };
    let want = platform.cloned().unwrap_or_else(Platform::host);
    let fits = |c: &Candidate| {
        c.platform
            .as_ref()
            .is_some_and(|(os, arch, v)| want.matches(os, arch, v.as_deref()))
    };
    let pick = candidates.iter().position(fits);
    if let Some(first) = pick {
        // Two manifests of one platform are two images: never silently the first.
        let same: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| fits(c) && c.platform == candidates[first].platform)
            .collect();
        if same.len() > 1 {
            let digests: Vec<&str> = same.iter().map(|c| c.digest.as_str()).collect();
            return Err(Error::Other(format!(
                "{}: holds {} images for platform {want}: {}; choose one with --image sha256:DIGEST",
                store.label(),
                same.len(),
                digests.join(", ")
            )));
        }
    }
    let chosen = match pick {
        Some(i) => candidates.swap_remove(i),
        None if platform.is_none() && candidates.len() == 1 => candidates.remove(0),
        None => {
            let list: Vec<String> = candidates
                .iter()
                .map(|c| {
                    c.platform
                        .as_ref()
                        .map_or_else(|| "unknown".into(), platform_text)
                })
                .collect();
            return Err(Error::invalid(
                store.label(),
                format!(
                    "no image for platform {want}; available: {} (choose with --platform)",
                    list.join(", ")
                ),
            ));
        }
    };
    let label = format!("{}: manifest {}", store.label(), chosen.digest);
    let config_digest = chosen
        .manifest
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid(&label, "manifest has no config digest"))?
        .to_owned();
    let config_member = blob_member(&config_digest)
        .ok_or_else(|| Error::invalid(&label, format!("bad config digest {config_digest}")))?;
    let config = store.read_meta(&config_member)?.ok_or_else(|| {
        Error::invalid(
            &label,
            format!("config blob {config_digest} is not in the archive"),
        )
    })?;
    let actual = sha256_digest(&config);
    if verify && actual != config_digest {
        return Err(Error::DigestMismatch {
            path: format!("{}: {config_member}", store.label()),
            what: "config".into(),
            expected: config_digest,
            actual,
        });
    }
    // The image ID is the digest of the config bytes read (they differ only unverified).
    let config_digest = actual;
    let mut layers = Vec::new();
    for l in chosen
        .manifest
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid(&label, "manifest has no layers"))?
    {
        let digest = l
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid(&label, "a layer descriptor has no digest"))?;
        let media_type = l
            .get("mediaType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let media = media_type.as_deref().unwrap_or("");
        if media.ends_with("+encrypted") {
            return Err(Error::invalid(
                &label,
                format!(
                    "layer {digest} is encrypted ({media}); strata cannot read encrypted layers \
                     (decrypt first, e.g. `skopeo copy --decryption-key KEY`)"
                ),
            ));
        }
        let member = blob_member(digest)
            .ok_or_else(|| Error::invalid(&label, format!("bad layer digest {digest}")))?;
        let member = store.canonical(&member)?;
        if !store.has_layer(&member) {
            if let Some(why) = store.unreadable(&member) {
                return Err(Error::invalid(format!("{}: {member}", store.label()), why));
            }
            if is_foreign(media) {
                return Err(Error::invalid(
                    &label,
                    format!("layer {digest} ({media}) is {FOREIGN_HINT}"),
                ));
            }
            return Err(Error::invalid(
                &label,
                format!("layer blob {digest} is not in the archive"),
            ));
        }
        layers.push(LayerRef {
            member,
            blob_digest: Some(digest.to_owned()),
            media_type,
        });
    }
    Ok(Resolved {
        config,
        config_digest,
        layers,
        repo_tags: chosen.names,
        manifest_digest: Some(chosen.digest),
        warnings,
        provenance: Default::default(),
    })
}

fn names_of(desc: &Value) -> Vec<String> {
    let ann = desc.get("annotations");
    let get = |k: &str| ann.and_then(|a| a.get(k)).and_then(Value::as_str);
    let mut names = Vec::new();
    if let Some(full) = get("io.containerd.image.name") {
        names.push(full.to_owned());
    }
    if let Some(r) = get("org.opencontainers.image.ref.name") {
        if !names.iter().any(|n| n == r) {
            names.push(r.to_owned());
        }
    }
    names
}

/// Media types that mark a manifest as something other than a runnable image.
fn artifact_kind(desc: &Value, manifest: &Value) -> Option<String> {
    if let Some(t) = manifest
        .get("artifactType")
        .or_else(|| desc.get("artifactType"))
        .and_then(Value::as_str)
    {
        return Some(t.to_owned());
    }
    let config_type = manifest
        .pointer("/config/mediaType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !config_type.is_empty()
        && config_type != "application/vnd.oci.image.config.v1+json"
        && config_type != "application/vnd.docker.container.image.v1+json"
    {
        return Some(config_type.to_owned());
    }
    // Layers that are not filesystem tars (cosign's classic signatures: an image config
    // with a `simplesigning` payload layer).
    if let Some(ls) = manifest.get("layers").and_then(Value::as_array) {
        let types: Vec<&str> = ls
            .iter()
            .filter_map(|l| l.get("mediaType").and_then(Value::as_str))
            .collect();
        if !ls.is_empty() && types.len() == ls.len() && !types.iter().any(|t| is_layer_type(t)) {
            return Some(types[0].to_owned());
        }
    }
    if manifest.get("subject").is_some() {
        return Some(
            manifest
                .get("mediaType")
                .and_then(Value::as_str)
                .unwrap_or("referrer manifest")
                .to_owned(),
        );
    }
    None
}

fn is_layer_type(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.oci.image.layer.")
        || media_type.starts_with("application/vnd.docker.image.rootfs.")
}

const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

fn collect(
    store: &dyn BlobStore,
    index: &Value,
    depth: usize,
    out: &mut OciCatalog,
    inherited_names: &[String],
    top: Option<(usize, &str)>,
) -> Result<()> {
    if depth > 4 {
        return Err(Error::invalid(
            store.label(),
            "image indexes nested more than 4 deep",
        ));
    }
    let Some(list) = index.get("manifests").and_then(Value::as_array) else {
        return Ok(()); // `"manifests": null` counts as empty
    };
    for (position, desc) in list.iter().enumerate() {
        let Some(digest) = desc.get("digest").and_then(Value::as_str) else {
            continue;
        };
        let (top_pos, top_digest) = top.unwrap_or((position, digest));
        let media = desc.get("mediaType").and_then(Value::as_str).unwrap_or("");
        if SCHEMA1_TYPES.contains(&media) {
            return Err(schema1_error(store, &format!("manifest {digest}"), desc));
        }
        let mut names = names_of(desc);
        if names.is_empty() {
            names = inherited_names.to_vec();
        }
        let platform = desc.get("platform").map(|p| {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (
                s("os"),
                s("architecture"),
                p.get("variant").and_then(Value::as_str).map(str::to_owned),
            )
        });
        let is_attestation = super::attestations::is_attestation(desc);
        if is_attestation {
            out.attestations.push(desc.clone());
            continue;
        }
        if !media.is_empty() && !MANIFEST_TYPES.contains(&media) && !INDEX_TYPES.contains(&media) {
            // A blob listed directly (e.g. a Helm chart layer): an artifact, not an image.
            out.artifacts.push(
                desc.get("artifactType")
                    .and_then(Value::as_str)
                    .unwrap_or(media)
                    .to_owned(),
            );
            continue;
        }
        let Some(member) = blob_member(digest) else {
            continue;
        };
        let Some(bytes) = store.read_meta(&member)? else {
            let p = platform
                .as_ref()
                .map_or_else(|| digest.to_owned(), |(o, a, _)| format!("{o}/{a}"));
            out.warnings.push(format!("{p} is not in the archive"));
            continue;
        };
        let value = parse_json(store, &member, &bytes)?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(Error::DigestMismatch {
                path: format!("{}: {member}", store.label()),
                what: "manifest".into(),
                expected: digest.to_owned(),
                actual,
            });
        }
        if is_schema1(&value) {
            return Err(schema1_error(store, &member, &value));
        }
        let inner_media = value
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or(media);
        if INDEX_TYPES.contains(&inner_media) || value.get("manifests").is_some() {
            collect(
                store,
                &value,
                depth + 1,
                out,
                &names,
                Some((top_pos, top_digest)),
            )?;
            continue;
        }
        if let Some(kind) = artifact_kind(desc, &value) {
            out.artifacts.push(kind);
            continue;
        }
        // A platform whose layers are absent (never pulled) is not runnable. Encrypted and
        // foreign layers stay: choosing that image then says why it cannot be read.
        let mut missing = false;
        for l in value
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let lm = l.get("mediaType").and_then(Value::as_str).unwrap_or("");
            if lm.ends_with("+encrypted") || is_foreign(lm) {
                continue;
            }
            match l
                .get("digest")
                .and_then(Value::as_str)
                .and_then(blob_member)
            {
                Some(m) => {
                    let c = store.canonical(&m)?;
                    if !store.has_layer(&c) && store.unreadable(&c).is_none() {
                        missing = true;
                    }
                }
                None => missing = true,
            }
        }
        if missing {
            let p = platform
                .as_ref()
                .map_or_else(|| digest.to_owned(), |(o, a, _)| format!("{o}/{a}"));
            out.warnings
                .push(format!("{p}: layer blobs not in the archive"));
            continue;
        }
        let platform = match platform {
            Some(p) if !p.0.is_empty() => Some(p),
            _ => config_platform(store, &value),
        };
        out.candidates.push(Candidate {
            top: top_pos,
            top_digest: top_digest.to_owned(),
            digest: digest.to_owned(),
            manifest: value,
            platform,
            names,
            nested: depth > 0,
            config_digest: None,
            created: None,
        });
    }
    Ok(())
}

fn config_platform(store: &dyn BlobStore, manifest: &Value) -> Option<PlatformTriple> {
    let digest = manifest.pointer("/config/digest")?.as_str()?;
    let bytes = store.read_meta(&blob_member(digest)?).ok()??;
    let cfg: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        cfg.get("os")?.as_str()?.to_owned(),
        cfg.get("architecture")?.as_str()?.to_owned(),
        cfg.get("variant")
            .and_then(Value::as_str)
            .map(str::to_owned),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_from_member_names() {
        let hex = "a".repeat(64);
        assert_eq!(
            digest_from_member(&format!("blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_from_member(&format!("{hex}.json")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_from_member(&format!("sha256:{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_from_member(&format!("{hex}.tar.gz")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_from_member("abc/layer.tar"), None);
    }

    #[test]
    fn selectors_and_docker_references() {
        assert_eq!(ImageSelector::parse("@3"), ImageSelector::Index(3));
        assert_eq!(
            ImageSelector::parse("sha256:ABCdef"),
            ImageSelector::Digest("sha256:abcdef".into())
        );
        assert_eq!(
            ImageSelector::parse("@x"),
            ImageSelector::Reference("@x".into())
        );
        assert_eq!(
            ImageSelector::parse("app:1"),
            ImageSelector::Reference("app:1".into())
        );
        assert_eq!(
            normalize_reference("alpine"),
            "docker.io/library/alpine:latest"
        );
        assert_eq!(normalize_reference("team/app:1"), "docker.io/team/app:1");
        assert_eq!(
            normalize_reference("docker.io/alpine:3"),
            "docker.io/library/alpine:3"
        );
        assert_eq!(
            normalize_reference("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert!(reference_matches(
            "docker.io/library/busybox:latest",
            "busybox"
        ));
        assert!(reference_matches("localhost/app:1", "app:1"));
        assert!(!reference_matches("busybox:1", "busybox"));
        assert!(!reference_matches("team/app:1", "app:1"));
    }

    #[test]
    fn platform_parsing() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(!p.matches("linux", "arm64", None));
        assert!(Platform::parse("linux").is_err());
        assert_eq!(blob_member("sha256:../x"), None);
    }
}
