//! The help overlay, generated from the key table.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{block, change_style, dim};
use crate::ui::app::App;
use crate::ui::filetree::Change;
use crate::ui::keymap;

/// The help text.
pub fn lines() -> Vec<Line<'static>> {
    let mut out = vec![
        Line::styled(
            "strata shows what each layer of an image did. Pick a layer on the left; the tree on",
            dim(),
        ),
        Line::styled(
            "the right shows the files as of that layer, marked with what changed.",
            dim(),
        ),
        Line::raw(""),
    ];
    let mut legend = vec![Span::styled(
        "Markers: ",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for (c, t) in [
        (Change::Added, "added"),
        (Change::Modified, "content changed"),
        (Change::Metadata, "permissions/owner only"),
        (Change::Removed, "removed"),
    ] {
        legend.push(Span::styled(format!("{} {t}", c.symbol()), change_style(c)));
        legend.push(Span::raw("   "));
    }
    out.push(Line::from(legend));
    out.push(Line::raw(
        "Layer changes (Ctrl+L): what the selected layer did. Aggregated (Ctrl+A in layers, or c):",
    ));
    out.push(Line::raw(
        "everything changed since the first layer. Removed files still ship in their layer.",
    ));
    let mut scope = None;
    for (s, keys, text) in keymap::help() {
        if scope != Some(s) {
            out.push(Line::raw(""));
            out.push(Line::styled(
                s.title().to_string(),
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            ));
            scope = Some(s);
        }
        out.push(Line::from(vec![
            Span::styled(
                format!("  {keys:<24}"),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(text),
        ]));
    }
    out
}

/// Draws the overlay over `area`.
pub fn draw(frame: &mut Frame<'_>, app: &mut App, area: Rect) {
    let w = area.width.saturating_sub(8).min(100);
    let h = area.height.saturating_sub(4);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 2, w, h);
    let lines = lines();
    let max = lines.len().saturating_sub(h.saturating_sub(2) as usize);
    if app.help_scroll > max {
        app.help_scroll = max;
    }
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(
                Line::raw(" Help · ?/Esc to close · ↑↓ scroll "),
                true,
            ))
            .wrap(Wrap { trim: false })
            .scroll((app.help_scroll as u16, 0)),
        r,
    );
}
