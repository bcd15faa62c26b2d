//! The findings pane (in place of the tree while open): findings worst first, two rows each
//! (severity label and colour, category, layer, bytes, title; then path and the layer's history
//! command), and a details area with message, why, fix and the redacted evidence. A secret's
//! raw value appears only after the reveal key, for the selected finding only.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, dim, heading, scrolled, selected};
use crate::analysis::finding::{Category, Finding, Severity};
use crate::model::sanitize;
use crate::ui::app::{App, FindingsState, Pane, Reveal};
use crate::ui::layout;
use crate::ui::state::follow;
use crate::ui::text::{bytes, fit, fit_left, one_line};

/// Colour of a severity (always shown with its label).
pub fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
        Severity::High => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Severity::Medium => Style::new().fg(Color::Yellow),
        Severity::Low => Style::new().fg(Color::Cyan),
        Severity::Info => dim(),
    }
}

fn category(c: Category) -> &'static str {
    match c {
        Category::Secret => "secret",
        Category::Waste => "waste",
        Category::Bloat => "bloat",
        Category::Config => "config",
    }
}

/// The one-line history command of `layer` (already safe), as the layers pane shows it.
fn command(app: &App, layer: usize) -> Option<&str> {
    app.layers
        .rows
        .iter()
        .find(|r| r.layer == Some(layer))
        .map(|r| r.text.as_str())
}

fn title(app: &App) -> Line<'static> {
    let mut spans = vec![Span::raw(" Findings ")];
    match &app.findings.state {
        FindingsState::Ready => {
            spans.push(Span::styled(
                format!("({}) worst first ", app.findings.list.len()),
                dim(),
            ));
            for sev in [
                Severity::Critical,
                Severity::High,
                Severity::Medium,
                Severity::Low,
                Severity::Info,
            ] {
                let n = app
                    .findings
                    .list
                    .iter()
                    .filter(|f| f.severity == sev)
                    .count();
                if n > 0 {
                    spans.push(Span::styled(
                        format!("{n} {}", sev.as_str()),
                        severity_style(sev),
                    ));
                    spans.push(Span::raw(" "));
                }
            }
        }
        FindingsState::Running | FindingsState::Idle => {
            spans.push(Span::styled("(analysing…) ", dim()));
        }
        FindingsState::Failed(_) => spans.push(Span::styled("(failed) ", dim())),
    }
    Line::from(spans)
}

/// The two list rows of one finding.
fn rows_of(app: &App, f: &Finding, width: usize) -> [Line<'static>; 2] {
    let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
    let layer = f.layer.map_or("  -".to_string(), |l| format!("L{l:<2}"));
    let size = f.bytes.map_or(String::new(), bytes);
    let head = format!(" {:<6} {layer:>3} {size:>10}  ", category(f.category));
    let used = 8 + head.chars().count();
    let first = Line::from(vec![
        Span::styled(sev, severity_style(f.severity)),
        Span::raw(head),
        Span::styled(
            fit(&one_line(&f.title), width.saturating_sub(used)),
            Style::new().add_modifier(Modifier::BOLD),
        ),
    ]);
    let mut second = vec![Span::raw("         ")];
    let mut left = width.saturating_sub(9);
    if let Some(p) = &f.path {
        let p = fit_left(&sanitize(p), left.min(48));
        left = left.saturating_sub(p.chars().count() + 2);
        second.push(Span::raw(p));
        second.push(Span::raw("  "));
    }
    if let Some(cmd) = f.layer.and_then(|l| command(app, l)) {
        second.push(Span::styled(fit(cmd, left), dim()));
    } else if f.path.is_none() {
        second.push(Span::styled(fit("image configuration", left), dim()));
    }
    [first, Line::from(second)]
}

/// The details of the selected finding (also used by tests).
pub fn details(app: &App) -> Vec<Line<'static>> {
    let Some(f) = app.findings.selected_finding() else {
        return Vec::new();
    };
    let field = |name: &str, value: String| -> Line<'static> {
        Line::from(vec![heading(&format!("{name}: ")), Span::raw(value)])
    };
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", f.severity.as_str().to_uppercase()),
            severity_style(f.severity),
        ),
        Span::raw(" "),
        heading(&one_line(&f.title)),
        Span::styled(format!("  ({})", sanitize(&f.rule)), dim()),
    ])];
    let mut place = Vec::new();
    if let Some(p) = &f.path {
        place.push(sanitize(p));
    }
    if let Some(l) = f.layer {
        place.push(format!("layer {l}"));
    }
    if let Some(r) = f.removed_in {
        place.push(format!("removed in layer {r}"));
    }
    if let Some(b) = f.bytes {
        place.push(bytes(b));
    }
    if !place.is_empty() {
        out.push(field("Where", place.join(" · ")));
    }
    if let Some(e) = &f.evidence {
        out.push(field("Evidence", one_line(e)));
    }
    if f.category == Category::Secret {
        match &app.findings.reveal {
            Some(Reveal::Shown { finding, secret }) if *finding == app.findings.selected => {
                out.push(Line::styled(
                    "Raw value (on screen only; move the selection to hide it):",
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                ));
                for l in secret.expose().lines() {
                    out.push(Line::styled(sanitize(l), Style::new().fg(Color::Red)));
                }
            }
            Some(Reveal::Pending { finding, .. }) if *finding == app.findings.selected => {
                out.push(Line::styled("reading the value back…", dim()));
            }
            _ if app.secret_location(f).is_some() => {
                out.push(Line::styled(
                    "Press v to reveal the raw value on screen.",
                    dim(),
                ));
            }
            _ => {}
        }
    }
    out.push(Line::raw(one_line(&f.message)));
    if let Some(w) = &f.why {
        out.push(field("Why", one_line(w)));
    }
    if let Some(x) = &f.fix {
        out.push(field("Fix", one_line(x)));
    }
    if let Some(cmd) = f.layer.and_then(|l| command(app, l)) {
        out.push(field("Command", cmd.to_string()));
    }
    out
}

/// The details' first row on screen in the pane `area` (clamped, for the layout).
pub fn details_scroll(app: &App, area: Rect) -> usize {
    let Some([_, _, info]) = layout::findings_parts(area) else {
        return 0;
    };
    let rows = scrolled::rows(&details(app), info.width as usize);
    scrolled::first_row(
        rows.len(),
        app.findings.details_scroll,
        info.height as usize,
    )
}

/// Draws the findings pane.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Findings;
    let Some([list, sep, info]) = layout::findings_parts(area) else {
        frame.render_widget(block(title(app), focused), area);
        return;
    };
    let msg = match &app.findings.state {
        FindingsState::Ready if app.findings.list.is_empty() => Some("  no findings".to_string()),
        FindingsState::Ready => None,
        FindingsState::Failed(e) => Some(format!("  {e}")),
        _ => Some("  analysing the image…".into()),
    };
    if let Some(m) = msg {
        frame.render_widget(block(title(app), focused), area);
        frame.render_widget(
            Paragraph::new(Line::styled(m, dim())).wrap(Wrap { trim: false }),
            list,
        );
        return;
    }
    // The details scroll on their own (Tab from the list): markers on the separator above
    // them and on the pane's bottom border.
    let rows = scrolled::rows(&details(app), info.width as usize);
    let height = info.height as usize;
    let first = scrolled::first_row(rows.len(), app.findings.details_scroll, height);
    let (above, below) = scrolled::hidden(rows.len(), first, height);
    frame.render_widget(scrolled::marked(block(title(app), focused), 0, below), area);
    let per_screen = layout::findings_per_screen(list.height);
    let first_finding = follow(app.findings.scroll, app.findings.selected, per_screen);
    let width = list.width as usize;
    let list_focused = focused && !app.findings.details_focus;
    let mut lines = Vec::with_capacity(list.height as usize);
    for (i, f) in app
        .findings
        .list
        .iter()
        .enumerate()
        .skip(first_finding)
        .take(per_screen)
    {
        for mut l in rows_of(app, f, width) {
            if i == app.findings.selected {
                l = l.style(selected(list_focused));
            }
            lines.push(l);
        }
    }
    frame.render_widget(Paragraph::new(lines), list);
    let (label, style) = if focused && app.findings.details_focus {
        (
            "─ Details (Tab leaves) ",
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        )
    } else {
        ("─ Details (Tab scrolls) ", dim())
    };
    let marker = if above > 0 {
        format!(" ↑ {above} more ─")
    } else {
        String::new()
    };
    let fill = (sep.width as usize).saturating_sub(label.chars().count() + marker.chars().count());
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(label, style),
            Span::styled("─".repeat(fill), dim()),
            Span::styled(marker, dim()),
        ])),
        sep,
    );
    let shown: Vec<Line<'static>> = rows.into_iter().skip(first).take(height).collect();
    frame.render_widget(Paragraph::new(shown), info);
}
