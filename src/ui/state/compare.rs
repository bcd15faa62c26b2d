//! Compare mode: image B opened against the image already open (A). The worker reads and
//! analyses B through the engine's entry point and compares the two
//! ([`crate::analysis::diff::compare`]); this state keeps the comparison, the list of changed
//! paths the pane shows (with the tree's path filter, change-type toggles and sort), and the
//! text diff of one file's two versions.

use std::sync::Arc;

use regex::bytes::Regex;

use super::findings::FindingsState;
use super::{follow, move_index};
use crate::analysis::diff::{Change, Diff, FileChange};
use crate::analysis::pipeline::{Analysed, Settings};
use crate::model::fs::EntryKind;
use crate::model::Image;
use crate::ui::app::{App, Level, Pane};
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

/// One line of a text diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// What the line is.
    pub tag: DiffTag,
    /// The text (secrets already masked; made safe when drawn).
    pub text: String,
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
}

/// The text diff of one path, as the pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDiff {
    /// The worker is reading both versions.
    Loading,
    /// The unified diff (empty when the texts are equal).
    Ready(Vec<DiffLine>),
    /// Why there is no text diff (binary, not a regular file, read error).
    Failed(String),
}

/// The text diff view of one changed path.
#[derive(Debug, Clone)]
pub struct FileDiffView {
    /// Display path.
    pub path: String,
    /// Its content.
    pub diff: FileDiff,
    /// First line on screen.
    pub scroll: usize,
    /// Request id of the read.
    pub req: u64,
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
    /// Indexes into the diff's file entries, filtered and sorted as shown.
    pub rows: Vec<usize>,
    /// Selected row.
    pub selected: usize,
    /// First row on screen.
    pub scroll: usize,
    /// Sort by bytes moved (largest first) instead of by path.
    pub by_size: bool,
    /// Show added, removed, modified paths.
    pub show: [bool; 3],
    /// The open text diff.
    pub file: Option<FileDiffView>,
    /// Request id of the running comparison.
    pub req: u64,
    filter: Option<Regex>,
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
            rows: Vec::new(),
            selected: 0,
            scroll: 0,
            by_size: false,
            show: [true; 3],
            file: None,
            req: 0,
            filter: None,
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
        *self = Self {
            filter,
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
        self.diff = Some(Arc::new(diff));
        self.image_b = Some(image_b);
        self.state = CompareState::Ready;
        self.selected = 0;
        self.scroll = 0;
        self.refilter();
    }

    /// Applies the tree's path filter (a valid regex, or `None`) to the list.
    pub fn set_filter(&mut self, filter: Option<Regex>) {
        self.filter = filter;
        self.refilter();
    }

    /// Recomputes the rows from the filter, the change-type toggles and the sort.
    pub fn refilter(&mut self) {
        let Some(diff) = &self.diff else {
            self.rows.clear();
            return;
        };
        let entries = &diff.files.entries;
        let mut rows: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| self.show[slot(e.change)])
            .filter(|(_, e)| {
                self.filter
                    .as_ref()
                    .is_none_or(|r| r.is_match(e.path.as_bytes()))
            })
            .map(|(i, _)| i)
            .collect();
        if self.by_size {
            rows.sort_by(|&x, &y| {
                entries[y]
                    .weight()
                    .cmp(&entries[x].weight())
                    .then(x.cmp(&y))
            });
        }
        self.rows = rows;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// The selected file change.
    pub fn selected_entry(&self) -> Option<&FileChange> {
        let i = *self.rows.get(self.selected)?;
        self.diff.as_ref()?.files.entries.get(i)
    }

    /// Handles an action in the pane; `page` is the number of rows on screen.
    pub fn update(&mut self, action: Action, page: usize) -> CompareOutcome {
        if let Some(f) = self.file.as_mut() {
            let n = match &f.diff {
                FileDiff::Ready(lines) => lines.len(),
                _ => 0,
            };
            match action {
                Action::Up => f.scroll = f.scroll.saturating_sub(1),
                Action::Down => f.scroll = (f.scroll + 1).min(n.saturating_sub(1)),
                Action::PageUp => f.scroll = f.scroll.saturating_sub(page),
                Action::PageDown => f.scroll = (f.scroll + page).min(n.saturating_sub(1)),
                Action::Top => f.scroll = 0,
                Action::Bottom => f.scroll = n.saturating_sub(page),
                _ => {}
            }
            return CompareOutcome::Done;
        }
        match action {
            Action::Open => return CompareOutcome::OpenFile,
            Action::Sort => {
                self.by_size = !self.by_size;
                self.refilter();
            }
            Action::ToggleAdded => self.toggle(Change::Added),
            Action::ToggleRemoved => self.toggle(Change::Removed),
            Action::ToggleModified => self.toggle(Change::Modified),
            other => move_index(&mut self.selected, self.rows.len(), other, page),
        }
        CompareOutcome::Done
    }

    fn toggle(&mut self, c: Change) {
        let s = &mut self.show[slot(c)];
        *s = !*s;
        self.refilter();
    }

    /// Selects the path shown at `row` of the list (nothing while a text diff is open).
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
    pub fn file_diff(&mut self, req: u64, result: Result<Vec<DiffLine>, String>) {
        if let Some(f) = self.file.as_mut().filter(|f| f.req == req) {
            f.diff = match result {
                Ok(lines) => FileDiff::Ready(lines),
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
