//! The image list: the daemon's images (`strata` with no argument), or the images of an
//! archive or layout that holds several (`strata multi.tar`).

use super::{follow, move_index};
use crate::model::summary::ImageSummary;
use crate::ui::keymap::Action;
use crate::ui::msg::Target;

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
    /// Its `@N` in the archive or layout being listed (`None` for a daemon image).
    pub pick: Option<usize>,
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
    /// The archive or layout whose images are listed (`None`: the daemon's).
    pub archive: Option<String>,
}

impl ImageList {
    /// Stores the daemon's answer.
    pub fn set(&mut self, rows: Vec<ImageRow>) {
        self.loading = false;
        self.archive = None;
        self.rows = rows;
        self.selected = 0;
    }

    /// Lists the images of the archive or layout `reference`, in `@N` order.
    pub fn set_choices(&mut self, reference: String, images: &[ImageSummary]) {
        self.loading = false;
        self.archive = Some(reference);
        self.rows = images.iter().map(choice_row).collect();
        self.selected = 0;
        self.scroll = 0;
    }

    /// Where the listed images are, for titles: the archive's name or "the Docker daemon".
    pub fn title_source(&self) -> String {
        self.archive
            .as_deref()
            .map_or_else(|| "the Docker daemon".to_owned(), crate::model::sanitize)
    }

    /// Handles an action; returns what to open on [`Action::Open`].
    pub fn update(&mut self, action: Action) -> Option<Target> {
        match action {
            Action::Open => self.rows.get(self.selected).map(|row| {
                if let (Some(archive), Some(n)) = (&self.archive, row.pick) {
                    Target::Pick(archive.clone(), n)
                } else if row.reference.starts_with("<none>")
                    || row.reference.ends_with(":<none>")
                    || row.reference.is_empty()
                {
                    Target::Reference(row.id.clone())
                } else {
                    Target::Reference(row.reference.clone())
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

/// The list row of one image of an archive: its names (or `<none>` and `@N`), image ID,
/// stored size and creation time.
fn choice_row(image: &ImageSummary) -> ImageRow {
    let reference = if image.names.is_empty() {
        format!("<none> @{}", image.index)
    } else {
        image.names.join(", ")
    };
    let id = image
        .id
        .clone()
        .or_else(|| image.manifest_digest.clone())
        .unwrap_or_default();
    let created = image
        .created
        .as_deref()
        .and_then(|c| c.parse::<jiff::Timestamp>().ok())
        .map_or(0, |t| t.as_second());
    ImageRow {
        reference,
        id,
        size: image.size.unwrap_or(0),
        created,
        pick: Some(image.index),
    }
}
