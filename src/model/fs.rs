//! The overlay: every version of every path in every layer, which layer superseded or deleted
//! each one, and the filesystem visible at any layer.
//!
//! Semantics follow the OCI layer spec: `.wh.NAME` deletes `NAME` and its subtree from lower
//! layers; `.wh..wh..opq` hides every lower child of its directory but not the same layer's;
//! a non-directory replacing a directory hides the lower subtree. Whiteouts and opaque markers of
//! a layer are applied before its additions, whatever their order in the tar.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::path::split_parent;

/// Index of a path in the [`FileSystem`] path table (0 is the root).
pub type PathId = u32;
/// Index of a [`Version`] in [`FileSystem::versions`].
pub type VersionId = u32;

const NONE: u32 = u32::MAX;
const IMPLICIT: u32 = u32::MAX - 1;

/// Type of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Hard link to another path.
    HardLink,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Named pipe.
    Fifo,
}

impl EntryKind {
    /// One-letter type used in `ls -l` style listings.
    pub fn letter(self) -> char {
        match self {
            Self::File | Self::HardLink => '-',
            Self::Dir => 'd',
            Self::Symlink => 'l',
            Self::CharDevice => 'c',
            Self::BlockDevice => 'b',
            Self::Fifo => 'p',
        }
    }
}

/// One filesystem entry read from a layer tar (whiteouts and opaque markers excluded).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Normalised path (no leading `/`).
    pub path: Box<[u8]>,
    /// Entry type.
    pub kind: EntryKind,
    /// Symlink target (verbatim) or hard-link target (normalised).
    pub link: Option<Box<[u8]>>,
    /// Content size (tar header size; 0 for links and directories).
    pub size: u64,
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u64,
    /// Owner gid.
    pub gid: u64,
    /// Modification time (seconds since the epoch).
    pub mtime: i64,
    /// xxh3-64 of the content (0 for non-files).
    pub hash: u64,
    /// Offset of the content inside the uncompressed layer tar.
    pub offset: u64,
    /// Device numbers for character and block devices.
    pub device: Option<(u32, u32)>,
    /// Raw `security.capability` xattr, if present.
    pub caps: Option<Box<[u8]>>,
}

/// A whiteout or opaque marker read from a layer tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// `.wh.NAME`: the normalised path it deletes.
    Whiteout(Box<[u8]>),
    /// `.wh..wh..opq`: the normalised directory whose lower children it hides.
    Opaque(Box<[u8]>),
}

/// What one layer tar contains, as input to the overlay.
#[derive(Debug, Clone, Default)]
pub struct LayerEntries {
    /// Entries in tar order.
    pub entries: Vec<Entry>,
    /// Whiteouts and opaque markers in tar order.
    pub markers: Vec<Marker>,
}

/// How a version compares with what was at its path just below its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The path did not exist below.
    Added,
    /// The content (or type or link target) changed.
    Modified,
    /// Only metadata changed (mode, owner): the whole file was copied anyway.
    MetadataChanged,
    /// Identical type, content and metadata: a needless copy.
    Unchanged,
}

/// Why a version stopped being visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalCause {
    /// A later layer wrote the same path again.
    Overwritten,
    /// A whiteout deleted the path.
    Deleted,
    /// A whiteout deleted an ancestor directory.
    ParentDeleted,
    /// An opaque marker on an ancestor hid it.
    OpaqueDir,
    /// An ancestor directory was replaced by a non-directory.
    ParentReplaced,
}

/// One version of a path, as written by one layer.
#[derive(Debug, Clone)]
pub struct Version {
    /// The path.
    pub path: PathId,
    /// Layer that wrote it.
    pub layer: u32,
    /// Position of the entry in its layer's entry list.
    pub entry: u32,
    /// Entry type.
    pub kind: EntryKind,
    /// Content bytes (tar size).
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u64,
    /// Owner gid.
    pub gid: u64,
    /// Modification time.
    pub mtime: i64,
    /// Content hash (for hard links: the target's).
    pub hash: u64,
    /// Content offset in the uncompressed layer tar.
    pub offset: u64,
    /// Link target.
    pub link: Option<Box<[u8]>>,
    /// Device numbers.
    pub device: Option<(u32, u32)>,
    /// Raw `security.capability` xattr.
    pub caps: Option<Box<[u8]>>,
    /// Compared with the version below.
    pub status: Status,
    /// Layer that removed or superseded it, if any.
    pub removed_in: Option<u32>,
    /// Why it was removed.
    pub removal: Option<RemovalCause>,
    /// For a hard link: the version holding the content.
    pub link_version: Option<VersionId>,
    /// The content stays visible through a hard link although this path is gone.
    pub kept_by_link: bool,
}

impl Version {
    /// True when the version's bytes are visible in the final image.
    pub fn is_visible(&self) -> bool {
        self.removed_in.is_none() || self.kept_by_link
    }
}

/// A path a layer removed, for display as a deleted node.
#[derive(Debug, Clone)]
pub struct Removal {
    /// Removing layer.
    pub layer: u32,
    /// The version that disappeared.
    pub version: VersionId,
    /// Why.
    pub cause: RemovalCause,
}

/// Per-layer counts computed by the overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Bytes of regular files in the layer.
    pub size_bytes: u64,
    /// Non-directory entries that are new paths.
    pub added: usize,
    /// Non-directory entries whose content changed.
    pub modified: usize,
    /// Non-directory entries whose metadata only changed.
    pub metadata_changed: usize,
    /// Non-directory entries rewritten identically.
    pub unchanged: usize,
    /// Non-directory paths removed and not re-created in the layer.
    pub removed: usize,
    /// Bytes of lower versions this layer removed or superseded.
    pub bytes_superseded: u64,
    /// Whiteouts that matched nothing below (harmless, reported).
    pub dangling_whiteouts: usize,
}

/// Every path and version of an image and how they overlay.
#[derive(Debug, Clone, Default)]
pub struct FileSystem {
    paths: Vec<Arc<[u8]>>,
    parents: Vec<PathId>,
    children: Vec<Vec<PathId>>,
    index: HashMap<Arc<[u8]>, PathId>,
    /// All versions, grouped by layer in entry order.
    pub versions: Vec<Version>,
    layer_starts: Vec<u32>,
    by_path_start: Vec<u32>,
    by_path: Vec<VersionId>,
    final_live: Vec<u32>,
    /// Removals, grouped by layer.
    pub removals: Vec<Removal>,
    /// Per-layer statistics.
    pub stats: Vec<LayerStats>,
}

impl FileSystem {
    /// Builds the overlay of `layers`, bottom first.
    pub fn build(layers: Vec<LayerEntries>) -> Self {
        let mut fs = Self {
            paths: vec![Arc::from(&b""[..])],
            parents: vec![0],
            children: vec![Vec::new()],
            ..Self::default()
        };
        fs.index.insert(fs.paths[0].clone(), 0);
        let mut live: Vec<u32> = vec![IMPLICIT];
        for (k, layer) in layers.into_iter().enumerate() {
            let k = k as u32;
            fs.layer_starts.push(fs.versions.len() as u32);
            let stats = fs.apply_layer(k, layer, &mut live);
            fs.stats.push(stats);
        }
        fs.layer_starts.push(fs.versions.len() as u32);
        fs.mark_kept_by_link(&live);
        fs.final_live = live;
        fs.index_by_path();
        fs
    }

    fn intern(&mut self, path: &[u8], live: &mut Vec<u32>) -> PathId {
        if let Some(&id) = self.index.get(path) {
            return id;
        }
        let (parent, _) = split_parent(path);
        let parent_id = self.intern(parent, live);
        let id = self.paths.len() as PathId;
        let arc: Arc<[u8]> = Arc::from(path);
        self.paths.push(arc.clone());
        self.parents.push(parent_id);
        self.children.push(Vec::new());
        self.children[parent_id as usize].push(id);
        self.index.insert(arc, id);
        live.push(NONE);
        id
    }

    fn apply_layer(&mut self, k: u32, layer: LayerEntries, live: &mut Vec<u32>) -> LayerStats {
        let mut stats = LayerStats::default();
        // Versions removed by this layer: path -> (version, cause).
        let mut removed_here: Vec<(PathId, VersionId, RemovalCause)> = Vec::new();
        for marker in &layer.markers {
            match marker {
                Marker::Whiteout(p) => match self.index.get(&p[..]).copied() {
                    Some(id) if is_present(live[id as usize]) => {
                        self.remove_subtree(id, k, RemovalCause::Deleted, live, &mut removed_here);
                    }
                    _ => stats.dangling_whiteouts += 1,
                },
                Marker::Opaque(d) => {
                    if let Some(id) = self.index.get(&d[..]).copied() {
                        if is_present(live[id as usize]) {
                            let kids = self.children[id as usize].clone();
                            for c in kids {
                                if is_present(live[c as usize]) {
                                    self.remove_subtree(
                                        c,
                                        k,
                                        RemovalCause::OpaqueDir,
                                        live,
                                        &mut removed_here,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        let prior_removed: HashMap<PathId, VersionId> =
            removed_here.iter().map(|&(p, v, _)| (p, v)).collect();

        // Last entry wins for duplicated paths.
        let mut last_of: HashMap<&[u8], usize> = HashMap::with_capacity(layer.entries.len());
        for (i, e) in layer.entries.iter().enumerate() {
            last_of.insert(&e.path, i);
        }
        let keep: Vec<bool> = layer
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| last_of.get(&e.path[..]) == Some(&i) && !e.path.is_empty())
            .collect();
        drop(last_of);

        for (i, entry) in layer.entries.into_iter().enumerate() {
            if !keep[i] {
                continue;
            }
            let id = self.intern(&entry.path, live);
            self.ensure_ancestors(id, k, live, &mut removed_here);
            let current = live[id as usize];
            let is_dir = entry.kind == EntryKind::Dir;
            if current != NONE {
                let current_is_dir =
                    current == IMPLICIT || self.versions[current as usize].kind == EntryKind::Dir;
                if current_is_dir && !is_dir {
                    let kids = self.children[id as usize].clone();
                    for c in kids {
                        if is_present(live[c as usize]) {
                            self.remove_subtree(
                                c,
                                k,
                                RemovalCause::ParentReplaced,
                                live,
                                &mut removed_here,
                            );
                        }
                    }
                }
                if current != IMPLICIT {
                    let v = &mut self.versions[current as usize];
                    v.removed_in = Some(k);
                    v.removal = Some(RemovalCause::Overwritten);
                    if v.kind == EntryKind::File {
                        stats.bytes_superseded += v.size;
                    }
                }
            }
            let prior = if is_version(current) {
                Some(current)
            } else {
                prior_removed.get(&id).copied()
            };
            let link_version = if entry.kind == EntryKind::HardLink {
                entry
                    .link
                    .as_deref()
                    .and_then(|t| self.index.get(t).copied())
                    .map(|t| live[t as usize])
                    .filter(|&v| is_version(v) && self.versions[v as usize].kind == EntryKind::File)
            } else {
                None
            };
            let mut version = Version {
                path: id,
                layer: k,
                entry: i as u32,
                kind: entry.kind,
                size: entry.size,
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
                mtime: entry.mtime,
                hash: entry.hash,
                offset: entry.offset,
                link: entry.link,
                device: entry.device,
                caps: entry.caps,
                status: Status::Added,
                removed_in: None,
                removal: None,
                link_version,
                kept_by_link: false,
            };
            if let Some(t) = link_version {
                version.hash = self.versions[t as usize].hash;
            }
            version.status = match prior {
                None => Status::Added,
                Some(p) => compare(&self.versions[p as usize], &version),
            };
            if entry.kind == EntryKind::File {
                stats.size_bytes += version.size;
            }
            if !is_dir {
                match version.status {
                    Status::Added => stats.added += 1,
                    Status::Modified => stats.modified += 1,
                    Status::MetadataChanged => stats.metadata_changed += 1,
                    Status::Unchanged => stats.unchanged += 1,
                }
            }
            let vid = self.versions.len() as u32;
            self.versions.push(version);
            live[id as usize] = vid;
        }

        let layer_start = *self.layer_starts.last().unwrap_or(&0);
        for (path, vid, cause) in removed_here {
            let now = live[path as usize];
            let recreated = is_version(now) && now >= layer_start;
            let v = &self.versions[vid as usize];
            if v.layer == k {
                // Written and shadowed inside this very layer (a contradictory tar): it never
                // existed in the image, so it is neither superseded nor removed.
                continue;
            }
            if v.kind == EntryKind::File {
                stats.bytes_superseded += v.size;
            }
            if !recreated {
                if v.kind != EntryKind::Dir {
                    stats.removed += 1;
                }
                self.removals.push(Removal {
                    layer: k,
                    version: vid,
                    cause,
                });
            }
        }
        stats
    }

    /// Makes every ancestor of `id` a directory, replacing non-directories in the way.
    fn ensure_ancestors(
        &mut self,
        id: PathId,
        k: u32,
        live: &mut [u32],
        removed_here: &mut Vec<(PathId, VersionId, RemovalCause)>,
    ) {
        let mut chain = Vec::new();
        let mut p = self.parents[id as usize];
        while p != 0 {
            chain.push(p);
            p = self.parents[p as usize];
        }
        for &a in chain.iter().rev() {
            let cur = live[a as usize];
            if cur == NONE {
                live[a as usize] = IMPLICIT;
            } else if is_version(cur) && self.versions[cur as usize].kind != EntryKind::Dir {
                let v = &mut self.versions[cur as usize];
                v.removed_in = Some(k);
                v.removal = Some(RemovalCause::Overwritten);
                removed_here.push((a, cur, RemovalCause::Overwritten));
                live[a as usize] = IMPLICIT;
            }
        }
    }

    fn remove_subtree(
        &mut self,
        id: PathId,
        k: u32,
        cause: RemovalCause,
        live: &mut [u32],
        removed_here: &mut Vec<(PathId, VersionId, RemovalCause)>,
    ) {
        let mut stack = vec![(id, cause)];
        while let Some((p, c)) = stack.pop() {
            let cur = live[p as usize];
            if cur == NONE {
                continue;
            }
            live[p as usize] = NONE;
            if is_version(cur) {
                let v = &mut self.versions[cur as usize];
                v.removed_in = Some(k);
                v.removal = Some(c);
                removed_here.push((p, cur, c));
            }
            let child_cause = match c {
                RemovalCause::Deleted => RemovalCause::ParentDeleted,
                other => other,
            };
            for &ch in &self.children[p as usize] {
                if live[ch as usize] != NONE {
                    stack.push((ch, child_cause));
                }
            }
        }
    }

    fn mark_kept_by_link(&mut self, live: &[u32]) {
        let mut keep = Vec::new();
        for &v in live {
            if is_version(v) {
                if let Some(t) = self.versions[v as usize].link_version {
                    if self.versions[t as usize].removed_in.is_some() {
                        keep.push(t);
                    }
                }
            }
        }
        for t in keep {
            self.versions[t as usize].kept_by_link = true;
        }
    }

    fn index_by_path(&mut self) {
        let n = self.paths.len();
        let mut counts = vec![0u32; n + 1];
        for v in &self.versions {
            counts[v.path as usize + 1] += 1;
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut by_path = vec![0u32; self.versions.len()];
        for (vid, v) in self.versions.iter().enumerate() {
            let slot = &mut fill[v.path as usize];
            by_path[*slot as usize] = vid as u32;
            *slot += 1;
        }
        self.by_path_start = counts;
        self.by_path = by_path;
    }

    /// Number of distinct paths (the root included).
    pub fn path_count(&self) -> usize {
        self.paths.len()
    }

    /// The normalised path bytes of `id` (empty for the root).
    pub fn path(&self, id: PathId) -> &[u8] {
        &self.paths[id as usize]
    }

    /// The last component of `id`.
    pub fn name(&self, id: PathId) -> &[u8] {
        split_parent(&self.paths[id as usize]).1
    }

    /// Parent of `id` (the root is its own parent).
    pub fn parent(&self, id: PathId) -> PathId {
        self.parents[id as usize]
    }

    /// Every path ever seen directly under `id`, in first-seen order.
    pub fn children(&self, id: PathId) -> &[PathId] {
        &self.children[id as usize]
    }

    /// Looks up a normalised path.
    pub fn lookup(&self, path: &[u8]) -> Option<PathId> {
        self.index.get(path).copied()
    }

    /// Number of layers.
    pub fn layer_count(&self) -> usize {
        self.layer_starts.len().saturating_sub(1)
    }

    /// Versions written by `layer`, in entry order.
    pub fn layer_versions(&self, layer: usize) -> std::ops::Range<VersionId> {
        self.layer_starts[layer]..self.layer_starts[layer + 1]
    }

    /// The version created from entry `entry` of `layer`, if it was kept.
    pub fn version_for_entry(&self, layer: usize, entry: u32) -> Option<VersionId> {
        let range = self.layer_versions(layer);
        let slice = &self.versions[range.start as usize..range.end as usize];
        slice
            .binary_search_by_key(&entry, |v| v.entry)
            .ok()
            .map(|i| range.start + i as u32)
    }

    /// All versions of a path, bottom layer first.
    pub fn versions_of(&self, id: PathId) -> &[VersionId] {
        let s = self.by_path_start[id as usize] as usize;
        let e = self.by_path_start[id as usize + 1] as usize;
        &self.by_path[s..e]
    }

    /// Removals made by `layer`.
    pub fn removals_in(&self, layer: usize) -> impl Iterator<Item = &Removal> {
        self.removals
            .iter()
            .filter(move |r| r.layer as usize == layer)
    }

    /// The version visible at `id` in the final image, if any (`None` also for implicit dirs).
    pub fn final_version(&self, id: PathId) -> Option<VersionId> {
        self.final_live
            .get(id as usize)
            .copied()
            .filter(|&v| is_version(v))
    }

    /// True when `id` exists in the final image (as a version or an implicit directory).
    pub fn exists_in_final(&self, id: PathId) -> bool {
        self.final_live.get(id as usize).is_some_and(|&v| v != NONE)
    }

    /// The filesystem as of `layer` (layers `0..=layer` stacked).
    pub fn snapshot(&self, layer: usize) -> Snapshot {
        let layer = layer as u32;
        let mut live = vec![NONE; self.paths.len()];
        live[0] = IMPLICIT;
        for (vid, v) in self.versions.iter().enumerate() {
            if v.layer <= layer && v.removed_in.is_none_or(|r| r > layer) {
                live[v.path as usize] = vid as u32;
            }
        }
        // Implicit parents of anything live.
        for id in (1..self.paths.len()).rev() {
            if live[id] != NONE {
                let p = self.parents[id] as usize;
                if live[p] == NONE {
                    live[p] = IMPLICIT;
                }
            }
        }
        Snapshot { live }
    }

    /// Bytes of regular files visible in the final image (content kept alive by hard links
    /// counted once).
    pub fn visible_bytes(&self) -> u64 {
        self.versions
            .iter()
            .filter(|v| v.kind == EntryKind::File && v.is_visible())
            .map(|v| v.size)
            .sum()
    }

    /// Bytes of regular files over all layers.
    pub fn total_bytes(&self) -> u64 {
        self.stats.iter().map(|s| s.size_bytes).sum()
    }
}

/// The filesystem visible at one layer.
#[derive(Debug, Clone)]
pub struct Snapshot {
    live: Vec<u32>,
}

impl Snapshot {
    /// True when the path exists at this layer.
    pub fn exists(&self, id: PathId) -> bool {
        self.live.get(id as usize).is_some_and(|&v| v != NONE)
    }

    /// The visible version of the path at this layer (`None` for absent or implicit dirs).
    pub fn version(&self, id: PathId) -> Option<VersionId> {
        self.live
            .get(id as usize)
            .copied()
            .filter(|&v| is_version(v))
    }
}

fn is_version(v: u32) -> bool {
    v < IMPLICIT
}

fn is_present(v: u32) -> bool {
    v != NONE
}

/// How `new` differs from `old`, the version it replaces at the same path.
fn compare(old: &Version, new: &Version) -> Status {
    if old.kind != new.kind
        || old.hash != new.hash
        || old.size != new.size
        || old.link != new.link
        || old.device != new.device
    {
        return Status::Modified;
    }
    if old.mode != new.mode || old.uid != new.uid || old.gid != new.gid || old.caps != new.caps {
        return Status::MetadataChanged;
    }
    Status::Unchanged
}

#[cfg(test)]
mod tests;
