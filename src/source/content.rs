//! Reading a file's bytes back out of a layer (file viewer, extract, secret reveal).

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

use crate::model::fs::{EntryKind, VersionId};
use crate::model::{Compression, Image, Origin};
use crate::{Error, Result};

/// Opens the uncompressed tar stream of `layer`.
pub fn open_layer(image: &Image, layer: usize) -> Result<Box<dyn Read + Send>> {
    let l = image
        .layers
        .get(layer)
        .ok_or_else(|| Error::Other(format!("no layer {layer}")))?;
    let member = l.location.member.clone();
    let raw: Box<dyn Read + Send> = match &image.origin {
        Origin::Archive(path) => match l.location.offset {
            Some(off) => {
                let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
                f.seek(SeekFrom::Start(off))
                    .map_err(|e| Error::io(path, e))?;
                Box::new(f.take(l.location.blob_bytes))
            }
            None => {
                let f = File::open(path).map_err(|e| Error::io(path, e))?;
                let outer =
                    decompress(Box::new(io::BufReader::new(f)), &path.display().to_string())?;
                member_stream(outer, &member, &path.display().to_string())?
            }
        },
        Origin::Directory(root) => {
            let dir = super::archive::LayoutDir::open(root)?;
            let p = dir.locate(&member)?.ok_or_else(|| {
                Error::invalid(
                    root.display().to_string(),
                    format!("{member} is not in the layout"),
                )
            })?;
            Box::new(File::open(&p).map_err(|e| Error::io(&p, e))?)
        }
        Origin::Memory(bytes) => member_stream(
            Box::new(Cursor::new(bytes.clone().to_vec())),
            &member,
            "demo",
        )?,
        #[cfg(feature = "daemon")]
        Origin::Daemon(reference) => {
            let export = super::daemon::export_blocking(reference)?;
            member_stream(export, &member, reference)?
        }
        #[cfg(not(feature = "daemon"))]
        Origin::Daemon(reference) => return Err(super::no_daemon(reference)),
        #[cfg(feature = "registry")]
        Origin::Registry(origin) => {
            let digest = l.blob_digest.clone();
            super::registry::open_blob(origin, &digest, l.location.blob_bytes)?
        }
        #[cfg(not(feature = "registry"))]
        Origin::Registry(origin) => {
            return Err(Error::Other(format!(
                "{}: this build has no registry source (cargo feature `registry`)",
                origin.repository
            )))
        }
    };
    match l.compression {
        Compression::None => Ok(raw),
        Compression::Gzip => Ok(Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::new(raw),
        ))),
        Compression::Zstd => Ok(Box::new(
            zstd::stream::read::Decoder::new(raw)
                .map_err(|e| Error::Other(format!("zstd: {e}")))?,
        )),
    }
}

/// Every tar entry of `layer` exactly as stored, in archive order (the anatomy view's raw
/// listing): the layer is read once, through the same reader and tar walk as a load, with
/// contents skipped. `progress` is called with the entries read so far; returning `false`
/// stops the read.
pub fn raw_entries(
    image: &Image,
    layer: usize,
    progress: Option<std::sync::Arc<dyn Fn(usize) -> bool + Send + Sync>>,
) -> Result<Vec<super::layer::RawEntry>> {
    let reader = open_layer(image, layer)?;
    let label = format!(
        "{}: layer {layer}",
        crate::model::sanitize(&image.reference)
    );
    let opts = super::layer::ScanOptions {
        raw_entries: true,
        skip_digests: true,
        raw_progress: progress,
        ..super::layer::ScanOptions::default()
    };
    Ok(super::layer::scan_layer(reader, &label, &opts)?.raw)
}

fn decompress(mut r: Box<dyn io::BufRead + Send>, label: &str) -> Result<Box<dyn Read + Send>> {
    let head = r.fill_buf().map_err(|e| Error::io(label, e))?.to_vec();
    Ok(match super::layer::sniff(&head) {
        Some(Compression::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Some(Compression::Zstd) => Box::new(
            zstd::stream::read::Decoder::with_buffer(r)
                .map_err(|e| Error::Other(format!("zstd: {e}")))?,
        ),
        _ => Box::new(r),
    })
}

/// Walks an image tar stream to `member` and returns a reader over its bytes.
fn member_stream(
    outer: Box<dyn Read + Send>,
    member: &str,
    label: &str,
) -> Result<Box<dyn Read + Send>> {
    let mut archive = tar::Archive::new(outer);
    let entries = archive.entries().map_err(|e| Error::io(label, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::io(label, e))?;
        let name = String::from_utf8_lossy(&crate::model::path::normalize(&entry.path_bytes()))
            .into_owned();
        if name == member && entry.header().entry_type().is_file() {
            let mut buf = Vec::with_capacity(entry.size() as usize);
            entry
                .read_to_end(&mut buf)
                .map_err(|e| Error::io(label, e))?;
            return Ok(Box::new(Cursor::new(buf)));
        }
    }
    Err(Error::invalid(
        label,
        format!("member {member} not found on re-read"),
    ))
}

/// A reader over the content of `version` from byte `start` on (hard links read their
/// target), and how many bytes it yields. The layer is opened and read up to `start` once: a
/// caller that goes on reading sequentially (the viewer's jump to the end) never reads the
/// layer again.
pub fn open_content(
    image: &Image,
    version: VersionId,
    start: u64,
) -> Result<(Box<dyn Read + Send>, u64)> {
    let v = content_version(image, version);
    if v.kind != EntryKind::File {
        return Ok((Box::new(io::empty()), 0));
    }
    let start = start.min(v.size);
    let mut stream = open_layer(image, v.layer as usize)?;
    io::copy(&mut (&mut stream).take(v.offset + start), &mut io::sink())
        .map_err(|e| Error::Other(format!("reading layer {}: {e}", v.layer)))?;
    let left = v.size - start;
    Ok((Box::new(stream.take(left)), left))
}

/// Reads `len` bytes starting at `start` of the content of `version` (hard links read their
/// target). Returns fewer bytes at the end of the file.
pub fn read_range(image: &Image, version: VersionId, start: u64, len: u64) -> Result<Vec<u8>> {
    let (stream, left) = open_content(image, version, start)?;
    let len = len.min(left);
    let mut out = Vec::with_capacity(len as usize);
    stream.take(len).read_to_end(&mut out).map_err(|e| {
        let layer = content_version(image, version).layer;
        Error::Other(format!("reading layer {layer}: {e}"))
    })?;
    Ok(out)
}

/// The version holding the bytes of `version` (a hard link's target).
fn content_version(image: &Image, version: VersionId) -> &crate::model::fs::Version {
    let v = &image.fs.versions[version as usize];
    match (v.kind, v.link_version) {
        (EntryKind::HardLink, Some(t)) => &image.fs.versions[t as usize],
        _ => v,
    }
}

/// Reads the whole content of `version`, at most `max` bytes.
pub fn read_content(image: &Image, version: VersionId, max: u64) -> Result<Vec<u8>> {
    read_range(image, version, 0, max)
}
