//! The layers pane: every history step in order, the selected layer, the compare mode of the
//! tree and the scroll of the layer details.

use super::{follow, move_index, scroll};
use crate::model::Image;
use crate::redact::Redactor;
use crate::ui::filetree::Mode;
use crate::ui::keymap::Action;
use crate::ui::text;

/// One row of the layers pane: a history step, with or without a layer.
#[derive(Debug, Clone)]
pub struct LayerRow {
    /// The layer this step produced (`None` for empty steps such as ENV or CMD).
    pub layer: Option<usize>,
    /// Index into the image history.
    pub history: Option<usize>,
    /// One-line instruction, already safe.
    pub text: String,
}

/// The layers pane and the layer details.
#[derive(Debug)]
pub struct Layers {
    /// Rows: history steps, with or without a layer.
    pub rows: Vec<LayerRow>,
    /// Selected layer.
    pub selected: usize,
    /// First row on screen.
    pub scroll: usize,
    /// Compare mode of the tree.
    pub mode: Mode,
    /// Scroll of the layer details pane.
    pub details_scroll: usize,
}

impl Default for Layers {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            selected: 0,
            scroll: 0,
            mode: Mode::PerLayer,
            details_scroll: 0,
        }
    }
}

impl Layers {
    /// Forgets the image (a new one is being opened).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.selected = 0;
        self.scroll = 0;
    }

    /// Builds the rows of `image`: its history steps in order, layers without history kept in
    /// order among them. Commands are redacted by `redact` and made safe here, once.
    pub fn set_image(&mut self, image: &Image, redact: &Redactor) {
        let mut rows = Vec::new();
        let mut seen = vec![false; image.layers.len()];
        for (hi, h) in image.history.iter().enumerate() {
            let layer = h.layer.filter(|&l| l < image.layers.len());
            if let Some(l) = layer {
                seen[l] = true;
            }
            rows.push(LayerRow {
                layer,
                history: Some(hi),
                text: text::one_line(&redact.instruction(&text::instruction(&h.created_by))),
            });
        }
        for (l, s) in seen.iter().enumerate() {
            if !s {
                let pos = rows
                    .iter()
                    .position(|r| r.layer.is_some_and(|x| x > l))
                    .unwrap_or(rows.len());
                rows.insert(
                    pos,
                    LayerRow {
                        layer: Some(l),
                        history: None,
                        text: "(no history for this layer)".into(),
                    },
                );
            }
        }
        self.rows = rows;
    }

    /// Moves the selection among `count` layers; true when the layer changed.
    pub fn update(&mut self, action: Action, count: usize) -> bool {
        let before = self.selected;
        move_index(&mut self.selected, count, action, 5);
        self.changed(before)
    }

    /// Selects `layer` (of `count`); true when the layer changed.
    pub fn select(&mut self, layer: usize, count: usize) -> bool {
        let before = self.selected;
        if layer < count {
            self.selected = layer;
        }
        self.changed(before)
    }

    fn changed(&mut self, before: usize) -> bool {
        let changed = self.selected != before;
        if changed {
            self.details_scroll = 0;
        }
        changed
    }

    /// Scrolls the layer details.
    pub fn scroll_details(&mut self, action: Action) {
        scroll(&mut self.details_scroll, action);
    }

    /// Selects the layer shown at `row` of the screen, if that row has one; true when the
    /// layer changed.
    pub fn click(&mut self, row: usize, count: usize) -> bool {
        match self.rows.get(self.scroll + row).and_then(|r| r.layer) {
            Some(l) => self.select(l, count),
            None => false,
        }
    }

    /// The row of the selected layer.
    pub fn selected_row(&self) -> usize {
        self.rows
            .iter()
            .position(|r| r.layer == Some(self.selected))
            .unwrap_or(0)
    }

    /// The first row on screen for `height` rows (the selected one kept visible).
    pub fn first_row(&self, height: usize) -> usize {
        follow(self.scroll, self.selected_row(), height)
    }
}
