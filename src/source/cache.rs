//! Layer scans shared between two loads, so that `strata diff` reads a layer both images hold
//! once: the first load keeps the scans of the layers the second one will ask for, the second
//! takes them instead of reading its own copy.
//!
//! A layer is the same when its diff_id and its stored blob are (the key is both), so the kept
//! scan's compression, sizes and digests are the second image's too. The kept scan was verified
//! against its digest when it was read; the second image's copy is then not read at all.
//!
//! The first load also reads the second image's own layers (those it does not share) at the
//! same time as its own, on other threads, and keeps them: the two images' layers are then
//! read together, as one report reads its layers, instead of the second image's alone after.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::archive::{ArchiveIndex, LayoutDir};
use super::layer::{LayerScan, ScanOptions};
use super::resolve::Resolved;
use super::{resolve_in, Input, LoadOptions, Progress};
use crate::model::fs::{Entry, LayerEntries};
use crate::model::{EntryKind, Image, VersionId};
use crate::Result;

/// Scans kept for a later load, by layer key.
#[derive(Debug, Default)]
pub struct LayerCache {
    /// Which layers are worth keeping (the later image's).
    wanted: Wanted,
    kept: Mutex<HashMap<String, LayerScan>>,
    reused: Mutex<usize>,
    /// The later image's store and layers, read ahead during the first load.
    later: Option<Later>,
    /// Keys of the later image's own layers read ahead (not counted as shared).
    read_ahead: Mutex<HashSet<String>>,
    /// A streamed layer was hashed as a shared one and was not (see `take_streamed`).
    missed: std::sync::atomic::AtomicBool,
    /// The later registry image's manifest stage, by reference, fetched to learn its layer
    /// list: its own load takes it instead of fetching it again.
    #[cfg(feature = "registry")]
    registry_metadata: Mutex<Option<(String, super::registry::Metadata)>>,
}

/// What the later image's layer list gives a cache.
struct LaterLayers {
    wanted: Wanted,
    later: Option<Later>,
    #[cfg(feature = "registry")]
    registry_metadata: Option<(String, super::registry::Metadata)>,
}

impl LaterLayers {
    fn new(wanted: Wanted, later: Option<Later>) -> Self {
        Self {
            wanted,
            later,
            #[cfg(feature = "registry")]
            registry_metadata: None,
        }
    }
}

/// Which of the first load's layers the later load may take.
#[derive(Debug)]
enum Wanted {
    /// These keys (diff_id and stored blob): the later image's layer list is known.
    Keys(HashSet<String>),
    /// Any layer with these diff_ids: the later image streams plain tars (a daemon export)
    /// whose diff_ids inspect lists.
    #[cfg_attr(not(feature = "daemon"), allow(dead_code))]
    DiffIds(HashSet<String>),
}

impl Default for Wanted {
    fn default() -> Self {
        Self::Keys(HashSet::new())
    }
}

impl Wanted {
    /// Whether the scan of a layer with `key`, stored with `compression`, is worth keeping.
    fn wants(&self, key: &str, compression: crate::model::Compression) -> bool {
        let (diff_id, blob) = key.split_once(' ').unwrap_or((key, key));
        match self {
            // Only a plain tar stands for the plain blob of the same diff_id.
            Self::Keys(keys) => {
                keys.contains(key)
                    && (diff_id != blob || compression == crate::model::Compression::None)
            }
            Self::DiffIds(ids) => ids.contains(diff_id),
        }
    }
}

/// The kept scans a streamed layer blob may be, found by its size and first bytes.
#[derive(Debug)]
pub(super) struct StreamCandidates {
    /// The blob is a plain tar (its digest is its diff_id).
    plain: bool,
    /// Each candidate's key and the digest the blob has if it is that layer.
    list: Vec<(String, String)>,
}

/// Streamed blobs up to this size are copied while they are hashed as a possible shared
/// layer, so that one which is not can still be scanned.
const STREAM_COPY_MAX: u64 = 32 << 20;

/// Where the later image's layers are, and their members and keys in layer order.
#[derive(Debug)]
struct Later {
    store: LaterStore,
    layers: Vec<(String, String)>,
}

/// The later image's random-access store.
#[derive(Debug)]
enum LaterStore {
    Archive(ArchiveIndex),
    Layout(LayoutDir),
}

impl LaterStore {
    fn scan_layers(
        &self,
        members: &[String],
        opts: &ScanOptions,
        progress: &Progress,
    ) -> Result<HashMap<String, LayerScan>> {
        match self {
            Self::Archive(a) => a.scan_layers(members, opts, progress),
            Self::Layout(d) => d.scan_layers(members, opts, progress),
        }
    }
}

/// The key of each layer of a resolved image: its diff_id and its stored blob digest.
fn keys(resolved: &Resolved, reference: &str) -> Result<Vec<String>> {
    let parsed = super::parse_config(&resolved.config, reference, resolved.layers.len())?;
    Ok(resolved
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let diff_id = parsed.diff_ids.get(i).map_or("", String::as_str);
            // A member not named by digest (legacy `<id>/layer.tar`) holds the plain tar.
            format!("{diff_id} {}", l.blob_digest.as_deref().unwrap_or(diff_id))
        })
        .collect())
}

impl LayerCache {
    /// A cache keeping the scans of the layers `later` holds, when `later` is an uncompressed
    /// archive, a layout directory or a registry image, whose layer list can be read without
    /// reading its layers; `None` otherwise (nothing could be shared).
    pub fn for_later_load(later: &Input, opts: &LoadOptions) -> Option<Self> {
        let found = later_layers(later, opts, true)?;
        Some(Self {
            wanted: found.wanted,
            later: found.later,
            #[cfg(feature = "registry")]
            registry_metadata: Mutex::new(found.registry_metadata),
            ..Self::default()
        })
    }

    /// A cache holding, for a load of `later`, the layers it shares with `image`, an image
    /// already read with the same options: their scans are rebuilt from `image`'s model, so
    /// the explorer compares the open image with another without reading the shared layers
    /// again. `None` when `later`'s layer list cannot be known before reading its layers.
    pub fn from_image(image: &Image, later: &Input, opts: &LoadOptions) -> Option<Self> {
        let found = later_layers(later, opts, false)?;
        let wanted = found.wanted;
        let mut kept = HashMap::new();
        for layer in &image.layers {
            let key = format!("{} {}", layer.diff_id, layer.blob_digest);
            if wanted.wants(&key, layer.compression) && !kept.contains_key(&key) {
                kept.insert(key, scan_from_model(image, layer.index));
            }
        }
        Some(Self {
            wanted,
            kept: Mutex::new(kept),
            #[cfg(feature = "registry")]
            registry_metadata: Mutex::new(found.registry_metadata),
            ..Self::default()
        })
    }

    /// The manifest stage of the registry image `reference`, when this cache fetched it to
    /// learn that image's layer list (once: the load that takes it owns it).
    #[cfg(feature = "registry")]
    pub(super) fn take_registry_metadata(
        &self,
        reference: &str,
    ) -> Option<super::registry::Metadata> {
        let mut slot = self.registry_metadata.lock().ok()?;
        match slot.take() {
            Some((r, meta)) if r == reference => Some(meta),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// The kept scans a streamed layer blob of `size` bytes starting with `head` could be:
    /// a plain tar may be any kept layer of its size (by diff_id), a compressed blob one
    /// stored the same way (by blob digest). `None` when there is none.
    pub(super) fn stream_candidates(&self, size: u64, head: &[u8]) -> Option<StreamCandidates> {
        let compression = super::layer::sniff(head)?;
        let plain = compression == crate::model::Compression::None;
        let kept = self.kept.lock().ok()?;
        let list: Vec<(String, String)> = kept
            .iter()
            .filter(|(_, s)| {
                if plain {
                    s.tar_bytes == size
                } else {
                    s.compression == compression && s.blob_bytes == size
                }
            })
            .filter_map(|(k, _)| {
                let (diff_id, blob) = k.split_once(' ')?;
                let digest = if plain { diff_id } else { blob };
                Some((k.clone(), digest.to_owned()))
            })
            .collect();
        (!list.is_empty()).then_some(StreamCandidates { plain, list })
    }

    /// Reads a streamed layer blob that may be one of `candidates` (see
    /// [`Self::stream_candidates`]) by its digest only, and takes the kept scan it matches
    /// instead of scanning it. A blob that matches none is scanned from a copy kept while
    /// hashing when it is small; a large one fails the load, and marks the cache so that the
    /// load is made again without it ([`Self::missed`]).
    pub(super) fn take_streamed<R: std::io::Read>(
        &self,
        reader: R,
        size: u64,
        candidates: &StreamCandidates,
        label: &str,
        opts: &ScanOptions,
    ) -> Result<LayerScan> {
        let mut copy = (size <= STREAM_COPY_MAX).then(|| Vec::with_capacity(size as usize));
        let digest = super::layer::stream_digest(reader, copy.as_mut())
            .map_err(|e| crate::Error::invalid(label, e.to_string()))?;
        if let Some((key, _)) = candidates.list.iter().find(|(_, d)| *d == digest) {
            let kept = self.kept.lock().map_err(|_| poisoned())?.get(key).cloned();
            if let Some(mut scan) = kept {
                if candidates.plain && scan.compression != crate::model::Compression::None {
                    // The same tar, stored plain here: this blob's fields are the tar's.
                    scan.compression = crate::model::Compression::None;
                    scan.blob_bytes = scan.tar_bytes;
                    scan.blob_digest = String::new();
                }
                if candidates.plain {
                    scan.diff_id = digest;
                }
                if let Ok(mut n) = self.reused.lock() {
                    *n += 1;
                }
                return Ok(scan);
            }
        }
        match copy {
            Some(bytes) => super::layer::scan_layer(std::io::Cursor::new(bytes), label, opts),
            None => {
                self.missed.store(true, std::sync::atomic::Ordering::SeqCst);
                Err(crate::Error::invalid(
                    label,
                    "a layer of a shared layer's size is not that layer; reading again",
                ))
            }
        }
    }

    /// True when a streamed load met a large layer it took for a shared one and was not:
    /// that load failed and must be made again without this cache.
    pub fn missed(&self) -> bool {
        self.missed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Forgets the scans taken by a load that failed and is made again without the cache.
    pub(super) fn forget_reuse(&self) {
        if let Ok(mut n) = self.reused.lock() {
            *n = 0;
        }
    }

    /// How many layer scans a load took from the cache.
    pub fn reused(&self) -> usize {
        self.reused.lock().map_or(0, |n| *n)
    }

    /// Scans the layers of `resolved` with `scan` (which reads the given members), taking the
    /// kept scans instead of reading their members, and keeping the scans a later load wants.
    /// On the first load, the later image's own layers are read at the same time with `opts`
    /// and kept too; a failure there is left for the later load to meet and report.
    pub(super) fn scan(
        &self,
        resolved: &Resolved,
        reference: &str,
        opts: &ScanOptions,
        scan: impl FnOnce(&[String]) -> Result<HashMap<String, LayerScan>>,
    ) -> Result<HashMap<String, LayerScan>> {
        let keys = keys(resolved, reference)?;
        let mut found: HashMap<String, LayerScan> = HashMap::new();
        let mut todo: Vec<String> = Vec::new();
        let mut shared = 0;
        let ahead: Vec<(String, String)>;
        {
            let mut kept = self.kept.lock().map_err(|_| poisoned())?;
            let read_ahead = self.read_ahead.lock().map_err(|_| poisoned())?;
            for (l, k) in resolved.layers.iter().zip(&keys) {
                if found.contains_key(&l.member) {
                    continue;
                }
                match kept.remove(k) {
                    Some(s) => {
                        shared += usize::from(!read_ahead.contains(k));
                        found.insert(l.member.clone(), s);
                    }
                    None => todo.push(l.member.clone()),
                }
            }
            let mut seen = HashSet::new();
            ahead = self.later.as_ref().map_or_else(Vec::new, |later| {
                later
                    .layers
                    .iter()
                    .filter(|(m, k)| {
                        !keys.contains(k) && !kept.contains_key(k) && seen.insert(m.clone())
                    })
                    .cloned()
                    .collect()
            });
        }
        if let Ok(mut n) = self.reused.lock() {
            *n += shared;
        }
        let (scans, ahead_scans) = std::thread::scope(|s| {
            let reading = match &self.later {
                Some(later) if !ahead.is_empty() && !opts.raw_entries => {
                    let members: Vec<String> = ahead.iter().map(|(m, _)| m.clone()).collect();
                    Some(s.spawn(move || {
                        later
                            .store
                            .scan_layers(&members, opts, &Progress::default())
                    }))
                }
                _ => None,
            };
            let scans = scan(&todo);
            (scans, reading.and_then(|h| h.join().ok()))
        });
        let mut scans = scans?;
        {
            let mut kept = self.kept.lock().map_err(|_| poisoned())?;
            if let Some(Ok(mut read)) = ahead_scans {
                let mut read_ahead = self.read_ahead.lock().map_err(|_| poisoned())?;
                for (m, k) in ahead {
                    if let Some(scan) = read.remove(&m) {
                        read_ahead.insert(k.clone());
                        kept.insert(k, scan);
                    }
                }
            }
            self.keep_wanted(&mut kept, resolved, &keys, &scans);
        }
        scans.extend(found);
        Ok(scans)
    }

    /// Keeps the scans of a streamed load (read in full) that a later load wants.
    pub(super) fn keep_streamed(
        &self,
        resolved: &Resolved,
        reference: &str,
        scans: &HashMap<String, LayerScan>,
    ) -> Result<()> {
        let keys = keys(resolved, reference)?;
        let mut kept = self.kept.lock().map_err(|_| poisoned())?;
        self.keep_wanted(&mut kept, resolved, &keys, scans);
        Ok(())
    }

    fn keep_wanted(
        &self,
        kept: &mut HashMap<String, LayerScan>,
        resolved: &Resolved,
        keys: &[String],
        scans: &HashMap<String, LayerScan>,
    ) {
        for (l, k) in resolved.layers.iter().zip(keys) {
            if kept.contains_key(k) {
                continue;
            }
            if let Some(s) = scans
                .get(&l.member)
                .filter(|s| self.wanted.wants(k, s.compression))
            {
                kept.insert(k.clone(), s.clone());
            }
        }
    }
}

/// Which layers `later` may share, and (with `read_ahead`, for a random-access store) where
/// to read its own layers ahead; `None` when it shares none (the demo, or not an image).
fn later_layers(later: &Input, opts: &LoadOptions, read_ahead: bool) -> Option<LaterLayers> {
    let opts = LoadOptions {
        image: later.selector().cloned().or_else(|| opts.image.clone()),
        ..opts.clone()
    };
    let reference = match later {
        Input::Archive(p, _) | Input::Directory(p, _) => p.display().to_string(),
        Input::Registry(r) | Input::Daemon(r) => r.clone(),
        Input::Demo => return None,
    };
    #[cfg(feature = "daemon")]
    if let (Input::Daemon(r), false) = (later, opts.source == super::SourceChoice::Registry) {
        // The export is a stream in no useful order, but inspect lists its diff_ids, and
        // its layers are plain tars: a shared one is known by its size and digest as it
        // streams (see `LayerCache::take_streamed`).
        if let Ok(meta) = super::daemon::metadata(r) {
            let ids = meta.diff_ids().into_iter().collect();
            return Some(LaterLayers::new(Wanted::DiffIds(ids), None));
        }
    }
    #[cfg(feature = "registry")]
    if let Input::Registry(r) | Input::Daemon(r) = later {
        // A bare reference the daemon does not hold is read from the registry (unless
        // `--source daemon`). Manifest and config only: B's layers are shared, not read
        // ahead (they stream).
        if matches!(later, Input::Daemon(_)) && opts.source == super::SourceChoice::Daemon {
            return None;
        }
        let meta = super::registry::resolve(r, &opts).ok()?;
        let keys = keys(meta.resolved(), &reference).ok()?;
        return Some(LaterLayers {
            registry_metadata: Some((r.clone(), meta)),
            ..LaterLayers::new(Wanted::Keys(keys.into_iter().collect()), None)
        });
    }
    let (store, resolved) = match later {
        Input::Archive(p, _) if is_plain_tar(p) => {
            let index = ArchiveIndex::open(p).ok()?;
            let resolved = resolve_in(&index, &opts).ok()?;
            (LaterStore::Archive(index), resolved)
        }
        Input::Directory(p, _) => {
            let dir = LayoutDir::open(p).ok()?;
            let resolved = resolve_in(&dir, &opts).ok()?;
            (LaterStore::Layout(dir), resolved)
        }
        // An archive compressed as a whole is a stream whose layer list comes at its end,
        // and whose every byte is decompressed on one thread anyway: hashing a shared layer
        // instead of scanning it saves nothing there (scripts/bench-diff.sh, `outer`), and
        // keeping every scan of A for it would cost memory.
        _ => return None,
    };
    let keys = keys(&resolved, &reference).ok()?;
    let later = read_ahead.then(|| Later {
        layers: resolved
            .layers
            .iter()
            .map(|l| l.member.clone())
            .zip(keys.iter().cloned())
            .collect(),
        store,
    });
    Some(LaterLayers::new(
        Wanted::Keys(keys.into_iter().collect()),
        later,
    ))
}

/// Layer `index` of `image` as its read gave it: entries at their tar positions (a path the
/// overlay dropped, written again later in the same layer, leaves an empty entry the overlay
/// skips as it did), markers, inspector results, sizes, digests and warnings.
fn scan_from_model(image: &Image, index: usize) -> LayerScan {
    let layer = &image.layers[index];
    let fs = &image.fs;
    let range = fs.layer_versions(index);
    let versions = &fs.versions[range.start as usize..range.end as usize];
    let last = versions.last().map_or(0, |v| v.entry as usize + 1);
    let count = layer.entries.saturating_sub(layer.markers.len()).max(last);
    let mut entries: Vec<Entry> = (0..count).map(|_| placeholder()).collect();
    for v in versions {
        entries[v.entry as usize] = Entry {
            path: fs.path(v.path).into(),
            kind: v.kind,
            link: v.link.clone(),
            size: v.size,
            mode: v.mode,
            uid: v.uid,
            gid: v.gid,
            mtime: v.mtime,
            // A hard link's version carries its target's hash; its entry had none.
            hash: if v.kind == EntryKind::File { v.hash } else { 0 },
            offset: v.offset,
            device: v.device,
            caps: v.caps.clone(),
        };
    }
    let in_layer = |vid: &VersionId| range.contains(vid);
    let entry_of = |vid: VersionId| fs.versions[vid as usize].entry;
    let matches = image
        .content_matches
        .iter()
        .filter(|(v, _)| in_layer(v))
        .map(|(v, m)| (entry_of(*v), m.clone()))
        .collect();
    let mut captured: Vec<(u32, Arc<[u8]>)> = image
        .captured
        .iter()
        .filter(|(v, _)| in_layer(v))
        .map(|(v, c)| (entry_of(*v), c.clone()))
        .collect();
    captured.sort_by_key(|(e, _)| *e);
    let compressed = layer.compression != crate::model::Compression::None;
    LayerScan {
        entries: LayerEntries {
            entries,
            markers: layer.markers.clone(),
        },
        compression: layer.compression,
        blob_bytes: layer.blob_bytes,
        tar_bytes: layer.tar_bytes,
        blob_digest: if compressed {
            layer.blob_digest.clone()
        } else {
            String::new()
        },
        diff_id: layer.diff_id.clone(),
        matches,
        captured,
        warnings: layer.warnings.clone(),
        raw: Vec::new(),
    }
}

/// An entry the overlay skips (an empty path), standing where the read had a duplicate.
fn placeholder() -> Entry {
    Entry {
        path: Box::default(),
        kind: EntryKind::Dir,
        link: None,
        size: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        mtime: 0,
        hash: 0,
        offset: 0,
        device: None,
        caps: None,
    }
}

fn poisoned() -> crate::Error {
    crate::Error::Other("layer cache: a reader thread failed".into())
}

fn is_plain_tar(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| super::layer::sniff(&head) == Some(crate::model::Compression::None))
}
