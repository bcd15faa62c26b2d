//! The help overlay, generated from the key table: a legend, then the bindings in two
//! columns (general and layers on the left, file tree and viewer on the right).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::{block, change_style, dim, scrolled};
use crate::ui::app::App;
use crate::ui::filetree::Change;
use crate::ui::keymap::{self, Scope};
use crate::ui::text::wrap;

const KEY_COL: usize = 17;

/// The introduction and legend above the bindings.
pub fn intro() -> Vec<Line<'static>> {
    let mut legend = vec![Span::styled(
        "Markers: ",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for (c, t) in [
        (Change::Added, "added"),
        (Change::Modified, "content changed"),
        (Change::Metadata, "permissions/owner only"),
        (
            Change::Removed,
            "removed (its bytes still ship in its layer)",
        ),
    ] {
        legend.push(Span::styled(format!("{} {t}", c.symbol()), change_style(c)));
        legend.push(Span::raw("   "));
    }
    vec![
        Line::styled(
            "Pick a layer on the left; the tree on the right shows the files as of that layer, marked with what changed.",
            dim(),
        ),
        Line::from(legend),
        Line::styled(
            "Ctrl+L: what the selected layer changed · Ctrl+A (layers pane) or c: everything changed since layer 0",
            dim(),
        ),
        Line::styled(
            "F: findings (worst first). Badges: a layer's finding count and worst severity; !SEV marks a file with findings.",
            dim(),
        ),
    ]
}

/// Binding lines of `scopes`, wrapped to `width` columns.
pub fn bindings(scopes: &[Scope], width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let all = keymap::help();
    for &s in scopes {
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(
            s.title().to_string(),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ));
        for (_, keys, text) in all.iter().filter(|(sc, _, _)| *sc == s) {
            let text_w = width.saturating_sub(KEY_COL + 1).max(10);
            for (i, part) in wrap(text, text_w).into_iter().enumerate() {
                let k = if i == 0 { keys.as_str() } else { "" };
                out.push(Line::from(vec![
                    Span::styled(
                        format!(" {k:<w$}", w = KEY_COL - 1),
                        Style::new().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(format!(" {part}")),
                ]));
            }
        }
    }
    out
}

/// All help lines in one column (narrow terminals, tests).
pub fn lines(width: usize) -> Vec<Line<'static>> {
    let mut out = intro();
    out.push(Line::raw(""));
    out.extend(bindings(
        &[
            Scope::Global,
            Scope::Layers,
            Scope::Details,
            Scope::Images,
            Scope::Tree,
            Scope::Viewer,
            Scope::Findings,
            Scope::Compare,
            Scope::Packages,
            Scope::Provenance,
            Scope::Anatomy,
        ],
        width,
    ));
    out
}

/// The overlay's frame over `area`.
fn frame_rect(area: Rect) -> Rect {
    let w = area.width.saturating_sub(4).min(118);
    let h = area.height.saturating_sub(2);
    Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h)
}

/// What the overlay shows inside `inner`: an intro and two columns of bindings on wide
/// screens, one list otherwise.
enum Content {
    Columns {
        intro: Rect,
        left: Rect,
        right: Rect,
        lines: (Vec<Line<'static>>, Vec<Line<'static>>),
    },
    Single(Vec<Line<'static>>),
}

fn content(inner: Rect) -> (Content, usize) {
    if inner.width >= 100 {
        let intro = intro();
        let [top, cols] = Layout::vertical([
            Constraint::Length(intro.len() as u16 + 1),
            Constraint::Min(1),
        ])
        .areas(inner);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(cols);
        let lw = left.width.saturating_sub(1) as usize;
        let l = bindings(
            &[Scope::Global, Scope::Layers, Scope::Details, Scope::Images],
            lw,
        );
        let rr = bindings(
            &[
                Scope::Tree,
                Scope::Viewer,
                Scope::Findings,
                Scope::Compare,
                Scope::Packages,
                Scope::Provenance,
                Scope::Anatomy,
            ],
            lw,
        );
        let max = l.len().max(rr.len()).saturating_sub(cols.height as usize);
        (
            Content::Columns {
                intro: top,
                left,
                right,
                lines: (l, rr),
            },
            max,
        )
    } else {
        let l = lines(inner.width as usize);
        let max = l.len().saturating_sub(inner.height as usize);
        (Content::Single(l), max)
    }
}

/// The scroll offset the overlay shows over `area` (never past the last screenful).
pub fn scroll(app: &App, area: Rect) -> usize {
    let inner = block(Line::raw(""), true).inner(frame_rect(area));
    app.help_scroll.min(content(inner).1)
}

/// Draws the overlay over `area`.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let r = frame_rect(area);
    frame.render_widget(Clear, r);
    let b = block(Line::raw(" Help · ?/Esc close · ↑↓ scroll "), true);
    let inner = b.inner(r);
    let (content, max) = content(inner);
    let first = app.help_scroll.min(max);
    frame.render_widget(scrolled::marked(b, first, max - first), r);
    let sc = (first.min(u16::MAX as usize) as u16, 0);
    match content {
        Content::Columns {
            intro: top,
            left,
            right,
            lines: (l, rr),
        } => {
            frame.render_widget(
                Paragraph::new(intro()).wrap(ratatui::widgets::Wrap { trim: false }),
                top,
            );
            frame.render_widget(Paragraph::new(l).scroll(sc), left);
            frame.render_widget(Paragraph::new(rr).scroll(sc), right);
        }
        Content::Single(l) => frame.render_widget(Paragraph::new(l).scroll(sc), inner),
    }
}
