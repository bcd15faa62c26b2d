//! The blob cache: layer blobs fetched from registries, kept content-addressed under the
//! user's cache directory (`$XDG_CACHE_HOME/strata/blobs/sha256/<hex>`), with a size cap and
//! least-recently-used eviction. An entry is only ever written under its final name after its
//! digest was verified; a reader verifies it again while scanning (a corrupted entry is dropped
//! and fetched again).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{Error, Result};

/// Default size cap of the cache (10 GiB).
pub const DEFAULT_MAX_BYTES: u64 = 10 << 30;

/// Environment variable overriding the cache directory.
pub const DIR_ENV: &str = "STRATA_CACHE_DIR";
/// Environment variable overriding the size cap (`500M`, `20G`, or bytes).
pub const MAX_ENV: &str = "STRATA_CACHE_MAX_SIZE";

/// The blob cache on disk.
#[derive(Debug, Clone)]
pub struct BlobCache {
    root: PathBuf,
    max_bytes: u64,
}

/// What `strata cache` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Bytes held.
    pub bytes: u64,
    /// Blobs held.
    pub blobs: usize,
}

/// Parses a size like `10G`, `500M`, `64K` or a plain byte count (binary units).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last()? {
        (i, 'K' | 'k') => (&t[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&t[..i], 1 << 20),
        (i, 'G' | 'g') => (&t[..i], 1 << 30),
        (i, 'T' | 't') => (&t[..i], 1 << 40),
        _ => (t, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

fn hex_of(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

impl BlobCache {
    /// The user's cache: `$STRATA_CACHE_DIR`, else `$XDG_CACHE_HOME/strata`, else
    /// `~/.cache/strata`. `None` when no directory can be named.
    pub fn open_default() -> Result<Option<Self>> {
        let root = std::env::var_os(DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME")
                    .filter(|v| !v.is_empty())
                    .map(|d| PathBuf::from(d).join("strata"))
            })
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache/strata"))
            });
        let Some(root) = root else { return Ok(None) };
        let max_bytes = match std::env::var(MAX_ENV) {
            Ok(v) => parse_size(&v).ok_or_else(|| {
                Error::Other(format!(
                    "{MAX_ENV}={v}: not a size (use bytes or a K/M/G/T suffix, e.g. 20G)"
                ))
            })?,
            Err(_) => DEFAULT_MAX_BYTES,
        };
        Ok(Some(Self::new(root, max_bytes)))
    }

    /// A cache rooted at `root` holding at most `max_bytes`.
    pub fn new(root: PathBuf, max_bytes: u64) -> Self {
        Self { root, max_bytes }
    }

    /// The cache directory (the blobs live under `blobs/sha256/`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The size cap in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn blob_dir(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }

    /// Path of the entry for `digest` (whether or not it exists).
    pub fn path(&self, digest: &str) -> Option<PathBuf> {
        hex_of(digest).map(|h| self.blob_dir().join(h))
    }

    /// Opens the entry for `digest` of `size` bytes, marking it used now (LRU). A present
    /// entry of the wrong size is dropped.
    pub fn get(&self, digest: &str, size: u64) -> Option<File> {
        let path = self.path(digest)?;
        let file = File::open(&path).ok()?;
        let len = file.metadata().ok()?.len();
        if len != size {
            let _ = fs::remove_file(&path);
            return None;
        }
        let _ = file.set_modified(SystemTime::now());
        Some(file)
    }

    /// True when an entry of `size` bytes is kept for `digest` (not verified: see [`Self::get`]).
    pub fn holds(&self, digest: &str, size: u64) -> bool {
        self.path(digest)
            .and_then(|p| fs::metadata(p).ok())
            .is_some_and(|m| m.len() == size)
    }

    /// Drops the entry for `digest` (it failed verification).
    pub fn remove(&self, digest: &str) {
        if let Some(p) = self.path(digest) {
            let _ = fs::remove_file(p);
        }
    }

    /// A writer for a new entry; nothing is visible under the digest until
    /// [`PendingBlob::commit`].
    pub fn start(&self, digest: &str) -> Option<PendingBlob> {
        let dir = self.root.join("tmp");
        fs::create_dir_all(&dir).ok()?;
        fs::create_dir_all(self.blob_dir()).ok()?;
        let tmp = tempfile_in(&dir, hex_of(digest)?)?;
        let file = File::create(&tmp).ok()?;
        Some(PendingBlob {
            file: Some(io::BufWriter::with_capacity(256 << 10, file)),
            tmp,
            dest: self.path(digest)?,
        })
    }

    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(rd) = fs::read_dir(self.blob_dir()) else {
            return Vec::new();
        };
        rd.filter_map(|e| {
            let e = e.ok()?;
            let md = e.metadata().ok()?;
            md.is_file().then(|| {
                (
                    e.path(),
                    md.len(),
                    md.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                )
            })
        })
        .collect()
    }

    /// Bytes and blobs held.
    pub fn usage(&self) -> Usage {
        let entries = self.entries();
        Usage {
            bytes: entries.iter().map(|e| e.1).sum(),
            blobs: entries.len(),
        }
    }

    /// Removes least-recently-used entries until the cache fits `max_bytes`, never one of
    /// `keep` (the blobs of the image just opened). Returns the bytes freed.
    pub fn evict_to(&self, max_bytes: u64, keep: &HashSet<String>) -> u64 {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort_by_key(|e| e.2);
        let mut freed = 0;
        for (path, len, _) in entries {
            if total <= max_bytes {
                break;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if keep.contains(&format!("sha256:{name}")) {
                continue;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
                freed += len;
            }
        }
        freed
    }

    /// Applies the size cap (see [`BlobCache::evict_to`]).
    pub fn enforce_cap(&self, keep: &HashSet<String>) -> u64 {
        self.evict_to(self.max_bytes, keep)
    }

    /// Removes every entry and leftover partial download. Returns the bytes freed.
    pub fn prune(&self) -> u64 {
        let freed = self.evict_to(0, &HashSet::new());
        let _ = fs::remove_dir_all(self.root.join("tmp"));
        freed
    }
}

fn tempfile_in(dir: &Path, hex: &str) -> Option<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Some(dir.join(format!(
        "{}.{}.{nanos}.{:?}",
        &hex[..16],
        std::process::id(),
        std::thread::current().id()
    )))
}

/// A cache entry being written while its blob streams in.
#[derive(Debug)]
pub struct PendingBlob {
    file: Option<io::BufWriter<File>>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl PendingBlob {
    /// Appends bytes; on a write error (disk full) the entry is abandoned, never half-kept.
    pub fn write(&mut self, bytes: &[u8]) {
        if let Some(f) = &mut self.file {
            if f.write_all(bytes).is_err() {
                self.file = None;
                let _ = fs::remove_file(&self.tmp);
            }
        }
    }

    /// Moves the finished entry under its digest; call only after the digest was verified.
    pub fn commit(mut self) {
        if let Some(f) = self.file.take() {
            if f.into_inner().is_ok_and(|f| f.sync_all().is_ok()) {
                let _ = fs::rename(&self.tmp, &self.dest);
            }
        }
        let _ = fs::remove_file(&self.tmp);
    }
}

impl Drop for PendingBlob {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("10G"), Some(10 << 30));
        assert_eq!(parse_size("500m"), Some(500 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn eviction_drops_least_recently_used_first_and_keeps_the_open_image() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path().to_owned(), 250);
        let digests: Vec<String> = (0..3)
            .map(|i| format!("sha256:{}", format!("{i}").repeat(64)))
            .collect();
        for (i, d) in digests.iter().enumerate() {
            let mut p = cache.start(d).unwrap();
            p.write(&[b'x'; 100]);
            p.commit();
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i as u64);
            File::options()
                .write(true)
                .open(cache.path(d).unwrap())
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        assert_eq!(
            cache.usage(),
            Usage {
                bytes: 300,
                blobs: 3
            }
        );
        // The oldest (0) is kept because the open image uses it: 1 goes instead.
        let keep: HashSet<String> = [digests[0].clone()].into();
        assert_eq!(cache.enforce_cap(&keep), 100);
        assert!(cache.get(&digests[0], 100).is_some());
        assert!(cache.get(&digests[1], 100).is_none());
        assert!(cache.get(&digests[2], 100).is_some());
        // A wrong-size entry is dropped on open.
        assert!(cache.get(&digests[2], 99).is_none());
        assert_eq!(cache.usage().blobs, 1);
        assert_eq!(cache.prune(), 100);
        assert_eq!(cache.usage(), Usage { bytes: 0, blobs: 0 });
    }
}
