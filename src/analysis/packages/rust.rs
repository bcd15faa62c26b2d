//! Rust binaries built with `cargo auditable`: the zlib-compressed JSON dependency list in
//! the `.dep-v0` ELF section.

use std::io::Read;

use super::Record;

/// Crates embedded by `cargo auditable` (build-time-only crates left out), with their
/// dependency edges. `None` when the binary has no `.dep-v0` section.
pub fn inspect(elf: &[u8]) -> Option<Vec<Record>> {
    let section = super::golang::elf_section(elf, b".dep-v0")?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(section)
        .take(8 << 20)
        .read_to_end(&mut json)
        .ok()?;
    parse(&json)
}

/// Parses the `cargo auditable` JSON (`{"packages": [{name, version, kind, dependencies}]}`).
pub fn parse(json: &[u8]) -> Option<Vec<Record>> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let pkgs = v.get("packages")?.as_array()?;
    let names: Vec<&str> = pkgs
        .iter()
        .map(|p| p.get("name").and_then(|n| n.as_str()).unwrap_or(""))
        .collect();
    let mut out = Vec::new();
    for p in pkgs {
        if p.get("kind").and_then(|k| k.as_str()) == Some("build") {
            continue;
        }
        let name = p.get("name")?.as_str()?;
        let version = p.get("version").and_then(|v| v.as_str()).unwrap_or("");
        let mut r = Record::new(name, version);
        r.depends = p
            .get("dependencies")
            .and_then(|d| d.as_array())
            .map(|d| {
                d.iter()
                    .filter_map(|i| i.as_u64())
                    .filter_map(|i| names.get(i as usize).map(|n| (*n).to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        out.push(r);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditable_json() {
        let r = parse(br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"serde","version":"1.0.1","source":"crates.io"},{"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}"#)
            .expect("records");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].depends, ["serde", "cc"]);
        assert_eq!(
            (r[1].name.as_str(), r[1].version.as_str()),
            ("serde", "1.0.1")
        );
        assert_eq!(parse(b"{}"), None);
    }
}
