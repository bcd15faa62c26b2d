//! Compare mode: image B opened against the image already open (A). The worker reads and
//! analyses B through the engine's entry point and compares the two
//! ([`crate::analysis::diff::compare`]); this state keeps the comparison, the tree of changed
//! paths the pane shows (folding, path filter, change-type toggles, sort and `n`/`N` search as
//! in the file tree, whose row layout it shares), and the text diff of one file's two
//! versions, unified or side by side.

use std::collections::HashMap;
use std::sync::Arc;

use regex::bytes::Regex;

use super::findings::FindingsState;
use super::{follow, move_index};
use crate::analysis::diff::{Change, Diff, FileChange};
use crate::analysis::pipeline::{Analysed, Settings};
use crate::model::fs::{EntryKind, PathId};
use crate::model::Image;
use crate::ui::app::{App, Level, Pane};
use crate::ui::filetree::{layout_rows, Row};
use crate::ui::highlight::StyledLine;
use crate::ui::keymap::Action;
use crate::ui::msg::{Command, Target};

/// Progress of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompareState {
    /// Nothing compared.
    Idle,
    /// Waiting for A's findings before B is read (the comparison matches them).
    Waiting,
    /// The worker is reading and comparing B.
    Running,
    /// The comparison is shown.
    Ready,
    /// Failed with this message.
    Failed(String),
}

/// What a compare action asks of the rest of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOutcome {
    /// Handled here.
    Done,
    /// Open the text diff of the selected path.
    OpenFile,
}

/// One line of the unified text diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// What the line is.
    pub tag: DiffTag,
    /// The text (secrets already masked; made safe when drawn).
    pub text: String,
    /// Its line index in A's text (context and removed lines).
    pub a: Option<usize>,
    /// Its line index in B's text (context and added lines).
    pub b: Option<usize>,
}

/// Kind of a text-diff line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffTag {
    /// A hunk header (`@@ -a,n +b,m @@`).
    Hunk,
    /// In both versions.
    Same,
    /// Only in A.
    Removed,
    /// Only in B.
    Added,
    /// Side by side: a line of A replaced by a line of B.
    Changed,
}

/// One row of the side-by-side text diff: A's line on the left, B's on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideRow {
    /// [`DiffTag::Hunk`] (a separator; `a` and `b` hold the first line indexes of the hunk),
    /// [`DiffTag::Same`], [`DiffTag::Changed`] (both sides), [`DiffTag::Removed`] (left
    /// only) or [`DiffTag::Added`] (right only).
    pub tag: DiffTag,
    /// Line index in A's text.
    pub a: Option<usize>,
    /// Line index in B's text.
    pub b: Option<usize>,
}

/// The text diff of one path: both views over both texts' highlighted lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextDiff {
    /// The unified diff (empty when the texts are equal).
    pub unified: Vec<DiffLine>,
    /// The side-by-side rows (empty when the texts are equal).
    pub side: Vec<SideRow>,
    /// A's lines, highlighted by the file's syntax (secrets masked, text made safe).
    pub a_lines: Vec<StyledLine>,
    /// B's lines, highlighted.
    pub b_lines: Vec<StyledLine>,
}

/// The text diff of one path, as the pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDiff {
    /// The worker is reading both versions.
    Loading,
    /// The diff.
    Ready(Box<TextDiff>),
    /// Why there is no text diff (binary, not a regular file, read error).
    Failed(String),
}

/// Columns one Left/Right moves a text diff sideways.
pub const COLUMN_STEP: usize = 8;

/// The text diff view of one changed path.
#[derive(Debug, Clone)]
pub struct FileDiffView {
    /// Display path.
    pub path: String,
    /// Its content.
    pub diff: FileDiff,
    /// First line on screen.
    pub scroll: usize,
    /// First text column on screen (lines longer than the pane scroll sideways).
    pub column: usize,
    /// Request id of the read.
    pub req: u64,
}

impl FileDiffView {
    /// Rows of the view shown (side by side or unified).
    pub fn len(&self, side_by_side: bool) -> usize {
        match &self.diff {
            FileDiff::Ready(d) if side_by_side => d.side.len(),
            FileDiff::Ready(d) => d.unified.len(),
            _ => 0,
        }
    }

    /// Characters in the longest line of either version.
    pub fn widest(&self) -> usize {
        match &self.diff {
            FileDiff::Ready(d) => d
                .a_lines
                .iter()
                .chain(&d.b_lines)
                .map(|l| l.iter().map(|(_, t)| t.chars().count()).sum::<usize>())
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }
}

/// One path of the diff tree: a changed path, or a directory that only leads to changes.
#[derive(Debug, Clone)]
pub struct DiffNode {
    /// Last path component (display-safe, from the diff).
    pub name: String,
    /// Absolute path.
    pub path: String,
    /// Parent node (the root, node 0, is its own parent).
    pub parent: PathId,
    /// Children, sorted by name.
    pub children: Vec<PathId>,
    /// The change of this path itself (index into the diff's file entries).
    pub entry: Option<usize>,
    /// A directory (in B, else in A) or a path with changes beneath it.
    pub dir: bool,
    /// Bytes added beneath a directory (B's size of added and modified files).
    pub bytes_added: u64,
    /// Bytes removed beneath a directory (A's size of removed and modified files).
    pub bytes_removed: u64,
}

/// The final filesystems' diff as a tree: every changed path plus the directories leading to
/// them, built once per comparison (O(changed paths)).
#[derive(Debug, Default)]
pub struct DiffTree {
    /// Nodes; 0 is the root `/`, a parent's id is smaller than its children's.
    pub nodes: Vec<DiffNode>,
    /// Every node but the root in path order (component by component, as the tree lists
    /// them by name): what `n`/`N` walk.
    order: Vec<PathId>,
}

impl DiffTree {
    /// The tree of `diff`'s changed paths, with each directory's totals.
    pub fn build(diff: &Diff) -> Self {
        let mut nodes = vec![DiffNode {
            name: String::new(),
            path: "/".into(),
            parent: 0,
            children: Vec::new(),
            entry: None,
            dir: true,
            bytes_added: 0,
            bytes_removed: 0,
        }];
        let mut by_path: HashMap<String, PathId> = HashMap::new();
        by_path.insert("/".into(), 0);
        let mut node_of = |nodes: &mut Vec<DiffNode>, path: &str| -> PathId {
            let mut cur: PathId = 0;
            let mut at = 0;
            for part in path.split('/').filter(|p| !p.is_empty()) {
                at = path[at..].find(part).map_or(at, |i| at + i) + part.len();
                let prefix = &path[..at];
                cur = match by_path.get(prefix) {
                    Some(&id) => id,
                    None => {
                        let id = nodes.len() as PathId;
                        nodes.push(DiffNode {
                            name: part.to_string(),
                            path: prefix.to_string(),
                            parent: cur,
                            children: Vec::new(),
                            entry: None,
                            dir: false,
                            bytes_added: 0,
                            bytes_removed: 0,
                        });
                        nodes[cur as usize].children.push(id);
                        nodes[cur as usize].dir = true;
                        by_path.insert(prefix.to_string(), id);
                        id
                    }
                };
            }
            cur
        };
        for (i, e) in diff.files.entries.iter().enumerate() {
            let id = node_of(&mut nodes, &e.path);
            let n = &mut nodes[id as usize];
            n.entry = Some(i);
            let kind = if e.change == Change::Removed {
                e.kind_a
            } else {
                e.kind_b
            };
            n.dir |= kind == Some(EntryKind::Dir);
        }
        for d in &diff.files.directories {
            let id = node_of(&mut nodes, &d.path);
            let n = &mut nodes[id as usize];
            n.dir = true;
            n.bytes_added = d.bytes_added;
            n.bytes_removed = d.bytes_removed;
        }
        for i in 0..nodes.len() {
            let mut kids = std::mem::take(&mut nodes[i].children);
            kids.sort_by(|&a, &b| nodes[a as usize].name.cmp(&nodes[b as usize].name));
            nodes[i].children = kids;
        }
        let order = layout_rows(&mut |id| nodes[id as usize].children.clone(), &|_| false)
            .into_iter()
            .map(|r| r.id)
            .collect();
        Self { nodes, order }
    }

    /// Bytes a node moves: its own change's, or for a directory the bytes added and removed
    /// beneath it (what sorting by size orders by).
    pub fn weight(&self, id: PathId, diff: &Diff) -> u64 {
        let n = &self.nodes[id as usize];
        if n.dir {
            n.bytes_added + n.bytes_removed
        } else {
            n.entry.map_or(0, |e| diff.files.entries[e].weight())
        }
    }
}

/// Compare mode's state.
#[derive(Debug)]
pub struct Compare {
    /// Progress.
    pub state: CompareState,
    /// The pane is shown (in place of the tree).
    pub open: bool,
    /// What B is (display text).
    pub label: String,
    /// B, to read once A's findings are in.
    pub pending: Option<Target>,
    /// The comparison.
    pub diff: Option<Arc<Diff>>,
    /// Image B, for reading its file versions back.
    pub image_b: Option<Arc<Image>>,
    /// The changed paths as a tree.
    pub tree: DiffTree,
    /// Folded directories, per node.
    pub collapsed: Vec<bool>,
    /// The visible rows of the tree (filtered, sorted, folded).
    pub rows: Vec<Row>,
    /// Changed paths passing the filter and the change-type toggles.
    pub matching: usize,
    /// Selected row.
    pub selected: usize,
    /// First row on screen.
    pub scroll: usize,
    /// Sort siblings by bytes moved (largest first) instead of by name.
    pub by_size: bool,
    /// Show added, removed, modified paths.
    pub show: [bool; 3],
    /// The text diff is shown side by side (else unified).
    pub side_by_side: bool,
    /// The open text diff.
    pub file: Option<FileDiffView>,
    /// Request id of the running comparison.
    pub req: u64,
    filter: Option<Regex>,
    /// The last non-empty filter expression: what `n`/`N` look for, also after the filter is
    /// cleared.
    search: Option<Regex>,
    /// Per node: passes the filter itself or has a descendant that does.
    keep: Vec<bool>,
}

impl Default for Compare {
    fn default() -> Self {
        Self {
            state: CompareState::Idle,
            open: false,
            label: String::new(),
            pending: None,
            diff: None,
            image_b: None,
            tree: DiffTree::default(),
            collapsed: Vec::new(),
            rows: Vec::new(),
            matching: 0,
            selected: 0,
            scroll: 0,
            by_size: false,
            show: [true; 3],
            side_by_side: false,
            file: None,
            req: 0,
            filter: None,
            search: None,
            keep: Vec::new(),
        }
    }
}

fn slot(c: Change) -> usize {
    match c {
        Change::Added => 0,
        Change::Removed => 1,
        _ => 2,
    }
}

impl Compare {
    /// Forgets the comparison (another image A, or closing compare mode).
    pub fn clear(&mut self) {
        let filter = self.filter.take();
        let search = self.search.take();
        let side_by_side = self.side_by_side;
        *self = Self {
            filter,
            search,
            side_by_side,
            ..Self::default()
        };
    }

    /// Starts a comparison with `label` as B.
    pub fn start(&mut self, label: String, req: u64) {
        self.clear();
        self.label = label;
        self.open = true;
        self.req = req;
        self.state = CompareState::Running;
    }

    /// The comparison arrived.
    pub fn set(&mut self, diff: Diff, image_b: Arc<Image>) {
        self.tree = DiffTree::build(&diff);
        self.collapsed = vec![false; self.tree.nodes.len()];
        self.diff = Some(Arc::new(diff));
        self.image_b = Some(image_b);
        self.state = CompareState::Ready;
        self.rows.clear();
        self.selected = 0;
        self.scroll = 0;
        self.refilter();
    }

    /// Applies the tree's path filter (a valid regex, or `None`) to the diff tree; a filter
    /// is also what `n`/`N` search for next.
    pub fn set_filter(&mut self, filter: Option<Regex>) {
        if filter.is_some() {
            self.search = filter.clone();
        }
        self.filter = filter;
        self.refilter();
    }

    /// True when the change at node `id` passes the change-type toggles and the path filter.
    fn passes(&self, id: PathId, diff: &Diff) -> bool {
        let n = &self.tree.nodes[id as usize];
        n.entry.is_some_and(|e| {
            let e = &diff.files.entries[e];
            self.show[slot(e.change)]
                && self
                    .filter
                    .as_ref()
                    .is_none_or(|r| r.is_match(e.path.as_bytes()))
        })
    }

    /// Recomputes which paths pass the filter and the change-type toggles, then the rows.
    pub fn refilter(&mut self) {
        let Some(diff) = self.diff.clone() else {
            self.rows.clear();
            return;
        };
        let n = self.tree.nodes.len();
        let mut keep = vec![false; n];
        let mut matching = 0;
        for id in (1..n).rev() {
            if self.passes(id as PathId, &diff) {
                keep[id] = true;
                matching += 1;
            }
            if keep[id] {
                keep[self.tree.nodes[id].parent as usize] = true;
            }
        }
        self.keep = keep;
        self.matching = matching;
        self.rebuild();
    }

    fn visible_children(&self, id: PathId, diff: &Diff) -> Vec<PathId> {
        let mut kids: Vec<PathId> = self.tree.nodes[id as usize]
            .children
            .iter()
            .copied()
            .filter(|&c| self.keep[c as usize])
            .collect();
        if self.by_size {
            kids.sort_by_key(|&c| std::cmp::Reverse(self.tree.weight(c, diff)));
        }
        kids
    }

    /// Recomputes the visible rows (after a fold, sort or filter change), keeping the
    /// selection on the same path, else on its nearest shown ancestor.
    pub fn rebuild(&mut self) {
        let Some(diff) = self.diff.clone() else {
            return;
        };
        let selected_id = self.rows.get(self.selected).map(|r| r.id);
        let rows = layout_rows(&mut |id| self.visible_children(id, &diff), &|id| {
            self.collapsed[id as usize]
        });
        self.rows = rows;
        if let Some(mut id) = selected_id {
            while !self.select_node(id) && id != 0 {
                id = self.tree.nodes[id as usize].parent;
            }
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    fn select_node(&mut self, id: PathId) -> bool {
        match self.rows.iter().position(|r| r.id == id) {
            Some(i) => {
                self.selected = i;
                true
            }
            None => false,
        }
    }

    /// The selected node.
    pub fn selected_node(&self) -> Option<&DiffNode> {
        let r = self.rows.get(self.selected)?;
        self.tree.nodes.get(r.id as usize)
    }

    /// The selected file change.
    pub fn selected_entry(&self) -> Option<&FileChange> {
        let e = self.selected_node()?.entry?;
        self.diff.as_ref()?.files.entries.get(e)
    }

    /// The changed paths shown, in row order (display paths).
    pub fn shown_paths(&self) -> Vec<&str> {
        self.rows
            .iter()
            .map(|r| self.tree.nodes[r.id as usize].path.as_str())
            .collect()
    }

    /// Handles an action in the pane; `page` is the number of rows on screen.
    pub fn update(&mut self, action: Action, page: usize) -> CompareOutcome {
        if action == Action::SideBySide {
            self.side_by_side = !self.side_by_side;
            if let Some(f) = self.file.as_mut() {
                f.scroll = f.scroll.min(f.len(self.side_by_side).saturating_sub(1));
            }
            return CompareOutcome::Done;
        }
        if let Some(f) = self.file.as_mut() {
            let n = f.len(self.side_by_side);
            match action {
                Action::Up => f.scroll = f.scroll.saturating_sub(1),
                Action::Down => f.scroll = (f.scroll + 1).min(n.saturating_sub(1)),
                Action::PageUp => f.scroll = f.scroll.saturating_sub(page),
                Action::PageDown => f.scroll = (f.scroll + page).min(n.saturating_sub(1)),
                Action::Top => f.scroll = 0,
                Action::Bottom => f.scroll = n.saturating_sub(page),
                Action::Left => f.column = f.column.saturating_sub(COLUMN_STEP),
                Action::Right => {
                    f.column = (f.column + COLUMN_STEP).min(f.widest().saturating_sub(1));
                }
                _ => {}
            }
            return CompareOutcome::Done;
        }
        match action {
            Action::Open => {
                if self.rows.get(self.selected).is_some_and(|r| r.has_children) {
                    self.toggle_selected();
                } else {
                    return CompareOutcome::OpenFile;
                }
            }
            Action::Sort => {
                self.by_size = !self.by_size;
                self.rebuild();
            }
            Action::ToggleAdded => self.toggle(Change::Added),
            Action::ToggleRemoved => self.toggle(Change::Removed),
            Action::ToggleModified => self.toggle(Change::Modified),
            Action::ToggleCollapse => self.toggle_selected(),
            Action::ToggleCollapseAll => self.toggle_all(),
            Action::Left => self.left(),
            Action::Right => self.right(),
            Action::NextMatch => {
                self.jump_to_match(true);
            }
            Action::PrevMatch => {
                self.jump_to_match(false);
            }
            other => move_index(&mut self.selected, self.rows.len(), other, page),
        }
        CompareOutcome::Done
    }

    fn toggle(&mut self, c: Change) {
        let s = &mut self.show[slot(c)];
        *s = !*s;
        self.refilter();
    }

    /// Folds or unfolds the selected directory (as in the file tree).
    pub fn toggle_selected(&mut self) {
        if let Some(r) = self.rows.get(self.selected).copied() {
            if r.has_children {
                let c = &mut self.collapsed[r.id as usize];
                *c = !*c;
                self.rebuild();
            }
        }
    }

    /// Folds every directory, or unfolds them all when one is folded (as in the file tree).
    pub fn toggle_all(&mut self) {
        let fold = !self
            .rows
            .iter()
            .any(|r| r.has_children && self.collapsed[r.id as usize]);
        for (c, n) in self.collapsed.iter_mut().zip(&self.tree.nodes) {
            *c = fold && !n.children.is_empty();
        }
        self.rebuild();
    }

    /// Left: fold an unfolded directory, else go to the parent row (as in the file tree).
    pub fn left(&mut self) {
        let Some(r) = self.rows.get(self.selected).copied() else {
            return;
        };
        if r.has_children && !self.collapsed[r.id as usize] {
            self.collapsed[r.id as usize] = true;
            self.rebuild();
        } else {
            let parent = self.tree.nodes[r.id as usize].parent;
            if parent != 0 {
                self.select_node(parent);
            }
        }
    }

    /// Right: unfold a folded directory, else step into its first child (as in the file
    /// tree).
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
            self.selected = (self.selected + 1).min(self.rows.len() - 1);
        }
    }

    /// Selects the next (or previous) changed path, in path order, that the last filter
    /// expression matches, unfolding its parents. False when nothing matches.
    pub fn jump_to_match(&mut self, forward: bool) -> bool {
        let (Some(re), Some(diff)) = (self.search.clone(), self.diff.clone()) else {
            return false;
        };
        let show = self.show;
        let matches: Vec<PathId> = self
            .tree
            .order
            .iter()
            .copied()
            .filter(|&id| {
                let n = &self.tree.nodes[id as usize];
                n.entry.is_some_and(|e| {
                    show[slot(diff.files.entries[e].change)] && re.is_match(n.path.as_bytes())
                })
            })
            .collect();
        let pos = |id: PathId| self.tree.order.iter().position(|&o| o == id);
        let current = self
            .rows
            .get(self.selected)
            .and_then(|r| pos(r.id))
            .unwrap_or(0);
        let next = if forward {
            matches
                .iter()
                .find(|&&id| pos(id).is_some_and(|p| p > current))
                .or(matches.first())
        } else {
            matches
                .iter()
                .rev()
                .find(|&&id| pos(id).is_some_and(|p| p < current))
                .or(matches.last())
        };
        let Some(&id) = next else { return false };
        let mut cur = self.tree.nodes[id as usize].parent;
        while cur != 0 {
            self.collapsed[cur as usize] = false;
            cur = self.tree.nodes[cur as usize].parent;
        }
        self.rebuild();
        self.select_node(id)
    }

    /// Selects the path shown at `row` of the tree (nothing while a text diff is open).
    pub fn click(&mut self, row: usize) {
        let i = self.scroll + row;
        if self.file.is_none() && i < self.rows.len() {
            self.selected = i;
        }
    }

    /// Keeps the selection visible in `height` rows.
    pub fn settle(&mut self, height: usize) {
        self.scroll = follow(self.scroll, self.selected, height);
    }

    /// Closes the innermost thing: the text diff, else the pane. True when something closed.
    pub fn close(&mut self) -> bool {
        if self.file.take().is_some() {
            return true;
        }
        let was = self.open;
        self.open = false;
        was
    }

    /// The text diff of request `req` arrived.
    pub fn file_diff(&mut self, req: u64, result: Result<TextDiff, String>) {
        if let Some(f) = self.file.as_mut().filter(|f| f.req == req) {
            f.diff = match result {
                Ok(d) => FileDiff::Ready(Box::new(d)),
                Err(e) => FileDiff::Failed(e),
            };
        }
    }
}

/// Starting a comparison and a file's text diff.
impl App {
    /// Compares the open image with `b`: at once when its findings are in (the comparison
    /// matches them), else once they are.
    pub fn compare_with(&mut self, b: Target) -> Option<Command> {
        let label = match &b {
            Target::Reference(r) => crate::model::sanitize(r),
            Target::Demo => crate::source::demo::REFERENCE.to_string(),
            Target::Pick(r, n) => format!("{} @{n}", crate::model::sanitize(r)),
        };
        let req = self.req();
        self.compare.start(label, req);
        self.findings.close();
        self.viewer.close();
        self.focus = Pane::Compare;
        self.compare.pending = Some(b);
        self.compare.state = CompareState::Waiting;
        self.compare_pending()
    }

    /// The comparison waiting for the open image's findings, once they are in.
    pub(in crate::ui) fn compare_pending(&mut self) -> Option<Command> {
        if self.compare.state != CompareState::Waiting
            || self.findings.state != FindingsState::Ready
        {
            return None;
        }
        let b = self.compare.pending.take()?;
        let image = self.tree.state.as_ref()?.image.clone();
        let efficiency = self.eff.clone()?;
        self.compare.state = CompareState::Running;
        let cfg = self.findings.cfg.as_ref().clone();
        Some(Command::Compare {
            req: self.compare.req,
            a: Box::new(Analysed {
                image,
                efficiency,
                findings: self.findings.list.clone(),
                packages: self.packages.list.clone(),
                redactor: cfg.redactor(),
            }),
            b,
            settings: Settings {
                signatures: self.signatures.clone(),
                ..Settings::new(self.opts.clone(), cfg)
            },
        })
    }

    /// Opens the text diff of the selected changed path.
    pub(in crate::ui) fn open_file_diff(&mut self) -> Option<Command> {
        let entry = self.compare.selected_entry()?;
        let path = entry.path.clone();
        let (Some(a), Some(b)) = (
            self.tree.state.as_ref().map(|t| t.image.clone()),
            self.compare.image_b.clone(),
        ) else {
            return None;
        };
        if entry.kind_a.is_none_or(|k| k == EntryKind::Dir)
            && entry.kind_b.is_none_or(|k| k == EntryKind::Dir)
        {
            self.notice = Some(("a directory has no text to compare".into(), Level::Info));
            return None;
        }
        let raw = path.trim_start_matches('/').as_bytes();
        let version = |i: &Image| i.fs.lookup(raw).and_then(|id| i.fs.final_version(id));
        let (va, vb) = (version(&a), version(&b));
        if va.is_none() && vb.is_none() {
            self.notice = Some((
                "this path cannot be read back (its name is not plain text)".into(),
                Level::Error,
            ));
            return None;
        }
        let req = self.req();
        self.compare.file = Some(FileDiffView {
            path,
            diff: FileDiff::Loading,
            scroll: 0,
            column: 0,
            req,
        });
        Some(Command::DiffFile {
            req,
            a: (a, va),
            b: (b, vb),
            rules: self.findings.cfg.rules.clone(),
        })
    }
}
