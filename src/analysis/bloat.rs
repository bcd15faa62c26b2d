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
    /// Directories of toolchains installed without a package manager.
    pub dirs: Vec<String>,
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
        format!(" (mostly from layer {l}: `{}`)", ctx.cmd(l))
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
    let pkgs: Vec<&Package> = inv
        .packages
        .iter()
        .zip(&inv.sections)
        .filter(|(p, s)| {
            t.packages.iter().any(|g| glob(g, &p.name))
                || s.as_ref()
                    .is_some_and(|s| t.sections.iter().any(|x| x == s))
        })
        .map(|(p, _)| p)
        .collect();
    let mut dirs: Vec<(String, Subtree)> = Vec::new();
    for pattern in &t.dirs {
        for dir in ctx.glob(pattern) {
            let st = ctx.subtree(dir);
            if st.bytes > 0 {
                dirs.push((ctx.path(dir), st));
            }
        }
    }
    if pkgs.is_empty() && dirs.is_empty() {
        return Vec::new();
    }
    let bytes: u64 = pkgs.iter().map(|p| p.size_bytes).sum::<u64>()
        + dirs.iter().map(|(_, s)| s.bytes).sum::<u64>();
    let mut what = Vec::new();
    if !pkgs.is_empty() {
        what.push(format!("packages {}", list_packages(&pkgs)));
    }
    for (p, s) in &dirs {
        what.push(format!("{p} ({})", human(s.bytes)));
    }
    let layer = largest_layer(&pkgs).or_else(|| dirs.first().and_then(|(_, s)| s.main_layer()));
    vec![Finding {
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
    }]
}

fn tools(ctx: &Ctx, d: &BloatData, inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for t in &d.tools {
        let pkgs: Vec<&Package> = inv.matching(&t.packages).map(|(_, p)| p).collect();
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
    let mut parts = Vec::new();
    let mut total = Subtree::default();
    for pattern in &d.docs.paths {
        for dir in ctx.glob(pattern) {
            let st = ctx.subtree(dir);
            if st.bytes > 0 {
                parts.push(format!("{} {}", ctx.path(dir), human(st.bytes)));
                total.bytes += st.bytes;
                total.files += st.files;
                for (l, b) in st.by_layer {
                    *total.by_layer.entry(l).or_default() += b;
                }
            }
        }
    }
    if total.bytes == 0 || total.bytes < ctx.cfg.options.docs_min_bytes {
        return Vec::new();
    }
    let layer = total.main_layer();
    vec![Finding {
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
    }]
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
