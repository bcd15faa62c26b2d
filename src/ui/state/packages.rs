//! The packages pane: the loaded image's package inventory (every manager strata reads),
//! sortable by column and filterable by text, and the jump from a package to its files in the
//! tree.

use super::{follow, move_index};
use crate::analysis::finding::Package;
use crate::analysis::packages::files::{listing_path, lists_files};
use crate::model::fs::PathId;
use crate::ui::app::{App, Level, Pane};
use crate::ui::keymap::Action;
use crate::ui::msg::Command;

/// Column the package list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PackageSort {
    /// Manager, then name (as the report lists them).
    #[default]
    Manager,
    /// Name, then manager.
    Name,
    /// Installed size, largest first.
    Size,
    /// Layer that added the package, bottom first.
    Layer,
    /// License, packages without one last.
    License,
}

impl PackageSort {
    /// The next column (the sort key cycles through them).
    pub fn next(self) -> Self {
        match self {
            Self::Manager => Self::Name,
            Self::Name => Self::Size,
            Self::Size => Self::Layer,
            Self::Layer => Self::License,
            Self::License => Self::Manager,
        }
    }

    /// Column name, as the pane's title shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Manager => "manager",
            Self::Name => "name",
            Self::Size => "size",
            Self::Layer => "layer",
            Self::License => "license",
        }
    }
}

/// What a packages action asks of the rest of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackagesOutcome {
    /// Handled here.
    Done,
    /// Show the selected package's files in the tree.
    Jump,
}

/// The package inventory and the pane showing it.
#[derive(Debug, Default)]
pub struct Packages {
    /// Every package of the image, as the findings pass listed them.
    pub list: Vec<Package>,
    /// The pane is shown (in place of the tree).
    pub open: bool,
    /// Sort column.
    pub sort: PackageSort,
    /// Case-insensitive text a shown package's manager, name, version or license contains.
    pub filter: String,
    /// Indexes into `list` of the packages shown, in display order.
    pub shown: Vec<usize>,
    /// Selected row of `shown`.
    pub selected: usize,
    /// First row on screen.
    pub scroll: usize,
    /// The file-list request in flight: (request, package name, layer to show).
    pub pending_files: Option<(u64, String, usize)>,
}

impl Packages {
    /// Stores the inventory of a newly loaded image (sort and filter are kept).
    pub fn set(&mut self, list: Vec<Package>) {
        self.list = list;
        self.selected = 0;
        self.scroll = 0;
        self.refresh();
    }

    /// Forgets the inventory (another image).
    pub fn clear(&mut self) {
        self.list.clear();
        self.shown.clear();
        self.open = false;
        self.selected = 0;
        self.scroll = 0;
        self.pending_files = None;
    }

    /// Shows only packages containing `text` (empty shows all); the selection goes to the top.
    pub fn set_filter(&mut self, text: String) {
        self.filter = text;
        self.selected = 0;
        self.scroll = 0;
        self.refresh();
    }

    /// Recomputes the shown rows from the list, filter and sort column.
    fn refresh(&mut self) {
        let needle = self.filter.to_lowercase();
        let matches = |p: &Package| {
            needle.is_empty()
                || [
                    p.manager.as_str(),
                    &p.name,
                    &p.version,
                    p.license.as_deref().unwrap_or(""),
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle))
        };
        let mut shown: Vec<usize> = (0..self.list.len())
            .filter(|&i| matches(&self.list[i]))
            .collect();
        let list = &self.list;
        let by_name = |a: &Package, b: &Package| {
            (a.name.to_lowercase(), &a.manager, &a.version).cmp(&(
                b.name.to_lowercase(),
                &b.manager,
                &b.version,
            ))
        };
        shown.sort_by(|&a, &b| {
            let (a, b) = (&list[a], &list[b]);
            match self.sort {
                PackageSort::Manager => a.manager.cmp(&b.manager).then_with(|| by_name(a, b)),
                PackageSort::Name => by_name(a, b),
                PackageSort::Size => b.size_bytes.cmp(&a.size_bytes).then_with(|| by_name(a, b)),
                PackageSort::Layer => (a.layer.is_none(), a.layer)
                    .cmp(&(b.layer.is_none(), b.layer))
                    .then_with(|| by_name(a, b)),
                PackageSort::License => (a.license.is_none(), &a.license)
                    .cmp(&(b.license.is_none(), &b.license))
                    .then_with(|| by_name(a, b)),
            }
        });
        self.shown = shown;
        self.selected = self.selected.min(self.shown.len().saturating_sub(1));
    }

    /// The selected package.
    pub fn selected_package(&self) -> Option<&Package> {
        self.list.get(*self.shown.get(self.selected)?)
    }

    /// Handles an action in the pane; `page` is the number of rows on screen.
    pub fn update(&mut self, action: Action, page: usize) -> PackagesOutcome {
        match action {
            Action::Open => return PackagesOutcome::Jump,
            Action::Sort => {
                let keep = self.shown.get(self.selected).copied();
                self.sort = self.sort.next();
                self.refresh();
                if let Some(i) = keep.and_then(|k| self.shown.iter().position(|&s| s == k)) {
                    self.selected = i;
                }
            }
            other => move_index(&mut self.selected, self.shown.len(), other, page),
        }
        PackagesOutcome::Done
    }

    /// Selects the package shown at `row` of the list, if there is one.
    pub fn click(&mut self, row: usize) {
        let i = self.scroll + row;
        if i < self.shown.len() {
            self.selected = i;
        }
    }

    /// Keeps the selection visible with `rows` rows on screen.
    pub fn settle(&mut self, rows: usize) {
        self.scroll = follow(self.scroll, self.selected, rows);
    }
}

/// The packages pane's effect on the rest of the explorer.
impl App {
    // ----- packages -----------------------------------------------------------------------

    /// Opens or closes the packages pane (in place of the tree or the findings).
    pub(in crate::ui) fn toggle_packages(&mut self) {
        if self.packages.open && self.focus == Pane::Packages {
            self.close_packages();
            return;
        }
        self.findings.close();
        self.packages.open = true;
        self.focus = Pane::Packages;
        if self.findings.state != crate::ui::app::FindingsState::Ready {
            self.notice = Some(("packages are still being read…".into(), Level::Info));
        }
    }

    pub(in crate::ui) fn close_packages(&mut self) {
        self.packages.open = false;
        if self.focus == Pane::Packages {
            self.focus = Pane::Tree;
        }
    }

    /// Enter on a package. Where its format lists its files (see [`lists_files`]), the
    /// worker reads that list and the tree then shows just those files, at the package's
    /// layer. Otherwise the tree selects the file the package was read from (see
    /// [`listing_path`]).
    pub(in crate::ui) fn jump_to_package(&mut self) -> Vec<Command> {
        let Some(p) = self.packages.selected_package().cloned() else {
            return Vec::new();
        };
        let Some(tree) = self.tree.state.as_ref() else {
            return Vec::new();
        };
        let fs = &tree.image.fs;
        let target = listing_path(fs, &p).and_then(|path| {
            let id = fs.lookup(path.as_bytes())?;
            let v = fs.final_version(id)?;
            Some((path, v, fs.versions[v as usize].layer as usize))
        });
        let image = tree.image.clone();
        if let Some((listing, version, layer)) = &target {
            if lists_files(&p, listing) {
                let req = self.req();
                let layer = p.layer.unwrap_or(*layer);
                self.packages.pending_files = Some((req, p.name.clone(), layer));
                self.notice = Some((
                    format!("reading the files of {}…", crate::model::sanitize(&p.name)),
                    Level::Info,
                ));
                return vec![Command::PackageFiles {
                    req,
                    image,
                    version: *version,
                    listing: listing.clone(),
                    package: Box::new(p),
                }];
            }
        }
        let target = target.map(|(path, _, layer)| (format!("/{path}"), layer));
        let Some((path, layer)) = target else {
            self.notice = Some((
                format!(
                    "{} lists no file of its own in the image",
                    crate::model::sanitize(&p.name)
                ),
                Level::Error,
            ));
            return Vec::new();
        };
        self.packages.open = false;
        self.viewer.close();
        self.focus = Pane::Tree;
        self.pending_jump = Some((path, layer));
        let mut cmds = self.select_layer(layer);
        if cmds.is_empty() && self.pending_jump.is_some() {
            cmds = self.want_view().into_iter().collect();
        }
        cmds
    }

    /// The worker's answer to [`Command::PackageFiles`]: the tree shows those paths at the
    /// package's layer.
    pub(in crate::ui) fn package_files(
        &mut self,
        req: u64,
        result: Result<Vec<PathId>, String>,
    ) -> Vec<Command> {
        let Some((_, name, layer)) = self.packages.pending_files.take_if(|(r, _, _)| *r == req)
        else {
            return Vec::new();
        };
        let shown = crate::model::sanitize(&name);
        match result {
            Ok(ids) if ids.is_empty() => {
                self.notice = Some((
                    format!("none of the files {shown} lists is in the image"),
                    Level::Error,
                ));
                Vec::new()
            }
            Ok(ids) => {
                let _ = self.tree.set_filter(String::new());
                self.tree
                    .set_only(&ids, format!("{} files of {name}", ids.len()));
                self.packages.open = false;
                self.viewer.close();
                self.focus = Pane::Tree;
                self.notice = Some((
                    format!(
                        "{} files of {shown} in layer {layer} (Esc shows all)",
                        ids.len()
                    ),
                    Level::Info,
                ));
                let mut cmds = self.select_layer(layer);
                if cmds.is_empty() {
                    cmds = self.want_view().into_iter().collect();
                }
                cmds
            }
            Err(e) => {
                self.notice = Some((
                    format!("{shown}: {}", crate::model::sanitize(&e)),
                    Level::Error,
                ));
                Vec::new()
            }
        }
    }
}
