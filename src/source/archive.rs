//! Image archives (every `docker save`, skopeo, podman and crane tar layout) and OCI layout
//! directories: indexing the members, then reading each needed layer once, in parallel.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

use super::layer::{scan_layer, sniff, LayerScan, ScanOptions};
use super::resolve::BlobStore;
use super::Progress;
use crate::model::path::{join, normalize, split_parent};
use crate::{Error, Result};

/// Metadata members larger than this are not kept in memory.
const MAX_META_BYTES: u64 = 64 << 20;
/// Compressed layer bytes queued between the reader and the layer workers.
const STREAM_BUDGET: usize = 256 << 20;
const CHUNK: usize = 256 << 10;

/// Number of layers read at once.
pub fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[derive(Debug, Clone)]
struct Member {
    offset: u64,
    size: u64,
    link: Option<String>,
}

/// Member index of a seekable, uncompressed image tar.
#[derive(Debug)]
pub struct ArchiveIndex {
    path: PathBuf,
    members: HashMap<String, Member>,
    meta: HashMap<String, Vec<u8>>,
}

fn member_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(&normalize(raw)).into_owned()
}

fn link_target(member: &str, target: &[u8], symlink: bool) -> String {
    if symlink && !target.starts_with(b"/") {
        let (parent, _) = split_parent(member.as_bytes());
        member_name(&join(parent, target))
    } else {
        member_name(target)
    }
}

/// Follows member links (at most 8 hops, so a link cycle ends) to the member holding bytes.
fn follow_links(member: &str, link_of: impl Fn(&str) -> Option<String>) -> String {
    let mut name = member_name(member.as_bytes());
    for _ in 0..8 {
        match link_of(&name) {
            Some(next) => name = next,
            None => break,
        }
    }
    name
}

fn looks_like_json(head: &[u8]) -> bool {
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{' || b == b'[')
}

fn read_head<R: Read>(r: &mut R, size: u64) -> io::Result<Vec<u8>> {
    let want = size.min(512) as usize;
    let mut head = vec![0u8; want];
    r.read_exact(&mut head)?;
    Ok(head)
}

fn archive_error(label: &str, e: &io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => Error::invalid(label, format!("truncated archive ({e})")),
        _ => Error::invalid(label, format!("not a readable tar archive: {e}")),
    }
}

impl ArchiveIndex {
    /// Indexes the members of an uncompressed tar file, reading only headers and metadata.
    pub fn open(path: &Path) -> Result<Self> {
        let label = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut archive = tar::Archive::new(BufReader::with_capacity(64 << 10, file));
        let mut members = HashMap::new();
        let mut meta = HashMap::new();
        let entries = archive
            .entries_with_seek()
            .map_err(|e| archive_error(&label, &e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| archive_error(&label, &e))?;
            let name = member_name(&entry.path_bytes());
            let etype = entry.header().entry_type();
            let size = entry.size();
            let offset = entry.raw_file_position();
            let link = match etype {
                tar::EntryType::Symlink | tar::EntryType::Link => entry
                    .link_name_bytes()
                    .map(|t| link_target(&name, &t, etype == tar::EntryType::Symlink)),
                tar::EntryType::Regular | tar::EntryType::Continuous => None,
                _ => continue,
            };
            if link.is_none() && size > 0 && size <= MAX_META_BYTES {
                let head = read_head(&mut entry, size).map_err(|e| archive_error(&label, &e))?;
                if looks_like_json(&head) && sniff(&head).is_none() {
                    let mut all = head;
                    entry
                        .read_to_end(&mut all)
                        .map_err(|e| archive_error(&label, &e))?;
                    meta.insert(name.clone(), all);
                }
            }
            members.insert(name, Member { offset, size, link });
        }
        let file_len = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        for (name, m) in &members {
            if m.link.is_none() && m.offset + m.size > file_len {
                return Err(Error::invalid(
                    &label,
                    format!("truncated archive: member {name} ends past the end of the file"),
                ));
            }
        }
        Ok(Self {
            path: path.to_owned(),
            members,
            meta,
        })
    }

    /// Offset and size of a member's data (after following links).
    pub fn locate(&self, member: &str) -> Option<(u64, u64)> {
        let m = self.members.get(&self.canonical(member))?;
        m.link.is_none().then_some((m.offset, m.size))
    }

    /// Reads the given layer members in parallel, each once.
    pub fn scan_layers(
        &self,
        members: &[String],
        opts: &ScanOptions,
        progress: &Progress,
    ) -> Result<HashMap<String, LayerScan>> {
        let path = self.path.clone();
        let label = self.label();
        let jobs: Vec<(String, u64, u64)> = unique(members)
            .into_iter()
            .filter_map(|m| self.locate(&m).map(|(o, s)| (m, o, s)))
            .collect();
        run_parallel(jobs, progress, |(member, offset, size)| {
            let mut f = File::open(&path).map_err(|e| Error::io(&path, e))?;
            f.seek(SeekFrom::Start(*offset))
                .map_err(|e| Error::io(&path, e))?;
            scan_layer(
                f.take(*size),
                &format!("{label}: {member}"),
                &declared(opts, member),
            )
        })
    }
}

/// Scan options for one member: whether the layout names it by its digest.
fn declared(opts: &ScanOptions, member: &str) -> ScanOptions {
    ScanOptions {
        blob_digest_declared: super::resolve::digest_from_member(member).is_some(),
        ..opts.clone()
    }
}

fn unique(members: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    members
        .iter()
        .filter(|m| seen.insert((*m).clone()))
        .cloned()
        .collect()
}

/// Runs `scan` over `jobs` on [`worker_count`] threads, largest first, and collects the scans
/// keyed by member; the first error wins.
fn run_parallel<F>(
    mut jobs: Vec<(String, u64, u64)>,
    progress: &Progress,
    scan: F,
) -> Result<HashMap<String, LayerScan>>
where
    F: Fn(&(String, u64, u64)) -> Result<LayerScan> + Sync,
{
    jobs.sort_by_key(|j| std::cmp::Reverse(j.2));
    let total = jobs.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|s| {
        for _ in 0..worker_count().min(total.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let r = scan(job);
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.layer_done(n, total);
                let failed = r.is_err();
                results
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((job.0.clone(), r));
                if failed {
                    next.store(usize::MAX / 2, Ordering::Relaxed);
                }
            });
        }
    });
    let mut out = HashMap::with_capacity(total);
    for (m, r) in results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        out.insert(m, r?);
    }
    Ok(out)
}

impl BlobStore for ArchiveIndex {
    fn label(&self) -> String {
        self.path.display().to_string()
    }

    fn read_meta(&self, member: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.meta.get(&self.canonical(member)).cloned())
    }

    fn has_layer(&self, member: &str) -> bool {
        self.locate(member).is_some()
    }

    fn canonical(&self, member: &str) -> String {
        follow_links(member, |name| {
            self.members.get(name).and_then(|m| m.link.clone())
        })
    }
}

/// An OCI image layout directory (`oci:DIR`).
#[derive(Debug)]
pub struct LayoutDir {
    root: PathBuf,
}

impl LayoutDir {
    /// Opens a directory that must contain `index.json` or `manifest.json`.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.join("index.json").is_file() && !root.join("manifest.json").is_file() {
            return Err(Error::invalid(
                root.display().to_string(),
                "directory has no index.json: not an OCI image layout",
            ));
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn file(&self, member: &str) -> PathBuf {
        self.root.join(member_name(member.as_bytes()))
    }

    /// Reads the given blob files in parallel.
    pub fn scan_layers(
        &self,
        members: &[String],
        opts: &ScanOptions,
        progress: &Progress,
    ) -> Result<HashMap<String, LayerScan>> {
        let jobs = unique(members)
            .into_iter()
            .map(|m| {
                let size = std::fs::metadata(self.file(&m)).map_or(0, |md| md.len());
                (m, 0, size)
            })
            .collect();
        run_parallel(jobs, progress, |(member, _, _)| {
            let path = self.file(member);
            let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
            scan_layer(f, &path.display().to_string(), &declared(opts, member))
        })
    }
}

impl BlobStore for LayoutDir {
    fn label(&self) -> String {
        self.root.display().to_string()
    }

    fn read_meta(&self, member: &str) -> Result<Option<Vec<u8>>> {
        let path = self.file(member);
        match std::fs::metadata(&path) {
            Ok(md) if md.is_file() && md.len() <= MAX_META_BYTES => std::fs::read(&path)
                .map(Some)
                .map_err(|e| Error::io(&path, e)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn has_layer(&self, member: &str) -> bool {
        self.file(member).is_file()
    }

    fn canonical(&self, member: &str) -> String {
        member_name(member.as_bytes())
    }
}

/// What a single streaming pass over an image tar collected.
#[derive(Debug, Default)]
pub struct StreamContents {
    label: String,
    meta: HashMap<String, Vec<u8>>,
    links: HashMap<String, String>,
    /// Layer scans by member name.
    pub scans: HashMap<String, LayerScan>,
}

impl BlobStore for StreamContents {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn read_meta(&self, member: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.meta.get(&self.canonical(member)).cloned())
    }

    fn has_layer(&self, member: &str) -> bool {
        self.scans.contains_key(&self.canonical(member))
    }

    fn canonical(&self, member: &str) -> String {
        follow_links(member, |name| self.links.get(name).cloned())
    }
}

/// Byte budget and worker slots shared by the stream reader and the layer workers.
struct Budget {
    state: Mutex<(usize, usize)>,
    cv: Condvar,
    max_bytes: usize,
    max_workers: usize,
}

impl Budget {
    fn wait_until(
        &self,
        ok: impl Fn(&(usize, usize)) -> bool,
    ) -> std::sync::MutexGuard<'_, (usize, usize)> {
        let mut g = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !ok(&g) {
            g = self
                .cv
                .wait(g)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        g
    }

    fn take_bytes(&self, n: usize) {
        let mut g = self.wait_until(|s| s.0 == 0 || s.0 + n <= self.max_bytes);
        g.0 += n;
    }

    fn take_worker(&self) {
        let mut g = self.wait_until(|s| s.1 < self.max_workers);
        g.1 += 1;
    }

    fn give(&self, bytes: usize, workers: usize) {
        let mut g = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.0 -= bytes;
        g.1 -= workers;
        self.cv.notify_all();
    }
}

/// A chunk of layer bytes in flight; gives its bytes back to the budget when dropped.
struct Chunk {
    data: Vec<u8>,
    budget: Arc<Budget>,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        self.budget.give(self.data.len(), 0);
    }
}

struct ChunkReader {
    rx: mpsc::Receiver<Chunk>,
    current: Option<Chunk>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(c) = &self.current {
                if self.pos < c.data.len() {
                    let n = buf.len().min(c.data.len() - self.pos);
                    buf[..n].copy_from_slice(&c.data[self.pos..self.pos + n]);
                    self.pos += n;
                    return Ok(n);
                }
            }
            match self.rx.recv() {
                Ok(c) => {
                    self.current = Some(c);
                    self.pos = 0;
                }
                Err(_) => {
                    self.current = None;
                    return Ok(0);
                }
            }
        }
    }
}

/// Reads an image tar from a non-seekable stream in one pass (daemon export, compressed
/// archive). Layer members are handed to parallel workers as they arrive, with at most
/// [`STREAM_BUDGET`] bytes queued; metadata members are kept; layer order is settled later.
pub fn scan_stream<R: Read>(
    reader: R,
    label: &str,
    opts: &ScanOptions,
    progress: &Progress,
) -> Result<StreamContents> {
    let budget = Arc::new(Budget {
        state: Mutex::new((0, 0)),
        cv: Condvar::new(),
        max_bytes: STREAM_BUDGET,
        max_workers: worker_count(),
    });
    let mut contents = StreamContents {
        label: label.to_owned(),
        ..StreamContents::default()
    };
    let mut archive = tar::Archive::new(reader);
    let mut layer_members = 0usize;
    let outcome: Result<Vec<(String, Result<LayerScan>)>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        let entries = archive.entries().map_err(|e| archive_error(label, &e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| archive_error(label, &e))?;
            let name = member_name(&entry.path_bytes());
            let etype = entry.header().entry_type();
            let size = entry.size();
            match etype {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Some(t) = entry.link_name_bytes() {
                        let target = link_target(&name, &t, etype == tar::EntryType::Symlink);
                        contents.links.insert(name, target);
                    }
                    continue;
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                _ => continue,
            }
            if size == 0 {
                continue;
            }
            let head = read_head(&mut entry, size).map_err(|e| archive_error(label, &e))?;
            if looks_like_json(&head) && sniff(&head).is_none() {
                if size <= MAX_META_BYTES {
                    let mut all = head;
                    entry
                        .read_to_end(&mut all)
                        .map_err(|e| archive_error(label, &e))?;
                    contents.meta.insert(name, all);
                }
                continue;
            }
            if sniff(&head).is_none() {
                continue;
            }
            layer_members += 1;
            progress.layer_started(layer_members);
            budget.take_worker();
            let (tx, rx) = mpsc::channel::<Chunk>();
            let worker_budget = budget.clone();
            let member_label = format!("{label}: {name}");
            let opts = declared(opts, &name);
            let handle = s.spawn(move || {
                let reader = ChunkReader {
                    rx,
                    current: None,
                    pos: 0,
                };
                let r = scan_layer(reader, &member_label, &opts);
                worker_budget.give(0, 1);
                r
            });
            progress.bytes(head.len() as u64);
            budget.take_bytes(head.len());
            let _ = tx.send(Chunk {
                data: head,
                budget: budget.clone(),
            });
            loop {
                let mut data = vec![0u8; CHUNK];
                let n = read_some(&mut entry, &mut data).map_err(|e| archive_error(label, &e))?;
                if n == 0 {
                    break;
                }
                data.truncate(n);
                progress.bytes(n as u64);
                budget.take_bytes(n);
                let _ = tx.send(Chunk {
                    data,
                    budget: budget.clone(),
                });
            }
            drop(tx);
            handles.push((name, handle));
        }
        Ok(handles
            .into_iter()
            .map(|(n, h)| {
                let r = h.join().unwrap_or_else(|_| {
                    Err(Error::Other(format!("{label}: layer reader panicked")))
                });
                (n, r)
            })
            .collect())
    });
    for (name, r) in outcome? {
        contents.scans.insert(name, r?);
    }
    Ok(contents)
}

fn read_some<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
