//! Python distributions: `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` anywhere in the
//! image (upper-case `DIST-INFO`/`EGG-INFO` too), `.egg-info` files, sizes from `RECORD`.

use super::{DbKind, Record};

/// The Python metadata kind of `parent/name`, if any.
pub fn classify(parent: &[u8], name: &[u8]) -> Option<DbKind> {
    let dist_info = parent.ends_with(b".dist-info") || parent.ends_with(b"DIST-INFO");
    let egg_info = parent.ends_with(b".egg-info") || parent.ends_with(b"EGG-INFO");
    if dist_info && name == b"METADATA" || egg_info && name == b"PKG-INFO" {
        return Some(DbKind::PythonMetadata);
    }
    if dist_info && name == b"RECORD" {
        return Some(DbKind::PythonRecord);
    }
    // An egg-info written as a single file (distutils, Debian's python3-* packages).
    if name.ends_with(b".egg-info") {
        return Some(DbKind::PythonMetadata);
    }
    None
}

/// Parses the headers of a `METADATA` or `PKG-INFO` file: `Name`, `Version`, the license
/// (`License-Expression`, else a one-line `License`, else a `License ::` classifier) and the
/// unconditional `Requires-Dist` names.
pub fn parse_metadata(text: &str) -> Option<Record> {
    let (mut name, mut version) = (None, None);
    let (mut expression, mut license, mut classifier) = (None, None, None);
    let mut depends = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k {
            "Name" => name = Some(v.to_owned()),
            "Version" => version = Some(v.to_owned()),
            "License-Expression" if !v.is_empty() => expression = Some(v.to_owned()),
            "License" if !v.is_empty() && v != "UNKNOWN" && v.len() <= 100 => {
                license = Some(v.to_owned())
            }
            "Classifier" => {
                if let Some(rest) = v.strip_prefix("License ::") {
                    let last = rest.rsplit("::").next().unwrap_or(rest).trim();
                    if !last.is_empty() && classifier.is_none() {
                        classifier = Some(last.to_owned());
                    }
                }
            }
            "Requires-Dist" => {
                let (req, marker) = v.split_once(';').unwrap_or((v, ""));
                if marker.contains("extra") {
                    continue;
                }
                let dep: String = req
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                    .collect();
                if !dep.is_empty() {
                    depends.push(dep);
                }
            }
            _ => {}
        }
    }
    let mut r = Record::new(name.filter(|n| !n.is_empty())?, version.unwrap_or_default());
    r.license = expression.or(license).or(classifier);
    r.depends = depends;
    Some(r)
}

/// Sums the size column of a Python `RECORD` file (`path,hash,size`).
pub fn record_bytes(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.rsplit(',').next())
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata() {
        let r = parse_metadata(
            "Metadata-Version: 2.1\nName: Six_Pkg\nVersion: 1.16.0\nLicense: MIT\nClassifier: License :: OSI Approved :: BSD License\nRequires-Dist: requests (>=2.0)\nRequires-Dist: pytest ; extra == \"test\"\nRequires-Dist: idna>=2; python_version > \"3\"\n\nbody\nName: no",
        )
        .expect("record");
        assert_eq!((r.name.as_str(), r.version.as_str()), ("Six_Pkg", "1.16.0"));
        assert_eq!(r.license.as_deref(), Some("MIT"));
        assert_eq!(r.depends, ["requests", "idna"]);
        let c = parse_metadata("Name: x\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: Apache Software License\n")
            .expect("record");
        assert_eq!(c.license.as_deref(), Some("Apache Software License"));
        assert_eq!(parse_metadata("Version: 1\n"), None);
        assert_eq!(
            record_bytes("six.py,sha256=x,34549\nsix-1.dist-info/RECORD,,\n"),
            34549
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(
            classify(b"a/x-1.dist-info", b"METADATA"),
            Some(DbKind::PythonMetadata)
        );
        assert_eq!(
            classify(b"a/x-1.dist-info", b"RECORD"),
            Some(DbKind::PythonRecord)
        );
        assert_eq!(classify(b"a/x-1.dist-info", b"WHEEL"), None);
        assert_eq!(
            classify(b"a", b"x-1.egg-info"),
            Some(DbKind::PythonMetadata)
        );
        assert_eq!(classify(b"a/x.egg-info", b"SOURCES.txt"), None);
    }
}
