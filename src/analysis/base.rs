//! The base image kept apart: which layers and history steps an image inherited from the image
//! it was built `FROM`, so findings can say whether this image's author added them.
//!
//! Two rules, tried in order:
//! 1. **label**: `org.opencontainers.image.base.name` / `org.opencontainers.image.base.digest`
//!    name the base, and the base image itself is known (its layer `diff_id`s and history
//!    length, e.g. from the daemon): the base is the common prefix of layers.
//! 2. **history**: the root filesystem step that made layer 0 (`ADD file:… in /`, an import,
//!    `ADD rootfs.tar /`), up to the base's last metadata step (`CMD`/`ENTRYPOINT`, and the
//!    `LABEL`s right after it) before the first step of the image's own.
//!
//! An image with no step of its own after its root filesystem is not derived from anything:
//! it has no base (rule `none`).

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::model::{Image, KnownBase};
pub use crate::model::{BASE_DIGEST_LABEL, BASE_NAME_LABEL};

/// Which rule found the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaseRule {
    /// The base labels, with the base image's own layers to compare.
    Label,
    /// The history: root filesystem up to the base's last metadata step.
    History,
    /// No base: the image has no step of its own after its root filesystem, or no history.
    None,
}

impl BaseRule {
    /// Lower-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Label => "label",
            Self::History => "history",
            Self::None => "none",
        }
    }
}

/// Where the base ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseBoundary {
    /// The rule that found it.
    pub rule: BaseRule,
    /// Layers `0..layers` are the base's.
    pub layers: usize,
    /// History entries `0..history` are the base's.
    pub history: usize,
    /// `org.opencontainers.image.base.name`, when set.
    pub name: Option<String>,
    /// `org.opencontainers.image.base.digest`, when set.
    pub digest: Option<String>,
    /// How the boundary was found, for people.
    pub reason: String,
}

/// `alpine:3.20` from the purl `pkg:docker/alpine@3.20?platform=linux%2Famd64` (a digest
/// version stays `name@sha256:…`); other URIs unchanged.
pub fn purl_image_name(uri: &str) -> String {
    let Some(rest) = uri.strip_prefix("pkg:docker/") else {
        return uri.to_owned();
    };
    let rest = rest.split('?').next().unwrap_or(rest);
    match rest.rsplit_once('@') {
        Some((n, v)) if !v.contains(':') && !v.contains("%3A") => format!("{n}:{v}"),
        Some((n, v)) => format!("{n}@{}", v.replace("%3A", ":")),
        None => rest.to_owned(),
    }
}

static METADATA_END: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(?:/bin/sh -c )?(?:#\(nop\)\s*)?(?:CMD|ENTRYPOINT)\b").ok());
static LABEL_STEP: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(?:/bin/sh -c )?(?:#\(nop\)\s*)?LABEL\b").ok());
/// Steps that build on a file system rather than lay one down.
static NOT_ROOTFS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(?:/bin/sh -c #\(nop\)\s*)?(?:COPY|RUN|WORKDIR)\b|^/bin/sh -c [^#]|^\|\d").ok()
});

/// A history step for people: its command, or what it is when it has none.
fn step(created_by: &str) -> String {
    let c = crate::text::one_line(&crate::redact::Redactor::default().command(created_by), 60);
    if c.is_empty() {
        "an import without a command".to_owned()
    } else {
        format!("`{c}`")
    }
}

fn matches(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(s.trim()))
}

impl BaseBoundary {
    /// No base: every layer and step is the image's own.
    pub fn none(reason: impl Into<String>) -> Self {
        Self {
            rule: BaseRule::None,
            layers: 0,
            history: 0,
            name: None,
            digest: None,
            reason: reason.into(),
        }
    }

    /// Finds the base of `image` (with [`Image::known_base`] when the source could look the
    /// labelled base image up).
    pub fn detect(image: &Image) -> Self {
        let known = image.known_base.as_ref();
        let label = |k: &str| {
            image
                .config
                .labels
                .get(k)
                .map(|v| {
                    crate::model::sanitize(&crate::redact::Redactor::default().command(v.trim()))
                })
                .filter(|v| !v.is_empty())
        };
        let (name, digest) = (label(BASE_NAME_LABEL), label(BASE_DIGEST_LABEL));
        let mut b = match known.and_then(|k| Self::from_known(image, k)) {
            Some(b) => b,
            None => {
                let mut b = Self::from_history(image);
                if let Some(n) = name.as_ref().or(digest.as_ref()) {
                    b.reason = format!(
                        "{} (the base labels name {n}, which is not available to compare layers)",
                        b.reason
                    );
                }
                b
            }
        };
        if name.is_none() && digest.is_none() {
            if let Some(m) = image
                .provenance
                .slsa
                .as_ref()
                .and_then(|s| s.base_image.as_ref())
            {
                let n = crate::model::sanitize(&purl_image_name(&m.uri));
                b.reason = format!(
                    "{} (the provenance attestation names base {n}{})",
                    b.reason,
                    m.digest
                        .as_deref()
                        .map(|d| format!("@{}", crate::model::sanitize(d)))
                        .unwrap_or_default()
                );
                b.name = Some(n);
                b.digest = m.digest.as_deref().map(crate::model::sanitize);
                return b;
            }
        }
        b.name = name;
        b.digest = digest;
        b
    }

    fn from_known(image: &Image, k: &KnownBase) -> Option<Self> {
        let common = image
            .layers
            .iter()
            .zip(&k.diff_ids)
            .take_while(|(l, d)| l.diff_id == **d)
            .count();
        if common == 0 || common != k.diff_ids.len() || common >= image.layers.len() {
            return None;
        }
        Some(Self {
            rule: BaseRule::Label,
            layers: common,
            history: k.history.min(image.history.len()),
            name: None,
            digest: None,
            reason: format!(
                "label: base image {} has {common} layer(s), all shared with this image",
                crate::model::sanitize(&k.found)
            ),
        })
    }

    fn from_history(image: &Image) -> Self {
        let h = &image.history;
        let Some(root) = h.iter().position(|e| e.layer == Some(0)) else {
            return Self::none("no history mapped onto the layers");
        };
        let makes_layer = |i: usize| h[i].layer.is_some();
        let later_layer = |i: usize| (i + 1..h.len()).any(makes_layer);
        let rootfs = !matches(&NOT_ROOTFS, &h[root].created_by);
        // The base's last metadata step: the last CMD/ENTRYPOINT that a layer-making step
        // follows (a base image ends with one; the image's own steps come after it).
        let meta_end = (root..h.len()).rev().find(|&i| {
            !makes_layer(i) && matches(&METADATA_END, &h[i].created_by) && later_layer(i)
        });
        let (mut end, how) = match (meta_end, rootfs) {
            (Some(m), _) => (
                m,
                format!(
                    "history: root filesystem {} (history {root}) up to the base's last metadata step {} (history {m})",
                    step(&h[root].created_by),
                    step(&h[m].created_by)
                ),
            ),
            (None, true) => (
                root,
                format!(
                    "history: root filesystem {} (history {root}, layer 0)",
                    step(&h[root].created_by)
                ),
            ),
            (None, false) => {
                return Self::none(format!(
                    "layer 0 is made by the image's own step {}",
                    step(&h[root].created_by)
                ))
            }
        };
        if meta_end.is_some() {
            while end + 1 < h.len()
                && !makes_layer(end + 1)
                && matches(&LABEL_STEP, &h[end + 1].created_by)
            {
                end += 1;
            }
        }
        if !(end + 1..h.len()).any(makes_layer) {
            return Self::none(
                "the image has no layer of its own after its root filesystem and metadata",
            );
        }
        let layers = h[..=end].iter().filter(|e| e.layer.is_some()).count();
        Self {
            rule: BaseRule::History,
            layers,
            history: end + 1,
            name: None,
            digest: None,
            reason: how,
        }
    }

    /// True when layer `l` belongs to the base.
    pub fn is_base_layer(&self, l: usize) -> bool {
        l < self.layers
    }

    /// True when history entry `i` belongs to the base.
    pub fn is_base_history(&self, i: usize) -> bool {
        i < self.history
    }

    /// True when a finding is inherited: its layer is the base's and, for waste, the base also
    /// removed or superseded it (waste this image causes by changing base files is its own).
    /// A finding without a layer is inherited when it quotes a `NAME=value` (ENV, LABEL, ARG)
    /// or an exposed port that a base history step set; other configuration findings (user,
    /// health check, labels, age) are the image's own: its author sets the final config.
    pub fn is_base_finding(&self, image: &Image, f: &crate::analysis::finding::Finding) -> bool {
        if let Some(l) = f.layer {
            return self.is_base_layer(l) && f.removed_in.is_none_or(|r| self.is_base_layer(r));
        }
        if f.base || self.history == 0 {
            return f.base;
        }
        let evidence = f.evidence.as_deref().unwrap_or("");
        let (needle, instruction) = if let Some(port) = evidence.strip_prefix("EXPOSE ") {
            (port.split('/').next().unwrap_or(port).to_owned(), "EXPOSE")
        } else if let Some((name, _)) = evidence.split_once('=') {
            let name = name.rsplit(' ').next().unwrap_or(name);
            (format!("{name}="), "")
        } else {
            return false;
        };
        if needle.len() < 2 {
            return false;
        }
        image
            .history
            .iter()
            .rposition(|h| h.created_by.contains(instruction) && h.created_by.contains(&needle))
            .is_some_and(|i| self.is_base_history(i))
    }

    /// "layers 0-1, history 0-3" or "none".
    pub fn describe(&self) -> String {
        if self.layers == 0 {
            return "none".into();
        }
        let range = |n: usize| {
            if n == 1 {
                "0".to_owned()
            } else {
                format!("0-{}", n - 1)
            }
        };
        format!(
            "layers {}, history {}",
            range(self.layers),
            range(self.history)
        )
    }
}
