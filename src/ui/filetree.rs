//! The file tree shown for one layer: what each path looks like at that layer, how it changed,
//! and the flattened list of visible rows.
//!
//! Costs: building a [`LayerView`] is O(paths + versions) and happens once per selected layer
//! and compare mode; [`TreeState::rebuild`] is O(paths) for the filter pass plus O(visible rows)
//! for the walk; drawing touches only the rows on screen.

use std::sync::Arc;

use crate::model::fs::{EntryKind, FileSystem, PathId, Version, VersionId};
use crate::model::Image;

/// No version (absent path or implicit directory).
pub const NO_VERSION: u32 = u32::MAX;

/// How the tree of a layer compares paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The filesystem as of the layer, marked with what that layer changed (dive's default).
    #[default]
    PerLayer,
    /// The filesystem as of the layer, marked with everything changed since the first layer.
    Aggregated,
}

/// The change shown for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Change {
    /// Not in this view.
    #[default]
    Absent,
    /// Present and not changed.
    Unchanged,
    /// New path.
    Added,
    /// Content, type or link target changed.
    Modified,
    /// Only permissions or owner changed.
    Metadata,
    /// Deleted (shown with the version that disappeared).
    Removed,
}

impl Change {
    /// The marker drawn before the row (changes are never shown by colour alone).
    pub fn symbol(self) -> char {
        match self {
            Self::Added => '+',
            Self::Modified => '~',
            Self::Metadata => '*',
            Self::Removed => '-',
            Self::Unchanged | Self::Absent => ' ',
        }
    }
}

/// Every path's state at one layer.
#[derive(Debug)]
pub struct LayerView {
    /// Layer index.
    pub layer: usize,
    /// Compare mode.
    pub mode: Mode,
    /// Per path.
    pub change: Vec<Change>,
    /// Per path: the version shown (the removed one for removed paths), or [`NO_VERSION`].
    pub version: Vec<u32>,
    /// Per path: file size, or for directories the bytes of the files below them.
    pub size: Vec<u64>,
}

fn compare(old: &Version, new: &Version) -> Change {
    if old.kind != new.kind
        || old.hash != new.hash
        || old.size != new.size
        || old.link != new.link
        || old.device != new.device
    {
        Change::Modified
    } else if old.mode != new.mode || old.uid != new.uid || old.gid != new.gid {
        Change::Metadata
    } else {
        Change::Unchanged
    }
}

fn status_change(s: crate::model::Status) -> Change {
    match s {
        crate::model::Status::Added => Change::Added,
        crate::model::Status::Modified => Change::Modified,
        crate::model::Status::MetadataChanged => Change::Metadata,
        crate::model::Status::Unchanged => Change::Unchanged,
    }
}

impl LayerView {
    /// Computes the view of `layer` in `mode`.
    pub fn build(fs: &FileSystem, layer: usize, mode: Mode) -> Self {
        let n = fs.path_count();
        let mut change = vec![Change::Absent; n];
        let mut version = vec![NO_VERSION; n];
        if fs.layer_count() == 0 {
            return Self {
                layer,
                mode,
                change,
                version,
                size: vec![0; n],
            };
        }
        let layer = layer.min(fs.layer_count() - 1);
        let snap = fs.snapshot(layer);
        let aggregated = mode == Mode::Aggregated && layer > 0;
        let base = aggregated.then(|| fs.snapshot(0));
        for id in 0..n as PathId {
            if !snap.exists(id) {
                continue;
            }
            let v = snap.version(id);
            version[id as usize] = v.unwrap_or(NO_VERSION);
            change[id as usize] = match (&base, v) {
                (None, Some(v)) => {
                    let ver = &fs.versions[v as usize];
                    if ver.layer as usize == layer {
                        status_change(ver.status)
                    } else {
                        Change::Unchanged
                    }
                }
                (None, None) => Change::Unchanged,
                (Some(b), Some(v)) => {
                    let ver = &fs.versions[v as usize];
                    if ver.layer == 0 {
                        Change::Unchanged
                    } else {
                        match b.version(id) {
                            Some(bv) => compare(&fs.versions[bv as usize], ver),
                            None if b.exists(id) => {
                                if ver.kind == EntryKind::Dir {
                                    Change::Unchanged
                                } else {
                                    Change::Modified
                                }
                            }
                            None => Change::Added,
                        }
                    }
                }
                (Some(b), None) => {
                    if b.exists(id) {
                        Change::Unchanged
                    } else {
                        Change::Added
                    }
                }
            };
        }
        // Removed paths.
        let mut removed: Vec<(PathId, VersionId)> = Vec::new();
        match &base {
            None => {
                for r in fs.removals_in(layer) {
                    removed.push((fs.versions[r.version as usize].path, r.version));
                }
            }
            Some(b) => {
                for id in 1..n as PathId {
                    if !snap.exists(id) && b.exists(id) {
                        removed.push((id, b.version(id).unwrap_or(NO_VERSION)));
                    }
                }
            }
        }
        for (p, v) in removed {
            if change[p as usize] == Change::Absent {
                change[p as usize] = Change::Removed;
                version[p as usize] = v;
                // Ancestors that vanished too (implicit directories) are shown as removed.
                let mut a = fs.parent(p);
                while a != 0 && change[a as usize] == Change::Absent {
                    change[a as usize] = Change::Removed;
                    a = fs.parent(a);
                }
            }
        }
        // Sizes, bottom-up: a parent's id is always smaller than its children's.
        let mut size = vec![0u64; n];
        for id in (1..n).rev() {
            let c = change[id];
            if c == Change::Absent {
                continue;
            }
            let v = version[id];
            if v != NO_VERSION {
                let ver = &fs.versions[v as usize];
                if ver.kind == EntryKind::File {
                    size[id] += ver.size;
                }
            }
            let p = fs.parent(id as PathId) as usize;
            if c != Change::Removed || change[p] == Change::Removed {
                size[p] += size[id];
            }
        }
        Self {
            layer,
            mode,
            change,
            version,
            size,
        }
    }

    /// The version shown at `id`, if any.
    pub fn version_of(&self, id: PathId) -> Option<VersionId> {
        self.version
            .get(id as usize)
            .copied()
            .filter(|&v| v != NO_VERSION)
    }
}

/// Children of every directory sorted by name, computed once per image.
#[derive(Debug, Default)]
pub struct TreeIndex {
    start: Vec<u32>,
    list: Vec<PathId>,
}

impl TreeIndex {
    /// Sorts the children of every path by name.
    pub fn build(fs: &FileSystem) -> Self {
        let n = fs.path_count();
        let mut start = Vec::with_capacity(n + 1);
        let mut list = Vec::with_capacity(n);
        for id in 0..n as PathId {
            start.push(list.len() as u32);
            let from = list.len();
            list.extend_from_slice(fs.children(id));
            list[from..].sort_unstable_by(|&a, &b| fs.name(a).cmp(fs.name(b)));
        }
        start.push(list.len() as u32);
        Self { start, list }
    }

    /// Children of `id`, sorted by name.
    pub fn children(&self, id: PathId) -> &[PathId] {
        match (self.start.get(id as usize), self.start.get(id as usize + 1)) {
            (Some(&s), Some(&e)) => &self.list[s as usize..e as usize],
            _ => &[],
        }
    }
}

/// Sort order of siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// By name (byte order).
    #[default]
    Name,
    /// Largest first, then by name.
    Size,
}

/// Which rows the tree shows.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Show added paths.
    pub added: bool,
    /// Show removed paths.
    pub removed: bool,
    /// Show modified paths (content or metadata).
    pub modified: bool,
    /// Show unchanged paths.
    pub unchanged: bool,
    /// Show only paths whose full path (with a leading `/`) matches.
    pub pattern: Option<regex::bytes::Regex>,
    /// Show only these paths (indexed by path id), such as a package's files.
    pub only: Option<std::sync::Arc<[bool]>>,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            added: true,
            removed: true,
            modified: true,
            unchanged: true,
            pattern: None,
            only: None,
        }
    }
}

impl Filter {
    fn allows(&self, c: Change) -> bool {
        match c {
            Change::Absent => false,
            Change::Added => self.added,
            Change::Removed => self.removed,
            Change::Modified | Change::Metadata => self.modified,
            Change::Unchanged => self.unchanged,
        }
    }
}

/// One visible row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The path.
    pub id: PathId,
    /// Depth below the root (0 for top-level entries).
    pub depth: u16,
    /// Last visible child of its parent.
    pub last: bool,
    /// Bit `d` set when the ancestor at depth `d` has later siblings (draw `│`).
    pub guides: u64,
    /// A directory with visible children.
    pub has_children: bool,
}

impl Row {
    /// The tree guides drawn before the row's name (`│   ` per ancestor with later
    /// siblings, then `├── ` or `└── `).
    pub fn prefix(&self) -> String {
        let mut prefix = String::new();
        for d in 0..self.depth.min(64) {
            prefix.push_str(if self.guides & (1 << d) != 0 {
                "│   "
            } else {
                "    "
            });
        }
        prefix.push_str(if self.last {
            "└── "
        } else {
            "├── "
        });
        prefix
    }
}

/// The visible rows of a tree rooted at path 0, depth first: `children(id)` gives a path's
/// shown children in display order (empty for a file), `collapsed(id)` whether a directory is
/// folded. Walks with an explicit stack (no recursion on deep trees). Shared by the file tree
/// and compare mode's diff tree.
pub fn layout_rows(
    children: &mut dyn FnMut(PathId) -> Vec<PathId>,
    collapsed: &dyn Fn(PathId) -> bool,
) -> Vec<Row> {
    struct Frame {
        kids: Vec<PathId>,
        pos: usize,
        depth: u16,
        guides: u64,
    }
    let mut rows = Vec::new();
    let mut stack = vec![Frame {
        kids: children(0),
        pos: 0,
        depth: 0,
        guides: 0,
    }];
    while let Some(top) = stack.last_mut() {
        if top.pos >= top.kids.len() {
            stack.pop();
            continue;
        }
        let id = top.kids[top.pos];
        top.pos += 1;
        let last = top.pos == top.kids.len();
        let depth = top.depth;
        let guides = top.guides;
        let kids = children(id);
        let has_children = !kids.is_empty();
        rows.push(Row {
            id,
            depth,
            last,
            guides,
            has_children,
        });
        if has_children && !collapsed(id) {
            let mut g = guides;
            if !last && depth < 64 {
                g |= 1 << depth;
            }
            stack.push(Frame {
                kids,
                pos: 0,
                depth: depth.saturating_add(1),
                guides: g,
            });
        }
    }
    rows
}

/// The tree pane's state: the view, filter, sort, collapsed directories and visible rows.
#[derive(Debug)]
pub struct TreeState {
    /// The image (with its filesystem).
    pub image: Arc<Image>,
    /// Sorted children.
    pub index: Arc<TreeIndex>,
    /// The current layer view.
    pub view: Arc<LayerView>,
    /// Visibility filter.
    pub filter: Filter,
    /// Sibling order.
    pub sort: Sort,
    /// Collapsed directories, per path.
    pub collapsed: Vec<bool>,
    /// Per path: passes the filter itself or has a descendant that does.
    keep: Vec<bool>,
    /// Paths passing the filter themselves or through a descendant.
    matching: usize,
    /// The visible rows.
    pub rows: Vec<Row>,
    /// Selected row.
    pub selected: usize,
    /// First row on screen.
    pub scroll: usize,
}

impl TreeState {
    /// A tree over `view` with everything expanded (as dive opens it).
    pub fn new(image: Arc<Image>, index: Arc<TreeIndex>, view: Arc<LayerView>) -> Self {
        let n = image.fs.path_count();
        let mut t = Self {
            image,
            index,
            view,
            filter: Filter::default(),
            sort: Sort::Name,
            collapsed: vec![false; n],
            keep: Vec::new(),
            matching: 0,
            rows: Vec::new(),
            selected: 0,
            scroll: 0,
        };
        t.refilter();
        t
    }

    /// True when `id` is shown as a directory in the current view.
    pub fn is_dir(&self, id: PathId) -> bool {
        match self.view.version_of(id) {
            Some(v) => self.image.fs.versions[v as usize].kind == EntryKind::Dir,
            None => !self.image.fs.children(id).is_empty(),
        }
    }

    /// Replaces the view (another layer or mode), keeping the selection on the same path when
    /// it is still shown.
    pub fn set_view(&mut self, view: Arc<LayerView>) {
        self.view = view;
        self.refilter();
    }

    /// Recomputes which paths pass the filter, then the rows.
    pub fn refilter(&mut self) {
        let fs = &self.image.fs;
        let n = fs.path_count();
        let mut keep = vec![false; n];
        let mut shown_path = Vec::new();
        for id in (1..n).rev() {
            let c = self.view.change[id];
            if c == Change::Absent {
                continue;
            }
            let listed = self
                .filter
                .only
                .as_ref()
                .is_none_or(|only| only.get(id).copied().unwrap_or(false));
            if !keep[id] && listed && self.filter.allows(c) {
                keep[id] = match &self.filter.pattern {
                    None => true,
                    Some(re) => {
                        shown_path.clear();
                        shown_path.push(b'/');
                        shown_path.extend_from_slice(fs.path(id as PathId));
                        re.is_match(&shown_path)
                    }
                };
            }
            if keep[id] {
                keep[fs.parent(id as PathId) as usize] = true;
            }
        }
        self.matching = keep.iter().skip(1).filter(|k| **k).count();
        self.keep = keep;
        self.rebuild();
    }

    /// Recomputes the visible rows (after a collapse, sort or filter change).
    pub fn rebuild(&mut self) {
        let selected_id = self.rows.get(self.selected).map(|r| r.id);
        let rows = layout_rows(
            &mut |id| {
                if id == 0 || self.is_dir(id) {
                    self.visible_children(id)
                } else {
                    Vec::new()
                }
            },
            &|id| self.collapsed[id as usize],
        );
        self.rows = rows;
        self.selected = match selected_id {
            Some(sel) => self.find_row_or_ancestor(sel),
            None => 0,
        };
        self.clamp();
    }

    fn find_row_or_ancestor(&self, id: PathId) -> usize {
        let fs = &self.image.fs;
        let mut cur = id;
        loop {
            if let Some(i) = self.rows.iter().position(|r| r.id == cur) {
                return i;
            }
            if cur == 0 {
                return self.selected.min(self.rows.len().saturating_sub(1));
            }
            cur = fs.parent(cur);
        }
    }

    fn visible_children(&self, id: PathId) -> Vec<PathId> {
        let mut kids: Vec<PathId> = self
            .index
            .children(id)
            .iter()
            .copied()
            .filter(|&c| self.keep[c as usize])
            .collect();
        if self.sort == Sort::Size {
            let size = &self.view.size;
            kids.sort_by(|&a, &b| size[b as usize].cmp(&size[a as usize]));
        }
        kids
    }

    fn clamp(&mut self) {
        if self.rows.is_empty() {
            self.selected = 0;
        } else if self.selected >= self.rows.len() {
            self.selected = self.rows.len() - 1;
        }
    }

    /// The selected path.
    pub fn selected_id(&self) -> Option<PathId> {
        self.rows.get(self.selected).map(|r| r.id)
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            return;
        }
        let max = self.rows.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, max) as usize;
    }

    /// Selects the row of `id` if it is visible.
    pub fn select_path(&mut self, id: PathId) -> bool {
        match self.rows.iter().position(|r| r.id == id) {
            Some(i) => {
                self.selected = i;
                true
            }
            None => false,
        }
    }

    /// Collapses or expands the selected directory.
    pub fn toggle_selected(&mut self) {
        if let Some(r) = self.rows.get(self.selected).copied() {
            if r.has_children {
                let c = &mut self.collapsed[r.id as usize];
                *c = !*c;
                self.rebuild();
            }
        }
    }

    /// Collapses every directory, or expands every directory when the first top-level
    /// directory is already collapsed.
    pub fn toggle_all(&mut self) {
        let collapse = !self
            .rows
            .iter()
            .any(|r| r.has_children && self.collapsed[r.id as usize]);
        if collapse {
            for id in 0..self.collapsed.len() {
                self.collapsed[id] = !self.image.fs.children(id as PathId).is_empty();
            }
        } else {
            self.collapsed.iter_mut().for_each(|c| *c = false);
        }
        self.rebuild();
    }

    /// Left: collapse an expanded directory, else go to the parent row.
    pub fn left(&mut self) {
        let Some(r) = self.rows.get(self.selected).copied() else {
            return;
        };
        if r.has_children && !self.collapsed[r.id as usize] {
            self.collapsed[r.id as usize] = true;
            self.rebuild();
            return;
        }
        let parent = self.image.fs.parent(r.id);
        if parent != 0 {
            self.select_path(parent);
        }
    }

    /// Right: expand a collapsed directory, else step into its first child.
    pub fn right(&mut self) {
        let Some(r) = self.rows.get(self.selected).copied() else {
            return;
        };
        if !r.has_children {
            return;
        }
        if self.collapsed[r.id as usize] {
            self.collapsed[r.id as usize] = false;
            self.rebuild();
        } else {
            self.move_by(1);
        }
    }

    /// Number of paths passing the filter (counted when the filter changes, not per frame).
    pub fn matching(&self) -> usize {
        self.matching
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{LoadOptions, Progress};

    fn demo() -> Arc<Image> {
        Arc::new(crate::source::demo::load(&LoadOptions::default(), &Progress::default()).unwrap())
    }

    fn tree(img: &Arc<Image>, layer: usize, mode: Mode) -> TreeState {
        let index = Arc::new(TreeIndex::build(&img.fs));
        let view = Arc::new(LayerView::build(&img.fs, layer, mode));
        TreeState::new(img.clone(), index, view)
    }

    fn names(t: &TreeState) -> Vec<String> {
        t.rows
            .iter()
            .map(|r| {
                format!(
                    "{}{}{}",
                    "  ".repeat(r.depth as usize),
                    t.view.change[r.id as usize].symbol(),
                    String::from_utf8_lossy(t.image.fs.name(r.id))
                )
            })
            .collect()
    }

    #[test]
    fn per_layer_marks_removals_and_opaque() {
        let img = demo();
        let mut t = tree(&img, 4, Mode::PerLayer);
        t.filter.unchanged = false;
        t.refilter();
        // Layer 4 deletes root/.ssh and root/.aws (with their files), usr/share/doc, and
        // re-chmods app/settings.yaml.
        let n = names(&t);
        assert!(n.contains(&"  *settings.yaml".to_string()), "{n:#?}");
        assert!(n.contains(&"  -.ssh".to_string()), "{n:#?}");
        assert!(n.contains(&"    -id_rsa".to_string()), "{n:#?}");
        assert!(n.contains(&"    -doc".to_string()), "{n:#?}");
        assert!(!n.iter().any(|l| l.contains("passwd")), "{n:#?}");
        let t5 = tree(&img, 5, Mode::PerLayer);
        let n5 = names(&t5);
        assert!(
            n5.contains(&"      -index.nginx-debian.html".to_string()),
            "{n5:#?}"
        );
        assert!(n5.contains(&"      +index.html".to_string()), "{n5:#?}");
    }

    #[test]
    fn aggregated_compares_with_the_first_layer() {
        let img = demo();
        let t = tree(&img, 5, Mode::Aggregated);
        let n = names(&t);
        // Deleted since layer 0.
        assert!(n.contains(&"    -doc".to_string()), "{n:#?}");
        // Added after layer 0 and still there.
        assert!(n.contains(&"  +main.py".to_string()), "{n:#?}");
        // Added then deleted between: not shown.
        assert!(!n.iter().any(|l| l.contains("id_rsa")), "{n:#?}");
    }

    #[test]
    fn collapse_filter_sort_and_sizes() {
        let img = demo();
        let mut t = tree(&img, 1, Mode::PerLayer);
        let total = t.rows.len();
        assert!(t.select_path(img.fs.lookup(b"var").unwrap()));
        t.toggle_selected();
        assert!(t.rows.len() < total);
        t.toggle_selected();
        assert_eq!(t.rows.len(), total);
        t.toggle_all();
        assert!(t.rows.iter().all(|r| r.depth == 0));
        t.toggle_all();
        assert_eq!(t.rows.len(), total);
        t.filter.pattern = Some(regex::bytes::Regex::new("nginx\\.conf$").unwrap());
        t.refilter();
        assert_eq!(names(&t), vec![" etc", "  +nginx", "    +nginx.conf"]);
        t.filter.pattern = None;
        t.sort = Sort::Size;
        t.refilter();
        // Largest top-level directory first: var holds the apt caches.
        assert_eq!(img.fs.name(t.rows[0].id), b"var");
        let var = img.fs.lookup(b"var").unwrap();
        let cache = img.fs.lookup(b"var/cache").unwrap();
        assert!(t.view.size[var as usize] > t.view.size[cache as usize]);
        assert!(t.view.size[cache as usize] > 90_000);
    }
}
