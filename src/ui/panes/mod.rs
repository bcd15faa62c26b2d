//! Drawing: one module per pane, all reading the [`App`] state. Only the rows on screen are
//! built; every string from the image is made safe before it becomes a `Span`.

pub mod findings;
pub mod help;
pub mod image_details;
pub mod images;
pub mod layer_details;
pub mod layers;
pub mod status;
pub mod tree;
pub mod viewer;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};
use ratatui::Frame;

use super::app::{App, BadgeLevel, Screen};
use super::filetree::Change;

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
    let b = block(title, focused);
    let inner = b.inner(area);
    frame.render_widget(b, area);
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

/// A bold heading span.
pub fn heading(s: &str) -> Span<'static> {
    Span::styled(s.to_string(), Style::new().add_modifier(Modifier::BOLD))
}

/// Keeps `selected` visible in a window of `height` rows starting at `scroll`.
pub fn follow(scroll: &mut usize, selected: usize, height: usize) {
    if height == 0 {
        return;
    }
    if selected < *scroll {
        *scroll = selected;
    } else if selected >= *scroll + height {
        *scroll = selected + 1 - height;
    }
}

/// Draws the whole UI.
pub fn draw(frame: &mut Frame<'_>, app: &mut App) {
    app.prepare();
    app.areas = Default::default();
    let area = frame.area();
    app.size = (area.width, area.height);
    let [main, bar, status_line] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    match app.screen {
        Screen::Images => images::draw(frame, app, main),
        Screen::Explorer => explorer(frame, app, main),
    }
    status::key_bar(frame, app, bar);
    status::status(frame, app, status_line);
    if app.help {
        help::draw(frame, app, area);
    }
}

fn explorer(frame: &mut Frame<'_>, app: &mut App, area: Rect) {
    if app.viewer.is_some() && app.viewer_full && !app.findings_open {
        viewer::draw(frame, app, area);
        return;
    }
    let narrow = area.width < 80;
    let [left, right] = if narrow {
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area)
    } else {
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(area)
    };
    let [layers_area, details_area, image_area] = Layout::vertical([
        Constraint::Percentage(42),
        Constraint::Percentage(24),
        Constraint::Percentage(34),
    ])
    .areas(left);
    layers::draw(frame, app, layers_area);
    layer_details::draw(frame, app, details_area);
    image_details::draw(frame, app, image_area);
    if app.findings_open {
        findings::draw(frame, app, right);
    } else if app.viewer.is_some() {
        viewer::draw(frame, app, right);
    } else {
        tree::draw(frame, app, right);
    }
}
