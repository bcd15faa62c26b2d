//! Package bloat: caches left behind, build toolchains in a final image, tools an application
//! image rarely needs, and documentation. Data in `assets/bloat.toml`.

use std::sync::LazyLock;

use serde::Deserialize;

use super::context::{finding, human, size_severity, Ctx, Subtree};
use super::finding::{Category, Finding, Package, Severity};
use super::packages::{glob, Inventory};

/// The built-in bloat data.
pub const BLOAT_DATA: &str = include_str!("../../assets/bloat.toml");

/// One kind of cache.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// What it is.
    pub name: String,
    /// Directories (`*` matches one component).
    pub paths: Vec<String>,
    /// Child names not counted (reported by a more specific cache).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// How to avoid it.
    pub fix: String,
}

/// Build toolchains.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolchainSpec {
    /// Package name patterns.
    pub packages: Vec<String>,
    /// dpkg sections.
    pub sections: Vec<String>,
    /// Runtime libraries that never count, whatever their name or section.
    #[serde(default)]
    pub runtime: Vec<String>,
    /// Packages counted only when one of `compilers` is installed.
    #[serde(default)]
    pub with_compiler: Vec<String>,
    /// Compiler packages.
    #[serde(default)]
    pub compilers: Vec<String>,
    /// Directories of toolchains installed without a package manager.
    pub dirs: Vec<String>,
}

impl ToolchainSpec {
    /// The toolchain packages of an inventory: by name or dpkg section, never a runtime
    /// library, and a compiler's companion (`cpp`) only next to a compiler.
    pub fn packages<'a>(&self, inv: &'a Inventory) -> Vec<&'a Package> {
        let any = |globs: &[String], name: &str| globs.iter().any(|g| glob(g, name));
        let runtime = |p: &Package| any(&self.runtime, &p.name);
        let compiler = inv
            .packages
            .iter()
            .any(|p| !runtime(p) && any(&self.compilers, &p.name));
        inv.packages
            .iter()
            .zip(&inv.sections)
            .filter(|(p, s)| {
                !runtime(p)
                    && (any(&self.packages, &p.name)
                        || any(&self.with_compiler, &p.name)
                        || s.as_ref().is_some_and(|s| self.sections.contains(s)))
                    && (compiler || !any(&self.with_compiler, &p.name))
            })
            .map(|(p, _)| p)
            .collect()
    }
}

/// A family of rarely needed tools.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolsSpec {
    /// Family name.
    pub kind: String,
    /// Package name patterns.
    pub packages: Vec<String>,
    /// Why it matters.
    pub why: String,
    /// How to fix it.
    pub fix: String,
}

/// Documentation directories.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsSpec {
    /// Directories.
    pub paths: Vec<String>,
}

/// The whole bloat data file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BloatData {
    /// Caches.
    #[serde(default)]
    pub cache: Vec<CacheSpec>,
    /// Toolchains.
    #[serde(default)]
    pub toolchain: ToolchainSpec,
    /// Tool families.
    #[serde(default)]
    pub tools: Vec<ToolsSpec>,
    /// Docs.
    #[serde(default)]
    pub docs: DocsSpec,
}

static DATA: LazyLock<std::result::Result<BloatData, String>> =
    LazyLock::new(|| toml::from_str(BLOAT_DATA).map_err(|e| format!("assets/bloat.toml: {e}")));

/// The parsed bloat data.
pub fn data() -> std::result::Result<&'static BloatData, String> {
    DATA.as_ref().map_err(Clone::clone)
}

/// Bloat findings.
pub fn findings(ctx: &Ctx, inv: &Inventory) -> Vec<Finding> {
    let Ok(d) = data() else {
        return Vec::new();
    };
    let mut out = caches(ctx, d);
    out.extend(toolchain(ctx, d, inv));
    out.extend(tools(ctx, d, inv));
    out.extend(docs(ctx, d));
    out
}

fn layer_note(ctx: &Ctx, layer: Option<usize>) -> String {
    layer.map_or_else(String::new, |l| {
        format!(" (mostly from layer {l}: {})", ctx.cmd(l))
    })
}

fn caches(ctx: &Ctx, d: &BloatData) -> Vec<Finding> {
    let fs = &ctx.image.fs;
    let mut out = Vec::new();
    for c in &d.cache {
        for pattern in &c.paths {
            for dir in ctx.glob(pattern) {
                let st = if c.exclude.is_empty() {
                    ctx.subtree(dir)
                } else {
                    let mut total = Subtree::default();
                    for &child in fs.children(dir) {
                        let name = String::from_utf8_lossy(fs.name(child));
                        if c.exclude.iter().any(|e| e == name.as_ref()) {
                            continue;
                        }
                        let s = ctx.subtree(child);
                        total.bytes += s.bytes;
                        total.files += s.files;
                        for (l, b) in s.by_layer {
                            *total.by_layer.entry(l).or_default() += b;
                        }
                    }
                    total
                };
                if st.bytes < ctx.cfg.options.cache_min_bytes.max(1) {
                    continue;
                }
                let path = ctx.path(dir);
                let layer = st.main_layer();
                out.push(Finding {
                    path: Some(path.clone()),
                    layer,
                    bytes: Some(st.bytes),
                    evidence: Some(format!("{} file(s), {} bytes under {path}", st.files, st.bytes)),
                    fix: Some(c.fix.clone()),
                    why: Some("Package-manager and build caches are only needed while building; left in a layer they are shipped to every host that pulls the image.".to_owned()),
                    ..finding(
                        "bloat-cache",
                        Category::Bloat,
                        size_severity(st.bytes).max(Severity::Low),
                        format!("{} left in the image: {path}", c.name),
                        format!(
                            "{path} holds {} of {} in {} file(s){}.",
                            human(st.bytes),
                            c.name,
                            st.files,
                            layer_note(ctx, layer)
                        ),
                    )
                });
            }
        }
    }
    out
}

fn list_packages(pkgs: &[&Package]) -> String {
    let mut v: Vec<&&Package> = pkgs.iter().collect();
    v.sort_by(|a, b| {
        b.size_bytes
            .cmp(&a.size_bytes)
            .then_with(|| a.name.cmp(&b.name))
    });
    let shown: Vec<String> = v
        .iter()
        .take(10)
        .map(|p| format!("{} {} ({})", p.name, p.version, human(p.size_bytes)))
        .collect();
    let more = if v.len() > 10 {
        format!(" and {} more", v.len() - 10)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

fn largest_layer(pkgs: &[&Package]) -> Option<usize> {
    pkgs.iter()
        .max_by_key(|p| p.size_bytes)
        .and_then(|p| p.layer)
}

fn toolchain(ctx: &Ctx, d: &BloatData, inv: &Inventory) -> Vec<Finding> {
    let t = &d.toolchain;
    let pkgs = t.packages(inv);
    let mut dirs: Vec<(String, Subtree)> = Vec::new();
    for pattern in &t.dirs {
        for dir in ctx.glob(pattern) {
            let st = ctx.subtree(dir);
            if st.bytes > 0 {
                dirs.push((ctx.path(dir), st));
            }
        }
    }
    // What the image added and what it inherited are reported apart.
    let mut out = Vec::new();
    for base in [false, true] {
        let pkgs: Vec<&Package> = pkgs.iter().copied().filter(|p| p.base == base).collect();
        let dirs: Vec<&(String, Subtree)> = dirs
            .iter()
            .filter(|(_, s)| s.main_layer().is_some_and(|l| ctx.base.is_base_layer(l)) == base)
            .collect();
        out.extend(toolchain_finding(ctx, &pkgs, &dirs));
    }
    out
}

fn toolchain_finding(ctx: &Ctx, pkgs: &[&Package], dirs: &[&(String, Subtree)]) -> Option<Finding> {
    if pkgs.is_empty() && dirs.is_empty() {
        return None;
    }
    let bytes: u64 = pkgs.iter().map(|p| p.size_bytes).sum::<u64>()
        + dirs.iter().map(|(_, s)| s.bytes).sum::<u64>();
    let mut what = Vec::new();
    if !pkgs.is_empty() {
        what.push(format!("packages {}", list_packages(pkgs)));
    }
    for (p, s) in dirs {
        what.push(format!("{p} ({})", human(s.bytes)));
    }
    let layer = largest_layer(pkgs).or_else(|| dirs.first().and_then(|(_, s)| s.main_layer()));
    Some(Finding {
        layer,
        bytes: Some(bytes),
        evidence: Some(what.join("; ")),
        fix: Some("Use a multi-stage build: compile in a `builder` stage that has the toolchain, then `COPY --from=builder` only the built artefacts into a slim runtime image.".to_owned()),
        why: Some("Compilers, headers and build tools are needed to build, not to run. In the final image they add size and give an attacker a ready-made toolchain.".to_owned()),
        ..finding(
            "bloat-toolchain",
            Category::Bloat,
            size_severity(bytes).max(Severity::Low),
            "Build toolchain in the final image",
            format!(
                "The final image ships a build toolchain: {}. A multi-stage build would save about {}{}.",
                what.join("; "),
                human(bytes),
                layer_note(ctx, layer)
            ),
        )
    })
}

fn tools(ctx: &Ctx, d: &BloatData, inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for (t, base) in d.tools.iter().flat_map(|t| [(t, false), (t, true)]) {
        let pkgs: Vec<&Package> = inv
            .matching(&t.packages)
            .map(|(_, p)| p)
            .filter(|p| p.base == base)
            .collect();
        if pkgs.is_empty() {
            continue;
        }
        let bytes: u64 = pkgs.iter().map(|p| p.size_bytes).sum();
        let layer = largest_layer(&pkgs);
        out.push(Finding {
            layer,
            bytes: Some(bytes),
            evidence: Some(list_packages(&pkgs)),
            fix: Some(t.fix.clone()),
            why: Some(t.why.clone()),
            ..finding(
                "bloat-tools",
                Category::Bloat,
                Severity::Low,
                format!("{} installed", capitalise(&t.kind)),
                format!(
                    "The image installs {}: {}{}.",
                    t.kind,
                    list_packages(&pkgs),
                    layer_note(ctx, layer)
                ),
            )
        });
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn docs(ctx: &Ctx, d: &BloatData) -> Vec<Finding> {
    let fs = &ctx.image.fs;
    let dirs: Vec<(String, Subtree)> = d
        .docs
        .paths
        .iter()
        .flat_map(|pattern| ctx.glob(pattern))
        .map(|dir| (ctx.path(dir), ctx.subtree(dir)))
        .collect();
    let mut out = Vec::new();
    // Documentation this image added and documentation it inherited are reported apart.
    for base in [false, true] {
        let mut parts = Vec::new();
        let mut total = Subtree::default();
        for (path, st) in &dirs {
            let mut part = Subtree::default();
            for &v in &st.versions {
                let ver = &fs.versions[v as usize];
                if ctx.base.is_base_layer(ver.layer as usize) == base {
                    part.bytes += ver.size;
                    part.files += 1;
                    *part.by_layer.entry(ver.layer as usize).or_default() += ver.size;
                }
            }
            if part.bytes > 0 {
                parts.push(format!("{path} {}", human(part.bytes)));
                total.bytes += part.bytes;
                total.files += part.files;
                for (l, b) in part.by_layer {
                    *total.by_layer.entry(l).or_default() += b;
                }
            }
        }
        if total.bytes == 0 || total.bytes < ctx.cfg.options.docs_min_bytes {
            continue;
        }
        let layer = total.main_layer();
        out.push(Finding {
            layer,
            bytes: Some(total.bytes),
            evidence: Some(parts.join(", ")),
            fix: Some("On Debian/Ubuntu add a dpkg `path-exclude=/usr/share/doc/*` (and man, locale) file under /etc/dpkg/dpkg.cfg.d/ before installing, or delete them in the same RUN; on Alpine do not install `*-doc` packages.".to_owned()),
            why: Some("Documentation, man pages and translations are never read inside a container.".to_owned()),
            ..finding(
                "bloat-docs",
                Category::Bloat,
                size_severity(total.bytes),
                "Documentation, man pages and locales",
                format!(
                    "{} files of documentation, man pages and locales take {}: {}{}.",
                    total.files,
                    human(total.bytes),
                    parts.join(", "),
                    layer_note(ctx, layer)
                ),
            )
        });
    }
    out
}

/// True when `path` lies under one of the documentation directories of the bloat data (such
/// files are reported by `bloat-docs`, never as duplicates: dpkg installs one copy per package).
pub fn is_documentation(ctx: &Ctx, path: crate::model::fs::PathId) -> bool {
    let Ok(d) = data() else { return false };
    let fs = &ctx.image.fs;
    let p = fs.path(path);
    d.docs.paths.iter().any(|dir| {
        let dir = dir.as_bytes();
        p.len() > dir.len() && p.starts_with(dir) && p[dir.len()] == b'/'
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_parses() {
        let d = data().expect("bloat.toml");
        assert!(d.cache.len() >= 8);
        assert!(d.toolchain.packages.iter().any(|p| p == "gcc-*"));
        assert_eq!(d.tools.len(), 3);
        assert!(!d.docs.paths.is_empty());
    }
}
