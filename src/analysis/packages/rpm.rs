//! rpm databases: the SQLite `rpmdb.sqlite` (Fedora/RHEL 9+, openSUSE Tumbleweed) and the
//! Berkeley DB hash `Packages` (RHEL/CentOS <= 8, Amazon Linux 2). Each value is an rpm header
//! blob, read here for the few tags an inventory needs.

use super::Record;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_SIZE: u32 = 1009;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_PROVIDENAME: u32 = 1047;
const TAG_REQUIRENAME: u32 = 1049;
const TAG_LONGSIZE: u32 = 5009;
const TAG_OLDFILENAMES: u32 = 1027;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// `n` NUL-terminated strings of a header's data store from `off` (a string array).
fn strings_at(data: &[u8], off: usize, n: usize) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(n.min(data.len()));
    let mut at = off;
    for _ in 0..n {
        let rest = data.get(at..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
        at += end + 1;
    }
    Some(out)
}

/// Reads one header blob as stored in the database (index count, data length, index entries,
/// data store; no lead or magic). `None` when the blob is malformed or has no name.
pub fn parse_header(blob: &[u8]) -> Option<Record> {
    let il = be32(blob, 0)? as usize;
    let dl = be32(blob, 4)? as usize;
    let data_start = 8usize.checked_add(il.checked_mul(16)?)?;
    let data = blob.get(data_start..data_start.checked_add(dl)?)?;
    let mut r = Record::default();
    let mut size32 = None;
    for i in 0..il {
        let e = 8 + i * 16;
        let (tag, ty) = (be32(blob, e)?, be32(blob, e + 4)?);
        let (off, count) = (be32(blob, e + 8)? as usize, be32(blob, e + 12)? as usize);
        let strings = |n: usize| strings_at(data, off, n);
        let first_string = || -> Option<String> {
            match ty {
                TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => strings(1)?.pop(),
                _ => None,
            }
        };
        match tag {
            TAG_NAME => r.name = first_string()?,
            TAG_VERSION => r.version = first_string().unwrap_or_default(),
            TAG_RELEASE => r.section = first_string(),
            TAG_EPOCH if ty == TYPE_INT32 => r.epoch = be32(data, off).map(|e| e.to_string()),
            TAG_SIZE if ty == TYPE_INT32 => size32 = be32(data, off).map(u64::from),
            TAG_LONGSIZE if ty == TYPE_INT64 => {
                r.size = u64::from_be_bytes(data.get(off..off + 8)?.try_into().ok()?);
            }
            TAG_LICENSE => r.license = first_string(),
            TAG_ARCH => r.arch = first_string(),
            TAG_PROVIDENAME if ty == TYPE_STRING_ARRAY => r.provides = strings(count)?,
            TAG_REQUIRENAME if ty == TYPE_STRING_ARRAY => {
                r.depends = strings(count)?
                    .into_iter()
                    .filter(|d| !d.starts_with("rpmlib("))
                    .collect();
            }
            _ => {}
        }
    }
    if r.name.is_empty() {
        return None;
    }
    if r.size == 0 {
        r.size = size32.unwrap_or(0);
    }
    // The release rides in `section` while parsing; rpm versions are `VERSION-RELEASE`.
    if let Some(release) = r.section.take().filter(|s| !s.is_empty()) {
        r.version = format!("{}-{release}", r.version);
    }
    r.depends.sort();
    r.depends.dedup();
    Some(r)
}

/// Headers to records: rpm's `gpg-pubkey` pseudo-packages are not packages.
fn records(blobs: impl IntoIterator<Item = Vec<u8>>) -> Vec<Record> {
    blobs
        .into_iter()
        .filter_map(|b| parse_header(&b))
        .filter(|r| r.name != "gpg-pubkey")
        .collect()
}

/// Reads every header of an `rpmdb.sqlite` (the `Packages` table's `blob` column).
pub fn parse_sqlite(bytes: &[u8]) -> Result<Vec<Record>, String> {
    sqlite_blobs(bytes).map(records)
}

/// The header blobs of an `rpmdb.sqlite`, in install order. SQLite reads files, so the bytes
/// go through a private temporary file.
fn sqlite_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "strata-rpmdb-{}-{}.sqlite",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| e.to_string())?;
        std::io::Write::write_all(&mut f, bytes).map_err(|e| e.to_string())?;
        drop(f);
        // `immutable`: no locks, no `-wal`/`-shm` files next to the copy.
        let escaped = path
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        let uri = format!("file:{escaped}?immutable=1");
        let db = rusqlite::Connection::open_with_flags(
            &uri,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| e.to_string())?;
        let mut stmt = db
            .prepare("SELECT blob FROM Packages ORDER BY hnum")
            .map_err(|e| e.to_string())?;
        let blobs = stmt
            .query_map([], |row| row.get::<_, Vec<u8>>(0))
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(blobs)
    })();
    let _ = std::fs::remove_file(&path);
    result
}

const BDB_HASH_MAGIC: u32 = 0x0006_1561;
const P_OVERFLOW: u8 = 7;
const P_HASH_UNSORTED: u8 = 2;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const PAGE_HEADER: usize = 26;

/// Reads every header of a Berkeley DB hash `Packages` database.
pub fn parse_bdb(bytes: &[u8]) -> Result<Vec<Record>, String> {
    bdb_blobs(bytes).map(records)
}

/// Every value of a Berkeley DB hash database (rpm's `Packages`): hash pages hold key/value
/// pairs, large values live in chains of overflow pages.
fn bdb_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let magic_le = bytes
        .get(12..16)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
    let magic_be = bytes
        .get(12..16)
        .map(|b| u32::from_be_bytes(b.try_into().unwrap_or([0; 4])));
    let le = if magic_le == Some(BDB_HASH_MAGIC) {
        true
    } else if magic_be == Some(BDB_HASH_MAGIC) {
        false
    } else {
        return Err("not a Berkeley DB hash database".into());
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let u16_at = |b: &[u8], at: usize| -> Option<u16> {
        let a: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    };
    let page_size = u32_at(bytes, 20).ok_or("truncated metadata page")? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("bad page size {page_size}"));
    }
    let pages = bytes.len() / page_size;
    let page = |n: usize| bytes.get(n * page_size..(n + 1) * page_size);
    let overflow = |mut pgno: u32, total: usize| -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(total.min(bytes.len()));
        let mut seen = 0;
        while pgno != 0 && out.len() < total {
            seen += 1;
            if seen > pages {
                return None; // a cycle
            }
            let p = page(pgno as usize)?;
            if p[25] != P_OVERFLOW {
                return None;
            }
            let len = u16_at(p, 22)? as usize;
            out.extend_from_slice(p.get(PAGE_HEADER..PAGE_HEADER + len)?);
            pgno = u32_at(p, 16)?;
        }
        (out.len() == total).then_some(out)
    };
    let mut blobs = Vec::new();
    for n in 1..pages {
        let Some(p) = page(n) else { break };
        if p[25] != P_HASH && p[25] != P_HASH_UNSORTED {
            continue;
        }
        let entries = u16_at(p, 20).unwrap_or(0) as usize;
        // Entries alternate key, value; values are what matter.
        for i in (1..entries).step_by(2) {
            let Some(off) = u16_at(p, PAGE_HEADER + i * 2).map(usize::from) else {
                break;
            };
            match p.get(off) {
                Some(&H_OFFPAGE) => {
                    let (Some(pgno), Some(len)) = (u32_at(p, off + 4), u32_at(p, off + 8)) else {
                        continue;
                    };
                    if let Some(v) = overflow(pgno, len as usize) {
                        blobs.push(v);
                    }
                }
                Some(&H_KEYDATA) => {
                    // Inline value: it runs to the previous entry's start (entries are packed
                    // from the page end downwards).
                    let end = if i == 0 {
                        page_size
                    } else {
                        u16_at(p, PAGE_HEADER + (i - 1) * 2).map_or(page_size, usize::from)
                    };
                    if let Some(v) = p.get(off + 1..end.max(off + 1)) {
                        blobs.push(v.to_vec());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(blobs)
}

/// The files a package's header lists (paths without the leading `/`), from the SQLite or
/// Berkeley DB database in `bytes`, for the package named `name` whose `VERSION-RELEASE` is
/// `version` (any version when no header has that one).
pub fn file_list(
    bytes: &[u8],
    sqlite: bool,
    name: &str,
    version: &str,
) -> Result<Vec<String>, String> {
    let blobs = if sqlite {
        sqlite_blobs(bytes)?
    } else {
        bdb_blobs(bytes)?
    };
    let mut fallback = None;
    for blob in &blobs {
        let Some(r) = parse_header(blob) else {
            continue;
        };
        if r.name != name {
            continue;
        }
        let version_matches = r.version == version || version.ends_with(&format!(":{}", r.version));
        if version_matches {
            return Ok(header_files(blob).unwrap_or_default());
        }
        fallback.get_or_insert(blob);
    }
    match fallback {
        Some(blob) => Ok(header_files(blob).unwrap_or_default()),
        None => Err(format!("no package {name} in the rpm database")),
    }
}

/// The file paths of one header blob: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`, or the old
/// flat `OLDFILENAMES`. Leading `/` removed. `None` when the blob is malformed.
pub fn header_files(blob: &[u8]) -> Option<Vec<String>> {
    let il = be32(blob, 0)? as usize;
    let dl = be32(blob, 4)? as usize;
    let data_start = 8usize.checked_add(il.checked_mul(16)?)?;
    let data = blob.get(data_start..data_start.checked_add(dl)?)?;
    let strings = |off: usize, n: usize| strings_at(data, off, n);
    let (mut base, mut dirs, mut index, mut old) = (None, None, None, None);
    for i in 0..il {
        let e = 8 + i * 16;
        let (tag, ty) = (be32(blob, e)?, be32(blob, e + 4)?);
        let (off, count) = (be32(blob, e + 8)? as usize, be32(blob, e + 12)? as usize);
        match tag {
            TAG_BASENAMES if ty == TYPE_STRING_ARRAY => base = Some(strings(off, count)?),
            TAG_DIRNAMES if ty == TYPE_STRING_ARRAY => dirs = Some(strings(off, count)?),
            TAG_OLDFILENAMES if ty == TYPE_STRING_ARRAY => old = Some(strings(off, count)?),
            TAG_DIRINDEXES if ty == TYPE_INT32 => {
                let mut v = Vec::with_capacity(count.min(dl / 4));
                for k in 0..count {
                    v.push(be32(data, off.checked_add(k.checked_mul(4)?)?)? as usize);
                }
                index = Some(v);
            }
            _ => {}
        }
    }
    let files = match (base, dirs, index, old) {
        (Some(base), Some(dirs), Some(index), _) if base.len() == index.len() => base
            .iter()
            .zip(&index)
            .map(|(b, &d)| Some(format!("{}{b}", dirs.get(d)?)))
            .collect::<Option<Vec<_>>>()?,
        (_, _, _, Some(old)) => old,
        (None, None, None, None) => Vec::new(),
        _ => return None,
    };
    Some(
        files
            .into_iter()
            .map(|f| f.trim_start_matches('/').to_owned())
            .filter(|f| !f.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a header blob with the given (tag, type, data) entries.
    pub(crate) fn header(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, bytes, count) in entries {
            if *ty == TYPE_INT32 || *ty == TYPE_INT64 {
                while data.len() % if *ty == TYPE_INT64 { 8 } else { 4 } != 0 {
                    data.push(0);
                }
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&count.to_be_bytes());
            data.extend_from_slice(bytes);
        }
        let mut out = (entries.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    #[test]
    fn header_tags() {
        let blob = header(&[
            (TAG_NAME, TYPE_STRING, b"bash\0".to_vec(), 1),
            (TAG_VERSION, TYPE_STRING, b"5.2.15\0".to_vec(), 1),
            (TAG_RELEASE, TYPE_STRING, b"5.fc39\0".to_vec(), 1),
            (TAG_EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec(), 1),
            (TAG_SIZE, TYPE_INT32, 8000u32.to_be_bytes().to_vec(), 1),
            (TAG_LICENSE, TYPE_STRING, b"GPL-3.0-or-later\0".to_vec(), 1),
            (TAG_ARCH, TYPE_STRING, b"x86_64\0".to_vec(), 1),
            (
                TAG_REQUIRENAME,
                TYPE_STRING_ARRAY,
                b"libc.so.6()(64bit)\0rpmlib(CompressedFileNames)\0filesystem\0".to_vec(),
                3,
            ),
            (
                TAG_PROVIDENAME,
                TYPE_STRING_ARRAY,
                b"bash\0/bin/sh\0".to_vec(),
                2,
            ),
        ]);
        let r = parse_header(&blob).expect("record");
        assert_eq!(r.name, "bash");
        assert_eq!(r.version, "5.2.15-5.fc39");
        assert_eq!(r.epoch.as_deref(), Some("1"));
        assert_eq!(r.size, 8000);
        assert_eq!(r.license.as_deref(), Some("GPL-3.0-or-later"));
        assert_eq!(r.arch.as_deref(), Some("x86_64"));
        assert_eq!(r.depends, ["filesystem", "libc.so.6()(64bit)"]);
        assert_eq!(r.provides, ["bash", "/bin/sh"]);
        assert_eq!(r.section, None);
    }

    #[test]
    fn file_lists_join_directories_and_base_names() {
        let index: Vec<u8> = [0u32, 1, 0].iter().flat_map(|i| i.to_be_bytes()).collect();
        let blob = header(&[
            (TAG_NAME, TYPE_STRING, b"tool\0".to_vec(), 1),
            (TAG_DIRINDEXES, TYPE_INT32, index, 3),
            (
                TAG_BASENAMES,
                TYPE_STRING_ARRAY,
                b"tool\0tool.conf\0README\0".to_vec(),
                3,
            ),
            (
                TAG_DIRNAMES,
                TYPE_STRING_ARRAY,
                b"/usr/bin/\0/etc/\0".to_vec(),
                2,
            ),
        ]);
        assert_eq!(
            header_files(&blob).expect("files"),
            ["usr/bin/tool", "etc/tool.conf", "usr/bin/README"]
        );
        // An index past the directory list is malformed, not a wrong path.
        let bad: Vec<u8> = [5u32].iter().flat_map(|i| i.to_be_bytes()).collect();
        let blob = header(&[
            (TAG_DIRINDEXES, TYPE_INT32, bad, 1),
            (TAG_BASENAMES, TYPE_STRING_ARRAY, b"x\0".to_vec(), 1),
            (TAG_DIRNAMES, TYPE_STRING_ARRAY, b"/a/\0".to_vec(), 1),
        ]);
        assert_eq!(header_files(&blob), None);
        let old = header(&[(
            TAG_OLDFILENAMES,
            TYPE_STRING_ARRAY,
            b"/bin/sh\0".to_vec(),
            1,
        )]);
        assert_eq!(header_files(&old).expect("files"), ["bin/sh"]);
    }

    #[test]
    fn malformed_headers() {
        assert_eq!(parse_header(b""), None);
        assert_eq!(parse_header(&[0, 0, 0, 9, 0, 0, 0, 1]), None);
        let no_name = header(&[(TAG_VERSION, TYPE_STRING, b"1\0".to_vec(), 1)]);
        assert_eq!(parse_header(&no_name), None);
        let unterminated = header(&[(TAG_NAME, TYPE_STRING, b"bash".to_vec(), 1)]);
        assert_eq!(parse_header(&unterminated), None);
        assert!(parse_bdb(&[0u8; 4096]).is_err());
        assert!(parse_sqlite(b"not sqlite").is_err());
    }
}
