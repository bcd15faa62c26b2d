//! Compare mode's pane (in place of the tree while open): the paths that differ between the
//! open image (A) and image B, one row each with its change symbol and colour (`A` added in
//! B, `D` deleted in B, `M` modified), the modified-field markers (`c` content, `t` type, `m`
//! mode, `o` owner, `l` link target) and the bytes on each side; below, the layer, size,
//! package and finding changes. Enter replaces the list with the text diff of one file.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::findings::severity_style;
use super::{block, dim, heading, selected};
use crate::analysis::diff::{Change, Diff, FileChange, What};
use crate::model::sanitize;
use crate::ui::app::{App, Pane};
use crate::ui::layout;
use crate::ui::state::compare::{CompareState, DiffTag, FileDiff};
use crate::ui::text::{bytes, fit, fit_left, safe_content};

/// Symbol of a change (always shown with its colour).
pub fn symbol(c: Change) -> char {
    match c {
        Change::Added => 'A',
        Change::Removed => 'D',
        _ => 'M',
    }
}

/// Colour of a change.
pub fn change_style(c: Change) -> Style {
    match c {
        Change::Added | Change::Upgraded => Style::new().fg(Color::Green),
        Change::Removed | Change::Downgraded => Style::new().fg(Color::Red),
        Change::Modified => Style::new().fg(Color::Yellow),
    }
}

/// The modified-field markers: one column per field, `.` when it did not change.
pub fn markers(what: &[What]) -> String {
    [
        (What::Content, 'c'),
        (What::Type, 't'),
        (What::Mode, 'm'),
        (What::Owner, 'o'),
        (What::Link, 'l'),
    ]
    .iter()
    .map(|(w, c)| if what.contains(w) { *c } else { '.' })
    .collect()
}

fn side(b: Option<u64>) -> String {
    b.map_or_else(|| "-".to_string(), bytes)
}

/// The list row of one changed path.
fn row(e: &FileChange, width: usize) -> Line<'static> {
    let style = change_style(e.change);
    let head = format!(
        " {} {:>10} → {:<10} ",
        markers(&e.what),
        side(e.bytes_a),
        side(e.bytes_b)
    );
    let used = 2 + head.chars().count();
    Line::from(vec![
        Span::styled(
            format!("{} ", symbol(e.change)),
            style.add_modifier(Modifier::BOLD),
        ),
        Span::styled(head, dim()),
        Span::styled(fit_left(&e.path, width.saturating_sub(used)), style),
    ])
}

fn title(app: &App) -> Line<'static> {
    let c = &app.compare;
    let mut spans = vec![Span::raw(" Compare with "), heading(&fit(&c.label, 40))];
    match (&c.state, &c.diff) {
        (CompareState::Ready, Some(d)) => {
            spans.push(Span::raw(" "));
            for (n, change) in [
                (d.files.added, Change::Added),
                (d.files.removed, Change::Removed),
                (d.files.modified, Change::Modified),
            ] {
                spans.push(Span::styled(
                    format!("{}{n} ", symbol(change)),
                    change_style(change),
                ));
            }
            spans.push(Span::styled(
                format!(
                    "({} shown, by {}) ",
                    c.rows.len(),
                    if c.by_size { "bytes" } else { "path" }
                ),
                dim(),
            ));
        }
        (CompareState::Waiting, _) => spans.push(Span::styled(
            " (waiting for the open image's findings…) ",
            dim(),
        )),
        (CompareState::Running, _) => spans.push(Span::styled(" (reading…) ", dim())),
        (CompareState::Failed(_), _) => spans.push(Span::styled(" (failed) ", dim())),
        _ => {}
    }
    Line::from(spans)
}

fn signed(n: i64) -> String {
    if n < 0 {
        format!("-{}", bytes(n.unsigned_abs()))
    } else {
        format!("+{}", bytes(n.unsigned_abs()))
    }
}

/// The changes besides files: layers, size, packages, findings, configuration (also used by
/// tests).
pub fn summary(d: &Diff) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        heading("Layers "),
        Span::raw(format!(
            "{} shared, {} only in A, {} only in B   ",
            d.layers.shared.len(),
            d.layers.only_a.len(),
            d.layers.only_b.len()
        )),
        heading("Size "),
        Span::raw(format!(
            "{} → {} ({})",
            bytes(d.size.a.total_bytes),
            bytes(d.size.b.total_bytes),
            signed(d.size.delta.total_bytes)
        )),
    ])];
    out.push(Line::from(vec![
        heading("Packages "),
        Span::raw(format!("{} changed   ", d.packages.len())),
        heading("Findings "),
        Span::raw(format!(
            "{} new, {} fixed, {} unchanged   ",
            d.findings.new.len(),
            d.findings.fixed.len(),
            d.findings.unchanged.len()
        )),
        heading("Config "),
        Span::raw(format!("{} changed", d.config.len())),
    ]));
    for p in &d.packages {
        let versions = match (&p.version_a, &p.version_b) {
            (Some(a), Some(b)) => format!("{} → {}", sanitize(a), sanitize(b)),
            (Some(a), None) => sanitize(a),
            (None, Some(b)) => sanitize(b),
            (None, None) => String::new(),
        };
        out.push(Line::from(vec![
            Span::styled(
                format!(" {:<10} ", p.change.as_str()),
                change_style(p.change),
            ),
            Span::styled(format!("{:<7}", sanitize(&p.manager)), dim()),
            Span::raw(format!("{} {versions}", sanitize(&p.name))),
        ]));
    }
    for (label, list, change) in [
        ("new", &d.findings.new, Change::Added),
        ("fixed", &d.findings.fixed, Change::Removed),
    ] {
        for f in list {
            out.push(Line::from(vec![
                Span::styled(format!(" {label:<10} "), change_style(change)),
                Span::styled(
                    format!("{:<8}", f.severity.as_str().to_uppercase()),
                    severity_style(f.severity),
                ),
                Span::raw(format!(
                    " {} {}",
                    sanitize(&f.title),
                    f.path.as_deref().map(sanitize).unwrap_or_default()
                )),
            ]));
        }
    }
    out
}

fn diff_line(tag: DiffTag, text: &str, width: usize) -> Line<'static> {
    let (mark, style) = match tag {
        DiffTag::Hunk => ("", Style::new().fg(Color::Cyan)),
        DiffTag::Same => (" ", Style::new()),
        DiffTag::Removed => ("-", Style::new().fg(Color::Red)),
        DiffTag::Added => ("+", Style::new().fg(Color::Green)),
    };
    let mut col = 0;
    let safe = safe_content(text, &mut col);
    Line::styled(fit(&format!("{mark}{safe}"), width), style)
}

/// Draws the compare pane.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Compare;
    frame.render_widget(block(title(app), focused), area);
    let Some([header, list, sep, info]) = layout::compare_parts(app, area) else {
        return;
    };
    let c = &app.compare;
    let width = list.width as usize;
    let message = |frame: &mut Frame<'_>, m: String| {
        frame.render_widget(Paragraph::new(Line::styled(m, dim())), list);
    };
    if let Some(f) = &c.file {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                heading(&fit_left(&f.path, width.saturating_sub(24))),
                Span::styled("  - open image  + image B", dim()),
            ])),
            header,
        );
        match &f.diff {
            FileDiff::Loading => message(frame, "  reading both versions…".into()),
            FileDiff::Failed(e) => message(frame, format!("  {}", sanitize(e))),
            FileDiff::Ready(lines) if lines.is_empty() => {
                message(frame, "  same text in both (only metadata differs)".into());
            }
            FileDiff::Ready(lines) => {
                let shown: Vec<Line<'static>> = lines
                    .iter()
                    .skip(f.scroll)
                    .take(list.height as usize)
                    .map(|l| diff_line(l.tag, &l.text, width))
                    .collect();
                frame.render_widget(Paragraph::new(shown), list);
            }
        }
        return;
    }
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(
                "  change  fields  bytes in A → bytes in B  path   (fields: c content, t type, m mode, o owner, l link)",
                width,
            ),
            dim(),
        )),
        header,
    );
    let Some(d) = c.diff.as_ref().filter(|_| c.state == CompareState::Ready) else {
        let m = match &c.state {
            CompareState::Failed(e) => format!("  {e}"),
            CompareState::Waiting => "  waiting for the open image's findings…".into(),
            _ => "  reading and comparing the image…".into(),
        };
        message(frame, m);
        return;
    };
    if c.rows.is_empty() {
        message(
            frame,
            if d.files.entries.is_empty() {
                "  no file differs".into()
            } else {
                "  no change matches the filter".into()
            },
        );
    } else {
        let lines: Vec<Line<'static>> = c
            .rows
            .iter()
            .enumerate()
            .skip(c.scroll)
            .take(list.height as usize)
            .map(|(i, &e)| {
                let l = row(&d.files.entries[e], width);
                if i == c.selected {
                    l.style(selected(focused))
                } else {
                    l
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), list);
    }
    frame.render_widget(
        Paragraph::new(Line::styled("─".repeat(sep.width as usize), dim())),
        sep,
    );
    frame.render_widget(Paragraph::new(summary(d)), info);
}
