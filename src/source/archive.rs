//! Image archives (every `docker save`, skopeo, podman and crane tar layout) and OCI layout
//! directories: indexing the members, then reading each needed layer once, in parallel.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

use super::cache::LayerCache;
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
    link: Option<Link>,
}

/// Where a symlink or hard-link member points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    /// Another member (normalised name).
    Member(String),
    /// Outside the archive (absolute, or `..` above its root): the raw target.
    Outside(String),
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

/// Members whose content is always kept, whatever it looks like (`null` is valid JSON).
const LAYOUT_FILES: [&str; 4] = ["manifest.json", "index.json", "oci-layout", "repositories"];

/// True when `base` joined with `target` climbs above the root (`..` past the top).
fn climbs_out(base: &[u8], target: &[u8]) -> bool {
    let mut depth: i64 = 0;
    for part in base
        .split(|&b| b == b'/')
        .chain(target.split(|&b| b == b'/'))
    {
        match part {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Resolves a link member's target: symlinks relative to the member's directory, hard links
/// relative to the archive root. Absolute targets and targets above the root point outside.
fn link_target(member: &str, target: &[u8], symlink: bool) -> Link {
    let parent = if symlink {
        split_parent(member.as_bytes()).0
    } else {
        &[][..]
    };
    if target.starts_with(b"/") || climbs_out(parent, target) {
        return Link::Outside(String::from_utf8_lossy(target).into_owned());
    }
    Link::Member(member_name(&join(parent, target)))
}

/// Follows member links to the member holding bytes; a cycle or a link out of the archive is
/// an error naming it.
fn follow_links(
    label: &str,
    member: &str,
    link_of: impl Fn(&str) -> Option<Link>,
) -> Result<String> {
    let mut name = member_name(member.as_bytes());
    let mut chain = vec![name.clone()];
    loop {
        match link_of(&name) {
            None => return Ok(name),
            Some(Link::Outside(target)) => {
                return Err(Error::invalid(
                    format!("{label}: {name}"),
                    format!("is a link pointing outside the archive (-> {target}); refused"),
                ))
            }
            Some(Link::Member(next)) => {
                if let Some(start) = chain.iter().position(|n| *n == next) {
                    let mut cycle = chain[start..].to_vec();
                    cycle.push(next);
                    return Err(Error::invalid(
                        label,
                        format!("symlink cycle: {}", cycle.join(" -> ")),
                    ));
                }
                chain.push(next.clone());
                name = next;
            }
        }
    }
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
                let layout_file = LAYOUT_FILES.contains(&name.as_str());
                if layout_file || (looks_like_json(&head) && sniff(&head).is_none()) {
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
        let m = self.members.get(&self.canonical(member).ok()?)?;
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
        Ok(self.meta.get(&self.canonical(member)?).cloned())
    }

    fn has_layer(&self, member: &str) -> bool {
        self.locate(member).is_some()
    }

    fn canonical(&self, member: &str) -> Result<String> {
        follow_links(&self.label(), member, |name| {
            self.members.get(name).and_then(|m| m.link.clone())
        })
    }

    fn size_of(&self, member: &str) -> Option<u64> {
        self.locate(member).map(|(_, size)| size)
    }
}

/// An OCI image layout directory (`oci:DIR`). Every file is reached through
/// [`LayoutDir::locate`], which refuses symlinks leading outside the directory and names
/// symlink cycles.
#[derive(Debug)]
pub struct LayoutDir {
    root: PathBuf,
    canonical_root: PathBuf,
}

impl LayoutDir {
    /// Opens a directory that must contain `index.json` or `manifest.json`.
    pub fn open(root: &Path) -> Result<Self> {
        let canonical_root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
        let dir = Self {
            root: root.to_owned(),
            canonical_root,
        };
        let mut found = false;
        for name in ["index.json", "manifest.json"] {
            if dir.locate(name)?.is_some_and(|p| p.is_file()) {
                found = true;
            }
        }
        if !found {
            return Err(Error::invalid(
                root.display().to_string(),
                "directory has no index.json: not an OCI image layout",
            ));
        }
        Ok(dir)
    }

    fn relative(&self, p: &Path) -> String {
        p.strip_prefix(&self.canonical_root)
            .map_or_else(|_| p.display().to_string(), |r| r.display().to_string())
    }

    /// The file holding `member`, following symlinks one component at a time: `None` when
    /// absent, an error when a link loops or leads outside the layout directory.
    pub fn locate(&self, member: &str) -> Result<Option<PathBuf>> {
        use std::collections::{HashSet, VecDeque};
        use std::ffi::OsString;
        use std::path::Component;
        fn parts(p: &Path) -> Vec<OsString> {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(x) => Some(x.to_owned()),
                    Component::ParentDir => Some(OsString::from("..")),
                    _ => None,
                })
                .collect()
        }
        let name = member_name(member.as_bytes());
        let outside = |target: &Path| {
            Error::invalid(
                format!("{}: {name}", self.label()),
                format!(
                    "is a symlink pointing outside the layout directory (-> {}); refused",
                    target.display()
                ),
            )
        };
        let mut cur = self.canonical_root.clone();
        let mut queue: VecDeque<OsString> = parts(Path::new(&name)).into();
        let mut chain: Vec<String> = Vec::new();
        let mut seen: HashSet<(PathBuf, usize)> = HashSet::new();
        while let Some(part) = queue.pop_front() {
            if part == ".." {
                cur.pop();
                continue;
            }
            let next = cur.join(&part);
            let md = match std::fs::symlink_metadata(&next) {
                Ok(md) => md,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return if next.starts_with(&self.canonical_root) {
                        Ok(None)
                    } else {
                        Err(outside(&next))
                    };
                }
                Err(e) => return Err(Error::io(&next, e)),
            };
            if !md.file_type().is_symlink() {
                cur = next;
                continue;
            }
            chain.push(self.relative(&next));
            if !seen.insert((next.clone(), queue.len())) || chain.len() > 40 {
                return Err(Error::invalid(
                    self.label(),
                    format!("symlink cycle: {}", chain.join(" -> ")),
                ));
            }
            let target = std::fs::read_link(&next).map_err(|e| Error::io(&next, e))?;
            if target.is_absolute() {
                cur = PathBuf::from("/");
            }
            for p in parts(&target).into_iter().rev() {
                queue.push_front(p);
            }
        }
        if !cur.starts_with(&self.canonical_root) {
            return Err(outside(&cur));
        }
        Ok(Some(cur))
    }

    /// Reads the given blob files in parallel.
    pub fn scan_layers(
        &self,
        members: &[String],
        opts: &ScanOptions,
        progress: &Progress,
    ) -> Result<HashMap<String, LayerScan>> {
        let mut jobs = Vec::new();
        for m in unique(members) {
            let path = self
                .locate(&m)?
                .ok_or_else(|| Error::invalid(self.label(), format!("{m} is not in the layout")))?;
            let size = std::fs::metadata(&path).map_or(0, |md| md.len());
            jobs.push((m, 0, size));
        }
        run_parallel(jobs, progress, |(member, _, _)| {
            let path = self
                .locate(member)?
                .ok_or_else(|| Error::invalid(self.label(), format!("{member} vanished")))?;
            let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
            let label = self.root.join(member).display().to_string();
            scan_layer(f, &label, &declared(opts, member))
        })
    }
}

impl BlobStore for LayoutDir {
    fn label(&self) -> String {
        self.root.display().to_string()
    }

    fn read_meta(&self, member: &str) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.locate(member)? else {
            return Ok(None);
        };
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
        self.locate(member)
            .ok()
            .flatten()
            .is_some_and(|p| p.is_file())
    }

    fn canonical(&self, member: &str) -> Result<String> {
        self.locate(member)?;
        Ok(member_name(member.as_bytes()))
    }

    fn size_of(&self, member: &str) -> Option<u64> {
        let path = self.locate(member).ok()??;
        std::fs::metadata(path).ok().map(|m| m.len())
    }
}

/// What a single streaming pass over an image tar collected.
#[derive(Debug, Default)]
pub struct StreamContents {
    label: String,
    meta: HashMap<String, Vec<u8>>,
    links: HashMap<String, Link>,
    /// Members compressed in a format strata does not read: member -> why.
    unreadable: HashMap<String, String>,
    /// Bytes of every member that looks like a layer (tar, gzip, zstd).
    layer_sizes: HashMap<String, u64>,
    /// Layer scans by member name.
    pub scans: HashMap<String, LayerScan>,
}

impl BlobStore for StreamContents {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn read_meta(&self, member: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.meta.get(&self.canonical(member)?).cloned())
    }

    fn has_layer(&self, member: &str) -> bool {
        self.canonical(member)
            .is_ok_and(|m| self.scans.contains_key(&m) || self.layer_sizes.contains_key(&m))
    }

    fn canonical(&self, member: &str) -> Result<String> {
        follow_links(&self.label, member, |name| self.links.get(name).cloned())
    }

    fn unreadable(&self, member: &str) -> Option<String> {
        self.unreadable.get(member).cloned()
    }

    fn size_of(&self, member: &str) -> Option<u64> {
        self.layer_sizes.get(member).copied()
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
/// With `shared`, a member that may be a layer the cache holds is only hashed, and the kept
/// scan taken when its digest matches ([`LayerCache::take_streamed`]).
pub fn scan_stream<R: Read>(
    reader: R,
    label: &str,
    opts: &ScanOptions,
    progress: &Progress,
    shared: Option<&LayerCache>,
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
            let size = entry.size();
            let Some((name, head)) = classify_member(&mut entry, &mut contents, label)? else {
                continue;
            };
            contents.layer_sizes.insert(name.clone(), size);
            layer_members += 1;
            progress.layer_started(layer_members);
            budget.take_worker();
            let (tx, rx) = mpsc::channel::<Chunk>();
            let worker_budget = budget.clone();
            let member_label = format!("{label}: {name}");
            let opts = declared(opts, &name);
            let candidates = shared.and_then(|c| Some((c, c.stream_candidates(size, &head)?)));
            let handle = s.spawn(move || {
                let reader = ChunkReader {
                    rx,
                    current: None,
                    pos: 0,
                };
                let r = match candidates {
                    Some((cache, c)) => cache.take_streamed(reader, size, &c, &member_label, &opts),
                    None => scan_layer(reader, &member_label, &opts),
                };
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

/// Reads an image tar stream for its metadata only (manifests, configs, links, member
/// sizes), skipping layer data: enough to list its images.
pub fn scan_stream_meta<R: Read>(reader: R, label: &str) -> Result<StreamContents> {
    let mut contents = StreamContents {
        label: label.to_owned(),
        ..StreamContents::default()
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(|e| archive_error(label, &e))? {
        let mut entry = entry.map_err(|e| archive_error(label, &e))?;
        let size = entry.size();
        if let Some((name, _)) = classify_member(&mut entry, &mut contents, label)? {
            contents.layer_sizes.insert(name, size);
        }
    }
    Ok(contents)
}

/// Sorts one member of an image tar stream: links, metadata documents (read whole, up to
/// `MAX_META_BYTES`) and blobs in a compression strata does not read are recorded in
/// `contents`; a layer blob comes back as its name and first bytes, anything else as `None`.
fn classify_member<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    contents: &mut StreamContents,
    label: &str,
) -> Result<Option<(String, Vec<u8>)>> {
    let name = member_name(&entry.path_bytes());
    let etype = entry.header().entry_type();
    let size = entry.size();
    match etype {
        tar::EntryType::Symlink | tar::EntryType::Link => {
            if let Some(t) = entry.link_name_bytes() {
                let target = link_target(&name, &t, etype == tar::EntryType::Symlink);
                contents.links.insert(name, target);
            }
            return Ok(None);
        }
        tar::EntryType::Regular | tar::EntryType::Continuous if size > 0 => {}
        _ => return Ok(None),
    }
    let head = read_head(entry, size).map_err(|e| archive_error(label, &e))?;
    let layout_file = LAYOUT_FILES.contains(&name.as_str());
    if layout_file || (looks_like_json(&head) && sniff(&head).is_none()) {
        if size <= MAX_META_BYTES {
            let mut all = head;
            entry
                .read_to_end(&mut all)
                .map_err(|e| archive_error(label, &e))?;
            contents.meta.insert(name, all);
        }
        return Ok(None);
    }
    if sniff(&head).is_none() {
        if let Some(kind) = super::layer::unsupported_compression(&head) {
            contents
                .unreadable
                .insert(name, super::layer::unsupported_message(kind));
        }
        return Ok(None);
    }
    Ok(Some((name, head)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_or_are_marked_outside() {
        assert_eq!(
            link_target("a/layer.tar", b"../b/layer.tar", true),
            Link::Member("b/layer.tar".into())
        );
        assert_eq!(
            link_target("a/layer.tar", b"../../x", true),
            Link::Outside("../../x".into())
        );
        assert_eq!(
            link_target("a/layer.tar", b"/etc/passwd", true),
            Link::Outside("/etc/passwd".into())
        );
        // Hard links are relative to the archive root.
        assert_eq!(
            link_target("a/b/c", b"a/x", false),
            Link::Member("a/x".into())
        );
        assert_eq!(
            link_target("a/b/c", b"../x", false),
            Link::Outside("../x".into())
        );
        let links: HashMap<&str, Link> = [
            ("a", Link::Member("b".into())),
            ("b", Link::Member("c".into())),
            ("c", Link::Member("a".into())),
        ]
        .into_iter()
        .collect();
        let err = follow_links("x.tar", "a", |n| links.get(n).cloned())
            .expect_err("cycle")
            .to_string();
        assert_eq!(err, "x.tar: symlink cycle: a -> b -> c -> a");
        assert_eq!(
            follow_links("x.tar", "z", |n| links.get(n).cloned()).expect("plain"),
            "z"
        );
    }
}
