//! The file viewer: text with line numbers (highlighted lines swapped in as the worker
//! delivers them), or a hex dump for binary files. Only the lines on screen are built.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, dim};
use crate::ui::app::{App, Pane, ViewerKind};
use crate::ui::highlight;
use crate::ui::text::bytes;

/// One hex dump row: offset, `per_row` bytes in hex, printable ASCII.
pub fn hex_row(offset: usize, chunk: &[u8], per_row: usize) -> String {
    let mut s = format!("{offset:08x}  ");
    for i in 0..per_row {
        match chunk.get(i) {
            Some(b) => s.push_str(&format!("{b:02x} ")),
            None => s.push_str("   "),
        }
        if i == 7 && per_row > 8 {
            s.push(' ');
        }
    }
    s.push_str(" |");
    for &b in chunk {
        s.push(if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            '.'
        });
    }
    s.push('|');
    s
}

/// Draws the viewer in place of the tree.
pub fn draw(frame: &mut Frame<'_>, app: &mut App, area: Rect) {
    let focused = app.focus == Pane::Tree;
    let Some(v) = app.viewer.as_mut() else {
        return;
    };
    let mut title = vec![
        Span::raw(format!(" {} ", v.title)),
        Span::styled(format!("· layer {} · {} ", v.layer, bytes(v.size)), dim()),
    ];
    if let Some(s) = &v.syntax {
        title.push(Span::styled(
            format!("· {} ", crate::model::sanitize(s)),
            dim(),
        ));
    }
    if v.kind == ViewerKind::Binary {
        title.push(Span::styled("· binary ", dim()));
    }
    let b = block(Line::from(title), focused);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    app.areas.tree = inner;
    let height = inner.height.saturating_sub(1) as usize;
    v.height = height;
    let body = Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let footer = Rect {
        y: inner.y + inner.height.saturating_sub(1),
        height: 1.min(inner.height),
        ..inner
    };
    // 16 bytes per row need 78 columns; narrower panes get 8.
    v.hex_per_row = if inner.width >= 78 { 16 } else { 8 };
    let rows = v.rows();
    let max_scroll = rows.saturating_sub(height);
    if v.scroll > max_scroll && v.eof {
        v.scroll = max_scroll;
    }
    match &v.kind {
        ViewerKind::Loading => {
            frame.render_widget(Paragraph::new(Line::styled("reading…", dim())), body);
        }
        ViewerKind::Message(m) => {
            let lines: Vec<Line<'_>> = m.lines().map(|l| Line::raw(l.to_string())).collect();
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        }
        ViewerKind::Text => {
            let digits = (rows.max(1)).to_string().len().max(3);
            let mut lines = Vec::with_capacity(height);
            for i in v.scroll..(v.scroll + height).min(rows) {
                let mut spans = vec![Span::styled(format!("{:>digits$} │ ", i + 1), dim())];
                match v.styled.get(i).and_then(Option::as_ref) {
                    Some(styled) => {
                        for (st, t) in styled {
                            spans.push(Span::styled(t.clone(), *st));
                        }
                    }
                    None => {
                        for (st, t) in highlight::plain(&v.lines[i]) {
                            spans.push(Span::styled(t, st));
                        }
                    }
                }
                lines.push(Line::from(spans));
            }
            frame.render_widget(Paragraph::new(lines), body);
        }
        ViewerKind::Binary => {
            let mut lines = Vec::with_capacity(height);
            for i in v.scroll..(v.scroll + height).min(rows) {
                let start = i * v.hex_per_row;
                let end = (start + v.hex_per_row).min(v.bytes.len());
                lines.push(Line::raw(hex_row(
                    start,
                    &v.bytes[start..end],
                    v.hex_per_row,
                )));
            }
            frame.render_widget(Paragraph::new(lines), body);
        }
    }
    let position = match v.kind {
        ViewerKind::Text | ViewerKind::Binary if rows > 0 => {
            let unit = if v.kind == ViewerKind::Text {
                "lines"
            } else {
                "rows"
            };
            let last = (v.scroll + height).min(rows);
            let more = if v.eof {
                String::new()
            } else if v.pending {
                " (reading more…)".into()
            } else {
                " (more below)".into()
            };
            format!("{unit} {}–{last} of {rows}{more}", v.scroll + 1)
        }
        _ => String::new(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(position, dim()),
            Span::styled(
                "   q close · f zoom · Ctrl+E extract · PgUp/PgDn/Space page",
                Style::new().patch(dim()),
            ),
        ])),
        footer,
    );
}
