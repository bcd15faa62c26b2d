//! Reading one layer blob as a stream: sniff the compression, walk the tar once, hash every
//! regular file, and hand selected contents to an inspector (secret rules, package databases).

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::model::fs::{Entry, EntryKind, LayerEntries, Marker};
use crate::model::path::{join, normalize, split_parent};
use crate::model::{Compression, ContentMatch};
use crate::{Error, Result};

/// A layer decompressing to more than this many bytes at a ratio above [`BOMB_RATIO`] is
/// rejected as a decompression bomb.
pub const BOMB_MIN_BYTES: u64 = 1 << 30;
/// See [`BOMB_MIN_BYTES`].
pub const BOMB_RATIO: u64 = 1000;
/// Contents larger than this are never buffered for inspection (the inspector chooses lower
/// limits for most files; binaries and Java archives can be this large).
pub const MAX_INSPECT_BYTES: u64 = 256 << 20;

/// What an inspector wants done with one file.
#[derive(Debug, Default)]
pub struct Inspection {
    /// Findings in the content.
    pub matches: Vec<ContentMatch>,
    /// Keep the whole content in the model (package databases, small metadata files).
    pub keep: bool,
    /// Keep these bytes instead of the content (what a binary or archive was reduced to).
    pub derived: Option<Vec<u8>>,
}

/// Looks at file contents while a layer is read, so nothing is read twice.
pub trait ContentInspector: Send + Sync {
    /// True when the content of `path` (of `size` bytes) should be buffered and passed to
    /// [`ContentInspector::inspect`].
    fn wants(&self, path: &[u8], size: u64) -> bool;
    /// Inspects the content of one regular file.
    fn inspect(&self, path: &[u8], content: &[u8]) -> Inspection;
}

/// Options for reading layers.
#[derive(Clone, Default)]
pub struct ScanOptions {
    /// Content inspector run on the files it wants.
    pub inspector: Option<Arc<dyn ContentInspector>>,
    /// Skip sha256 verification of blobs and diff IDs (faster, less safe).
    pub skip_digests: bool,
    /// The layout names this blob by its digest (OCI blobs, crane and skopeo members). A
    /// compressed blob is then verified by hashing its stored bytes, which authenticates the
    /// content; otherwise by hashing the uncompressed tar against the config's diff ID. An
    /// uncompressed blob is hashed once either way (its digest is its diff ID).
    pub blob_digest_declared: bool,
    /// Record every tar entry exactly as stored ([`LayerScan::raw`]) instead of building the
    /// filesystem entries: the anatomy view's raw listing. Contents are skipped, not hashed.
    pub raw_entries: bool,
    /// Called with the number of entries read so far, every [`RAW_PROGRESS_EVERY`] entries
    /// (raw listings only); returning `false` stops the read (a newer listing was asked for).
    pub raw_progress: Option<Arc<dyn Fn(usize) -> bool + Send + Sync>>,
}

/// How often [`ScanOptions::raw_progress`] is called.
pub const RAW_PROGRESS_EVERY: usize = 4096;

/// One tar entry exactly as stored in a layer: its name as written (`.wh.` names included),
/// type flag, size, mode, owner, link target and the PAX records that preceded it. Compact:
/// about 100 bytes plus the name and link bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// The path as stored (long names already joined from their GNU or PAX records).
    pub path: Box<[u8]>,
    /// The tar type flag (`b'0'` file, `b'5'` directory, `b'1'` hard link, `b'2'` symlink,
    /// `b'g'` PAX global header, …).
    pub kind: u8,
    /// Size field in bytes (the content stored after the header).
    pub size: u64,
    /// Mode bits as stored (file-type bits included when the writer set them).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Link name (hard link target or symlink target), when set.
    pub link: Option<Box<[u8]>>,
    /// Keys of the PAX extended header records that apply to this entry (`path`, `mtime`,
    /// `SCHILY.xattr.security.capability`), space-separated; `None` when there were none.
    pub pax: Option<Box<str>>,
}

impl std::fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanOptions")
            .field("inspector", &self.inspector.is_some())
            .field("skip_digests", &self.skip_digests)
            .field("blob_digest_declared", &self.blob_digest_declared)
            .field("raw_entries", &self.raw_entries)
            .finish_non_exhaustive()
    }
}

/// The result of reading one layer blob.
#[derive(Debug, Clone, Default)]
pub struct LayerScan {
    /// Entries and whiteout markers.
    pub entries: LayerEntries,
    /// Compression sniffed from the blob.
    pub compression: Compression,
    /// Bytes of the stored blob.
    pub blob_bytes: u64,
    /// Bytes of the uncompressed tar.
    pub tar_bytes: u64,
    /// `sha256:` of the compressed blob (empty unless it was hashed, see
    /// [`ScanOptions::blob_digest_declared`]).
    pub blob_digest: String,
    /// `sha256:` of the uncompressed tar, the diff ID (empty unless it was hashed).
    pub diff_id: String,
    /// Inspector findings by entry index.
    pub matches: Vec<(u32, ContentMatch)>,
    /// Kept contents by entry index.
    pub captured: Vec<(u32, Arc<[u8]>)>,
    /// Non-fatal oddities.
    pub warnings: Vec<String>,
    /// Every entry as stored, in archive order (only with [`ScanOptions::raw_entries`]).
    pub raw: Vec<RawEntry>,
}

/// Compression detected from the first bytes of a stream.
pub fn sniff(head: &[u8]) -> Option<Compression> {
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        return Some(Compression::Gzip);
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Some(Compression::Zstd);
    }
    if head.len() >= 4 {
        let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            return Some(Compression::Zstd);
        }
    }
    if looks_like_tar(head) {
        return Some(Compression::None);
    }
    None
}

/// Compressions recognised by their magic bytes that strata does not read.
const UNSUPPORTED: [(&[u8], &str); 6] = [
    (&[0xfd, b'7', b'z', b'X', b'Z', 0], "xz"),
    (b"BZh", "bzip2"),
    (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
    (b"LZIP", "lzip"),
    (&[0x1f, 0x9d], "compress (.Z)"),
    (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "7-zip"),
];

/// The name of a compression strata recognises but does not read (`xz`, `bzip2`, `lz4`,
/// `lzip`, `compress`, `7-zip`), from the first bytes of a stream.
pub fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    UNSUPPORTED
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, name)| *name)
}

/// The error text for a layer compressed with `kind`.
pub fn unsupported_message(kind: &str) -> String {
    format!("layer is {kind}-compressed; strata reads gzip, zstd and uncompressed layers only")
}

/// True when `head` starts with a tar header block (ustar magic, a valid v7 checksum, or an
/// all-zero block as in an empty layer).
pub fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        return !head.is_empty() && head.len() % 512 == 0 && head.iter().all(|&b| b == 0);
    }
    let block = &head[..512];
    if &block[257..262] == b"ustar" {
        return true;
    }
    if block.iter().all(|&b| b == 0) {
        return true;
    }
    // v7 tar: verify the checksum field.
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(expected) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == expected
}

/// Reads and hashes a stream, counting bytes.
struct Hashing<R> {
    inner: R,
    hasher: Option<Sha256>,
    count: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

/// Counts decompressed bytes and stops a decompression bomb.
struct BombGuard<R> {
    inner: R,
    compressed: std::rc::Rc<std::cell::Cell<u64>>,
    count: u64,
}

impl<R: Read> Read for BombGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count > BOMB_MIN_BYTES
            && self.count > self.compressed.get().max(1).saturating_mul(BOMB_RATIO)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompression bomb: {} bytes inflated from {} (ratio above {BOMB_RATIO}:1)",
                    self.count,
                    self.compressed.get()
                ),
            ));
        }
        Ok(n)
    }
}

/// Reads the stored blob, hashing it and sharing its byte count with the bomb guard.
struct Outer<R> {
    inner: R,
    hasher: Option<std::rc::Rc<std::cell::RefCell<Sha256>>>,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Outer<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &self.hasher {
            h.borrow_mut().update(&buf[..n]);
        }
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The `sha256:` digest of everything `reader` yields, also copied into `keep` when given.
pub(super) fn stream_digest<R: Read>(reader: R, keep: Option<&mut Vec<u8>>) -> io::Result<String> {
    let mut hashing = Hashing {
        inner: reader,
        hasher: Some(Sha256::new()),
        count: 0,
    };
    match keep {
        Some(bytes) => io::copy(&mut hashing, bytes)?,
        None => io::copy(&mut hashing, &mut io::sink())?,
    };
    Ok(hex_digest(hashing.hasher.unwrap_or_default()))
}

fn hex_digest(h: Sha256) -> String {
    let out = h.finalize();
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in out {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Reads one layer blob from `reader`. `name` labels errors (archive member or blob path).
pub fn scan_layer<R: Read>(reader: R, name: &str, opts: &ScanOptions) -> Result<LayerScan> {
    let mut buffered = BufReader::with_capacity(256 << 10, reader);
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::invalid(name, format!("cannot read layer: {e}")))?;
    if head.is_empty() {
        return Err(Error::invalid(name, "layer blob is empty"));
    }
    let compression = sniff(head).ok_or_else(|| match unsupported_compression(head) {
        Some(kind) => Error::invalid(name, unsupported_message(kind)),
        None => Error::invalid(name, "layer is neither a tar, a gzip nor a zstd stream"),
    })?;
    let digests = !opts.skip_digests;
    let compressed_count = std::rc::Rc::new(std::cell::Cell::new(0u64));
    // One sha256 per layer: the stored blob when its digest is declared, else the tar.
    let hash_blob = digests && compression != Compression::None && opts.blob_digest_declared;
    let hash_tar = digests && !hash_blob;
    let outer_hasher = hash_blob.then(|| std::rc::Rc::new(std::cell::RefCell::new(Sha256::new())));
    let outer = Outer {
        inner: buffered,
        hasher: outer_hasher.clone(),
        count: compressed_count.clone(),
    };
    let decoded: Box<dyn Read + '_> = match compression {
        Compression::None => Box::new(outer),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            128 << 10,
            outer,
        ))),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(outer)
                .map_err(|e| Error::invalid(name, format!("zstd: {e}")))?,
        ),
    };
    let guarded = BombGuard {
        inner: decoded,
        compressed: compressed_count.clone(),
        count: 0,
    };
    let inner = Hashing {
        inner: guarded,
        hasher: hash_tar.then(Sha256::new),
        count: 0,
    };
    let mut scan = LayerScan {
        compression,
        ..LayerScan::default()
    };
    let mut archive = tar::Archive::new(inner);
    walk_entries(&mut archive, name, opts, &mut scan).map_err(|e| match e {
        Error::Io { source, .. } => layer_io_error(name, compression, &source),
        other => other,
    })?;
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| layer_io_error(name, compression, &e))?;
    scan.tar_bytes = rest.count;
    if let Some(h) = rest.hasher.take() {
        scan.diff_id = hex_digest(h);
    }
    // Finish reading the compressed stream so its digest covers every byte.
    let mut guard = rest.inner;
    let decoded = &mut guard.inner;
    io::copy(decoded, &mut io::sink()).map_err(|e| layer_io_error(name, compression, &e))?;
    drop(guard);
    scan.blob_bytes = compressed_count.get();
    if let Some(h) = outer_hasher {
        scan.blob_digest = hex_digest(h.take());
    }
    Ok(scan)
}

fn layer_io_error(name: &str, compression: Compression, e: &io::Error) -> Error {
    let what = match compression {
        Compression::None => "tar",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    };
    let problem = match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("truncated {what} layer stream ({e})"),
        _ => format!("corrupt {what} layer stream: {e}"),
    };
    Error::invalid(name, problem)
}

fn walk_entries<R: Read>(
    archive: &mut tar::Archive<R>,
    name: &str,
    opts: &ScanOptions,
    scan: &mut LayerScan,
) -> Result<()> {
    let io_err = |e: io::Error| Error::io(name, e);
    let mut buf = vec![0u8; 64 << 10];
    for entry in archive.entries().map_err(io_err)? {
        let mut entry = entry.map_err(io_err)?;
        if opts.raw_entries {
            scan.raw.push(raw_entry(&mut entry));
            if let Some(p) = opts
                .raw_progress
                .as_ref()
                .filter(|_| scan.raw.len() % RAW_PROGRESS_EVERY == 0)
            {
                if !p(scan.raw.len()) {
                    return Err(Error::Other(format!("{name}: listing stopped")));
                }
            }
            continue;
        }
        let raw_path = entry.path_bytes().into_owned();
        let path = normalize(&raw_path);
        let header = entry.header();
        let etype = header.entry_type();
        let kind = match etype {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                EntryKind::File
            }
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => EntryKind::Symlink,
            tar::EntryType::Link => EntryKind::HardLink,
            tar::EntryType::Char => EntryKind::CharDevice,
            tar::EntryType::Block => EntryKind::BlockDevice,
            tar::EntryType::Fifo => EntryKind::Fifo,
            tar::EntryType::XGlobalHeader => continue,
            other => {
                scan.warnings.push(format!(
                    "{name}: skipped entry {} of unsupported tar type {:?}",
                    crate::model::path::display(&path),
                    other
                ));
                continue;
            }
        };
        let (parent, base) = split_parent(&path);
        if let Some(rest) = base.strip_prefix(b".wh.") {
            if rest == b".wh..opq" {
                scan.entries
                    .markers
                    .push(Marker::Opaque(parent.to_vec().into_boxed_slice()));
            } else if !rest.starts_with(b".wh.") {
                scan.entries
                    .markers
                    .push(Marker::Whiteout(join(parent, rest).into_boxed_slice()));
            }
            continue;
        }
        if path.is_empty() {
            continue;
        }
        if scan.compression == Compression::Gzip
            && matches!(
                &path[..],
                b"stargz.index.json" | b".prefetch.landmark" | b".no.prefetch.landmark"
            )
        {
            continue;
        }
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let mut mtime = header.mtime().map_or(0, |m| m as i64);
        let device = if matches!(kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
            match (header.device_major(), header.device_minor()) {
                (Ok(Some(a)), Ok(Some(b))) => Some((a, b)),
                _ => None,
            }
        } else {
            None
        };
        let link = match kind {
            EntryKind::Symlink => entry.link_name_bytes().map(|l| l.into_owned().into()),
            EntryKind::HardLink => entry
                .link_name_bytes()
                .map(|l| normalize(&l).into_boxed_slice()),
            _ => None,
        };
        let mut caps = None;
        if let Ok(Some(pax)) = entry.pax_extensions() {
            for ext in pax.flatten() {
                match ext.key_bytes() {
                    b"SCHILY.xattr.security.capability" => {
                        caps = Some(ext.value_bytes().to_vec().into_boxed_slice());
                    }
                    b"mtime" => {
                        if let Some(t) = ext
                            .value()
                            .ok()
                            .and_then(|v| v.split('.').next())
                            .and_then(|v| v.parse::<i64>().ok())
                        {
                            mtime = t;
                        }
                    }
                    _ => {}
                }
            }
        }
        let offset = entry.raw_file_position();
        let size = if kind == EntryKind::File {
            entry.size()
        } else {
            0
        };
        let index = scan.entries.entries.len() as u32;
        let mut hash = 0;
        if kind == EntryKind::File {
            let inspector = opts
                .inspector
                .as_ref()
                .filter(|i| size <= MAX_INSPECT_BYTES && i.wants(&path, size));
            if let Some(inspector) = inspector {
                let mut content = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut content).map_err(io_err)?;
                if content.len() as u64 != size {
                    return Err(Error::invalid(name, "truncated file content in layer"));
                }
                hash = xxh3_64(&content);
                let found = inspector.inspect(&path, &content);
                for m in found.matches {
                    scan.matches.push((index, m));
                }
                if let Some(derived) = found.derived {
                    scan.captured.push((index, Arc::from(derived)));
                } else if found.keep {
                    scan.captured.push((index, Arc::from(content)));
                }
            } else {
                hash = hash_content(&mut entry, &mut buf, size).map_err(io_err)?;
            }
        }
        scan.entries.entries.push(Entry {
            path: path.into_boxed_slice(),
            kind,
            link,
            size,
            mode,
            uid,
            gid,
            mtime,
            hash,
            offset,
            device,
            caps,
        });
    }
    Ok(())
}

/// The entry as stored (see [`RawEntry`]).
fn raw_entry<R: Read>(entry: &mut tar::Entry<'_, R>) -> RawEntry {
    let pax = entry.pax_extensions().ok().flatten().map(|exts| {
        exts.flatten()
            .map(|e| String::from_utf8_lossy(e.key_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
            .into_boxed_str()
    });
    let header = entry.header();
    let kind = header.entry_type().as_byte();
    let mode = header.mode().unwrap_or(0);
    let uid = header.uid().unwrap_or(0) as u32;
    let gid = header.gid().unwrap_or(0) as u32;
    let size = header.entry_size().unwrap_or(0);
    let link = entry
        .link_name_bytes()
        .filter(|l| !l.is_empty())
        .map(|l| l.into_owned().into_boxed_slice());
    RawEntry {
        path: entry.path_bytes().into_owned().into_boxed_slice(),
        kind,
        size,
        mode,
        uid,
        gid,
        link,
        pax: pax.filter(|p| !p.is_empty()),
    }
}

fn hash_content<R: Read>(entry: &mut R, buf: &mut [u8], size: u64) -> io::Result<u64> {
    if size <= buf.len() as u64 {
        let n = size as usize;
        entry.read_exact(&mut buf[..n])?;
        return Ok(xxh3_64(&buf[..n]));
    }
    let mut hasher = Xxh3::new();
    let mut left = size;
    while left > 0 {
        let want = (buf.len() as u64).min(left) as usize;
        let n = entry.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file content ends early",
            ));
        }
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(hasher.digest())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn tiny_tar() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "etc/hello", &b"hello"[..])
            .expect("append");
        b.into_inner().expect("tar")
    }

    #[test]
    fn one_sha256_per_layer_blob_when_declared_else_tar() {
        let tar = tiny_tar();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let declared = ScanOptions {
            blob_digest_declared: true,
            ..ScanOptions::default()
        };
        let s = scan_layer(&gz[..], "gz", &declared).expect("scan");
        assert_eq!(s.blob_digest, crate::source::resolve::sha256_digest(&gz));
        assert_eq!(s.diff_id, "");
        let s = scan_layer(&gz[..], "gz", &ScanOptions::default()).expect("scan");
        assert_eq!(s.diff_id, crate::source::resolve::sha256_digest(&tar));
        assert_eq!(s.blob_digest, "");
        assert_eq!(
            (s.compression, s.tar_bytes, s.blob_bytes),
            (Compression::Gzip, tar.len() as u64, gz.len() as u64)
        );
        let s = scan_layer(&tar[..], "plain", &declared).expect("scan");
        assert_eq!(
            s.diff_id,
            crate::source::resolve::sha256_digest(&tar),
            "uncompressed: the tar is the blob"
        );
        assert_eq!(s.entries.entries[0].hash, xxh3_64(b"hello"));
    }
}
