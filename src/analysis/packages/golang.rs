//! Go binaries: the module list and Go version the linker embeds in every executable (the
//! build info `go version -m` prints), from the `.go.buildinfo` section of an ELF file. The
//! inline format of Go 1.18 and later is read; older binaries are not.

use super::Record;

const MAGIC: &[u8] = b"\xff Go buildinf:";

/// The file range of the ELF section called `name`.
pub fn elf_section<'a>(elf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    if !elf.starts_with(b"\x7fELF") {
        return None;
    }
    let is64 = *elf.get(4)? == 2;
    let le = *elf.get(5)? == 1;
    let rd = |at: usize, n: usize| -> Option<u64> {
        let b = elf.get(at..at.checked_add(n)?)?;
        let mut v = 0u64;
        for i in 0..n {
            let byte = if le { b[n - 1 - i] } else { b[i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    };
    let (shoff, shentsize, shnum, shstrndx) = if is64 {
        (rd(0x28, 8)?, rd(0x3A, 2)?, rd(0x3C, 2)?, rd(0x3E, 2)?)
    } else {
        (rd(0x20, 4)?, rd(0x2E, 2)?, rd(0x30, 2)?, rd(0x32, 2)?)
    };
    let section = |i: u64| -> Option<(u64, u64, u64)> {
        let at = usize::try_from(shoff.checked_add(i.checked_mul(shentsize)?)?).ok()?;
        if is64 {
            Some((rd(at, 4)?, rd(at + 24, 8)?, rd(at + 32, 8)?))
        } else {
            Some((rd(at, 4)?, rd(at + 16, 4)?, rd(at + 20, 4)?))
        }
    };
    let (_, str_off, str_size) = section(shstrndx)?;
    let str_end = str_off.checked_add(str_size)?;
    let strtab = elf.get(usize::try_from(str_off).ok()?..usize::try_from(str_end).ok()?)?;
    for i in 0..shnum.min(4096) {
        let Some((name_off, off, size)) = section(i) else {
            continue;
        };
        let n = strtab.get(usize::try_from(name_off).ok()?..)?;
        let n = &n[..n.iter().position(|&b| b == 0).unwrap_or(n.len())];
        if n == name {
            let start = usize::try_from(off).ok()?;
            return elf.get(start..start.checked_add(usize::try_from(size).ok()?)?);
        }
    }
    None
}

fn uvarint(b: &[u8]) -> Option<(usize, usize)> {
    let mut v: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((usize::try_from(v).ok()?, i + 1));
        }
    }
    None
}

/// The Go version and the module info text of a build-info blob (inline format).
pub fn read_buildinfo(blob: &[u8]) -> Option<(String, String)> {
    let at = blob
        .chunks(16)
        .position(|c| c.starts_with(MAGIC))
        .map(|i| i * 16)?;
    let header = blob.get(at..at + 32)?;
    if header[15] & 2 == 0 {
        return None; // pointer format (Go < 1.18)
    }
    let mut rest = &blob[at + 32..];
    let mut strings = Vec::new();
    for _ in 0..2 {
        let (len, n) = uvarint(rest)?;
        let s = rest.get(n..n.checked_add(len)?)?;
        strings.push(s);
        rest = &rest[n + len..];
    }
    let version = String::from_utf8_lossy(strings[0]).into_owned();
    let mut modinfo = strings[1];
    // The module info is framed by 16-byte sentinels.
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        modinfo = &modinfo[16..modinfo.len() - 16];
    }
    Some((version, String::from_utf8_lossy(modinfo).into_owned()))
}

/// Modules of a Go executable: the main module (version `(devel)` for local builds, with
/// the target `GOARCH`), every dependency (a module replacement's version when replaced) and the
/// standard library as `stdlib` at the Go version. `None` when it is not a Go binary.
pub fn inspect(elf: &[u8]) -> Option<Vec<Record>> {
    let section = elf_section(elf, b".go.buildinfo")?;
    let (go_version, modinfo) = read_buildinfo(section)?;
    let mut main: Option<Record> = None;
    let mut deps: Vec<Record> = Vec::new();
    let mut arch = None;
    for line in modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", path, version, ..] => main = Some(Record::new(*path, *version)),
            ["dep", path, version, ..] => deps.push(Record::new(*path, *version)),
            // A replacement by another module version counts; a local directory
            // (`=> ./dep`) keeps the required version.
            ["=>", path, version, ..] => {
                let local = path.starts_with('.') || path.starts_with('/');
                if let Some(d) = deps.last_mut().filter(|_| !local && !version.is_empty()) {
                    d.version = (*version).to_owned();
                }
            }
            ["build", setting] => {
                if let Some(a) = setting.strip_prefix("GOARCH=") {
                    arch = Some(a.to_owned());
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut stdlib = Record::new("stdlib", go_version);
    stdlib.arch = arch.clone();
    if let Some(mut m) = main {
        m.arch = arch;
        m.depends = deps.iter().map(|d| d.name.clone()).collect();
        m.depends.push("stdlib".to_owned());
        out.push(m);
    }
    out.extend(deps);
    out.push(stdlib);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varstr(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut n = s.len();
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(s);
        out
    }

    #[test]
    fn inline_buildinfo() {
        let mut blob = vec![0u8; 16];
        blob.extend_from_slice(MAGIC);
        blob.extend_from_slice(&[8, 2]);
        blob.resize(48, 0);
        blob.extend(varstr(b"go1.19.8"));
        let mut modinfo = vec![b'x'; 16];
        modinfo.extend_from_slice(b"path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.0\th1:abc=\ndep\texample.com/dep\tv1.0.0\n=>\t./dep\t\t\nbuild\tGOARCH=amd64\n");
        modinfo.extend_from_slice(&[b'y'; 16]);
        blob.extend(varstr(&modinfo));
        let (v, info) = read_buildinfo(&blob).expect("buildinfo");
        assert_eq!(v, "go1.19.8");
        assert!(info.starts_with("path\t"), "{info:?}");
        let mut elf_less = Vec::new();
        elf_less.extend_from_slice(&blob);
        assert_eq!(inspect(&elf_less), None, "not an ELF file");
        assert_eq!(elf_section(b"\x7fELF", b".go.buildinfo"), None);
    }
}
