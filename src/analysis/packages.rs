//! Package inventories read from the databases the inspector kept: dpkg (`status` and
//! distroless `status.d/`), apk, Python (`*.dist-info`, `*.egg-info`) and npm
//! (`node_modules/*/package.json`), each with the layer that added it. rpm is not read.

use std::collections::HashMap;

use super::context::Ctx;
use super::finding::Package;
use crate::model::fs::{PathId, Status, VersionId};
use crate::model::path::split_parent;

/// True for the files the inventory reads.
pub fn is_package_db(path: &[u8]) -> bool {
    if path == b"var/lib/dpkg/status" || path == b"lib/apk/db/installed" {
        return true;
    }
    let (parent, name) = split_parent(path);
    if parent == b"var/lib/dpkg/status.d" {
        return !name.ends_with(b".md5sums");
    }
    if (name == b"METADATA" || name == b"RECORD") && parent.ends_with(b".dist-info") {
        return true;
    }
    if name == b"PKG-INFO" && parent.ends_with(b".egg-info") || name.ends_with(b".egg-info") {
        return true;
    }
    if name == b"package.json" {
        let (gp, pkg) = split_parent(parent);
        if pkg.is_empty() {
            return false;
        }
        let (ggp, scope) = split_parent(gp);
        return last_is(gp, b"node_modules")
            || scope.starts_with(b"@") && last_is(ggp, b"node_modules");
    }
    false
}

fn last_is(path: &[u8], name: &[u8]) -> bool {
    split_parent(path).1 == name
}

/// The package inventory plus per-package details the bloat checks need.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Packages, by manager then name.
    pub packages: Vec<Package>,
    /// dpkg `Section` of each package (same order), when known.
    pub sections: Vec<Option<String>>,
}

impl Inventory {
    /// Packages whose name matches one of `patterns` (`*` globs), with their index.
    pub fn matching<'a>(
        &'a self,
        patterns: &'a [String],
    ) -> impl Iterator<Item = (usize, &'a Package)> + 'a {
        self.packages
            .iter()
            .enumerate()
            .filter(move |(_, p)| patterns.iter().any(|g| glob(g, &p.name)))
    }
}

/// Matches `name` against a pattern with `*` wildcards.
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// One record of a package database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Installed bytes.
    pub size: u64,
    /// dpkg section.
    pub section: Option<String>,
}

/// Parses a dpkg `status` file (or one `status.d/` file): installed packages only, sizes from
/// `Installed-Size` (KiB).
pub fn parse_dpkg(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for line in stanza.lines() {
            if line.starts_with([' ', '\t']) {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                fields.insert(k.trim(), v.trim());
            }
        }
        let Some(name) = fields.get("Package").filter(|n| !n.is_empty()) else {
            continue;
        };
        if let Some(status) = fields.get("Status") {
            if status.split_whitespace().last() != Some("installed") {
                continue;
            }
        }
        out.push(Record {
            name: (*name).to_owned(),
            version: fields.get("Version").copied().unwrap_or("").to_owned(),
            size: fields
                .get("Installed-Size")
                .and_then(|s| s.parse::<u64>().ok())
                .map_or(0, |k| k * 1024),
            section: fields.get("Section").map(|s| (*s).to_owned()),
        });
    }
    out
}

/// Parses apk's `lib/apk/db/installed` (`P:` name, `V:` version, `I:` installed bytes).
pub fn parse_apk(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let (mut name, mut version, mut size) = (None, "", 0);
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("P:") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("V:") {
                version = v.trim();
            } else if let Some(v) = line.strip_prefix("I:") {
                size = v.trim().parse().unwrap_or(0);
            }
        }
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            out.push(Record {
                name: n.to_owned(),
                version: version.to_owned(),
                size,
                section: None,
            });
        }
    }
    out
}

/// Parses the `Name` and `Version` headers of a Python `METADATA` or `PKG-INFO` file.
pub fn parse_python_metadata(text: &str) -> Option<(String, String)> {
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_owned());
        }
    }
    Some((name?, version.unwrap_or_default()))
}

/// Sums the size column of a Python `RECORD` file (`path,hash,size`).
pub fn record_bytes(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.rsplit(',').next())
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .sum()
}

/// Builds the inventory from the final image's package databases.
pub fn inventory(ctx: &Ctx) -> Inventory {
    let fs = &ctx.image.fs;
    let mut entries: Vec<(Package, Option<String>)> = Vec::new();
    // Every distinct database path that is visible in the final image.
    let mut db_paths: Vec<PathId> = ctx
        .image
        .captured
        .keys()
        .map(|&v| fs.versions[v as usize].path)
        .collect();
    db_paths.sort_unstable();
    db_paths.dedup();
    for pid in db_paths {
        let Some(final_v) = fs.final_version(pid) else {
            continue;
        };
        let path = fs.path(pid);
        let (parent, name) = split_parent(path);
        let Some(text) = captured_text(ctx, final_v) else {
            continue;
        };
        if path == b"var/lib/dpkg/status" || path == b"lib/apk/db/installed" {
            let dpkg = path == b"var/lib/dpkg/status";
            let parse = |t: &str| if dpkg { parse_dpkg(t) } else { parse_apk(t) };
            let since = since_layers(ctx, pid, &parse);
            for r in parse(&text) {
                let layer = since.get(&r.name).copied();
                entries.push((
                    Package {
                        manager: if dpkg { "dpkg" } else { "apk" }.to_owned(),
                        name: r.name,
                        version: r.version,
                        size_bytes: r.size,
                        layer,
                        base: false,
                    },
                    r.section,
                ));
            }
        } else if parent == b"var/lib/dpkg/status.d" {
            let layer = chain_start(ctx, pid);
            for r in parse_dpkg(&text) {
                entries.push((
                    Package {
                        manager: "dpkg".to_owned(),
                        name: r.name,
                        version: r.version,
                        size_bytes: r.size,
                        layer,
                        base: false,
                    },
                    r.section,
                ));
            }
        } else if name == b"METADATA" || name == b"PKG-INFO" || name.ends_with(b".egg-info") {
            let Some((n, v)) = parse_python_metadata(&text) else {
                continue;
            };
            let size = if name == b"METADATA" {
                let record = crate::model::path::join(parent, b"RECORD");
                fs.lookup(&record)
                    .and_then(|r| fs.final_version(r))
                    .and_then(|rv| captured_text(ctx, rv))
                    .map_or(0, |t| record_bytes(&t))
            } else {
                0
            };
            entries.push((
                Package {
                    manager: "python".to_owned(),
                    name: n,
                    version: v,
                    size_bytes: size,
                    layer: chain_start(ctx, pid),
                    base: false,
                },
                None,
            ));
        } else if name == b"package.json" {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let Some(n) = json.get("name").and_then(|n| n.as_str()) else {
                continue;
            };
            let v = json.get("version").and_then(|v| v.as_str()).unwrap_or("");
            let dir = fs.parent(pid);
            entries.push((
                Package {
                    manager: "npm".to_owned(),
                    name: n.to_owned(),
                    version: v.to_owned(),
                    size_bytes: ctx.subtree_excluding(dir, b"node_modules").bytes,
                    layer: chain_start(ctx, pid),
                    base: false,
                },
                None,
            ));
        }
    }
    for (p, _) in &mut entries {
        p.base = p.layer.is_some_and(|l| ctx.base.is_base_layer(l));
        p.name = crate::model::sanitize(&p.name);
        p.version = crate::model::sanitize(&p.version);
    }
    entries.sort_by(|a, b| {
        (
            a.0.manager.as_str(),
            a.0.name.as_str(),
            a.0.version.as_str(),
        )
            .cmp(&(
                b.0.manager.as_str(),
                b.0.name.as_str(),
                b.0.version.as_str(),
            ))
    });
    let (packages, sections) = entries.into_iter().unzip();
    Inventory { packages, sections }
}

fn captured_text(ctx: &Ctx, v: VersionId) -> Option<String> {
    ctx.image
        .captured
        .get(&v)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// The layer where the file version chain ending in the final version began (the path was
/// last created there).
fn chain_start(ctx: &Ctx, pid: PathId) -> Option<usize> {
    let fs = &ctx.image.fs;
    let final_v = fs.final_version(pid)?;
    let vs = fs.versions_of(pid);
    let mut i = vs.iter().position(|&v| v == final_v)?;
    while i > 0 && fs.versions[vs[i] as usize].status != Status::Added {
        i -= 1;
    }
    Some(fs.versions[vs[i] as usize].layer as usize)
}

/// For a multi-package database: the layer since which each package of the final version has
/// been continuously present.
fn since_layers(
    ctx: &Ctx,
    pid: PathId,
    parse: &dyn Fn(&str) -> Vec<Record>,
) -> HashMap<String, usize> {
    let fs = &ctx.image.fs;
    let mut since: HashMap<String, usize> = HashMap::new();
    for &v in fs.versions_of(pid) {
        let ver = &fs.versions[v as usize];
        if ver.status == Status::Added {
            since.clear();
        }
        let Some(text) = captured_text(ctx, v) else {
            continue;
        };
        let names: Vec<String> = parse(&text).into_iter().map(|r| r.name).collect();
        since.retain(|n, _| names.contains(n));
        for n in names {
            since.entry(n).or_insert(ver.layer as usize);
        }
    }
    since
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_paths() {
        assert!(is_package_db(b"var/lib/dpkg/status"));
        assert!(is_package_db(b"var/lib/dpkg/status.d/libc6"));
        assert!(!is_package_db(b"var/lib/dpkg/status.d/libc6.md5sums"));
        assert!(!is_package_db(b"var/lib/dpkg/status-old"));
        assert!(is_package_db(b"lib/apk/db/installed"));
        assert!(is_package_db(
            b"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
        ));
        assert!(is_package_db(
            b"usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD"
        ));
        assert!(is_package_db(
            b"usr/lib/python3/site-packages/x-1.0.egg-info/PKG-INFO"
        ));
        assert!(is_package_db(b"app/node_modules/left-pad/package.json"));
        assert!(is_package_db(b"app/node_modules/@scope/pkg/package.json"));
        assert!(is_package_db(
            b"app/node_modules/a/node_modules/b/package.json"
        ));
        assert!(!is_package_db(b"app/node_modules/a/lib/package.json"));
        assert!(!is_package_db(b"app/package.json"));
    }

    #[test]
    fn dpkg_stanzas() {
        let t = "Package: a\nStatus: install ok installed\nSection: devel\nInstalled-Size: 10\nVersion: 1.0\nDescription: x\n more\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n\nPackage: c\nStatus: install ok installed\nVersion: 3\n";
        let r = parse_dpkg(t);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "a");
        assert_eq!(r[0].size, 10240);
        assert_eq!(r[0].section.as_deref(), Some("devel"));
        assert_eq!(r[1].name, "c");
        assert_eq!(r[1].size, 0);
    }

    #[test]
    fn apk_python_npm_parsers() {
        let r = parse_apk("C:Q1x\nP:musl\nV:1.2.4-r2\nI:643072\n\nP:busybox\nV:1.36\nI:10\n");
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].name.as_str(), r[0].size), ("musl", 643072));
        assert_eq!(
            parse_python_metadata("Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n\nbody"),
            Some(("six".to_owned(), "1.16.0".to_owned()))
        );
        assert_eq!(
            record_bytes("six.py,sha256=x,34549\nsix-1.dist-info/RECORD,,\n"),
            34549
        );
        assert!(glob("*-dev", "libssl-dev"));
        assert!(glob("gcc-*", "gcc-12"));
        assert!(!glob("gcc-*", "gcc"));
        assert!(glob("gcc", "gcc"));
    }
}
