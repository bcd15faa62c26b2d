//! Java archives (jar, war, ear and the like): `META-INF/maven/**/pom.properties` and
//! `META-INF/MANIFEST.MF`, with archives nested one level deep (`WEB-INF/lib/*.jar`).

use std::io::{Cursor, Read};

use sha2::{Digest, Sha256};

use super::{Hash, Record};

/// Nested archives larger than this are not opened.
const MAX_NESTED_BYTES: u64 = 64 << 20;

/// True for the file names of Java archives.
pub fn is_archive(path: &[u8]) -> bool {
    let name = crate::model::path::split_parent(path)
        .1
        .to_ascii_lowercase();
    [
        ".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi", ".nar",
    ]
    .iter()
    .any(|ext| name.ends_with(ext.as_bytes()))
}

/// Reads a `MANIFEST.MF` main section (continuation lines joined).
fn manifest(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(last) = out.last_mut() {
                last.1.push_str(cont);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

/// Reads a `pom.properties` (`groupId`, `artifactId`, `version`).
fn pom_properties(text: &str) -> Option<Record> {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(['=', ':'])?;
            (k.trim() == key).then(|| v.trim().to_owned())
        })
    };
    let mut r = Record::new(get("artifactId")?, get("version").unwrap_or_default());
    r.namespace = get("groupId");
    Some(r)
}

/// Name and version from an archive file name: `commons-lang3-3.12.0.jar`.
fn from_file_name(path: &str) -> (String, String) {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let mut split = None;
    for (i, _) in stem.match_indices('-') {
        if stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()) {
            split = Some(i);
            break;
        }
    }
    match split {
        Some(i) => (stem[..i].to_owned(), stem[i + 1..].to_owned()),
        None => (stem.to_owned(), String::new()),
    }
}

/// Up to 1 MiB of a small text member.
fn read_text(r: impl Read) -> Option<String> {
    let mut s = String::new();
    r.take(1 << 20).read_to_string(&mut s).ok().map(|_| s)
}

/// The packages of one archive at `inner` (`None` for the top level), and nested archives
/// one level deep.
fn archive(content: &[u8], path: &str, inner: Option<&str>, depth: u8, out: &mut Vec<Record>) {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(content)) else {
        return;
    };
    let mut poms = Vec::new();
    let mut main: Vec<(String, String)> = Vec::new();
    let mut nested = Vec::new();
    for i in 0..zip.len() {
        let Ok(mut f) = zip.by_index(i) else {
            continue;
        };
        let name = f.name().to_owned();
        let size = f.size();
        if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            main = read_text(&mut f).map(|t| manifest(&t)).unwrap_or_default();
        } else if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            poms.extend(read_text(&mut f).and_then(|t| pom_properties(&t)));
        } else if depth == 0 && is_archive(name.as_bytes()) && size <= MAX_NESTED_BYTES {
            let mut bytes = Vec::with_capacity(size as usize);
            if f.read_to_end(&mut bytes).is_ok() {
                nested.push((name, bytes));
            }
        }
    }
    let get = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            main.iter()
                .find(|(mk, v)| mk.eq_ignore_ascii_case(k) && !v.is_empty())
                .map(|(_, v)| v.clone())
        })
    };
    let license = get(&["Bundle-License"]);
    let hash = Hash {
        alg: "SHA-256".to_owned(),
        hex: Sha256::digest(content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    let mut records = poms;
    if records.is_empty() {
        let (file_name, file_version) = from_file_name(inner.unwrap_or(path));
        let name = get(&[
            "Implementation-Title",
            "Bundle-SymbolicName",
            "Specification-Title",
        ])
        .map(|n| n.split(';').next().unwrap_or(&n).trim().to_owned())
        .unwrap_or(file_name);
        let version = get(&[
            "Implementation-Version",
            "Bundle-Version",
            "Specification-Version",
        ])
        .unwrap_or(file_version);
        if !name.is_empty() {
            records.push(Record::new(name, version));
        }
    }
    for (i, mut r) in records.into_iter().enumerate() {
        r.inner = inner.map(str::to_owned);
        if i == 0 {
            r.size = content.len() as u64;
            r.hashes = vec![hash.clone()];
            r.license = license.clone();
        }
        out.push(r);
    }
    for (name, bytes) in nested {
        archive(&bytes, path, Some(&name), depth + 1, out);
    }
}

/// The packages a Java archive holds, its own first (sized and hashed), then nested ones.
/// An archive without Maven metadata is named after its manifest, else its file name.
pub fn inspect(path: &[u8], content: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    archive(content, &String::from_utf8_lossy(path), None, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_metadata() {
        assert!(is_archive(b"app/lib/x-1.0.JAR"));
        assert!(is_archive(b"srv/app.war"));
        assert!(!is_archive(b"srv/app.zip"));
        assert_eq!(
            from_file_name("WEB-INF/lib/commons-lang3-3.12.0.jar"),
            ("commons-lang3".to_owned(), "3.12.0".to_owned())
        );
        assert_eq!(from_file_name("app.jar"), ("app".to_owned(), String::new()));
        let m = manifest("Manifest-Version: 1.0\nImplementation-Title: de\n mo\nImplementation-Version: 2\n\nName: x\n");
        assert_eq!(m[1], ("Implementation-Title".to_owned(), "demo".to_owned()));
        assert_eq!(m.len(), 3);
        let p = pom_properties("#x\ngroupId=org.a\nartifactId=b\nversion=1.2\n").expect("pom");
        assert_eq!(
            (p.namespace.as_deref(), p.name.as_str()),
            (Some("org.a"), "b")
        );
        assert!(inspect(b"a.jar", b"not a zip").is_empty());
    }
}
