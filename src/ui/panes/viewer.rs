//! The file viewer: text with line numbers (highlighted lines swapped in as the worker
//! delivers them), or a hex dump for binary files. Only the lines on screen are built.

use ratatui::layout::Rect;
use std::ops::Range;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, dim};
use crate::ui::app::{App, Pane, ViewerKind};
use crate::ui::highlight;
use crate::ui::layout;
use crate::ui::state::viewer::hex_per_row;
use crate::ui::text::bytes;

pub use crate::ui::mask::MASK;

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
    crate::ui::mask::shown_pieces(line, masks)
        .into_iter()
        .map(|(text, masked)| {
            if masked {
                Span::styled(text, mask_style())
            } else {
                Span::raw(text)
            }
        })
        .collect()
}

/// Style of a search match: reversed, so it reads without colour too.
pub fn match_style() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// Style of the current search match: reversed, bold and underlined.
pub fn current_match_style() -> Style {
    match_style().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}

/// `spans` (a line as drawn) with the character ranges of `matches` patched with the match
/// styles, on top of their own (syntax colours, masks).
pub fn mark_matches(
    spans: Vec<Span<'static>>,
    matches: &[(Range<usize>, bool)],
) -> Vec<Span<'static>> {
    if matches.is_empty() {
        return spans;
    }
    let style_at = |c: usize| {
        matches
            .iter()
            .find(|(r, _)| r.contains(&c))
            .map(|(_, current)| {
                if *current {
                    current_match_style()
                } else {
                    match_style()
                }
            })
    };
    let mut out = Vec::with_capacity(spans.len() + 2 * matches.len());
    let mut c = 0;
    for span in spans {
        let mut piece = String::new();
        let mut piece_style = None;
        for ch in span.content.chars() {
            let st = style_at(c);
            if st != piece_style && !piece.is_empty() {
                let base = span.style;
                out.push(Span::styled(
                    std::mem::take(&mut piece),
                    piece_style.map_or(base, |m| base.patch(m)),
                ));
            }
            piece_style = st;
            piece.push(ch);
            c += 1;
        }
        if !piece.is_empty() {
            out.push(Span::styled(
                piece,
                piece_style.map_or(span.style, |m| span.style.patch(m)),
            ));
        }
    }
    out
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
    let mut frame_block = block(title, focused);
    if let Some(s) = v.search_status() {
        frame_block = frame_block.title_bottom(
            Line::from(Span::styled(format!(" {s} "), Style::new().fg(Color::Cyan)))
                .right_aligned(),
        );
    }
    frame.render_widget(frame_block, area);
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
                let text: Vec<Span<'static>> = if !masks.is_empty() {
                    masked_line(&v.lines[i], &masks)
                } else {
                    match v.styled.get(i).and_then(Option::as_ref) {
                        Some(styled) => styled
                            .iter()
                            .map(|(st, t)| Span::styled(t.clone(), *st))
                            .collect(),
                        None => highlight::plain(&v.lines[i])
                            .into_iter()
                            .map(|(st, t)| Span::styled(t, st))
                            .collect(),
                    }
                };
                spans.extend(mark_matches(text, &v.line_matches(i)));
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
            let more = if let Some((done, total)) = v.reading_to_end() {
                format!(" · reading to end… {} of {}", bytes(done), bytes(total))
            } else if v.eof {
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
