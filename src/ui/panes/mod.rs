//! Drawing: one module per pane, all reading the [`App`] state. Only the rows on screen are
//! built; every string from the image is made safe before it becomes a `Span`.

pub mod anatomy;
pub mod compare;
pub mod findings;
pub mod help;
pub mod image_details;
pub mod images;
pub mod layer_details;
pub mod layers;
pub mod packages;
pub mod provenance;
pub mod scrolled;
pub mod status;
pub mod tree;
pub mod viewer;

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};
use ratatui::Frame;

use super::app::{App, BadgeLevel};
use super::filetree::Change;
use super::layout::{self, Body, Right};

/// Colour of a change (always paired with its symbol).
pub fn change_style(c: Change) -> Style {
    match c {
        Change::Added => Style::new().fg(Color::Green),
        Change::Modified => Style::new().fg(Color::Yellow),
        Change::Metadata => Style::new().fg(Color::Cyan),
        Change::Removed => Style::new().fg(Color::Red),
        Change::Unchanged | Change::Absent => Style::new(),
    }
}

/// Style of a badge.
pub fn badge_style(l: BadgeLevel) -> Style {
    match l {
        BadgeLevel::Info => Style::new().fg(Color::Black).bg(Color::Cyan),
        BadgeLevel::Warning => Style::new().fg(Color::Black).bg(Color::Yellow),
        BadgeLevel::Critical => Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}

/// Dimmed text (empty history steps, hints).
pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Style of the selected row.
pub fn selected(focused: bool) -> Style {
    if focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
}

/// A pane frame; the focused one is drawn bold and coloured.
pub fn block(title: Line<'_>, focused: bool) -> Block<'_> {
    let b = Block::default().borders(Borders::ALL).title(title);
    if focused {
        b.border_type(BorderType::Thick)
            .border_style(Style::new().fg(Color::Cyan))
    } else {
        b.border_style(dim())
    }
}

/// Draws a pane frame and splits its inside into a one-line header and the rows below it;
/// `None` when the pane is too small for both.
pub fn framed_list(
    frame: &mut Frame<'_>,
    title: Line<'_>,
    focused: bool,
    area: Rect,
) -> Option<(Rect, Rect)> {
    frame.render_widget(block(title, focused), area);
    layout::list_parts(area)
}

/// A pane title naming a file: ` PATH · KEPT EXTRAS… ` within `width` columns (the frame's
/// width). `kept` (layer and size) always stays; the `extras` go first, from the last, when
/// the title is too long; then the path is shortened from the left, whole components first
/// (`…/conf.d/x.conf`).
pub fn path_title(path: &str, kept: &str, extras: &[String], width: usize) -> Line<'static> {
    let room = width.saturating_sub(2);
    let cols = |s: &str| s.chars().count();
    let mut extras = extras.to_vec();
    let fixed = |extras: &[String]| cols(kept) + extras.iter().map(|e| cols(e)).sum::<usize>();
    while !extras.is_empty() && cols(path) + 2 + fixed(&extras) > room {
        extras.pop();
    }
    let path_room = room.saturating_sub(2 + fixed(&extras)).max(1);
    let mut spans = vec![
        Span::raw(format!(" {} ", super::text::shorten_path(path, path_room))),
        Span::styled(kept.to_owned(), dim()),
    ];
    spans.extend(extras.into_iter().map(|e| Span::styled(e, dim())));
    Line::from(spans)
}

/// A bold heading span.
pub fn heading(s: &str) -> Span<'static> {
    Span::styled(s.to_string(), Style::new().add_modifier(Modifier::BOLD))
}

/// Draws the whole UI from the state (reads only: the layout and scroll offsets were settled
/// by the last update; drawing on another size lays out again without writing back).
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let r = layout::regions(app, area);
    match r.body {
        Body::Images(main) => images::draw(frame, app, main),
        Body::FullViewer(main) => viewer::draw(frame, app, main),
        Body::Explorer {
            layers: layers_area,
            layer_details: details_area,
            image_details: image_area,
            right,
        } => {
            layers::draw(frame, app, layers_area);
            layer_details::draw(frame, app, details_area);
            image_details::draw(frame, app, image_area);
            match layout::right(app) {
                Right::Anatomy => anatomy::draw(frame, app, right),
                Right::Compare => compare::draw(frame, app, right),
                Right::Findings => findings::draw(frame, app, right),
                Right::Packages => packages::draw(frame, app, right),
                Right::Provenance => provenance::draw(frame, app, right),
                Right::Viewer => viewer::draw(frame, app, right),
                Right::Tree => tree::draw(frame, app, right),
            }
        }
    }
    status::key_bar(frame, app, r.bar);
    status::status(frame, app, r.status);
    if app.help {
        help::draw(frame, app, area);
    }
}
