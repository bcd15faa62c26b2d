//! The documents an image is made of, as its source read them: the index (when there is one),
//! the manifest of the chosen platform, Docker's `manifest.json` listing, and the config. Each
//! keeps its raw bytes (the anatomy view shows them) and the descriptors it holds, so the
//! chain from the top document down to the layers can be followed field by field.

use std::sync::Arc;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// An OCI image index or Docker manifest list: one entry per platform (and attestation).
    Index,
    /// An image manifest: one config and the list of layer blobs.
    Manifest,
    /// Docker's `manifest.json` in a `docker save` archive: the config and layer files by
    /// name, no digests of its own.
    ArchiveManifest,
    /// The image config: runtime settings, history and the layers' `diff_id`s.
    Config,
}

impl DocumentKind {
    /// A short name for the kind (`index`, `manifest`, `manifest.json`, `config`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Index => "index",
            Self::Manifest => "manifest",
            Self::ArchiveManifest => "manifest.json",
            Self::Config => "config",
        }
    }
}

/// What a descriptor points at, seen from the image that was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The chain continues here: the next document shown.
    Followed,
    /// A manifest for another platform (not read further).
    OtherPlatform,
    /// An attestation manifest (SBOM, provenance), attached to the manifest with this digest.
    Attestation(Option<String>),
    /// Something that is not a runnable image (a signature, a Helm chart, another artifact).
    Artifact,
    /// The config blob.
    Config,
    /// Layer N (bottom first).
    Layer(usize),
}

/// One reference inside a document to another blob or document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The field holding it (`manifests[1]`, `config`, `layers[0]`, `Layers[2]`,
    /// `rootfs.diff_ids[3]`).
    pub field: String,
    /// `mediaType`, when the descriptor has one.
    pub media_type: Option<String>,
    /// What it names: a digest (`sha256:…`), or a file name inside the archive.
    pub target: String,
    /// `size` in bytes, when the descriptor has one.
    pub size: Option<u64>,
    /// `platform` as `os/arch[/variant]`, when the descriptor has one.
    pub platform: Option<String>,
    /// What it is to the opened image.
    pub role: Role,
}

/// One document, as read.
#[derive(Debug, Clone)]
pub struct Document {
    /// What it is.
    pub kind: DocumentKind,
    /// Where it was read: `index.json`, `manifest.json`, `blobs/sha256/…`, a registry path.
    pub name: String,
    /// Its `mediaType` (from itself, else from the descriptor that pointed at it).
    pub media_type: Option<String>,
    /// `sha256:` of its raw bytes, when it is stored by digest (`index.json` and
    /// `manifest.json` are named by file, not by digest).
    pub digest: Option<String>,
    /// The bytes exactly as stored.
    pub raw: Arc<[u8]>,
    /// The descriptors it holds, in document order.
    pub refs: Vec<Descriptor>,
}

impl Document {
    /// Size of the raw document in bytes.
    pub fn size(&self) -> u64 {
        self.raw.len() as u64
    }
}

/// The documents of an image, top first (index, manifest, `manifest.json`, config), and what
/// the source could not provide.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    /// The chain, top first; the config is last when it was read.
    pub chain: Vec<Document>,
    /// What does not exist for this source and why (e.g. the daemon keeps no registry
    /// manifest).
    pub notes: Vec<String>,
}

impl Documents {
    /// The config document, if read.
    pub fn config(&self) -> Option<&Document> {
        self.chain.iter().find(|d| d.kind == DocumentKind::Config)
    }
}
