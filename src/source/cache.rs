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
use std::sync::Mutex;

use super::archive::{ArchiveIndex, LayoutDir};
use super::layer::{LayerScan, ScanOptions};
use super::resolve::Resolved;
use super::{resolve_in, Input, LoadOptions, Progress};
use crate::Result;

/// Scans kept for a later load, by layer key.
#[derive(Debug, Default)]
pub struct LayerCache {
    /// Keys worth keeping (the later image's layers).
    wanted: HashSet<String>,
    kept: Mutex<HashMap<String, LayerScan>>,
    reused: Mutex<usize>,
    /// The later image's store and layers, read ahead during the first load.
    later: Option<Later>,
    /// Keys of the later image's own layers read ahead (not counted as shared).
    read_ahead: Mutex<HashSet<String>>,
}

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
        let opts = LoadOptions {
            image: later.selector().cloned().or_else(|| opts.image.clone()),
            ..opts.clone()
        };
        let reference = match later {
            Input::Archive(p, _) | Input::Directory(p, _) => p.display().to_string(),
            Input::Registry(r) => r.clone(),
            Input::Daemon(_) | Input::Demo => return None,
        };
        #[cfg(feature = "registry")]
        if let Input::Registry(r) = later {
            // Manifest and config only: B's layers are shared, not read ahead (they stream).
            let resolved = super::registry::resolve(r, &opts).ok()?;
            return Some(Self {
                wanted: keys(&resolved, &reference).ok()?.into_iter().collect(),
                ..Self::default()
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
            _ => return None,
        };
        let keys = keys(&resolved, &reference).ok()?;
        let layers = resolved
            .layers
            .iter()
            .map(|l| l.member.clone())
            .zip(keys.iter().cloned())
            .collect();
        Some(Self {
            wanted: keys.into_iter().collect(),
            later: Some(Later { store, layers }),
            ..Self::default()
        })
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
            for (l, k) in resolved.layers.iter().zip(&keys) {
                if self.wanted.contains(k) && !kept.contains_key(k) {
                    // Only a plain tar stands for the plain blob of the same diff_id.
                    let plain_key = k.split_once(' ').is_some_and(|(d, b)| d == b);
                    if let Some(s) = scans
                        .get(&l.member)
                        .filter(|s| !plain_key || s.compression == crate::model::Compression::None)
                    {
                        kept.insert(k.clone(), s.clone());
                    }
                }
            }
        }
        scans.extend(found);
        Ok(scans)
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
