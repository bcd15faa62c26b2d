//! Mouse input: which pane a position is in, turned into an intent for the app (wheel
//! scrolls the pane under the pointer, a click focuses it and selects the row).

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use crate::ui::app::{App, Pane, Screen};
use crate::ui::keymap::Action;
use crate::ui::msg::Command;

/// Screen regions of the current layout, for mouse hit-testing and page sizes.
#[derive(Debug, Clone, Default)]
pub struct Areas {
    /// Layers pane (inner rows area).
    pub layers: Rect,
    /// Layer details pane.
    pub layer_details: Rect,
    /// Image details pane.
    pub image_details: Rect,
    /// Tree or viewer pane (inner rows area).
    pub tree: Rect,
    /// Image list (inner rows area).
    pub images: Rect,
    /// Findings list (inner rows area).
    pub findings: Rect,
    /// Compare mode's list of changed paths, or its text diff (inner rows area).
    pub compare: Rect,
    /// Packages list (inner rows area; empty while the pane is closed).
    pub packages: Rect,
    /// Anatomy view body (empty while the view is closed).
    pub anatomy: Rect,
}

/// What a mouse event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseIntent {
    /// Nothing (the event changes nothing on screen).
    Ignore,
    /// Wheel over a pane (`None`: the image list): three steps of `action`, focus unchanged.
    Wheel {
        /// The pane under the pointer.
        pane: Option<Pane>,
        /// Up or down.
        action: Action,
    },
    /// Left click on a pane (`None`: the image list); `row` is the row in its list when the
    /// click was on one.
    Click {
        /// The pane clicked.
        pane: Option<Pane>,
        /// Row within the pane's list.
        row: Option<usize>,
    },
}

/// Include the block border around an inner area for focus clicks.
fn expand(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_sub(1),
        r.y.saturating_sub(1),
        r.width.saturating_add(2),
        r.height.saturating_add(2),
    )
}

/// The intent of `m` over the regions `a`; `images` when the image list is on screen,
/// `right` the pane that replaces the tree (findings or compare mode), if any.
pub fn intent(m: &MouseEvent, a: &Areas, images: bool, right: Option<Pane>) -> MouseIntent {
    let pos = Position::new(m.column, m.row);
    let hit = |r: Rect| r.contains(pos);
    let pane = if images {
        None
    } else if hit(expand(a.layers)) {
        Some(Pane::Layers)
    } else if hit(a.layer_details) {
        Some(Pane::LayerDetails)
    } else if hit(a.image_details) {
        Some(Pane::ImageDetails)
    } else if right == Some(Pane::Findings) && hit(expand(a.findings)) {
        Some(Pane::Findings)
    } else if right == Some(Pane::Compare) && hit(expand(a.compare)) {
        Some(Pane::Compare)
    } else if !a.packages.is_empty() && hit(expand(a.packages)) {
        Some(Pane::Packages)
    } else if hit(expand(a.tree)) {
        Some(Pane::Tree)
    } else {
        None
    };
    match m.kind {
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let action = if m.kind == MouseEventKind::ScrollUp {
                Action::Up
            } else {
                Action::Down
            };
            if images || pane.is_some() {
                MouseIntent::Wheel { pane, action }
            } else {
                MouseIntent::Ignore
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            let list = match pane {
                None if images => Some(a.images),
                None => return MouseIntent::Ignore,
                Some(Pane::Layers) => Some(a.layers),
                Some(Pane::Findings) => Some(a.findings),
                Some(Pane::Compare) => Some(a.compare),
                Some(Pane::Packages) => Some(a.packages),
                Some(Pane::Tree) => Some(a.tree),
                Some(_) => None,
            };
            let row = list.filter(|r| hit(*r)).map(|r| (m.row - r.y) as usize);
            MouseIntent::Click { pane, row }
        }
        _ => MouseIntent::Ignore,
    }
}

/// Mouse events routed to the parts of the state.
impl App {
    // ----- mouse --------------------------------------------------------------------------

    pub(in crate::ui) fn mouse(&mut self, m: &MouseEvent) -> Vec<Command> {
        if self.help || self.prompt.active.is_some() {
            self.dirty = false;
            return Vec::new();
        }
        let images = self.screen == Screen::Images;
        let right = Some(self.right_pane()).filter(|p| *p != Pane::Tree);
        match intent(m, &self.areas, images, right) {
            MouseIntent::Ignore => self.dirty = false,
            MouseIntent::Wheel { pane: None, action } => {
                if let Some(target) = self.images.update(action) {
                    self.from_list = true;
                    return vec![self.open(target)];
                }
            }
            MouseIntent::Wheel {
                pane: Some(p),
                action,
            } => {
                let saved = self.focus;
                self.focus = p;
                let mut cmds = Vec::new();
                for _ in 0..3 {
                    cmds.extend(self.act(action));
                }
                self.focus = saved;
                return cmds;
            }
            MouseIntent::Click { pane: None, row } => {
                if let Some(r) = row {
                    self.images.click(r);
                }
            }
            MouseIntent::Click { pane: Some(p), row } => {
                self.focus = p;
                match (p, row) {
                    (Pane::Layers, Some(r)) if self.layers.click(r, self.layer_count()) => {
                        return self.layer_changed();
                    }
                    (Pane::Findings, Some(r)) => self.findings.click(r),
                    (Pane::Compare, Some(r)) => self.compare.click(r),
                    (Pane::Packages, Some(r)) => self.packages.click(r),
                    (Pane::Tree, Some(r)) if self.viewer.open.is_none() => self.tree.click(r),
                    _ => {}
                }
            }
        }
        Vec::new()
    }
}
