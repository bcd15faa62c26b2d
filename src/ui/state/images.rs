//! The daemon's image list (`strata` with no argument).

use super::{follow, move_index};
use crate::ui::keymap::Action;

/// One image of the daemon's image list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageRow {
    /// `repo:tag`, or the short id for untagged images.
    pub reference: String,
    /// Image id (`sha256:…`).
    pub id: String,
    /// Size in bytes as the daemon reports it.
    pub size: u64,
    /// Creation time, seconds since the epoch.
    pub created: i64,
}

/// The image list and its selection.
#[derive(Debug, Default)]
pub struct ImageList {
    /// Images from the daemon.
    pub rows: Vec<ImageRow>,
    /// Selected row.
    pub selected: usize,
    /// First row on screen.
    pub scroll: usize,
    /// The list is being fetched.
    pub loading: bool,
}

impl ImageList {
    /// Stores the daemon's answer.
    pub fn set(&mut self, rows: Vec<ImageRow>) {
        self.loading = false;
        self.rows = rows;
        self.selected = 0;
    }

    /// Handles an action; returns the reference to open on [`Action::Open`].
    pub fn update(&mut self, action: Action) -> Option<String> {
        match action {
            Action::Open => self.rows.get(self.selected).map(|row| {
                if row.reference.starts_with("<none>") || row.reference.is_empty() {
                    row.id.clone()
                } else {
                    row.reference.clone()
                }
            }),
            other => {
                move_index(&mut self.selected, self.rows.len(), other, 10);
                None
            }
        }
    }

    /// Selects the row at `row` of the screen, if there is one.
    pub fn click(&mut self, row: usize) {
        let i = self.scroll + row;
        if i < self.rows.len() {
            self.selected = i;
        }
    }

    /// Keeps the selection visible in `height` rows.
    pub fn settle(&mut self, height: usize) {
        self.scroll = follow(self.scroll, self.selected, height);
    }
}
