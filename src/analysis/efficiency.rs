//! Exact size accounting: what is shipped, what is visible, what could be reclaimed.

use std::collections::HashMap;

use crate::model::fs::{EntryKind, PathId};
use crate::model::Image;

/// Bytes held by versions of one path that are not visible in the final image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reclaimable {
    /// The path.
    pub path: PathId,
    /// Bytes of its invisible versions.
    pub bytes: u64,
    /// Layers holding those versions, bottom first.
    pub layers: Vec<usize>,
    /// Layers that removed or superseded them, in the same order.
    pub removed_in: Vec<usize>,
}

/// The image-wide size accounting.
#[derive(Debug, Clone, PartialEq)]
pub struct Efficiency {
    /// Bytes of regular files over all layers.
    pub total_bytes: u64,
    /// Bytes of regular files visible in the final filesystem.
    pub visible_bytes: u64,
    /// `total_bytes - visible_bytes`.
    pub reclaimable_bytes: u64,
    /// `visible_bytes / total_bytes` (1.0 for an image with no file bytes).
    pub score: f64,
    /// Every path holding reclaimable bytes, largest first.
    pub reclaimable: Vec<Reclaimable>,
}

impl Efficiency {
    /// Computes the accounting for `image`.
    pub fn of(image: &Image) -> Self {
        let fs = &image.fs;
        let total_bytes = fs.total_bytes();
        let visible_bytes = fs.visible_bytes();
        let mut by_path: HashMap<PathId, Reclaimable> = HashMap::new();
        for v in &fs.versions {
            if v.kind != EntryKind::File || v.is_visible() || v.size == 0 {
                continue;
            }
            let r = by_path.entry(v.path).or_insert_with(|| Reclaimable {
                path: v.path,
                bytes: 0,
                layers: Vec::new(),
                removed_in: Vec::new(),
            });
            r.bytes += v.size;
            r.layers.push(v.layer as usize);
            r.removed_in.push(v.removed_in.unwrap_or(v.layer) as usize);
        }
        let mut reclaimable: Vec<Reclaimable> = by_path.into_values().collect();
        reclaimable.sort_by(|a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then_with(|| fs.path(a.path).cmp(fs.path(b.path)))
        });
        let score = if total_bytes == 0 {
            1.0
        } else {
            visible_bytes as f64 / total_bytes as f64
        };
        Self {
            total_bytes,
            visible_bytes,
            reclaimable_bytes: total_bytes - visible_bytes,
            score,
            reclaimable,
        }
    }
}
