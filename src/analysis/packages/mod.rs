//! Package inventories read from what the content inspector kept during the single pass over
//! the layers, each package with the layer that added it and the file it came from:
//! dpkg (`status`, distroless `status.d/`), apk, rpm (SQLite and Berkeley DB rpmdb), Python
//! (`*.dist-info`, `*.egg-info`), npm (`package.json` of installed packages; lock files as
//! declared dependencies), Go and Rust binaries (build info, `cargo auditable`), Java archives
//! and Ruby gem specifications. `etc/os-release` gives distribution packages their purl
//! namespace.

pub mod files;
pub mod golang;
pub mod java;
pub mod npm;
pub mod purl;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod rust;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::context::Ctx;
use super::finding::Package;
use crate::model::fs::{PathId, Status, VersionId};
use crate::model::path::split_parent;
use purl::OsRelease;

/// Package database files larger than this are not kept.
pub const MAX_DB_BYTES: u64 = 64 << 20;

/// What kind of package metadata a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// `var/lib/dpkg/status`.
    DpkgStatus,
    /// One file of distroless `var/lib/dpkg/status.d/`.
    DpkgStatusD,
    /// `lib/apk/db/installed`.
    Apk,
    /// rpm's SQLite database (`rpmdb.sqlite`).
    RpmSqlite,
    /// rpm's Berkeley DB hash database (`Packages`).
    RpmBdb,
    /// A Python `METADATA` / `PKG-INFO` file, or an `.egg-info` file.
    PythonMetadata,
    /// A Python `RECORD` (installed files with sizes).
    PythonRecord,
    /// An npm `package.json`.
    NpmPackage,
    /// `package-lock.json` / `npm-shrinkwrap.json`.
    NpmLock,
    /// `yarn.lock`.
    YarnLock,
    /// `pnpm-lock.yaml`.
    PnpmLock,
    /// A Ruby gem `specifications/*.gemspec`.
    Gemspec,
    /// `etc/os-release` or `usr/lib/os-release`.
    OsRelease,
}

/// The kind of package metadata `path` (normalised, no leading `/`) holds, if any.
pub fn classify(path: &[u8]) -> Option<DbKind> {
    match path {
        b"var/lib/dpkg/status" => return Some(DbKind::DpkgStatus),
        b"lib/apk/db/installed" => return Some(DbKind::Apk),
        b"etc/os-release" | b"usr/lib/os-release" => return Some(DbKind::OsRelease),
        _ => {}
    }
    let (parent, name) = split_parent(path);
    if parent == b"var/lib/dpkg/status.d" {
        return (!name.ends_with(b".md5sums")).then_some(DbKind::DpkgStatusD);
    }
    if matches!(
        parent,
        b"var/lib/rpm" | b"usr/lib/sysimage/rpm" | b"usr/share/rpm"
    ) {
        return match name {
            b"rpmdb.sqlite" => Some(DbKind::RpmSqlite),
            b"Packages" => Some(DbKind::RpmBdb),
            _ => None,
        };
    }
    if let Some(kind) = python::classify(parent, name) {
        return Some(kind);
    }
    if let Some(kind) = npm::classify(name) {
        return Some(kind);
    }
    if name.ends_with(b".gemspec") && last_is(parent, b"specifications") {
        return Some(DbKind::Gemspec);
    }
    None
}

/// True for the files the inventory reads.
pub fn is_package_db(path: &[u8]) -> bool {
    classify(path).is_some()
}

fn last_is(path: &[u8], name: &[u8]) -> bool {
    split_parent(path).1 == name
}

/// Marks content the inspector replaced by the packages it found in it (binaries, archives).
pub const DERIVED_MAGIC: &[u8] = b"\0strata:packages\n";

/// Packages the inspector found inside a binary or archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derived {
    /// `go`, `rust` or `java`.
    pub manager: String,
    /// The packages.
    pub records: Vec<Record>,
}

/// Reduces a binary or archive to the packages it embeds: Go build info and `cargo auditable`
/// data of ELF executables, Java archive metadata. `None` when there are none.
pub fn derive(path: &[u8], content: &[u8]) -> Option<Vec<u8>> {
    let found = if java::is_archive(path) {
        Derived {
            manager: "java".to_owned(),
            records: java::inspect(path, content),
        }
    } else if content.starts_with(b"\x7fELF") {
        if let Some(records) = golang::inspect(content) {
            Derived {
                manager: "go".to_owned(),
                records,
            }
        } else {
            Derived {
                manager: "rust".to_owned(),
                records: rust::inspect(content)?,
            }
        }
    } else {
        return None;
    };
    if found.records.is_empty() {
        return None;
    }
    let mut out = DERIVED_MAGIC.to_vec();
    serde_json::to_writer(&mut out, &found).ok()?;
    Some(out)
}

/// A content digest of a package (`SHA-256`, `SHA-512`, … as CycloneDX names them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hash {
    /// Algorithm, as CycloneDX names it.
    pub alg: String,
    /// Lower-case hex digest.
    pub hex: String,
}

/// One record of a package database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Name, as the metadata writes it.
    pub name: String,
    /// Version (rpm: `VERSION-RELEASE`).
    pub version: String,
    /// Installed bytes (0 when unknown).
    pub size: u64,
    /// dpkg section.
    pub section: Option<String>,
    /// Declared license.
    pub license: Option<String>,
    /// Architecture.
    pub arch: Option<String>,
    /// rpm epoch.
    pub epoch: Option<String>,
    /// Namespace for the purl (Maven group, npm scope is part of the name).
    pub namespace: Option<String>,
    /// Names (or rpm/apk capabilities) of the packages it depends on.
    pub depends: Vec<String>,
    /// Capabilities it provides besides its name (rpm, apk).
    pub provides: Vec<String>,
    /// Digests of the package.
    pub hashes: Vec<Hash>,
    /// Path inside the archive it came from (nested jars), appended to the file path.
    pub inner: Option<String>,
}

impl Record {
    /// A record with a name and version only.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            ..Self::default()
        }
    }
}

/// The package inventory plus per-package details the bloat checks and SBOMs need.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Installed packages, by manager then name.
    pub packages: Vec<Package>,
    /// dpkg `Section` of each package (same order), when known.
    pub sections: Vec<Option<String>>,
    /// SBOM details of each package (same order).
    pub details: Vec<Detail>,
    /// Dependencies declared by lock files (`package-lock.json`, `yarn.lock`,
    /// `pnpm-lock.yaml`), kept apart from the installed packages.
    pub declared: Vec<Package>,
    /// The image's operating system, from `etc/os-release`.
    pub os: Option<OsRelease>,
}

/// What an SBOM knows about a package beyond the report's [`Package`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    /// Indexes (into [`Inventory::packages`]) of the packages it depends on.
    pub depends: Vec<usize>,
    /// Digests of the package.
    pub hashes: Vec<Hash>,
    /// Architecture.
    pub arch: Option<String>,
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

/// Package names in a dpkg relationship field (`Depends`, `Pre-Depends`): version constraints
/// and architecture qualifiers dropped, every alternative kept.
fn dpkg_relations(field: &str) -> Vec<String> {
    field
        .split([',', '|'])
        .filter_map(|alt| {
            let name = alt.split(['(', '[', '<', ' ']).find(|s| !s.is_empty())?;
            let name = name.split(':').next().unwrap_or(name).trim();
            (!name.is_empty()).then(|| name.to_owned())
        })
        .collect()
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
        let mut depends = Vec::new();
        for f in ["Pre-Depends", "Depends"] {
            if let Some(v) = fields.get(f) {
                depends.extend(dpkg_relations(v));
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
            arch: fields.get("Architecture").map(|s| (*s).to_owned()),
            provides: fields
                .get("Provides")
                .map(|v| dpkg_relations(v))
                .unwrap_or_default(),
            depends,
            ..Record::default()
        });
    }
    out
}

/// apk relationship tokens (`so:libc.musl-x86_64.so.1`, `musl>=1.2`) without versions.
fn apk_tokens(field: &str) -> Vec<String> {
    field
        .split_whitespace()
        .filter(|t| !t.starts_with('!'))
        .map(|t| t.split(['=', '<', '>', '~']).next().unwrap_or(t).to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Parses apk's `lib/apk/db/installed` (`P:` name, `V:` version, `I:` installed bytes, `L:`
/// license, `A:` architecture, `D:` depends, `p:` provides).
pub fn parse_apk(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut r = Record::default();
        for line in block.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k {
                "P" => r.name = v.to_owned(),
                "V" => r.version = v.to_owned(),
                "I" => r.size = v.parse().unwrap_or(0),
                "L" if !v.is_empty() => r.license = Some(v.to_owned()),
                "A" if !v.is_empty() => r.arch = Some(v.to_owned()),
                "D" => r.depends = apk_tokens(v),
                "p" => r.provides = apk_tokens(v),
                _ => {}
            }
        }
        if !r.name.is_empty() {
            out.push(r);
        }
    }
    out
}

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Parses a multi-package database of `kind`.
fn parse_db(kind: DbKind, bytes: &[u8]) -> Vec<Record> {
    match kind {
        DbKind::DpkgStatus | DbKind::DpkgStatusD => parse_dpkg(&text(bytes)),
        DbKind::Apk => parse_apk(&text(bytes)),
        DbKind::RpmSqlite => rpm::parse_sqlite(bytes).unwrap_or_default(),
        DbKind::RpmBdb => rpm::parse_bdb(bytes).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Manager name (the report's `manager`) of a database kind.
fn manager_of(kind: DbKind) -> &'static str {
    match kind {
        DbKind::DpkgStatus | DbKind::DpkgStatusD => "dpkg",
        DbKind::Apk => "apk",
        DbKind::RpmSqlite | DbKind::RpmBdb => "rpm",
        DbKind::PythonMetadata | DbKind::PythonRecord => "python",
        DbKind::NpmPackage | DbKind::NpmLock | DbKind::YarnLock | DbKind::PnpmLock => "npm",
        DbKind::Gemspec => "gem",
        DbKind::OsRelease => "os",
    }
}

/// The package URL of a record of `manager`.
pub fn purl_of(manager: &str, r: &Record, os: Option<&OsRelease>) -> String {
    let distro = os.map(OsRelease::distro).unwrap_or_default();
    let os_id = os.map(|o| o.id.as_str());
    let arch = r.arch.clone().unwrap_or_default();
    match manager {
        "dpkg" => purl::build(
            "deb",
            Some(os_id.unwrap_or("debian")),
            &r.name,
            &r.version,
            &[("arch", arch), ("distro", distro)],
        ),
        "apk" => purl::build(
            "apk",
            Some(os_id.unwrap_or("alpine")),
            &r.name,
            &r.version,
            &[("arch", arch), ("distro", distro)],
        ),
        "rpm" => purl::build(
            "rpm",
            os_id,
            &r.name,
            &r.version,
            &[
                ("arch", arch),
                ("epoch", r.epoch.clone().unwrap_or_default()),
                ("distro", distro),
            ],
        ),
        "python" => purl::build("pypi", None, &purl::pep503(&r.name), &r.version, &[]),
        "npm" => match r.name.rsplit_once('/') {
            Some((scope, name)) => purl::build("npm", Some(scope), name, &r.version, &[]),
            None => purl::build("npm", None, &r.name, &r.version, &[]),
        },
        "go" => match r.name.rsplit_once('/') {
            Some((ns, name)) => purl::build("golang", Some(ns), name, &r.version, &[]),
            None => purl::build("golang", None, &r.name, &r.version, &[]),
        },
        "rust" => purl::build("cargo", None, &r.name, &r.version, &[]),
        "java" => purl::build("maven", r.namespace.as_deref(), &r.name, &r.version, &[]),
        "gem" => purl::build("gem", None, &r.name, &r.version, &[]),
        other => purl::build(other, None, &r.name, &r.version, &[]),
    }
}

/// One package while the inventory is assembled.
struct Entry {
    pkg: Package,
    rec: Record,
    /// Directory of an npm package (for `node_modules` resolution).
    dir: Vec<u8>,
}

/// Builds the inventory from the final image's package databases.
pub fn inventory(ctx: &Ctx) -> Inventory {
    let fs = &ctx.image.fs;
    // Every distinct database path that is visible in the final image.
    let mut db_paths: Vec<PathId> = ctx
        .image
        .captured
        .keys()
        .map(|&v| fs.versions[v as usize].path)
        .collect();
    db_paths.sort_unstable();
    db_paths.dedup();
    let os = [b"etc/os-release".as_slice(), b"usr/lib/os-release"]
        .iter()
        .filter_map(|p| fs.lookup(p))
        .filter_map(|pid| fs.final_version(pid))
        .filter_map(|v| ctx.image.captured.get(&v))
        .find_map(|b| OsRelease::parse(&text(b)));
    let mut entries: Vec<Entry> = Vec::new();
    let mut declared: Vec<Entry> = Vec::new();
    for pid in db_paths {
        let Some(final_v) = fs.final_version(pid) else {
            continue;
        };
        let Some(bytes) = ctx.image.captured.get(&final_v) else {
            continue;
        };
        let path = fs.path(pid);
        let source = crate::model::path::display(path);
        let push = |list: &mut Vec<Entry>, manager: &str, rec: Record, layer, dir: &[u8]| {
            let src = match &rec.inner {
                Some(inner) => format!("{source}!{inner}"),
                None => source.clone(),
            };
            list.push(Entry {
                pkg: Package {
                    manager: manager.to_owned(),
                    name: rec.name.clone(),
                    version: rec.version.clone(),
                    size_bytes: rec.size,
                    layer,
                    source: src,
                    license: rec.license.clone(),
                    purl: purl_of(manager, &rec, os.as_ref()),
                    base: layer.is_some_and(|l: usize| ctx.base.is_base_layer(l)),
                },
                rec,
                dir: dir.to_vec(),
            });
        };
        if let Some(json) = bytes.strip_prefix(DERIVED_MAGIC) {
            let Ok(d) = serde_json::from_slice::<Derived>(json) else {
                continue;
            };
            let layer = chain_start(ctx, pid);
            for rec in d.records {
                push(&mut entries, &d.manager, rec, layer, b"");
            }
            continue;
        }
        let Some(kind) = classify(path) else {
            continue;
        };
        let manager = manager_of(kind);
        match kind {
            DbKind::DpkgStatus | DbKind::Apk | DbKind::RpmSqlite | DbKind::RpmBdb => {
                let since = since_layers(ctx, pid, kind);
                for r in parse_db(kind, bytes) {
                    let layer = since.get(&r.name).copied();
                    push(&mut entries, manager, r, layer, b"");
                }
            }
            DbKind::DpkgStatusD => {
                let layer = chain_start(ctx, pid);
                for r in parse_dpkg(&text(bytes)) {
                    push(&mut entries, manager, r, layer, b"");
                }
            }
            DbKind::PythonMetadata => {
                let Some(mut r) = python::parse_metadata(&text(bytes)) else {
                    continue;
                };
                let (parent, _) = split_parent(path);
                let record = crate::model::path::join(parent, b"RECORD");
                r.size = fs
                    .lookup(&record)
                    .and_then(|r| fs.final_version(r))
                    .and_then(|rv| ctx.image.captured.get(&rv))
                    .map_or(0, |t| python::record_bytes(&text(t)));
                push(&mut entries, manager, r, chain_start(ctx, pid), b"");
            }
            DbKind::NpmPackage => {
                let Some(r) = npm::parse_package_json(bytes) else {
                    continue;
                };
                let dir = fs.parent(pid);
                let mut r = r;
                r.size = ctx.subtree_excluding(dir, b"node_modules").bytes;
                let (parent, _) = split_parent(path);
                push(&mut entries, manager, r, chain_start(ctx, pid), parent);
            }
            DbKind::NpmLock | DbKind::YarnLock | DbKind::PnpmLock => {
                let recs = match kind {
                    DbKind::NpmLock => npm::parse_package_lock(bytes),
                    DbKind::YarnLock => npm::parse_yarn_lock(&text(bytes)),
                    _ => npm::parse_pnpm_lock(&text(bytes)),
                };
                let layer = chain_start(ctx, pid);
                for r in recs {
                    push(&mut declared, manager, r, layer, b"");
                }
            }
            DbKind::Gemspec => {
                if let Some(r) = ruby::parse_gemspec(&text(bytes)) {
                    push(&mut entries, manager, r, chain_start(ctx, pid), b"");
                }
            }
            DbKind::PythonRecord | DbKind::OsRelease => {}
        }
    }
    let (packages, sections, details) = finish(entries, true);
    let (declared, _, _) = finish(declared, false);
    Inventory {
        packages,
        sections,
        details,
        declared,
        os,
    }
}

/// Sanitises, sorts and resolves dependencies into indexes.
fn finish(
    mut entries: Vec<Entry>,
    resolve: bool,
) -> (Vec<Package>, Vec<Option<String>>, Vec<Detail>) {
    for e in &mut entries {
        let p = &mut e.pkg;
        p.name = crate::model::sanitize(&p.name);
        p.version = crate::model::sanitize(&p.version);
        p.license = p.license.as_deref().map(crate::model::sanitize);
    }
    entries.sort_by(|a, b| {
        let key = |e: &Entry| {
            (
                e.pkg.manager.clone(),
                e.pkg.name.clone(),
                e.pkg.version.clone(),
                e.pkg.source.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut details = Vec::with_capacity(entries.len());
    // Who provides each name or capability, per manager (or per file for binaries).
    let mut providers: HashMap<(String, String), usize> = HashMap::new();
    let mut npm_dirs: HashMap<&[u8], usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let scope = dependency_scope(e);
        let name = match e.pkg.manager.as_str() {
            "python" => purl::pep503(&e.rec.name),
            _ => e.rec.name.clone(),
        };
        providers.entry((scope.clone(), name)).or_insert(i);
        for p in &e.rec.provides {
            providers.entry((scope.clone(), p.clone())).or_insert(i);
        }
        if e.pkg.manager == "npm" && !e.dir.is_empty() {
            npm_dirs.insert(&e.dir, i);
        }
    }
    for (i, e) in entries.iter().enumerate() {
        let mut depends = Vec::new();
        if resolve {
            let scope = dependency_scope(e);
            for d in &e.rec.depends {
                let found = if e.pkg.manager == "npm" && !e.dir.is_empty() {
                    npm::resolve(&e.dir, d, &npm_dirs)
                } else {
                    let key = match e.pkg.manager.as_str() {
                        "python" => purl::pep503(d),
                        _ => d.clone(),
                    };
                    providers.get(&(scope.clone(), key)).copied()
                };
                if let Some(j) = found.filter(|&j| j != i) {
                    depends.push(j);
                }
            }
            depends.sort_unstable();
            depends.dedup();
        }
        details.push(Detail {
            depends,
            hashes: e.rec.hashes.clone(),
            arch: e.rec.arch.clone(),
        });
    }
    let mut packages = Vec::with_capacity(entries.len());
    let mut sections = Vec::with_capacity(entries.len());
    for e in entries {
        packages.push(e.pkg);
        sections.push(e.rec.section);
    }
    (packages, sections, details)
}

/// Where a package's dependency names are looked up: the whole database for distribution
/// packages and Python, the binary itself for Go and Rust.
fn dependency_scope(e: &Entry) -> String {
    match e.pkg.manager.as_str() {
        "go" | "rust" | "java" => format!("{}\0{}", e.pkg.manager, e.pkg.source),
        m => m.to_owned(),
    }
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
fn since_layers(ctx: &Ctx, pid: PathId, kind: DbKind) -> HashMap<String, usize> {
    let fs = &ctx.image.fs;
    let mut since: HashMap<String, usize> = HashMap::new();
    for &v in fs.versions_of(pid) {
        let ver = &fs.versions[v as usize];
        if ver.status == Status::Added {
            since.clear();
        }
        let Some(bytes) = captured(ctx, v) else {
            continue;
        };
        let names: std::collections::HashSet<String> =
            parse_db(kind, bytes).into_iter().map(|r| r.name).collect();
        since.retain(|n, _| names.contains(n));
        for n in names {
            since.entry(n).or_insert(ver.layer as usize);
        }
    }
    since
}

fn captured<'a>(ctx: &'a Ctx, v: VersionId) -> Option<&'a [u8]> {
    ctx.image.captured.get(&v).map(|b| &b[..])
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
        assert_eq!(
            classify(b"var/lib/rpm/rpmdb.sqlite"),
            Some(DbKind::RpmSqlite)
        );
        assert_eq!(
            classify(b"usr/lib/sysimage/rpm/rpmdb.sqlite"),
            Some(DbKind::RpmSqlite)
        );
        assert_eq!(classify(b"var/lib/rpm/Packages"), Some(DbKind::RpmBdb));
        assert_eq!(classify(b"etc/os-release"), Some(DbKind::OsRelease));
        assert!(is_package_db(
            b"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
        ));
        assert!(is_package_db(
            b"usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD"
        ));
        assert!(is_package_db(
            b"usr/lib/python3/site-packages/x-1.0.egg-info/PKG-INFO"
        ));
        assert!(is_package_db(b"opt/tool/X-1.0.DIST-INFO/METADATA"));
        assert!(is_package_db(b"opt/x.egg/EGG-INFO/PKG-INFO"));
        assert!(is_package_db(b"usr/lib/python3/dist-packages/y-2.egg-info"));
        assert!(is_package_db(b"app/node_modules/left-pad/package.json"));
        assert!(is_package_db(b"app/node_modules/@scope/pkg/package.json"));
        assert!(is_package_db(b"app/package.json"));
        assert_eq!(classify(b"app/package-lock.json"), Some(DbKind::NpmLock));
        assert_eq!(classify(b"app/yarn.lock"), Some(DbKind::YarnLock));
        assert_eq!(classify(b"app/pnpm-lock.yaml"), Some(DbKind::PnpmLock));
        assert_eq!(
            classify(b"usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec"),
            Some(DbKind::Gemspec)
        );
        assert!(!is_package_db(b"usr/share/doc/rake.gemspec"));
        assert!(!is_package_db(b"app/main.py"));
    }

    #[test]
    fn dpkg_stanzas() {
        let t = "Package: a\nStatus: install ok installed\nSection: devel\nInstalled-Size: 10\nVersion: 1.0\nArchitecture: amd64\nPre-Depends: libc6 (>= 2.34)\nDepends: b | c:any, d [amd64]\nProvides: virt (= 1)\nDescription: x\n more\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n\nPackage: c\nStatus: install ok installed\nVersion: 3\n";
        let r = parse_dpkg(t);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "a");
        assert_eq!(r[0].size, 10240);
        assert_eq!(r[0].section.as_deref(), Some("devel"));
        assert_eq!(r[0].arch.as_deref(), Some("amd64"));
        assert_eq!(r[0].depends, ["libc6", "b", "c", "d"]);
        assert_eq!(r[0].provides, ["virt"]);
        assert_eq!(r[1].name, "c");
        assert_eq!(r[1].size, 0);
    }

    #[test]
    fn apk_records() {
        let r = parse_apk(
            "C:Q1x\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\nI:643072\np:so:libc.musl-x86_64.so.1=1\n\nP:busybox\nV:1.36\nI:10\nD:so:libc.musl-x86_64.so.1 !foo musl>=1.2\n",
        );
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].name.as_str(), r[0].size), ("musl", 643072));
        assert_eq!(r[0].license.as_deref(), Some("MIT"));
        assert_eq!(r[0].provides, ["so:libc.musl-x86_64.so.1"]);
        assert_eq!(r[1].depends, ["so:libc.musl-x86_64.so.1", "musl"]);
        assert!(glob("*-dev", "libssl-dev"));
        assert!(glob("gcc-*", "gcc-12"));
        assert!(!glob("gcc-*", "gcc"));
        assert!(glob("gcc", "gcc"));
    }

    #[test]
    fn purls_by_manager() {
        let os = OsRelease::parse("ID=debian\nVERSION_ID=\"12\"\n");
        let mut r = Record::new("libc6", "2.36-9+deb12u4");
        r.arch = Some("amd64".into());
        assert_eq!(
            purl_of("dpkg", &r, os.as_ref()),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            purl_of("python", &Record::new("Zope.Interface", "6.0"), None),
            "pkg:pypi/zope-interface@6.0"
        );
        assert_eq!(
            purl_of("npm", &Record::new("@babel/core", "7.1.0"), None),
            "pkg:npm/%40babel/core@7.1.0"
        );
        let mut j = Record::new("commons-lang3", "3.12.0");
        j.namespace = Some("org.apache.commons".into());
        assert_eq!(
            purl_of("java", &j, None),
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0"
        );
        let fedora = OsRelease::parse("ID=fedora\nVERSION_ID=39\n");
        let mut b = Record::new("bash", "5.2.15-5.fc39");
        b.arch = Some("x86_64".into());
        b.epoch = Some("1".into());
        assert_eq!(
            purl_of("rpm", &b, fedora.as_ref()),
            "pkg:rpm/fedora/bash@5.2.15-5.fc39?arch=x86_64&distro=fedora-39&epoch=1"
        );
    }
}
