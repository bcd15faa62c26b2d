//! The comparison of two analysed images, A (before) and B (after): layers shared or not,
//! the final filesystems path by path, packages by each manager's version order, findings
//! matched by rule and location, the runtime configuration and the size accounting.
//!
//! [`analyse_pair`] reads both through the engine's entry point (a layer both hold is read
//! once), keeping a compact [`Snapshot`] and [`KeptFiles`] of A while B is read;
//! [`compare_snapshots`] (pure) builds the `strata.diff/v1` document (docs/diff-schema.md). Everything that leaves it is sanitised, and
//! secret-looking values of the configuration are redacted by the configured [`Redactor`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::efficiency::Efficiency;
use super::finding::{Finding, Package};
use super::pipeline::{Analysed, Settings};
use crate::model::fs::{EntryKind, FileSystem, PathId};
use crate::model::{path, sanitize, Image};
use crate::redact::{looks_secret_name, mask_value, Redactor};
use crate::source::cache::LayerCache;
use crate::source::{Input, Progress};
use crate::Result;

/// Schema identifier of the diff document.
pub const SCHEMA: &str = "strata.diff/v1";

/// The whole comparison (the `strata.diff/v1` document).
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The image compared from.
    pub a: ImageRef,
    /// The image compared to.
    pub b: ImageRef,
    /// Layers shared by both, and only in one.
    pub layers: Layers,
    /// Changes of the final filesystem.
    pub files: Files,
    /// Packages added, removed, upgraded or downgraded.
    pub packages: Vec<PackageChange>,
    /// Findings new in B, fixed in B, and unchanged.
    pub findings: Findings,
    /// Changed fields of the runtime configuration and platform.
    pub config: Vec<ConfigChange>,
    /// Size accounting of both, with deltas.
    pub size: Size,
}

/// Which image a side is.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRef {
    /// What the user named (archive path, `oci:DIR`, daemon reference).
    pub reference: String,
    /// `sha256:` digest of the config (the image ID).
    pub id: String,
    /// Tags known for the image.
    pub tags: Vec<String>,
    /// `os/architecture[/variant]`.
    pub platform: String,
    /// Number of layers.
    pub layer_count: usize,
}

/// The layers of both images, matched by diff_id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Layers {
    /// Layers in both (same diff_id), in B's order.
    pub shared: Vec<SharedLayer>,
    /// Layers only in A, bottom first.
    pub only_a: Vec<LayerInfo>,
    /// Layers only in B, bottom first.
    pub only_b: Vec<LayerInfo>,
}

/// A layer both images hold.
#[derive(Debug, Clone, Serialize)]
pub struct SharedLayer {
    /// `sha256:` digest of the uncompressed layer tar.
    pub diff_id: String,
    /// Its index in A.
    pub index_a: usize,
    /// Its index in B.
    pub index_b: usize,
    /// Bytes of its regular files.
    pub size_bytes: u64,
    /// The history step that made it in B (redacted, one line).
    pub command: String,
}

/// A layer only one image holds.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// Its index in that image.
    pub index: usize,
    /// `sha256:` digest of the uncompressed layer tar.
    pub diff_id: String,
    /// Bytes of its regular files.
    pub size_bytes: u64,
    /// The history step that made it (redacted, one line).
    pub command: String,
}

/// How a path or package changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only in B.
    Added,
    /// Only in A.
    Removed,
    /// In both, different.
    Modified,
    /// A package in both, newer in B.
    Upgraded,
    /// A package in both, older in B.
    Downgraded,
}

impl Change {
    /// Lower-case name, as in the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Modified => "modified",
            Self::Upgraded => "upgraded",
            Self::Downgraded => "downgraded",
        }
    }
}

/// What differs between two versions of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum What {
    /// The content (hash or size; device numbers for devices).
    Content,
    /// The entry type (file, directory, symlink, …).
    Type,
    /// The permission bits.
    Mode,
    /// The owner uid or gid.
    Owner,
    /// The symlink target.
    Link,
}

impl What {
    /// Lower-case name, as in the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Content => "content",
            Self::Type => "type",
            Self::Mode => "mode",
            Self::Owner => "owner",
            Self::Link => "link",
        }
    }
}

/// Changes of the final filesystem.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Files {
    /// Paths only in B.
    pub added: usize,
    /// Paths only in A.
    pub removed: usize,
    /// Paths in both that differ.
    pub modified: usize,
    /// Bytes of the files B added or changed (their size in B).
    pub bytes_added: u64,
    /// Bytes of the files B removed or changed (their size in A).
    pub bytes_removed: u64,
    /// Every changed path, sorted by path.
    pub entries: Vec<FileChange>,
    /// Every directory holding changed files, with the bytes added and removed beneath it,
    /// sorted by path.
    pub directories: Vec<DirChange>,
}

/// One changed path.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    /// Absolute path, display-safe.
    pub path: String,
    /// `added`, `removed` or `modified`.
    pub change: Change,
    /// For `modified`: what differs.
    pub what: Vec<What>,
    /// Entry type in A (`null` when absent).
    pub kind_a: Option<EntryKind>,
    /// Entry type in B.
    pub kind_b: Option<EntryKind>,
    /// Content bytes in A (`null` when absent; 0 for directories and links).
    pub bytes_a: Option<u64>,
    /// Content bytes in B.
    pub bytes_b: Option<u64>,
    /// Layer of A that last wrote the path (`null` when absent or an implicit directory).
    pub layer_a: Option<usize>,
    /// Layer of B that last wrote the path.
    pub layer_b: Option<usize>,
    /// Permission bits in A, octal (`0755`).
    pub mode_a: Option<String>,
    /// Permission bits in B.
    pub mode_b: Option<String>,
    /// `uid:gid` in A.
    pub owner_a: Option<String>,
    /// `uid:gid` in B.
    pub owner_b: Option<String>,
    /// Symlink target in A.
    pub link_a: Option<String>,
    /// Symlink target in B.
    pub link_b: Option<String>,
}

impl FileChange {
    /// Bytes this change moves: B's size of what it adds or changes plus A's size of what it
    /// removes or changes. The text output leads with the largest.
    pub fn weight(&self) -> u64 {
        let added = match self.change {
            Change::Removed => 0,
            _ => self.bytes_b.unwrap_or(0),
        };
        let removed = match self.change {
            Change::Added => 0,
            _ => self.bytes_a.unwrap_or(0),
        };
        added + removed
    }
}

/// The changes beneath one directory.
#[derive(Debug, Clone, Serialize)]
pub struct DirChange {
    /// Absolute path of the directory.
    pub path: String,
    /// Non-directory paths added, removed or modified beneath it.
    pub files_changed: usize,
    /// Bytes of the files added or modified beneath it (their size in B).
    pub bytes_added: u64,
    /// Bytes of the files removed or modified beneath it (their size in A).
    pub bytes_removed: u64,
}

/// One package change.
#[derive(Debug, Clone, Serialize)]
pub struct PackageChange {
    /// `dpkg`, `apk`, `python`, `npm`.
    pub manager: String,
    /// Package name (as B records it, else as A does).
    pub name: String,
    /// Version in A (`null` when added).
    pub version_a: Option<String>,
    /// Version in B (`null` when removed).
    pub version_b: Option<String>,
    /// `added`, `removed`, `upgraded` or `downgraded`.
    pub change: Change,
    /// Installed bytes in A.
    pub bytes_a: Option<u64>,
    /// Installed bytes in B.
    pub bytes_b: Option<u64>,
}

/// Findings matched by rule and location.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    /// In B, not in A (worst first).
    pub new: Vec<Finding>,
    /// In A, not in B (worst first).
    pub fixed: Vec<Finding>,
    /// In both (B's finding, worst first).
    pub unchanged: Vec<Finding>,
}

/// One changed configuration field.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigChange {
    /// `user`, `env`, `entrypoint`, `cmd`, `workdir`, `exposed_ports`, `volumes`, `labels`,
    /// `healthcheck`, `stop_signal` or `platform`.
    pub field: &'static str,
    /// For `env` and `labels`: the variable or label name.
    pub key: Option<String>,
    /// Value in A (`null` when unset); secret-looking values redacted.
    pub a: Value,
    /// Value in B.
    pub b: Value,
    /// True when a value was redacted (two different secrets may then look alike).
    pub redacted: bool,
}

/// Size accounting of both images.
#[derive(Debug, Clone, Serialize)]
pub struct Size {
    /// A's sizes.
    pub a: SizeOf,
    /// B's sizes.
    pub b: SizeOf,
    /// B minus A.
    pub delta: SizeDelta,
    /// `delta.total_bytes / a.total_bytes * 100` (0 when A is empty).
    pub growth_percent: f64,
}

impl Size {
    /// The rows every rendering shows: (name, A's bytes, B's bytes, B minus A) for total,
    /// visible and reclaimable bytes.
    pub fn rows(&self) -> [(&'static str, u64, u64, i64); 3] {
        [
            (
                "Size",
                self.a.total_bytes,
                self.b.total_bytes,
                self.delta.total_bytes,
            ),
            (
                "Visible",
                self.a.visible_bytes,
                self.b.visible_bytes,
                self.delta.visible_bytes,
            ),
            (
                "Reclaimable",
                self.a.reclaimable_bytes,
                self.b.reclaimable_bytes,
                self.delta.reclaimable_bytes,
            ),
        ]
    }
}

/// One image's sizes.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SizeOf {
    /// Bytes of regular files over all layers.
    pub total_bytes: u64,
    /// Bytes visible in the final filesystem.
    pub visible_bytes: u64,
    /// `total_bytes - visible_bytes`.
    pub reclaimable_bytes: u64,
}

/// Signed differences, B minus A.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SizeDelta {
    /// Of `total_bytes`.
    pub total_bytes: i64,
    /// Of `visible_bytes`.
    pub visible_bytes: i64,
    /// Of `reclaimable_bytes`.
    pub reclaimable_bytes: i64,
}

impl Diff {
    /// True when the images are the same in everything the comparison looks at (findings
    /// aside, which may be unchanged).
    pub fn is_empty(&self) -> bool {
        self.layers.only_a.is_empty()
            && self.layers.only_b.is_empty()
            && self.files.entries.is_empty()
            && self.packages.is_empty()
            && self.findings.new.is_empty()
            && self.findings.fixed.is_empty()
            && self.config.is_empty()
    }
}

/// What the comparison keeps of one analysed image besides its files: its identity, layers,
/// configuration, sizes, findings and packages.
#[derive(Debug, Clone)]
pub struct Snapshot {
    image: ImageRef,
    platform: String,
    /// `(diff_id, size_bytes, redacted command)` per layer, bottom first.
    layers: Vec<(String, u64, String)>,
    config: crate::model::ImageConfig,
    size: SizeOf,
    /// Findings with their location key.
    findings: Vec<(Finding, String)>,
    packages: Vec<Package>,
}

impl Snapshot {
    /// Takes what the comparison needs from an analysed image (history commands redacted by
    /// its redactor).
    pub fn of(analysed: &Analysed) -> Self {
        let i = analysed.image.as_ref();
        let redactor = &analysed.redactor;
        Self {
            image: image_ref(i),
            platform: platform(i),
            layers: i
                .layers
                .iter()
                .map(|l| {
                    (
                        l.diff_id.clone(),
                        l.size_bytes,
                        command(i, l.index, redactor),
                    )
                })
                .collect(),
            config: i.config.clone(),
            size: of(&analysed.efficiency),
            findings: analysed
                .findings
                .iter()
                .map(|f| (f.clone(), location(f, i)))
                .collect(),
            packages: analysed.packages.clone(),
        }
    }
}

/// A final filesystem as the comparison walks it: paths (root excluded) in path-byte order,
/// each with what the comparison looks at.
pub trait FinalFiles {
    /// Number of paths.
    fn len(&self) -> usize;
    /// True when there is no path.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The `i`th path (no leading `/`).
    fn path(&self, i: usize) -> &[u8];
    /// What the comparison sees of the `i`th path.
    fn at(&self, i: usize) -> Final;
}

/// A final filesystem kept after its model is dropped: all paths in one buffer, one
/// [`Final`] each (about 130 bytes a path).
#[derive(Debug, Clone, Default)]
pub struct KeptFiles {
    paths: Vec<u8>,
    ends: Vec<u32>,
    finals: Vec<Final>,
}

impl KeptFiles {
    /// Copies what the comparison needs of `fs`'s final filesystem.
    pub fn of(fs: &FileSystem) -> Self {
        let live = LiveFiles::of(fs);
        let mut kept = Self {
            paths: Vec::new(),
            ends: Vec::with_capacity(live.len()),
            finals: Vec::with_capacity(live.len()),
        };
        for i in 0..live.len() {
            kept.paths.extend_from_slice(live.path(i));
            kept.ends
                .push(u32::try_from(kept.paths.len()).unwrap_or(u32::MAX));
            kept.finals.push(live.at(i));
        }
        kept.paths.shrink_to_fit();
        kept
    }
}

impl FinalFiles for KeptFiles {
    fn len(&self) -> usize {
        self.finals.len()
    }
    fn path(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.paths[start..self.ends[i] as usize]
    }
    fn at(&self, i: usize) -> Final {
        self.finals[i].clone()
    }
}

/// The final filesystem of a model still in memory: just the sorted path ids (4 bytes a
/// path), each [`Final`] read from the model when asked.
#[derive(Debug)]
pub struct LiveFiles<'a> {
    fs: &'a FileSystem,
    ids: Vec<PathId>,
}

impl<'a> LiveFiles<'a> {
    /// The paths of `fs`'s final filesystem, sorted by path bytes.
    pub fn of(fs: &'a FileSystem) -> Self {
        let mut ids: Vec<PathId> = (1..fs.path_count() as PathId)
            .filter(|&id| fs.exists_in_final(id))
            .collect();
        ids.sort_unstable_by(|&x, &y| fs.path(x).cmp(fs.path(y)));
        Self { fs, ids }
    }
}

impl FinalFiles for LiveFiles<'_> {
    fn len(&self) -> usize {
        self.ids.len()
    }
    fn path(&self, i: usize) -> &[u8] {
        self.fs.path(self.ids[i])
    }
    fn at(&self, i: usize) -> Final {
        final_of(self.fs, self.ids[i])
    }
}

/// Compares A with B; configuration values go through A's redactor (both sides are read with
/// the same settings).
pub fn compare(a: &Analysed, b: &Analysed) -> Diff {
    compare_snapshots(
        (&Snapshot::of(a), &LiveFiles::of(&a.image.fs)),
        (&Snapshot::of(b), &LiveFiles::of(&b.image.fs)),
        &a.redactor,
    )
}

/// Compares two snapshots and their final filesystems; `redactor` masks configuration values.
pub fn compare_snapshots(
    (a, fa): (&Snapshot, &dyn FinalFiles),
    (b, fb): (&Snapshot, &dyn FinalFiles),
    redactor: &Redactor,
) -> Diff {
    Diff {
        schema: SCHEMA,
        a: a.image.clone(),
        b: b.image.clone(),
        layers: layers(a, b),
        files: files(fa, fb),
        packages: packages(&a.packages, &b.packages),
        findings: findings(a, b),
        config: config(a, b, redactor),
        size: size(a.size, b.size),
    }
}

/// The comparison of two inputs, and how they were read.
#[derive(Debug)]
pub struct Pair {
    /// The comparison of A with B.
    pub diff: Diff,
    /// A and B named the same input (read once; the diff is empty).
    pub same_input: bool,
    /// Layers of B taken from A's reading instead of read again.
    pub layers_read_once: usize,
}

/// Reads and analyses A through the engine's entry point ([`super::pipeline::analyse`]), keeps
/// its [`Snapshot`] and [`KeptFiles`] and drops the model, then does the same with B and
/// compares the two: memory holds one model at a time, and the comparison's output is built
/// after both models are gone. A layer B holds that A already read (same diff_id and
/// blob) is not read again, when B is an uncompressed archive or a layout directory (its
/// layer list is known before reading). The same input named twice is read once.
pub fn analyse_pair(
    a: &Input,
    b: &Input,
    settings: &Settings,
    progress: &Progress,
) -> Result<Pair> {
    if a == b {
        let x = super::pipeline::analyse(a, settings, progress)?;
        let (snapshot, files) = (Snapshot::of(&x), LiveFiles::of(&x.image.fs));
        return Ok(Pair {
            diff: compare_snapshots((&snapshot, &files), (&snapshot, &files), &x.redactor),
            same_input: true,
            layers_read_once: 0,
        });
    }
    let cache = LayerCache::for_later_load(b, &settings.load).map(Arc::new);
    let mut settings = settings.clone();
    settings.load.layer_cache.clone_from(&cache);
    let (sa, fa) = {
        let x = super::pipeline::analyse(a, &settings, progress)?;
        (Snapshot::of(&x), KeptFiles::of(&x.image.fs))
    };
    // B is kept the same way and its model dropped before comparing: the comparison's own
    // output (every changed path) never sits in memory next to a model.
    let (sb, fb, redactor) = {
        let y = super::pipeline::analyse(b, &settings, progress)?;
        (
            Snapshot::of(&y),
            KeptFiles::of(&y.image.fs),
            y.redactor.clone(),
        )
    };
    let diff = compare_snapshots((&sa, &fa), (&sb, &fb), &redactor);
    Ok(Pair {
        diff,
        same_input: false,
        layers_read_once: cache.map_or(0, |c| c.reused()),
    })
}

fn platform(i: &Image) -> String {
    let mut p = format!("{}/{}", sanitize(&i.os), sanitize(&i.architecture));
    if let Some(v) = &i.variant {
        p.push('/');
        p.push_str(&sanitize(v));
    }
    p
}

fn image_ref(i: &Image) -> ImageRef {
    ImageRef {
        reference: sanitize(&i.reference),
        id: sanitize(&i.id),
        tags: i.repo_tags.iter().map(|t| sanitize(t)).collect(),
        platform: platform(i),
        layer_count: i.layers.len(),
    }
}

fn command(i: &Image, layer: usize, redactor: &Redactor) -> String {
    let raw = i.layers.get(layer).map_or("", |l| l.created_by.as_str());
    crate::text::one_line(&redactor.command(raw), 200)
}

fn layers(a: &Snapshot, b: &Snapshot) -> Layers {
    // diff_id -> A's indexes not yet matched (a layer may repeat).
    let mut in_a: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, l) in a.layers.iter().enumerate().rev() {
        in_a.entry(l.0.as_str()).or_default().push(i);
    }
    let mut out = Layers::default();
    for (ib, (diff_id, size_bytes, command)) in b.layers.iter().enumerate() {
        match in_a.get_mut(diff_id.as_str()).and_then(Vec::pop) {
            Some(ia) => out.shared.push(SharedLayer {
                diff_id: diff_id.clone(),
                index_a: ia,
                index_b: ib,
                size_bytes: *size_bytes,
                command: command.clone(),
            }),
            None => out.only_b.push(LayerInfo {
                index: ib,
                diff_id: diff_id.clone(),
                size_bytes: *size_bytes,
                command: command.clone(),
            }),
        }
    }
    let mut left: Vec<usize> = in_a.into_values().flatten().collect();
    left.sort_unstable();
    out.only_a = left
        .into_iter()
        .map(|i| LayerInfo {
            index: i,
            diff_id: a.layers[i].0.clone(),
            size_bytes: a.layers[i].1,
            command: a.layers[i].2.clone(),
        })
        .collect();
    out
}

/// One path of a final filesystem, as the comparison sees it.
#[derive(Debug, Clone)]
pub struct Final {
    /// `None`: a directory implied by its children (no entry of its own).
    kind: Option<EntryKind>,
    bytes: u64,
    hash: u64,
    mode: u32,
    uid: u64,
    gid: u64,
    link: Option<Box<[u8]>>,
    device: Option<(u32, u32)>,
    layer: Option<usize>,
}

impl Final {
    fn is_dir(&self) -> bool {
        matches!(self.kind, None | Some(EntryKind::Dir))
    }

    /// Regular files and hard links are the same type in a final filesystem.
    fn type_class(&self) -> Option<EntryKind> {
        match self.kind {
            None => Some(EntryKind::Dir),
            Some(EntryKind::HardLink) => Some(EntryKind::File),
            k => k,
        }
    }
}

fn final_of(fs: &FileSystem, id: PathId) -> Final {
    match fs.final_version(id) {
        None => Final {
            kind: None,
            bytes: 0,
            hash: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            link: None,
            device: None,
            layer: None,
        },
        Some(v) => {
            let ver = &fs.versions[v as usize];
            let bytes = match (ver.kind, ver.link_version) {
                (EntryKind::File, _) => ver.size,
                (EntryKind::HardLink, Some(t)) => fs.versions[t as usize].size,
                _ => 0,
            };
            Final {
                kind: Some(ver.kind),
                bytes,
                hash: ver.hash,
                mode: ver.mode,
                uid: ver.uid,
                gid: ver.gid,
                link: match ver.kind {
                    EntryKind::Symlink => ver.link.clone(),
                    _ => None,
                },
                device: ver.device,
                layer: Some(ver.layer as usize),
            }
        }
    }
}

/// What differs between two versions of a path (empty: nothing the comparison looks at).
fn what_changed(a: &Final, b: &Final) -> Vec<What> {
    let mut what = Vec::new();
    if a.type_class() != b.type_class() {
        what.push(What::Type);
    } else if a.type_class() == Some(EntryKind::File) && (a.hash != b.hash || a.bytes != b.bytes)
        || a.device != b.device
    {
        what.push(What::Content);
    }
    if a.kind.is_some() && b.kind.is_some() {
        if a.mode != b.mode {
            what.push(What::Mode);
        }
        if (a.uid, a.gid) != (b.uid, b.gid) {
            what.push(What::Owner);
        }
    }
    if a.link.is_some() && b.link.is_some() && a.link != b.link {
        what.push(What::Link);
    }
    what
}

fn entry(
    p: &[u8],
    change: Change,
    what: Vec<What>,
    a: Option<&Final>,
    b: Option<&Final>,
) -> FileChange {
    let mode = |f: Option<&Final>| {
        f.filter(|f| f.kind.is_some())
            .map(|f| format!("{:04o}", f.mode))
    };
    let owner = |f: Option<&Final>| {
        f.filter(|f| f.kind.is_some())
            .map(|f| format!("{}:{}", f.uid, f.gid))
    };
    let link = |f: Option<&Final>| {
        f.and_then(|f| f.link.as_deref())
            .map(crate::model::sanitize_bytes)
    };
    FileChange {
        path: path::display(p),
        change,
        what,
        kind_a: a.map(|f| f.kind.unwrap_or(EntryKind::Dir)),
        kind_b: b.map(|f| f.kind.unwrap_or(EntryKind::Dir)),
        bytes_a: a.map(|f| f.bytes),
        bytes_b: b.map(|f| f.bytes),
        layer_a: a.and_then(|f| f.layer),
        layer_b: b.and_then(|f| f.layer),
        mode_a: mode(a),
        mode_b: mode(b),
        owner_a: owner(a),
        owner_b: owner(b),
        link_a: link(a),
        link_b: link(b),
    }
}

/// Compares the final filesystems path by path (both sorted by path bytes).
fn files(a: &dyn FinalFiles, b: &dyn FinalFiles) -> Files {
    // (path, change, is a directory)
    let mut changes: Vec<(Vec<u8>, FileChange, bool)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (i < a.len(), j < b.len()) {
            (true, true) => a.path(i).cmp(b.path(j)),
            (true, false) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                let (p, fa) = (a.path(i), a.at(i));
                let c = entry(p, Change::Removed, Vec::new(), Some(&fa), None);
                changes.push((p.to_vec(), c, fa.is_dir()));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let (p, fb) = (b.path(j), b.at(j));
                let c = entry(p, Change::Added, Vec::new(), None, Some(&fb));
                changes.push((p.to_vec(), c, fb.is_dir()));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (p, fa, fb) = (a.path(i), a.at(i), b.at(j));
                let what = what_changed(&fa, &fb);
                if !what.is_empty() {
                    let dir = fa.is_dir() && fb.is_dir();
                    let c = entry(p, Change::Modified, what, Some(&fa), Some(&fb));
                    changes.push((p.to_vec(), c, dir));
                }
                i += 1;
                j += 1;
            }
        }
    }

    let mut out = Files::default();
    // Directory path -> (files changed, bytes added, bytes removed).
    let mut dirs: HashMap<Vec<u8>, (usize, u64, u64)> = HashMap::new();
    for (p, c, is_dir) in &changes {
        match c.change {
            Change::Added => out.added += 1,
            Change::Removed => out.removed += 1,
            _ => out.modified += 1,
        }
        if *is_dir {
            continue;
        }
        let added = if c.change == Change::Removed {
            0
        } else {
            c.bytes_b.unwrap_or(0)
        };
        let removed = if c.change == Change::Added {
            0
        } else {
            c.bytes_a.unwrap_or(0)
        };
        out.bytes_added += added;
        out.bytes_removed += removed;
        let mut dir: &[u8] = p;
        loop {
            dir = path::split_parent(dir).0;
            let d = dirs.entry(dir.to_vec()).or_default();
            d.0 += 1;
            d.1 += added;
            d.2 += removed;
            if dir.is_empty() {
                break;
            }
        }
    }
    let sorted: BTreeMap<Vec<u8>, (usize, u64, u64)> = dirs.into_iter().collect();
    out.directories = sorted
        .into_iter()
        .map(|(p, (n, add, rem))| DirChange {
            path: path::display(&p),
            files_changed: n,
            bytes_added: add,
            bytes_removed: rem,
        })
        .collect();
    out.entries = changes.into_iter().map(|(_, c, _)| c).collect();
    out
}

/// The name under which a manager's packages are the same package (PEP 503 for Python).
fn package_key(p: &Package) -> (String, String) {
    let name = if p.manager == "python" {
        let mut n = String::with_capacity(p.name.len());
        let mut sep = false;
        for c in p.name.chars() {
            if matches!(c, '-' | '_' | '.') {
                sep = true;
            } else {
                if sep && !n.is_empty() {
                    n.push('-');
                }
                sep = false;
                n.extend(c.to_lowercase());
            }
        }
        n
    } else {
        p.name.clone()
    };
    (p.manager.clone(), name)
}

fn package_change(a: Option<&Package>, b: Option<&Package>, change: Change) -> PackageChange {
    let any = b
        .or(a)
        .map_or_else(Default::default, |p| (p.manager.clone(), p.name.clone()));
    PackageChange {
        manager: any.0,
        name: any.1,
        version_a: a.map(|p| p.version.clone()),
        version_b: b.map(|p| p.version.clone()),
        change,
        bytes_a: a.map(|p| p.size_bytes),
        bytes_b: b.map(|p| p.size_bytes),
    }
}

/// Packages by manager and name: versions in both are unchanged; one version left on each side
/// is an upgrade or a downgrade by the manager's order; several are paired in version order
/// when the counts agree, else listed as removed and added.
fn packages(a: &[Package], b: &[Package]) -> Vec<PackageChange> {
    type Both<'p> = (Vec<&'p Package>, Vec<&'p Package>);
    let mut by_key: BTreeMap<(String, String), Both> = BTreeMap::new();
    for p in a {
        by_key.entry(package_key(p)).or_default().0.push(p);
    }
    for p in b {
        by_key.entry(package_key(p)).or_default().1.push(p);
    }
    let mut out = Vec::new();
    for ((manager, _), (mut va, mut vb)) in by_key {
        va.retain(
            |pa| match vb.iter().position(|pb| pb.version == pa.version) {
                Some(i) => {
                    vb.remove(i);
                    false
                }
                None => true,
            },
        );
        let order =
            |x: &&Package, y: &&Package| super::version::compare(&manager, &x.version, &y.version);
        va.sort_by(order);
        vb.sort_by(order);
        if va.len() == vb.len() {
            for (pa, pb) in va.into_iter().zip(vb) {
                let change = match super::version::compare(&manager, &pa.version, &pb.version) {
                    std::cmp::Ordering::Less => Change::Upgraded,
                    std::cmp::Ordering::Greater => Change::Downgraded,
                    // Equal under the manager's rules (`1.0` and `1.0.0` in PEP 440).
                    std::cmp::Ordering::Equal => continue,
                };
                out.push(package_change(Some(pa), Some(pb), change));
            }
        } else {
            out.extend(
                va.into_iter()
                    .map(|p| package_change(Some(p), None, Change::Removed)),
            );
            out.extend(
                vb.into_iter()
                    .map(|p| package_change(None, Some(p), Change::Added)),
            );
        }
    }
    out
}

/// Where a finding is, for matching across images: its path when it has one; otherwise the
/// layer (by diff_id, so a layer that is gone no longer matches) and the name its evidence
/// gives (`ENV DB_PASSWORD`, a build argument). Never the message text.
fn location(f: &Finding, image: &Image) -> String {
    if let Some(p) = &f.path {
        return p.clone();
    }
    let layer = f
        .layer
        .and_then(|l| image.layers.get(l))
        .map_or("", |l| l.diff_id.as_str());
    let name = f
        .evidence
        .as_deref()
        .map_or("", |e| e.split('=').next().unwrap_or(e));
    format!("{layer} {name}")
}

fn findings(a: &Snapshot, b: &Snapshot) -> Findings {
    let mut in_a: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, (f, loc)) in a.findings.iter().enumerate().rev() {
        in_a.entry((f.rule.as_str(), loc.as_str()))
            .or_default()
            .push(i);
    }
    let mut out = Findings::default();
    for (f, loc) in &b.findings {
        match in_a
            .get_mut(&(f.rule.as_str(), loc.as_str()))
            .and_then(Vec::pop)
        {
            Some(_) => out.unchanged.push(f.clone()),
            None => out.new.push(f.clone()),
        }
    }
    let mut fixed: Vec<usize> = in_a.into_values().flatten().collect();
    fixed.sort_unstable();
    out.fixed = fixed.into_iter().map(|i| a.findings[i].0.clone()).collect();
    out
}

fn strings(v: &[String]) -> Value {
    Value::from(v.iter().map(|s| sanitize(s)).collect::<Vec<_>>())
}

fn opt_strings(v: Option<&Vec<String>>) -> Value {
    v.map_or(Value::Null, |v| strings(v))
}

fn opt_string(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::from(sanitize(s)))
}

/// A configuration value as shown: secret-looking names masked, rule matches redacted.
fn shown(redactor: &Redactor, name: &str, value: &str) -> (String, bool) {
    if looks_secret_name(name) && !value.is_empty() {
        (mask_value(value), true)
    } else {
        let r = redactor.command(value);
        let redacted = r != value;
        (sanitize(&r), redacted)
    }
}

fn keyed_changes(
    field: &'static str,
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    redactor: &Redactor,
    out: &mut Vec<ConfigChange>,
) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (va, vb) = (a.get(k), b.get(k));
        if va == vb {
            continue;
        }
        let show = |v: Option<&String>| v.map(|v| shown(redactor, k, v));
        let (sa, sb) = (show(va), show(vb));
        let redacted = sa.as_ref().is_some_and(|s| s.1) || sb.as_ref().is_some_and(|s| s.1);
        out.push(ConfigChange {
            field,
            key: Some(sanitize(k)),
            a: sa.map_or(Value::Null, |s| Value::from(s.0)),
            b: sb.map_or(Value::Null, |s| Value::from(s.0)),
            redacted,
        });
    }
}

fn env_map(env: &[String]) -> BTreeMap<String, String> {
    env.iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (e.clone(), String::new()),
        })
        .collect()
}

fn config(a: &Snapshot, b: &Snapshot, redactor: &Redactor) -> Vec<ConfigChange> {
    let (ca, cb) = (&a.config, &b.config);
    let mut out = Vec::new();
    let mut plain = |field: &'static str, va: Value, vb: Value| {
        if va != vb {
            out.push(ConfigChange {
                field,
                key: None,
                a: va,
                b: vb,
                redacted: false,
            });
        }
    };
    let user = |u: &Option<String>| opt_string(u.as_deref().filter(|u| !u.is_empty()));
    plain("user", user(&ca.user), user(&cb.user));
    plain(
        "entrypoint",
        opt_strings(ca.entrypoint.as_ref()),
        opt_strings(cb.entrypoint.as_ref()),
    );
    plain(
        "cmd",
        opt_strings(ca.cmd.as_ref()),
        opt_strings(cb.cmd.as_ref()),
    );
    plain(
        "workdir",
        opt_string(ca.workdir.as_deref()),
        opt_string(cb.workdir.as_deref()),
    );
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        strings(&v)
    };
    plain(
        "exposed_ports",
        sorted(&ca.exposed_ports),
        sorted(&cb.exposed_ports),
    );
    plain("volumes", sorted(&ca.volumes), sorted(&cb.volumes));
    plain(
        "healthcheck",
        opt_strings(ca.healthcheck.as_ref()),
        opt_strings(cb.healthcheck.as_ref()),
    );
    plain(
        "stop_signal",
        opt_string(ca.stop_signal.as_deref()),
        opt_string(cb.stop_signal.as_deref()),
    );
    plain(
        "platform",
        Value::from(a.platform.clone()),
        Value::from(b.platform.clone()),
    );
    keyed_changes(
        "env",
        &env_map(&ca.env),
        &env_map(&cb.env),
        redactor,
        &mut out,
    );
    keyed_changes("labels", &ca.labels, &cb.labels, redactor, &mut out);
    out
}

fn of(e: &Efficiency) -> SizeOf {
    SizeOf {
        total_bytes: e.total_bytes,
        visible_bytes: e.visible_bytes,
        reclaimable_bytes: e.reclaimable_bytes,
    }
}

fn delta(a: u64, b: u64) -> i64 {
    i64::try_from(b).unwrap_or(i64::MAX) - i64::try_from(a).unwrap_or(i64::MAX)
}

fn size(sa: SizeOf, sb: SizeOf) -> Size {
    let d = SizeDelta {
        total_bytes: delta(sa.total_bytes, sb.total_bytes),
        visible_bytes: delta(sa.visible_bytes, sb.visible_bytes),
        reclaimable_bytes: delta(sa.reclaimable_bytes, sb.reclaimable_bytes),
    };
    let growth_percent = if sa.total_bytes == 0 {
        0.0
    } else {
        d.total_bytes as f64 * 100.0 / sa.total_bytes as f64
    };
    Size {
        a: sa,
        b: sb,
        delta: d,
        growth_percent,
    }
}
