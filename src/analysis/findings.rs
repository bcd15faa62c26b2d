//! The findings pass: secrets, size waste, package bloat and adoption checks over one analysed
//! image, sorted worst first, plus the package inventory.
//!
//! Configuration comes from the `[secrets]` and `[findings]` sections of `.strata.toml`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::efficiency::Efficiency;
use super::finding::{Category, Finding, Package, Severity};
use super::secrets::{RuleSet, SecretsConfig};
use crate::model::fs::{EntryKind, PathId, RemovalCause, VersionId};
use crate::model::Image;
use crate::{Error, Result};

/// The `[findings]` section of `.strata.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingsOptions {
    /// Rule ids never reported.
    pub disable: Vec<String>,
    /// Waste smaller than this is summed into one `waste-small` finding.
    pub waste_min_bytes: u64,
    /// At most this many individual waste findings per rule; the rest are summed.
    pub waste_max_items: usize,
    /// Identical files smaller than this are not reported as duplicates.
    pub duplicate_min_bytes: u64,
    /// Docs, man pages and locales below this many bytes are not reported.
    pub docs_min_bytes: u64,
    /// Caches below this many bytes are not reported.
    pub cache_min_bytes: u64,
    /// An image older than this many days is reported.
    pub max_age_days: u64,
}

impl Default for FindingsOptions {
    fn default() -> Self {
        Self {
            disable: Vec::new(),
            waste_min_bytes: 1024,
            waste_max_items: 25,
            duplicate_min_bytes: 16 << 10,
            docs_min_bytes: 1 << 20,
            cache_min_bytes: 1,
            max_age_days: 180,
        }
    }
}

/// Everything the findings pass and the content inspector need, built once.
#[derive(Debug, Clone)]
pub struct FindingsConfig {
    /// Compiled secret rules (built-in plus the user's).
    pub rules: Arc<RuleSet>,
    /// `[findings]` options.
    pub options: FindingsOptions,
    /// "Now" as Unix seconds for the image-age check (`None`: the system clock).
    pub now: Option<i64>,
}

impl Default for FindingsConfig {
    fn default() -> Self {
        // The built-in rules are covered by unit tests; if they ever failed to load, scanning
        // goes on without them and the failure is reported as a finding.
        let rules =
            RuleSet::builtin().unwrap_or_else(|e| Arc::new(RuleSet::empty(Some(e.to_string()))));
        Self {
            rules,
            options: FindingsOptions::default(),
            now: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    secrets: Option<SecretsConfig>,
    #[serde(default)]
    findings: Option<FindingsOptions>,
}

impl FindingsConfig {
    /// Parses the `[secrets]` and `[findings]` sections of a `.strata.toml` text (other
    /// sections are ignored). `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| Error::invalid(origin, e.to_string()))?;
        let mut table = toml::map::Map::new();
        if let toml::Value::Table(t) = value {
            for key in ["secrets", "findings"] {
                if let Some(v) = t.get(key) {
                    table.insert(key.to_owned(), v.clone());
                }
            }
        }
        let file: ConfigFile = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| Error::invalid(origin, e.to_string()))?;
        let rules = match &file.secrets {
            Some(s) => {
                Arc::new(RuleSet::build(s).map_err(|e| Error::invalid(origin, e.to_string()))?)
            }
            None => RuleSet::builtin()?,
        };
        Ok(Self {
            rules,
            options: file.findings.unwrap_or_default(),
            now: None,
        })
    }

    /// Reads a `.strata.toml` file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// `.strata.toml` in the current directory if there is one, else the defaults.
    pub fn discover() -> Result<Self> {
        let p = Path::new(".strata.toml");
        if p.is_file() {
            Self::load(p)
        } else {
            Ok(Self::default())
        }
    }
}

/// Shared state of one findings pass.
pub struct Ctx<'a> {
    /// The image.
    pub image: &'a Image,
    /// The configuration.
    pub cfg: &'a FindingsConfig,
    /// Where the base image ends.
    pub base: super::base::BaseBoundary,
    cmds: Vec<String>,
}

impl<'a> Ctx<'a> {
    /// Prepares a pass over `image` (its base found from its labels and history).
    pub fn new(image: &'a Image, cfg: &'a FindingsConfig) -> Self {
        Self::with_base(image, cfg, super::base::BaseBoundary::detect(image))
    }

    /// Prepares a pass over `image` whose base is `base`.
    pub fn with_base(
        image: &'a Image,
        cfg: &'a FindingsConfig,
        base: super::base::BaseBoundary,
    ) -> Self {
        let cmds = image
            .layers
            .iter()
            .map(|l| {
                let c = one_line(&super::secrets::redact_with(&cfg.rules, &l.created_by), 100);
                if c.is_empty() {
                    "(no recorded command)".to_owned()
                } else {
                    c
                }
            })
            .collect();
        Self {
            image,
            cfg,
            base,
            cmds,
        }
    }

    /// The redacted, one-line history command of `layer`.
    pub fn cmd(&self, layer: usize) -> &str {
        self.cmds
            .get(layer)
            .map_or("(unknown layer)", String::as_str)
    }

    /// An absolute, display-safe path.
    pub fn path(&self, id: PathId) -> String {
        crate::model::path::display(self.image.fs.path(id))
    }

    /// Looks up a normalised path (no leading `/`).
    pub fn lookup(&self, path: &str) -> Option<PathId> {
        self.image.fs.lookup(path.trim_matches('/').as_bytes())
    }

    /// Paths of the final image matching a `/`-separated pattern whose components may be `*`.
    pub fn glob(&self, pattern: &str) -> Vec<PathId> {
        let fs = &self.image.fs;
        let mut current: Vec<PathId> = vec![0];
        for comp in pattern.trim_matches('/').split('/') {
            let mut next = Vec::new();
            for &dir in &current {
                if comp == "*" {
                    next.extend(
                        fs.children(dir)
                            .iter()
                            .copied()
                            .filter(|&c| fs.exists_in_final(c)),
                    );
                } else {
                    let p = crate::model::path::join(fs.path(dir), comp.as_bytes());
                    if let Some(id) = fs.lookup(&p).filter(|&id| fs.exists_in_final(id)) {
                        next.push(id);
                    }
                }
            }
            current = next;
            if current.is_empty() {
                break;
            }
        }
        current.retain(|&c| c != 0);
        current
    }

    /// Visible regular files under `dir` in the final image (or `dir` itself if it is one).
    pub fn subtree(&self, dir: PathId) -> Subtree {
        self.subtree_excluding(dir, b"")
    }

    /// Like [`Ctx::subtree`], not descending into directories named `skip` (unless empty).
    pub fn subtree_excluding(&self, dir: PathId, skip: &[u8]) -> Subtree {
        let fs = &self.image.fs;
        let mut s = Subtree::default();
        let mut stack = vec![dir];
        while let Some(p) = stack.pop() {
            if !fs.exists_in_final(p) {
                continue;
            }
            match fs.final_version(p).map(|v| (v, &fs.versions[v as usize])) {
                Some((v, ver)) if ver.kind == EntryKind::File => {
                    s.files += 1;
                    s.bytes += ver.size;
                    *s.by_layer.entry(ver.layer as usize).or_default() += ver.size;
                    s.versions.push(v);
                }
                Some((_, ver)) if ver.kind != EntryKind::Dir => {}
                _ => stack.extend(
                    fs.children(p)
                        .iter()
                        .copied()
                        .filter(|&c| skip.is_empty() || fs.name(c) != skip),
                ),
            }
        }
        s
    }
}

/// Visible files under a directory.
#[derive(Debug, Clone, Default)]
pub struct Subtree {
    /// Bytes of regular files.
    pub bytes: u64,
    /// Number of regular files.
    pub files: u64,
    /// Bytes by the layer that wrote them.
    pub by_layer: BTreeMap<usize, u64>,
    /// The file versions.
    pub versions: Vec<VersionId>,
}

impl Subtree {
    /// The layer that wrote most of the bytes.
    pub fn main_layer(&self) -> Option<usize> {
        self.by_layer
            .iter()
            .max_by_key(|(l, b)| (**b, std::cmp::Reverse(**l)))
            .map(|(l, _)| *l)
    }
}

/// A finding with only the mandatory fields set.
pub fn finding(
    rule: &str,
    category: Category,
    severity: Severity,
    title: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        rule: rule.to_owned(),
        category,
        severity,
        title: title.into(),
        message: message.into(),
        path: None,
        layer: None,
        removed_in: None,
        bytes: None,
        evidence: None,
        fix: None,
        why: None,
        base: false,
    }
}

/// "deleted in layer 4", "hidden by an opaque directory in layer 5", …
pub fn removal_words(cause: RemovalCause, layer: usize) -> String {
    match cause {
        RemovalCause::Overwritten => format!("overwritten in layer {layer}"),
        RemovalCause::Deleted => format!("deleted in layer {layer}"),
        RemovalCause::ParentDeleted => {
            format!("deleted with its parent directory in layer {layer}")
        }
        RemovalCause::OpaqueDir => format!("hidden by an opaque directory in layer {layer}"),
        RemovalCause::ParentReplaced => {
            format!("hidden when a parent directory was replaced in layer {layer}")
        }
    }
}

/// One display line of a (sanitised) command, cut to `max` characters.
pub fn one_line(cmd: &str, max: usize) -> String {
    crate::report::text::one_line(cmd, max)
}

/// Human bytes (`1.5 MiB`).
pub fn human(n: u64) -> String {
    crate::report::text::bytes(n)
}

/// Severity of a size problem by how many bytes it costs.
pub fn size_severity(bytes: u64) -> Severity {
    match bytes {
        b if b >= 100 << 20 => Severity::High,
        b if b >= 10 << 20 => Severity::Medium,
        b if b >= 1 << 20 => Severity::Low,
        _ => Severity::Info,
    }
}

fn category_rank(c: Category) -> u8 {
    match c {
        Category::Secret => 0,
        Category::Config => 1,
        Category::Bloat => 2,
        Category::Waste => 3,
    }
}

/// Sorts worst first: severity, then category (secrets first), then bytes, rule and path.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| category_rank(a.category).cmp(&category_rank(b.category)))
            .then_with(|| b.bytes.unwrap_or(0).cmp(&a.bytes.unwrap_or(0)))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.layer.cmp(&b.layer))
    });
}

/// Runs every analysis: findings (worst first) and the package inventory, each marked
/// `base` when inherited from the base image (`analysis::base`).
pub fn analyze(
    image: &Image,
    eff: &Efficiency,
    cfg: &FindingsConfig,
) -> (Vec<Finding>, Vec<Package>) {
    let ctx = Ctx::new(image, cfg);
    let inventory = super::packages::inventory(&ctx);
    let mut out = super::secrets::findings(&ctx);
    out.extend(super::waste::findings(&ctx, eff));
    out.extend(super::bloat::findings(&ctx, &inventory));
    out.extend(super::checks::findings(&ctx, &inventory));
    if let Some(e) = &cfg.rules.load_error {
        out.push(finding(
            "rules-unavailable",
            Category::Config,
            Severity::Info,
            "Secret rules could not be loaded",
            format!("secret scanning was skipped: {e}"),
        ));
    }
    out.retain(|f| !cfg.options.disable.iter().any(|d| d == &f.rule));
    for f in &mut out {
        f.base = ctx.base.is_base_finding(image, f);
    }
    sort(&mut out);
    (out, inventory.packages)
}
