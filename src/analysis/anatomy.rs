//! One-line explanations of a layer's special tar entries for the anatomy view: whiteouts and
//! opaque markers (with the layers that really keep the deleted bytes), hard links, PAX and
//! extended-attribute headers.

use std::collections::BTreeSet;

use crate::model::fs::{EntryKind, RemovalCause};
use crate::model::path::{display, join, normalize, split_parent};
use crate::model::Image;
use crate::source::layer::RawEntry;

/// What the removals of one layer hid: path, the layer holding the bytes, and the bytes.
#[derive(Debug, Clone, Default)]
pub struct LayerRemovals {
    layer: usize,
    removed: Vec<(Vec<u8>, usize, u64, bool)>,
}

impl LayerRemovals {
    /// The removals made by `layer` of `image` (computed once per layer listing).
    pub fn of(image: &Image, layer: usize) -> Self {
        let fs = &image.fs;
        let removed = fs
            .removals_in(layer)
            .filter(|r| r.cause != RemovalCause::Overwritten)
            .map(|r| {
                let v = &fs.versions[r.version as usize];
                (
                    fs.path(v.path).to_vec(),
                    v.layer as usize,
                    if v.kind == EntryKind::File { v.size } else { 0 },
                    v.kind == EntryKind::File,
                )
            })
            .collect();
        Self { layer, removed }
    }

    /// Removed versions at `path` or under it: (layers holding them, files, bytes).
    fn under(&self, path: &[u8]) -> (BTreeSet<usize>, usize, u64) {
        let mut layers = BTreeSet::new();
        let (mut files, mut bytes) = (0, 0);
        for (p, l, b, file) in &self.removed {
            let inside = p.as_slice() == path
                || (p.starts_with(path) && p.get(path.len()) == Some(&b'/'))
                || path.is_empty();
            if inside {
                layers.insert(*l);
                if *file {
                    files += 1;
                    bytes += b;
                }
            }
        }
        (layers, files, bytes)
    }
}

fn layer_list(layers: &BTreeSet<usize>) -> String {
    let v: Vec<String> = layers.iter().map(ToString::to_string).collect();
    match v.len() {
        1 => format!("layer {}", v[0]),
        _ => format!("layers {}", v.join(", ")),
    }
}

fn files_bytes(files: usize, bytes: u64) -> String {
    format!(
        "{files} file{}, {}",
        if files == 1 { "" } else { "s" },
        crate::text::bytes(bytes)
    )
}

/// The explanation of one raw entry of `removals.layer`, `None` for an ordinary entry.
pub fn explain(removals: &LayerRemovals, e: &RawEntry) -> Option<String> {
    let layer = removals.layer;
    let mut parts = Vec::new();
    let path = normalize(&e.path);
    let (parent, base) = split_parent(&path);
    if let Some(rest) = base.strip_prefix(b".wh.") {
        if rest == b".wh..opq" {
            let (layers, files, bytes) = removals.under(parent);
            let dir = display(parent);
            parts.push(if layers.is_empty() {
                format!(
                    "opaque marker: layer {layer} starts {dir} afresh; lower layers had nothing there to hide"
                )
            } else {
                format!(
                    "opaque marker: this entry is how layer {layer} hides what lower layers put in {dir}: those bytes stay in {} ({})",
                    layer_list(&layers),
                    files_bytes(files, bytes),
                )
            });
        } else {
            let target = join(parent, rest);
            let (layers, files, bytes) = removals.under(&target);
            let shown = display(&target);
            parts.push(if layers.is_empty() {
                format!("whiteout: layer {layer} deletes {shown}, which no lower layer has (nothing to delete)")
            } else if removals
                .removed
                .iter()
                .any(|(p, _, _, file)| *p == target && *file)
            {
                format!(
                    "whiteout: this entry is how layer {layer} deletes {shown}: its bytes stay in {} ({})",
                    layer_list(&layers),
                    crate::text::bytes(bytes),
                )
            } else {
                format!(
                    "whiteout: this entry is how layer {layer} deletes {shown}: the directory's bytes stay in {} ({})",
                    layer_list(&layers),
                    files_bytes(files, bytes),
                )
            });
        }
        if e.link.is_some() {
            parts.push("its link name is a dockerd quirk, not a hard link".into());
        }
    } else if e.kind == b'1' {
        let target = e.link.as_deref().map(|l| display(&normalize(l)));
        parts.push(format!(
            "hard link: the same file as {}; the tar stores no bytes for it",
            target.unwrap_or_else(|| "(no target)".into())
        ));
    } else if e.kind == b'g' {
        parts.push("PAX global header: its records apply to every entry after it".into());
    }
    if let Some(pax) = &e.pax {
        let xattrs: Vec<&str> = pax
            .split(' ')
            .filter_map(|k| k.strip_prefix("SCHILY.xattr."))
            .collect();
        let others: Vec<&str> = pax
            .split(' ')
            .filter(|k| !k.starts_with("SCHILY.xattr."))
            .collect();
        if !others.is_empty() {
            parts.push(format!(
                "a PAX header before it sets {} (values too long or precise for the classic header)",
                others.join(", ")
            ));
        }
        if !xattrs.is_empty() {
            parts.push(format!(
                "extended attributes (xattrs) in a PAX header: {}{}",
                xattrs.join(", "),
                if xattrs.contains(&"security.capability") {
                    " (file capabilities: privileges without setuid)"
                } else {
                    ""
                }
            ));
        }
    }
    (!parts.is_empty()).then(|| crate::model::sanitize(&parts.join("; ")))
}

/// The tar type flag as a word (`file`, `dir`, `hardlink`, …).
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        b'0' | b'\0' | b'7' => "file",
        b'1' => "hardlink",
        b'2' => "symlink",
        b'3' => "char",
        b'4' => "block",
        b'5' => "dir",
        b'6' => "fifo",
        b'g' => "pax-global",
        b'x' => "pax",
        b'S' => "sparse",
        _ => "other",
    }
}

/// True when the entry is one the overlay treats specially (shown highlighted).
pub fn is_special(e: &RawEntry) -> bool {
    let path = normalize(&e.path);
    split_parent(&path).1.starts_with(b".wh.")
        || e.kind == b'1'
        || e.kind == b'g'
        || e.pax.is_some()
}
