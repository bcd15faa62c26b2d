//! The packages pane (in place of the tree while open): one row per installed package with
//! manager, name, version, installed size, the layer that added it (`B` when the base image
//! did) and license, sorted by the chosen column and filtered by the typed text.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{dim, framed_list, selected};
use crate::analysis::finding::Package;
use crate::model::sanitize;
use crate::ui::app::{App, FindingsState, Pane};
use crate::ui::state::follow;
use crate::ui::text::{bytes, fit};

/// Widths of the variable columns (name, version, license) for a list `width` wide; the
/// fixed ones are manager (6), size (10) and layer (4), with one space between columns.
fn widths(width: usize) -> (usize, usize, usize) {
    let free = width.saturating_sub(6 + 10 + 4 + 6);
    // Versions are long where it matters (`1:2.38.1-5+deb12u1`): they get the largest share.
    let name = free / 3;
    let version = free * 5 / 12;
    (name, version, free - name - version)
}

fn row(p: &Package, width: usize) -> String {
    let (wn, wv, wl) = widths(width);
    let layer = match p.layer {
        Some(l) if p.base => format!("B{l:>3}"),
        Some(l) => format!("{l:>4}"),
        None => "   -".to_owned(),
    };
    let size = if p.size_bytes == 0 {
        "-".to_owned()
    } else {
        bytes(p.size_bytes)
    };
    format!(
        " {:<6} {:<wn$} {:<wv$} {size:>10} {layer} {}",
        fit(&sanitize(&p.manager), 6),
        fit(&sanitize(&p.name), wn),
        fit(&sanitize(&p.version), wv),
        fit(&sanitize(p.license.as_deref().unwrap_or("")), wl),
    )
}

fn header(width: usize) -> String {
    let (wn, wv, _) = widths(width);
    format!(
        " {:<6} {:<wn$} {:<wv$} {:>10} {:>4} License",
        "Type", "Name", "Version", "Size", "Layer"
    )
}

fn title(app: &App) -> Line<'static> {
    let p = &app.packages;
    let mut spans = vec![Span::raw(" Packages ")];
    let count = if p.filter.is_empty() {
        format!("({}) ", p.list.len())
    } else {
        format!("({} of {}) ", p.shown.len(), p.list.len())
    };
    spans.push(Span::styled(count, dim()));
    spans.push(Span::styled(format!("by {} ", p.sort.label()), dim()));
    if !p.filter.is_empty() {
        spans.push(Span::styled(
            format!("· filter \"{}\" ", sanitize(&p.filter)),
            dim(),
        ));
    }
    Line::from(spans)
}

/// Draws the packages pane.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Packages;
    let Some((head, rows)) = framed_list(frame, title(app), focused, area) else {
        return;
    };
    let width = rows.width as usize;
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(&header(width), width),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        head,
    );
    let p = &app.packages;
    let msg = match &app.findings.state {
        FindingsState::Ready if p.list.is_empty() => Some("  no package database found".into()),
        FindingsState::Ready if p.shown.is_empty() => Some(format!(
            "  no package contains \"{}\" (Esc clears the filter)",
            sanitize(&p.filter)
        )),
        FindingsState::Ready => None,
        FindingsState::Failed(e) => Some(format!("  {e}")),
        _ => Some("  reading the package databases…".to_owned()),
    };
    if let Some(m) = msg {
        frame.render_widget(
            Paragraph::new(Line::styled(m, dim())).wrap(Wrap { trim: false }),
            rows,
        );
        return;
    }
    let height = rows.height as usize;
    let first = follow(p.scroll, p.selected, height);
    let lines: Vec<Line<'static>> = p
        .shown
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, &pkg)| {
            let line = Line::raw(fit(&row(&p.list[pkg], width), width));
            if i == p.selected {
                line.style(selected(focused))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), rows);
}
