//! The layers pane: every history step in order; steps with a layer are selectable and show
//! index and size, empty steps (ENV, CMD, USER…) are greyed between them.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{badge_style, dim, framed_list, selected};
use crate::analysis::base::BaseBoundary;
use crate::ui::app::{App, Pane};
use crate::ui::filetree::Mode;
use crate::ui::text::{bytes, fit};

/// Draws the layers pane.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Layers;
    let n = app.image.as_ref().map_or(0, |i| i.layers.len());
    let mode = match app.layers.mode {
        Mode::PerLayer => "layer changes",
        Mode::Aggregated => "aggregated",
    };
    let title = Line::from(vec![
        Span::raw(" Layers "),
        Span::styled(format!("({n}) "), dim()),
        Span::styled(format!("· tree: {mode} "), dim()),
    ]);
    let Some((header, rows)) = framed_list(frame, title, focused, area) else {
        return;
    };
    let bars = app.size_bars;
    // The bar column: each layer's share of the image's stored bytes.
    let bar_w = if bars {
        crate::ui::text::BAR_CELLS + 6
    } else {
        0
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            if bars {
                "   #       Size  Share       Command"
            } else {
                "   #       Size  Command"
            },
            Style::new().add_modifier(Modifier::BOLD),
        )),
        header,
    );
    if app.image.is_none() {
        let msg = match app.load {
            crate::ui::app::LoadState::Failed(_) => "  (no image)",
            _ => "  waiting for the image…",
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, dim())), rows);
        return;
    }
    let sel_row = app.layers.selected_row();
    let first = app.layers.first_row(rows.height as usize);
    let loaded = app.loaded();
    let width = rows.width as usize;
    let mut lines = Vec::with_capacity(rows.height as usize);
    let image = app.image.as_ref();
    // `B` marks the layers of the base image.
    let base_layers = image.map_or(0, |i| BaseBoundary::detect(i).layers);
    // The badges get a column of one width over all layers, blank when a layer has none, so
    // every command starts at the same column.
    let badge_width = |l: usize| -> usize {
        app.findings
            .layer_badges(l)
            .map(|b| b.text.chars().count() + 3)
            .sum()
    };
    let badges_w = app
        .layers
        .rows
        .iter()
        .filter_map(|r| r.layer)
        .map(badge_width)
        .max()
        .unwrap_or(0);
    for (i, r) in app
        .layers
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(rows.height as usize)
    {
        let line = match r.layer {
            Some(l) => {
                let size = if loaded {
                    image
                        .and_then(|img| img.layers.get(l))
                        .map_or(String::new(), |x| bytes(x.size_bytes))
                } else {
                    "…".into()
                };
                let mark = if l < base_layers { "B" } else { " " };
                let mut spans = vec![Span::raw(format!("{mark}{l:>3} {size:>10}  "))];
                if bars {
                    let (part, whole) = image.map_or((0, 0), |img| {
                        let total = img.layers.iter().map(|x| x.size_bytes).sum();
                        (img.layers.get(l).map_or(0, |x| x.size_bytes), total)
                    });
                    spans.push(Span::raw(format!(
                        "{}  ",
                        crate::ui::text::share_bar(part, whole)
                    )));
                }
                for b in app.findings.layer_badges(l) {
                    spans.push(Span::styled(format!(" {} ", b.text), badge_style(b.level)));
                    spans.push(Span::raw(" "));
                }
                spans.push(Span::raw(" ".repeat(badges_w - badge_width(l))));
                spans.push(Span::raw(fit(
                    &r.text,
                    width.saturating_sub(17 + badges_w + bar_w),
                )));
                let mut line = Line::from(spans);
                if i == sel_row {
                    line = line.style(selected(focused));
                }
                line
            }
            None => Line::styled(
                format!(
                    "{:>4} {:>10}  {:bar_w$}{:badges_w$}{}",
                    "·",
                    "",
                    "",
                    "",
                    fit(&r.text, width.saturating_sub(17 + badges_w + bar_w))
                ),
                dim(),
            ),
        };
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), rows);
}
