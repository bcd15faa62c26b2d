//! The file viewer: text with line numbers (highlighted lines swapped in as the worker
//! delivers them), or a hex dump for binary files. Only the lines on screen are built.

use ratatui::layout::Rect;
use std::ops::Range;

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, dim};
use crate::ui::app::{App, Pane, ViewerKind};
use crate::ui::highlight;
use crate::ui::layout;
use crate::ui::state::viewer::hex_per_row;
use crate::ui::text::{bytes, safe_content};

/// Shown for each masked character (and for each masked byte's two hex digits).
pub const MASK: char = '•';

/// One hex dump row: offset, `per_row` bytes in hex, printable ASCII.
pub fn hex_row(offset: usize, chunk: &[u8], per_row: usize) -> String {
    hex_row_masked(offset, chunk, per_row, &|_| false)
}

/// [`hex_row`] with the bytes for which `masked(index in chunk)` holds shown as [`MASK`].
pub fn hex_row_masked(
    offset: usize,
    chunk: &[u8],
    per_row: usize,
    masked: &dyn Fn(usize) -> bool,
) -> String {
    let mut s = format!("{offset:08x}  ");
    for i in 0..per_row {
        match chunk.get(i) {
            Some(_) if masked(i) => {
                s.push(MASK);
                s.push(MASK);
                s.push(' ');
            }
            Some(b) => s.push_str(&format!("{b:02x} ")),
            None => s.push_str("   "),
        }
        if i == 7 && per_row > 8 {
            s.push(' ');
        }
    }
    s.push_str(" |");
    for (i, &b) in chunk.iter().enumerate() {
        s.push(if masked(i) {
            MASK
        } else if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            '.'
        });
    }
    s.push('|');
    s
}

/// Style of masked secret characters.
fn mask_style() -> Style {
    Style::new().fg(Color::Red)
}

/// A text line with the byte ranges `masks` (sorted by start) shown as [`MASK`], one per
/// character they cover; the rest made safe as usual.
pub fn masked_line(line: &str, masks: &[&Range<usize>]) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut col = 0;
    let mut at = 0;
    let boundary = |mut i: usize| {
        i = i.min(line.len());
        while !line.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    for r in masks {
        let (a, b) = (boundary(r.start.max(at)), boundary(r.end));
        if a >= b {
            continue;
        }
        if at < a {
            spans.push(Span::raw(safe_content(&line[at..a], &mut col)));
        }
        let width = safe_content(&line[a..b], &mut col).chars().count();
        spans.push(Span::styled(
            std::iter::repeat_n(MASK, width).collect::<String>(),
            mask_style(),
        ));
        at = b;
    }
    if at < line.len() {
        spans.push(Span::raw(safe_content(&line[at..], &mut col)));
    }
    spans
}

/// Draws the viewer in place of the tree.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Tree;
    let Some(v) = app.viewer.open.as_ref() else {
        return;
    };
    let mut extras = Vec::new();
    if let Some(s) = &v.syntax {
        extras.push(format!("· {} ", crate::model::sanitize(s)));
    }
    if v.kind == ViewerKind::Binary {
        extras.push("· binary ".to_owned());
    }
    let kept = format!("· layer {} · {} ", v.layer, bytes(v.size));
    let title = super::path_title(&v.title, &kept, &extras, area.width as usize);
    frame.render_widget(block(title, focused), area);
    let (body, footer) = layout::viewer_parts(area);
    let height = body.height as usize;
    let per_row = hex_per_row(body.width);
    let rows = match v.kind {
        ViewerKind::Text => v.lines.len(),
        ViewerKind::Binary => v.bytes.len().div_ceil(per_row),
        _ => 0,
    };
    let max_scroll = rows.saturating_sub(height);
    let scroll = if v.scroll > max_scroll && v.eof {
        max_scroll
    } else {
        v.scroll
    };
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
            for i in scroll..(scroll + height).min(rows) {
                let mut spans = vec![Span::styled(format!("{:>digits$} │ ", i + 1), dim())];
                let masks: Vec<&Range<usize>> = v.line_masks(i).collect();
                if !masks.is_empty() {
                    spans.extend(masked_line(&v.lines[i], &masks));
                    lines.push(Line::from(spans));
                    continue;
                }
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
            for i in scroll..(scroll + height).min(rows) {
                let start = i * per_row;
                let end = (start + per_row).min(v.bytes.len());
                let masked = |j: usize| v.byte_masked((start + j) as u64);
                lines.push(Line::raw(hex_row_masked(
                    start,
                    &v.bytes[start..end],
                    per_row,
                    &masked,
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
            let last = (scroll + height).min(rows);
            let more = if v.eof {
                String::new()
            } else if v.pending {
                " (reading more…)".into()
            } else {
                " (more below)".into()
            };
            format!("{unit} {}–{last} of {rows}{more}", scroll + 1)
        }
        _ => String::new(),
    };
    let secrets = match (v.has_masks(), v.revealed) {
        (false, _) => Span::raw(""),
        (true, false) => Span::styled("   secrets masked: v reveals", mask_style()),
        (true, true) => Span::styled("   secrets shown", Style::new().fg(Color::Yellow)),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(position, dim()),
            secrets,
            Span::styled(
                "   q close · f zoom · Ctrl+E extract · PgUp/PgDn/Space page",
                Style::new().patch(dim()),
            ),
        ])),
        footer,
    );
}
