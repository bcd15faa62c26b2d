//! The image model every other part reads: config, history mapped onto layers, per-layer
//! filesystem changes and the merged filesystem with exact size accounting.

pub mod documents;
pub mod finding;
pub mod fs;
pub mod path;
pub mod provenance;
pub mod referrer;
pub mod signature;
pub mod summary;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use fs::{EntryKind, FileSystem, PathId, Removal, RemovalCause, Status, Version, VersionId};

/// A fully analysed image.
#[derive(Debug, Clone)]
pub struct Image {
    /// What the user asked for (archive path, daemon reference, `--demo`).
    pub reference: String,
    /// `sha256:` digest of the config JSON (the image ID on classic Docker).
    pub id: String,
    /// Tags known for the image.
    pub repo_tags: Vec<String>,
    /// Registry digests known for the image (`repo@sha256:...`).
    pub repo_digests: Vec<String>,
    /// Digest of the manifest the layers came from, when the layout has one.
    pub manifest_digest: Option<String>,
    /// Operating system from the config.
    pub os: String,
    /// CPU architecture from the config.
    pub architecture: String,
    /// Architecture variant (e.g. `v8`).
    pub variant: Option<String>,
    /// Creation time (RFC 3339) from the config.
    pub created: Option<String>,
    /// Runtime configuration.
    pub config: ImageConfig,
    /// Every history entry, oldest first, mapped onto layers.
    pub history: Vec<HistoryEntry>,
    /// Layers bottom to top.
    pub layers: Vec<Layer>,
    /// The overlay of all layers.
    pub fs: FileSystem,
    /// Non-fatal problems met while reading (shown, never hidden).
    pub warnings: Vec<String>,
    /// Where the layer bytes can be read again (file viewer, extract).
    pub origin: Origin,
    /// Content findings (secret rules) by version, redacted.
    pub content_matches: Vec<(VersionId, ContentMatch)>,
    /// Contents kept in memory by the inspector (package databases), by version.
    pub captured: std::collections::HashMap<VersionId, Arc<[u8]>>,
    /// The base image named by the `org.opencontainers.image.base.*` labels, when the source
    /// could look it up (see `analysis::base`).
    pub known_base: Option<KnownBase>,
    /// Attestations, provenance and signatures found next to the image (empty when none).
    pub provenance: provenance::Provenance,
    /// What the registry holds next to the image (signatures, attestations, SBOMs), as read;
    /// `None` when the source has no registry to ask (archives, layouts, the daemon).
    pub referrers: Option<referrer::Referrers>,
    /// The documents the image was read from (index, manifest, config), raw, for the
    /// anatomy view.
    pub documents: documents::Documents,
}

/// What is known of an image's base image itself, found through its name or digest label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownBase {
    /// Where and by which reference it was found (`daemon: debian:12`).
    pub found: String,
    /// Its layers' `diff_id`s, bottom first.
    pub diff_ids: Vec<String>,
    /// Its number of history entries.
    pub history: usize,
}

/// Where an analysed image came from, so file contents can be read again later.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A tar archive on disk; layers are members at known offsets.
    Archive(std::path::PathBuf),
    /// An OCI layout directory; layers are blob files.
    Directory(std::path::PathBuf),
    /// The Docker daemon; contents are read by exporting again.
    Daemon(String),
    /// Generated in memory (the demo image): the archive bytes are kept.
    Memory(std::sync::Arc<Vec<u8>>),
    /// A registry; layers are read back from the blob cache, or downloaded again.
    Registry(Box<RegistryOrigin>),
}

/// Where a registry image's blobs can be read again.
#[derive(Debug, Clone)]
pub struct RegistryOrigin {
    /// `registry/repository` (no tag or digest).
    pub repository: String,
    /// Whether TLS certificates were verified (`--tls-verify`).
    pub tls_verify: bool,
    /// The blob cache directory, when the cache was used.
    pub cache_dir: Option<std::path::PathBuf>,
}

/// How a layer's bytes can be located again.
#[derive(Debug, Clone, Default)]
pub struct LayerLocation {
    /// Member name inside the archive, or blob path inside a directory.
    pub member: String,
    /// Byte offset of the member's data inside the outer (uncompressed) archive, if seekable.
    pub offset: Option<u64>,
    /// Length of the stored blob in bytes.
    pub blob_bytes: u64,
}

/// The runtime configuration of an image (`config` in the image config JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageConfig {
    /// `User`; `None` or empty means root.
    pub user: Option<String>,
    /// `Env` as `KEY=value` strings.
    pub env: Vec<String>,
    /// `Cmd`.
    pub cmd: Option<Vec<String>>,
    /// `Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `ExposedPorts` keys such as `80/tcp`.
    pub exposed_ports: Vec<String>,
    /// `Labels`.
    pub labels: BTreeMap<String, String>,
    /// `Healthcheck.Test`, if any (`["NONE"]` disables an inherited one).
    pub healthcheck: Option<Vec<String>>,
    /// `WorkingDir`.
    pub workdir: Option<String>,
    /// `Volumes` keys.
    pub volumes: Vec<String>,
    /// `StopSignal`.
    pub stop_signal: Option<String>,
}

/// One entry of the config history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The build step (`/bin/sh -c ...`, `#(nop) ENV ...`).
    pub created_by: String,
    /// When the step ran.
    pub created: Option<String>,
    /// Comment, e.g. `Imported from -` or `buildkit.dockerfile.v0`.
    pub comment: Option<String>,
    /// Author, if recorded.
    pub author: Option<String>,
    /// True when the step produced no layer.
    pub empty_layer: bool,
    /// Index of the layer this step produced.
    pub layer: Option<usize>,
}

use std::sync::Arc;

/// Something an inspector found in a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentMatch {
    /// Stable id of the rule that matched.
    pub rule: Arc<str>,
    /// 1-based line of the match.
    pub line: u32,
    /// Byte offset of the match inside the file.
    pub offset: u64,
    /// Length of the matched secret in bytes.
    pub len: u32,
    /// Redacted preview (never the raw value).
    pub redacted: String,
}

/// Compression of a stored layer blob, sniffed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain tar.
    #[default]
    None,
    /// gzip (possibly multi-member).
    Gzip,
    /// zstd.
    Zstd,
}

/// One layer and what it changed.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// Position from the bottom, starting at 0.
    pub index: usize,
    /// `sha256:` digest of the uncompressed layer tar.
    pub diff_id: String,
    /// `sha256:` digest of the stored blob (equals `diff_id` when uncompressed).
    pub blob_digest: String,
    /// Compression of the stored blob.
    pub compression: Compression,
    /// Bytes of the regular files in this layer.
    pub size_bytes: u64,
    /// Bytes of the uncompressed layer tar.
    pub tar_bytes: u64,
    /// Bytes of the stored blob.
    pub blob_bytes: u64,
    /// Tar entries in the layer (whiteouts included).
    pub entries: usize,
    /// Non-directory paths this layer creates.
    pub files_added: usize,
    /// Non-directory paths this layer changes (content or metadata).
    pub files_modified: usize,
    /// Non-directory paths this layer rewrites with identical content and metadata.
    pub files_unchanged: usize,
    /// Non-directory paths this layer removes (whiteouts, opaque dirs, replaced dirs).
    pub files_removed: usize,
    /// Bytes of lower-layer files this layer removed or superseded.
    pub bytes_superseded: u64,
    /// History step that produced this layer.
    pub created_by: String,
    /// Index into [`Image::history`] of that step.
    pub history_index: Option<usize>,
    /// Where the bytes live, to read them again.
    pub location: LayerLocation,
    /// Whiteout and opaque markers as read, in tar order (with [`FileSystem`]'s versions of
    /// the layer, what the overlay was built from).
    pub markers: Vec<fs::Marker>,
    /// Oddities met reading this layer (also in [`Image::warnings`]).
    pub warnings: Vec<String>,
}

/// Makes a string from an image safe to print: control characters (C0, DEL, C1, and the
/// Unicode bidi overrides) are shown as visible escapes and invalid UTF-8 bytes as `\xNN`.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_safe(&mut out, c);
    }
    out
}

/// Like [`sanitize`] for raw bytes that may not be UTF-8.
pub fn sanitize_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_safe(&mut out, c);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

fn push_safe(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (0x80..0xa0).contains(&(c as u32)) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
        c => out.push(c),
    }
}

impl Image {
    /// Total bytes of regular files over all layers.
    pub fn total_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.size_bytes).sum()
    }

    /// History entry that produced `layer`, if known.
    pub fn history_for_layer(&self, layer: usize) -> Option<&HistoryEntry> {
        self.layers
            .get(layer)
            .and_then(|l| l.history_index)
            .and_then(|h| self.history.get(h))
    }

    /// The effective user: `root` when unset.
    pub fn effective_user(&self) -> &str {
        match self.config.user.as_deref() {
            None | Some("") => "root",
            Some(u) => u,
        }
    }
}

/// The OCI label naming an image's base image.
pub const BASE_NAME_LABEL: &str = "org.opencontainers.image.base.name";
/// The OCI label holding the base image's manifest digest.
pub const BASE_DIGEST_LABEL: &str = "org.opencontainers.image.base.digest";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_makes_escapes_visible() {
        assert_eq!(sanitize("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(sanitize("x\u{9b}y"), "x\\u{9b}y");
        assert_eq!(sanitize("l\u{202e}r"), "l\\u{202e}r");
        assert_eq!(sanitize_bytes(b"caf\xe9\x07"), "caf\\xe9\\x07");
        assert_eq!(sanitize("plain text"), "plain text");
    }
}
