//! The file tree: the [`TreeState`] of the selected layer and mode, the path filter, and the
//! layer views it shows. A view missing from the small cache is built by the worker (latest
//! wins); the tree keeps showing the previous view until it arrives.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::follow;
use crate::model::fs::{PathId, VersionId};
use crate::model::Image;
use crate::ui::filetree::{Change, LayerView, Mode, Sort, TreeIndex, TreeState};
use crate::ui::keymap::Action;
use crate::ui::msg::Command;
use crate::ui::text;

/// Layer views kept for quick switching back.
const CACHED_VIEWS: usize = 4;

/// What a tree action asks of the rest of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeOutcome {
    /// Handled here.
    Done,
    /// Open the selected file in the viewer.
    Open,
    /// Extract the selected file.
    Extract,
}

/// The file tree pane.
#[derive(Debug)]
pub struct Tree {
    /// The tree, once the image is loaded.
    pub state: Option<TreeState>,
    /// Show the permission/owner/size columns.
    pub attributes: bool,
    /// Last regex filter text applied.
    pub filter_text: String,
    /// The last non-empty filter expression: what `n`/`N` look for, also after the filter is
    /// cleared.
    pub search_text: String,
    /// What the path-set filter shows (such as "files of bash"), when one is applied.
    pub only_label: Option<String>,
    views: Vec<Arc<LayerView>>,
    /// The view being built: (request, layer, mode).
    pending: Option<(u64, usize, Mode)>,
    ticket: Arc<AtomicU64>,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            state: None,
            attributes: true,
            filter_text: String::new(),
            search_text: String::new(),
            only_label: None,
            views: Vec::new(),
            pending: None,
            ticket: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Tree {
    /// Forgets the image.
    pub fn clear(&mut self) {
        self.state = None;
        self.only_label = None;
        self.views.clear();
        self.pending = None;
        self.ticket.store(0, Ordering::SeqCst);
    }

    /// The loaded image: a tree over `view` (names sorted).
    pub fn loaded(&mut self, image: Arc<Image>, index: Arc<TreeIndex>, view: Arc<LayerView>) {
        self.clear();
        self.views.push(view.clone());
        let mut tree = TreeState::new(image, index, view);
        tree.sort = Sort::Name;
        self.state = Some(tree);
    }

    /// True while the wanted view is being built (the tree shows the previous one).
    pub fn building(&self) -> bool {
        self.pending.is_some()
    }

    /// Shows the view of `layer` in `mode`: at once when it is shown or cached, else through a
    /// [`Command::BuildView`] with request id `req`.
    pub fn want(&mut self, layer: usize, mode: Mode, req: u64) -> Option<Command> {
        let tree = self.state.as_mut()?;
        if tree.view.layer == layer && tree.view.mode == mode {
            self.pending = None;
            self.ticket.store(0, Ordering::SeqCst);
            return None;
        }
        if let Some(i) = self
            .views
            .iter()
            .position(|v| v.layer == layer && v.mode == mode)
        {
            let v = self.views.remove(i);
            self.views.push(v.clone());
            tree.set_view(v);
            self.pending = None;
            self.ticket.store(0, Ordering::SeqCst);
            return None;
        }
        if self
            .pending
            .is_some_and(|(_, l, m)| l == layer && m == mode)
        {
            return None;
        }
        self.pending = Some((req, layer, mode));
        self.ticket.store(req, Ordering::SeqCst);
        Some(Command::BuildView {
            req,
            ticket: self.ticket.clone(),
            image: tree.image.clone(),
            layer,
            mode,
        })
    }

    /// A view from the worker; true when it was the one wanted (and is now shown).
    pub fn view_built(&mut self, req: u64, view: Arc<LayerView>) -> bool {
        if self.pending.is_none_or(|(r, _, _)| r != req) {
            return false;
        }
        self.pending = None;
        let Some(tree) = self.state.as_mut() else {
            return false;
        };
        self.views.push(view.clone());
        if self.views.len() > CACHED_VIEWS {
            self.views.remove(0);
        }
        tree.set_view(view);
        true
    }

    /// Selects the next (or previous) path of this layer's filesystem, in path order, that
    /// the last filter expression matches, expanding its parents. False when nothing matches.
    pub fn jump_to_match(&mut self, forward: bool) -> bool {
        let Ok(re) = regex::bytes::RegexBuilder::new(&self.search_text)
            .size_limit(1 << 20)
            .build()
        else {
            return false;
        };
        let Some(tree) = self.state.as_ref() else {
            return false;
        };
        if self.search_text.is_empty() {
            return false;
        }
        let fs = &tree.image.fs;
        let parts = |id: PathId| fs.path(id).split(|&b| b == b'/').collect::<Vec<_>>();
        let mut matches: Vec<PathId> = (1..fs.path_count() as PathId)
            .filter(|&id| tree.view.version_of(id).is_some() && re.is_match(fs.path(id)))
            .collect();
        // Component by component, as the tree lists them by name.
        matches.sort_by_cached_key(|&id| parts(id));
        let current = tree.selected_id().map(parts).unwrap_or_default();
        let next = if forward {
            matches
                .iter()
                .find(|&&id| parts(id) > current)
                .or(matches.first())
        } else {
            matches
                .iter()
                .rev()
                .find(|&&id| parts(id) < current)
                .or(matches.last())
        };
        let Some(&id) = next else { return false };
        let path = String::from_utf8_lossy(fs.path(id)).into_owned();
        self.show_path(&path)
    }

    /// Handles a tree action; `page` is the number of rows on screen.
    pub fn update(&mut self, action: Action, page: usize) -> TreeOutcome {
        if let Action::NextMatch | Action::PrevMatch = action {
            self.jump_to_match(action == Action::NextMatch);
            return TreeOutcome::Done;
        }
        let page = page.max(1) as isize;
        let Some(tree) = self.state.as_mut() else {
            return TreeOutcome::Done;
        };
        match action {
            Action::Attributes => self.attributes = !self.attributes,
            Action::Open => return TreeOutcome::Open,
            Action::Extract => return TreeOutcome::Extract,
            Action::Up => tree.move_by(-1),
            Action::Down => tree.move_by(1),
            Action::PageUp => tree.move_by(-page),
            Action::PageDown => tree.move_by(page),
            Action::Top => tree.selected = 0,
            Action::Bottom => tree.selected = tree.rows.len().saturating_sub(1),
            Action::Left => tree.left(),
            Action::Right => tree.right(),
            Action::ToggleCollapse => tree.toggle_selected(),
            Action::ToggleCollapseAll => tree.toggle_all(),
            Action::ToggleAdded => {
                tree.filter.added = !tree.filter.added;
                tree.refilter();
            }
            Action::ToggleRemoved => {
                tree.filter.removed = !tree.filter.removed;
                tree.refilter();
            }
            Action::ToggleModified => {
                tree.filter.modified = !tree.filter.modified;
                tree.refilter();
            }
            Action::ToggleUnchanged => {
                tree.filter.unchanged = !tree.filter.unchanged;
                tree.refilter();
            }
            Action::Sort => {
                tree.sort = match tree.sort {
                    Sort::Name => Sort::Size,
                    Sort::Size => Sort::Name,
                };
                tree.rebuild();
            }
            _ => {}
        }
        TreeOutcome::Done
    }

    /// The selected entry: path, version shown and change.
    pub fn selected_entry(&self) -> Option<(PathId, Option<VersionId>, Change)> {
        let tree = self.state.as_ref()?;
        let id = tree.selected_id()?;
        Some((id, tree.view.version_of(id), tree.view.change[id as usize]))
    }

    /// Applies a path filter (empty clears it). Invalid expressions keep the previous filter.
    pub fn set_filter(&mut self, text: String) -> Result<(), String> {
        let pattern = if text.is_empty() {
            None
        } else {
            match regex::bytes::RegexBuilder::new(&text)
                .size_limit(1 << 20)
                .build()
            {
                Ok(r) => Some(r),
                Err(e) => return Err(text::one_line(&e.to_string())),
            }
        };
        if !text.is_empty() {
            self.search_text = text.clone();
        }
        self.filter_text = text;
        if let Some(tree) = self.state.as_mut() {
            tree.filter.pattern = pattern;
            tree.refilter();
        }
        Ok(())
    }

    /// Shows only the paths in `ids` (and the directories leading to them), under `label`.
    pub fn set_only(&mut self, ids: &[PathId], label: String) {
        let Some(tree) = self.state.as_mut() else {
            return;
        };
        let mut only = vec![false; tree.image.fs.path_count()];
        for &id in ids {
            if let Some(slot) = only.get_mut(id as usize) {
                *slot = true;
            }
        }
        tree.filter.only = Some(only.into());
        tree.refilter();
        self.only_label = Some(label);
    }

    /// Removes the path-set filter; false when there was none.
    pub fn clear_only(&mut self) -> bool {
        if self.only_label.take().is_none() {
            return false;
        }
        if let Some(tree) = self.state.as_mut() {
            tree.filter.only = None;
            tree.refilter();
        }
        true
    }

    /// The applied path filter as a regex (`None` when there is none).
    pub fn filter_regex(&self) -> Option<regex::bytes::Regex> {
        if self.filter_text.is_empty() {
            return None;
        }
        regex::bytes::RegexBuilder::new(&self.filter_text)
            .size_limit(1 << 20)
            .build()
            .ok()
    }

    /// Selects `path` in the tree, expanding its parents and clearing filters that hide it.
    pub fn show_path(&mut self, path: &str) -> bool {
        let Some(tree) = self.state.as_mut() else {
            return false;
        };
        let Some(id) = tree
            .image
            .fs
            .lookup(path.trim_start_matches('/').as_bytes())
        else {
            return false;
        };
        let mut cur = tree.image.fs.parent(id);
        while cur != 0 {
            tree.collapsed[cur as usize] = false;
            cur = tree.image.fs.parent(cur);
        }
        tree.rebuild();
        if tree.select_path(id) {
            return true;
        }
        tree.filter = Default::default();
        tree.refilter();
        self.filter_text.clear();
        self.only_label = None;
        tree.select_path(id)
    }

    /// Selects the row at `row` of the screen, if there is one.
    pub fn click(&mut self, row: usize) {
        if let Some(t) = self.state.as_mut() {
            let i = t.scroll + row;
            if i < t.rows.len() {
                t.selected = i;
            }
        }
    }

    /// Keeps the selection visible in `height` rows.
    pub fn settle(&mut self, height: usize) {
        if let Some(t) = self.state.as_mut() {
            t.scroll = follow(t.scroll, t.selected, height);
        }
    }
}

/// The error text of an invalid filter expression, short enough for the status line.
pub fn filter_error(text: &str) -> Option<String> {
    regex::bytes::Regex::new(text).err().map(|e| {
        text::one_line(&e.to_string())
            .lines()
            .last()
            .unwrap_or("invalid")
            .to_string()
    })
}
