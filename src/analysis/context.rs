//! What every finding rule shares: the pass context over one image ([`Ctx`]), finding
//! constructors and wording helpers.

use std::collections::BTreeMap;

use super::finding::{Category, Finding, Severity};
use crate::config::FindingsConfig;
use crate::model::fs::{EntryKind, PathId, RemovalCause, VersionId};
use crate::model::Image;

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

/// What the command list holds for a layer without a recorded command.
const NO_COMMAND: &str = "";

impl<'a> Ctx<'a> {
    /// Prepares a pass over `image`.
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
                let c = one_line(&crate::redact::redact_with(&cfg.rules, &l.created_by), 100);
                if c.is_empty() {
                    NO_COMMAND.to_owned()
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

    /// The redacted, one-line history command of `layer`, in backticks; a layer without a
    /// recorded command reads "base layer (no recorded command)".
    pub fn cmd(&self, layer: usize) -> String {
        match self.cmds.get(layer).map(String::as_str) {
            Some(NO_COMMAND) => "base layer (no recorded command)".to_owned(),
            Some(c) => format!("`{c}`"),
            None => "(unknown layer)".to_owned(),
        }
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
        items: Vec::new(),
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
    crate::text::one_line(cmd, max)
}

/// Human bytes (`1.5 MiB`).
pub fn human(n: u64) -> String {
    crate::text::bytes(n)
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
