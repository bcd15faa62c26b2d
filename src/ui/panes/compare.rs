//! Compare mode's pane (in place of the tree while open): the tree of paths that differ
//! between the open image (A) and image B, drawn with the file tree's guides and folding, one
//! row each with its change symbol and colour (`A` added in B, `D` deleted in B, `M`
//! modified), the modified-field markers (`c` content, `t` type, `m` mode, `o` owner, `l` link
//! target) and the bytes on each side, or for a directory the bytes added and removed beneath
//! it; below, the layer, size, package and finding changes. Enter on a file replaces the tree
//! with the text diff of its two versions, highlighted by syntax, unified or side by side.

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
use crate::ui::filetree::Row;
use crate::ui::highlight::{self, StyledLine};
use crate::ui::layout;
use crate::ui::state::compare::{
    CompareState, DiffLine, DiffNode, DiffTag, DiffTree, FileDiff, TextDiff,
};
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

/// Column text of the bytes: `A → B` for a path, `+added -removed` beneath a directory.
fn bytes_columns(node: &DiffNode, entry: Option<&FileChange>) -> Vec<Span<'static>> {
    match entry {
        Some(e) if !node.dir => vec![Span::styled(
            format!("{:>10} → {:<10} ", side(e.bytes_a), side(e.bytes_b)),
            dim(),
        )],
        _ => vec![
            Span::styled(
                format!("{:>10}", format!("+{}", bytes(node.bytes_added))),
                change_style(Change::Added),
            ),
            Span::raw("   "),
            Span::styled(
                format!("{:<10} ", format!("-{}", bytes(node.bytes_removed))),
                change_style(Change::Removed),
            ),
        ],
    }
}

/// The tree row of one node: change symbol and modified-field markers (blank for a directory
/// that only leads to changes), bytes, tree guides and name, in the change's colour.
fn row(c: &CompareView<'_>, r: &Row, width: usize) -> Line<'static> {
    let node = &c.tree.nodes[r.id as usize];
    let entry = node.entry.map(|e| &c.diff.files.entries[e]);
    let mut spans = match entry {
        Some(e) => vec![
            Span::styled(
                format!("{} ", symbol(e.change)),
                change_style(e.change).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" {} ", markers(&e.what)), dim()),
        ],
        None => vec![Span::raw("         ")],
    };
    spans.extend(bytes_columns(node, entry));
    let prefix = r.prefix();
    let mut used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    used += prefix.chars().count();
    spans.push(Span::styled(prefix, dim()));
    let style = entry.map_or_else(Style::new, |e| change_style(e.change));
    if r.has_children && c.collapsed[r.id as usize] {
        spans.push(Span::styled("⊕ ", style));
        used += 2;
    }
    let mut name = node.name.clone();
    if node.dir {
        name.push('/');
    } else if let Some(link) = entry.and_then(|e| e.link_b.as_ref().or(e.link_a.as_ref())) {
        name.push_str(" → ");
        name.push_str(link);
    }
    spans.push(Span::styled(fit(&name, width.saturating_sub(used)), style));
    Line::from(spans)
}

/// What drawing the tree reads of the compare state.
struct CompareView<'a> {
    tree: &'a DiffTree,
    diff: &'a Diff,
    collapsed: &'a [bool],
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
                    c.matching,
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

/// Background of a removed line's text (the `-` gutter says it without colour).
const REMOVED_BG: Color = Color::Indexed(52);
/// Background of an added line's text (the `+` gutter says it without colour).
const ADDED_BG: Color = Color::Indexed(22);

/// The gutter mark and its style, and the background tint of a line's text.
fn tint(tag: DiffTag, left: bool) -> (&'static str, Style, Option<Color>) {
    match tag {
        DiffTag::Removed => ("-", Style::new().fg(Color::Red), Some(REMOVED_BG)),
        DiffTag::Added => ("+", Style::new().fg(Color::Green), Some(ADDED_BG)),
        DiffTag::Changed if left => ("-", Style::new().fg(Color::Red), Some(REMOVED_BG)),
        DiffTag::Changed => ("+", Style::new().fg(Color::Green), Some(ADDED_BG)),
        DiffTag::Same | DiffTag::Hunk => (" ", Style::new(), None),
    }
}

/// The highlighted pieces of line `i` of one side (plain `fallback` when missing), tinted.
fn content(
    lines: &[StyledLine],
    i: Option<usize>,
    fallback: &str,
    bg: Option<Color>,
    column: usize,
) -> Vec<Span<'static>> {
    let plain;
    let pieces = match i.and_then(|i| lines.get(i)) {
        Some(l) => l,
        None => {
            plain = highlight::plain(fallback);
            &plain
        }
    };
    let mut skip = column;
    pieces
        .iter()
        .filter_map(|(st, t)| {
            let st = match bg {
                Some(bg) => st.bg(bg),
                None => *st,
            };
            let n = t.chars().count();
            if skip >= n {
                skip -= n;
                return None;
            }
            let text: String = t.chars().skip(skip).collect();
            skip = 0;
            Some(Span::styled(text, st))
        })
        .collect()
}

/// One line of the unified diff: hunk header, or `-`/`+`/space gutter and highlighted text.
fn unified_line(l: &DiffLine, d: &TextDiff, width: usize, column: usize) -> Line<'static> {
    if l.tag == DiffTag::Hunk {
        let mut col = 0;
        let safe = safe_content(&l.text, &mut col);
        return Line::styled(fit(&safe, width), Style::new().fg(Color::Cyan));
    }
    let (mark, style, bg) = tint(l.tag, l.tag == DiffTag::Removed);
    let (lines, i) = match l.tag {
        DiffTag::Removed => (&d.a_lines, l.a),
        _ => (&d.b_lines, l.b),
    };
    let mut spans = vec![Span::styled(mark, style.add_modifier(Modifier::BOLD))];
    spans.extend(content(lines, i, &l.text, bg, column));
    Line::from(spans)
}

/// One side of a side-by-side row: line number, gutter mark, highlighted text.
fn side_cell(
    tag: DiffTag,
    left: bool,
    i: Option<usize>,
    lines: &[StyledLine],
    digits: usize,
    column: usize,
) -> Line<'static> {
    if tag == DiffTag::Hunk {
        return Line::styled(
            format!("{:>digits$} ⋯ from line {}", "", i.map_or(0, |i| i + 1)),
            Style::new().fg(Color::Cyan),
        );
    }
    let Some(n) = i else {
        return Line::default();
    };
    let (mark, style, bg) = tint(tag, left);
    let mut spans = vec![
        Span::styled(format!("{:>digits$} ", n + 1), dim()),
        Span::styled(format!("{mark} "), style.add_modifier(Modifier::BOLD)),
    ];
    spans.extend(content(lines, i, "", bg, column));
    Line::from(spans)
}

/// Draws the open text diff in `area`: unified, or side by side (A left, B right).
fn draw_text_diff(
    frame: &mut Frame<'_>,
    d: &TextDiff,
    (scroll, column): (usize, usize),
    side_by_side: bool,
    area: Rect,
) {
    let height = area.height as usize;
    let width = area.width as usize;
    if !side_by_side {
        let shown: Vec<Line<'static>> = d
            .unified
            .iter()
            .skip(scroll)
            .take(height)
            .map(|l| unified_line(l, d, width, column))
            .collect();
        frame.render_widget(Paragraph::new(shown), area);
        return;
    }
    let half = area.width.saturating_sub(1) / 2;
    let left = Rect {
        width: half,
        ..area
    };
    let sep = Rect {
        x: area.x + half,
        width: 1.min(area.width),
        ..area
    };
    let right = Rect {
        x: area.x + half + 1,
        width: area.width.saturating_sub(half + 1),
        ..area
    };
    let digits = d
        .a_lines
        .len()
        .max(d.b_lines.len())
        .max(1)
        .to_string()
        .len();
    let rows = d.side.iter().skip(scroll).take(height);
    let (l, r): (Vec<Line<'static>>, Vec<Line<'static>>) = rows
        .map(|row| {
            (
                side_cell(row.tag, true, row.a, &d.a_lines, digits, column),
                side_cell(row.tag, false, row.b, &d.b_lines, digits, column),
            )
        })
        .unzip();
    let bars: Vec<Line<'static>> = (0..l.len()).map(|_| Line::styled("│", dim())).collect();
    frame.render_widget(Paragraph::new(l), left);
    frame.render_widget(Paragraph::new(bars), sep);
    frame.render_widget(Paragraph::new(r), right);
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
        let mut legend = if c.side_by_side {
            "  left: open image · right: image B".to_string()
        } else {
            "  - open image  + image B".to_string()
        };
        if f.column > 0 {
            legend.push_str(&format!(" · from column {}", f.column + 1));
        }
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                heading(&fit_left(
                    &f.path,
                    width.saturating_sub(legend.chars().count() + 2),
                )),
                Span::styled(legend, dim()),
            ])),
            header,
        );
        match &f.diff {
            FileDiff::Loading => message(frame, "  reading both versions…".into()),
            FileDiff::Failed(e) => message(frame, format!("  {}", sanitize(e))),
            FileDiff::Ready(d) if d.unified.is_empty() => {
                message(frame, "  same text in both (only metadata differs)".into());
            }
            FileDiff::Ready(d) => {
                draw_text_diff(frame, d, (f.scroll, f.column), c.side_by_side, list);
            }
        }
        return;
    }
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(
                "  change  fields  bytes in A → in B (directories: + added  - removed beneath)  path   (fields: c content, t type, m mode, o owner, l link)",
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
        let view = CompareView {
            tree: &c.tree,
            diff: d,
            collapsed: &c.collapsed,
        };
        let lines: Vec<Line<'static>> = c
            .rows
            .iter()
            .enumerate()
            .skip(c.scroll)
            .take(list.height as usize)
            .map(|(i, r)| {
                let l = row(&view, r, width);
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
