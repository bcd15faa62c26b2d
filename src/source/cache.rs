//! Layer scans shared between two loads, so that `strata diff` reads a layer both images hold
//! once: the first load keeps the scans of the layers the second one will ask for, the second
//! takes them instead of reading its own copy.
//!
//! A layer is the same when its diff_id and its stored blob are (the key is both), so the kept
//! scan's compression, sizes and digests are the second image's too. The kept scan was verified
//! against its digest when it was read; the second image's copy is then not read at all.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use super::archive::{ArchiveIndex, LayoutDir};
use super::layer::LayerScan;
use super::resolve::Resolved;
use super::{resolve_in, Input, LoadOptions};
use crate::Result;

/// Scans kept for a later load, by layer key.
#[derive(Debug, Default)]
pub struct LayerCache {
    /// Keys worth keeping (the later image's layers).
    wanted: HashSet<String>,
    kept: Mutex<HashMap<String, LayerScan>>,
    reused: Mutex<usize>,
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
    /// archive or a layout directory whose layer list can be read without reading its layers;
    /// `None` otherwise (nothing could be shared).
    pub fn for_later_load(later: &Input, opts: &LoadOptions) -> Option<Self> {
        let opts = LoadOptions {
            image: later.selector().cloned().or_else(|| opts.image.clone()),
            ..opts.clone()
        };
        let reference = match later {
            Input::Archive(p, _) | Input::Directory(p, _) => p.display().to_string(),
            Input::Daemon(_) | Input::Registry(_) | Input::Demo => return None,
        };
        let resolved = match later {
            Input::Archive(p, _) if is_plain_tar(p) => {
                resolve_in(&ArchiveIndex::open(p).ok()?, &opts).ok()?
            }
            Input::Directory(p, _) => resolve_in(&LayoutDir::open(p).ok()?, &opts).ok()?,
            _ => return None,
        };
        let wanted = keys(&resolved, &reference).ok()?.into_iter().collect();
        Some(Self {
            wanted,
            ..Self::default()
        })
    }

    /// How many layer scans a load took from the cache.
    pub fn reused(&self) -> usize {
        self.reused.lock().map_or(0, |n| *n)
    }

    /// Scans the layers of `resolved` with `scan` (which reads the given members), taking the
    /// kept scans instead of reading their members, and keeping the scans a later load wants.
    pub(super) fn scan(
        &self,
        resolved: &Resolved,
        reference: &str,
        scan: impl FnOnce(&[String]) -> Result<HashMap<String, LayerScan>>,
    ) -> Result<HashMap<String, LayerScan>> {
        let keys = keys(resolved, reference)?;
        let mut found: HashMap<String, LayerScan> = HashMap::new();
        let mut todo: Vec<String> = Vec::new();
        {
            let mut kept = self.kept.lock().map_err(|_| poisoned())?;
            for (l, k) in resolved.layers.iter().zip(&keys) {
                if found.contains_key(&l.member) {
                    continue;
                }
                match kept.remove(k) {
                    Some(s) => {
                        found.insert(l.member.clone(), s);
                    }
                    None => todo.push(l.member.clone()),
                }
            }
        }
        if let Ok(mut n) = self.reused.lock() {
            *n += found.len();
        }
        let mut scans = scan(&todo)?;
        {
            let mut kept = self.kept.lock().map_err(|_| poisoned())?;
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
