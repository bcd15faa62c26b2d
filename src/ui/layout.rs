//! The screen layout as a pure function of the state and the terminal area. Drawing uses it to
//! place the panes; [`settle`] uses it after every update to record the regions for mouse
//! hit-testing and to clamp scroll offsets, so drawing only reads the state.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

use super::app::{App, Screen};
use super::panes;
use super::state::findings::{FindingsState, FINDING_ROWS};
use super::state::mouse::Areas;

/// What the right side of the explorer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    /// The anatomy view.
    Anatomy,
    /// Compare mode: changed paths and the package and finding changes, or a text diff.
    Compare,
    /// The findings list.
    Findings,
    /// The package inventory.
    Packages,
    /// Who made the image.
    Provenance,
    /// The file viewer.
    Viewer,
    /// The file tree.
    Tree,
}

/// Where the panes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// The image list fills the main area.
    Images(Rect),
    /// The viewer fills the main area (zoomed).
    FullViewer(Rect),
    /// Layers, layer details and image details on the left, `Right` on the right.
    Explorer {
        /// Layers pane.
        layers: Rect,
        /// Layer details pane.
        layer_details: Rect,
        /// Image details pane.
        image_details: Rect,
        /// Findings, viewer or tree.
        right: Rect,
    },
}

/// The regions of one screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regions {
    /// Panes.
    pub body: Body,
    /// Key bar.
    pub bar: Rect,
    /// Status line.
    pub status: Rect,
}

/// What the right side of the explorer shows now.
pub fn right(app: &App) -> Right {
    if app.anatomy.open {
        Right::Anatomy
    } else if app.compare.open {
        Right::Compare
    } else if app.findings.open {
        Right::Findings
    } else if app.packages.open {
        Right::Packages
    } else if app.provenance.open {
        Right::Provenance
    } else if app.viewer.open.is_some() {
        Right::Viewer
    } else {
        Right::Tree
    }
}

/// The regions of `area` for the current state.
pub fn regions(app: &App, area: Rect) -> Regions {
    let [main, bar, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let body = if app.screen == Screen::Images {
        Body::Images(main)
    } else if app.viewer.open.is_some()
        && app.viewer.full
        && !app.findings.open
        && !app.compare.open
        && !app.packages.open
        && !app.provenance.open
        && !app.anatomy.open
    {
        Body::FullViewer(main)
    } else {
        let [left, right] = if main.width < 80 {
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(main)
        } else {
            Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(main)
        };
        let [layers, layer_details, image_details] = Layout::vertical([
            Constraint::Percentage(42),
            Constraint::Percentage(24),
            Constraint::Percentage(34),
        ])
        .areas(left);
        Body::Explorer {
            layers,
            layer_details,
            image_details,
            right,
        }
    };
    Regions { body, bar, status }
}

/// The inside of a pane frame.
pub fn inner(area: Rect) -> Rect {
    Block::bordered().inner(area)
}

/// A framed list's header line and rows; `None` when the pane is too small for both.
pub fn list_parts(area: Rect) -> Option<(Rect, Rect)> {
    let inner = inner(area);
    if inner.height < 2 {
        return None;
    }
    let header = Rect { height: 1, ..inner };
    let rows = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    Some((header, rows))
}

/// The findings pane's list, separator and details; `None` when it is too small.
pub fn findings_parts(area: Rect) -> Option<[Rect; 3]> {
    let inner = inner(area);
    if inner.height < 3 {
        return None;
    }
    Some(
        Layout::vertical([
            Constraint::Percentage(45),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner),
    )
}

/// Compare mode's parts: the header line, the list of changed paths (or the text diff, which
/// takes the rest of the pane), the separator and the package and finding changes; `None`
/// when the pane is too small.
pub fn compare_parts(app: &App, area: Rect) -> Option<[Rect; 4]> {
    let inner = inner(area);
    if inner.height < 4 {
        return None;
    }
    if app.compare.file.is_some() {
        let [header, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        let none = Rect { height: 0, ..body };
        return Some([header, body, none, none]);
    }
    Some(
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Percentage(60),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner),
    )
}

/// The viewer's content rows and footer line.
pub fn viewer_parts(area: Rect) -> (Rect, Rect) {
    let inner = inner(area);
    let body = Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let footer = Rect {
        y: inner.y + inner.height.saturating_sub(1),
        height: 1.min(inner.height),
        ..inner
    };
    (body, footer)
}

/// The regions the mouse can hit in `r`.
pub fn areas(app: &App, r: &Regions) -> Areas {
    let rows = |area: Rect| list_parts(area).map_or_else(Rect::default, |(_, rows)| rows);
    let mut a = Areas::default();
    match r.body {
        Body::Images(main) => a.images = rows(main),
        Body::FullViewer(main) => a.tree = inner(main),
        Body::Explorer {
            layers,
            layer_details,
            image_details,
            right: area,
        } => {
            a.layers = rows(layers);
            a.layer_details = layer_details;
            a.image_details = image_details;
            match right(app) {
                Right::Compare => {
                    a.compare = compare_parts(app, area).map_or_else(Rect::default, |p| p[1]);
                }
                Right::Findings => {
                    a.findings = findings_parts(area).map_or_else(Rect::default, |p| p[0]);
                }
                Right::Packages => a.packages = rows(area),
                Right::Provenance => {}
                Right::Anatomy => a.anatomy = panes::anatomy::body(app, area),
                Right::Viewer => a.tree = inner(area),
                Right::Tree => a.tree = rows(area),
            }
        }
    }
    a
}

/// Findings shown at once in a list of `height` rows.
pub fn findings_per_screen(height: u16) -> usize {
    (height as usize / FINDING_ROWS).max(1)
}

/// Lays the screen out for the terminal size: records the regions and clamps every scroll
/// offset the way the panes will show it (selection kept visible, "bottom" resolved).
pub fn settle(app: &mut App) {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let r = regions(app, area);
    app.areas = areas(app, &r);
    match r.body {
        Body::Images(_) => app.images.settle(app.areas.images.height as usize),
        Body::FullViewer(main) => settle_viewer(app, main),
        Body::Explorer {
            layer_details,
            image_details,
            right: area,
            ..
        } => {
            if app.image.is_some() {
                app.layers.scroll = app.layers.first_row(app.areas.layers.height as usize);
            }
            app.layers.details_scroll = panes::layer_details::scroll(app, layer_details);
            app.image_details_scroll = panes::image_details::scroll(app, image_details);
            match right(app) {
                Right::Compare => app.compare.settle(app.areas.compare.height as usize),
                Right::Findings => {
                    if app.findings.state == FindingsState::Ready {
                        let n = findings_per_screen(app.areas.findings.height);
                        app.findings.settle(n);
                    }
                    app.findings.details_scroll = panes::findings::details_scroll(app, area);
                }
                Right::Packages => app.packages.settle(app.areas.packages.height as usize),
                Right::Provenance => {
                    app.provenance.scroll = panes::provenance::summary_scroll(app, area);
                }
                Right::Anatomy => {
                    let (height, width) = (
                        app.areas.anatomy.height as usize,
                        app.areas.anatomy.width as usize,
                    );
                    let image = app.image.clone();
                    app.anatomy.settle(height, width, image.as_deref());
                }
                Right::Viewer => settle_viewer(app, area),
                Right::Tree => app.tree.settle(app.areas.tree.height as usize),
            }
        }
    }
    if app.help {
        app.help_scroll = panes::help::scroll(app, area);
    }
}

fn settle_viewer(app: &mut App, area: Rect) {
    let (body, _) = viewer_parts(area);
    app.viewer.settle(body.height as usize, body.width);
}
