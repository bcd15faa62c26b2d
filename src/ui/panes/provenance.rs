//! The provenance pane (in place of the tree while open): who made the image — SLSA
//! provenance, builder, source repository and commit (as URLs when they are), Dockerfile,
//! base image, build arguments (masked), build times — then the attestations (one selected)
//! and the signatures with their verification state. Enter shows the selected attestation's
//! in-toto statement, redacted and highlighted as JSON.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{block, dim, heading, scrolled, selected};
use crate::model::sanitize;
use crate::model::signature::Verified;
use crate::report::provenance::{short_predicate, signatures_summary, ProvenanceSection};
use crate::ui::app::{App, FindingsState, Pane};
use crate::ui::text::{bytes, fit};

/// Width of the label column.
const LABEL: usize = 13;

/// True for text a terminal user can open as a link.
pub fn is_url(s: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "git@"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// The web page of `commit` in `repo`, for GitHub and GitLab HTTPS repositories.
pub fn commit_url(repo: &str, commit: &str) -> Option<String> {
    let base = repo.split('#').next().unwrap_or(repo);
    let base = base.trim_end_matches('/').trim_end_matches(".git");
    let hosted = ["https://github.com/", "https://gitlab.com/"]
        .iter()
        .any(|h| base.starts_with(h));
    let hex = !commit.is_empty() && commit.bytes().all(|b| b.is_ascii_hexdigit());
    (hosted && hex).then(|| format!("{base}/commit/{commit}"))
}

fn link() -> Style {
    Style::new()
        .fg(Color::Blue)
        .add_modifier(Modifier::UNDERLINED)
}

fn field(label: &str, value: &str) -> Line<'static> {
    let style = if is_url(value) { link() } else { Style::new() };
    Line::from(vec![
        Span::styled(format!(" {label:<LABEL$}"), dim()),
        Span::styled(value.to_owned(), style),
    ])
}

/// The summary lines and, for each attestation, the line it is on.
fn summary(app: &App) -> (Vec<Line<'static>>, Vec<usize>) {
    let Some(image) = app.image.as_ref() else {
        return (vec![Line::styled(" no image", dim())], Vec::new());
    };
    let redactor = app.findings.cfg.redactor();
    let packages = (app.findings.state == FindingsState::Ready).then_some(&app.packages.list[..]);
    let p = ProvenanceSection::of(&image.provenance, &redactor, packages);
    let mut out = Vec::new();
    match &p.slsa {
        None => out.push(field("Provenance", "no provenance attestation")),
        Some(s) => {
            out.push(field(
                "Provenance",
                &format!(
                    "SLSA {} ({})",
                    s.version,
                    if p.valid {
                        "subject matches this image"
                    } else {
                        "subject does NOT name this image"
                    }
                ),
            ));
            out.push(field(
                "Builder",
                s.builder_id.as_deref().unwrap_or("unknown"),
            ));
            out.push(field(
                "Source",
                s.source_repo.as_deref().unwrap_or("unknown"),
            ));
            if let Some(c) = &s.source_commit {
                out.push(field("Commit", c));
                if let Some(u) = s.source_repo.as_deref().and_then(|r| commit_url(r, c)) {
                    out.push(field("", &u));
                }
            }
            if let Some(d) = &s.dockerfile {
                out.push(field("Dockerfile", d));
            }
            if let Some(b) = &s.base_image {
                let name = crate::analysis::base::purl_image_name(&b.uri);
                out.push(field(
                    "Base image",
                    &match &b.digest {
                        Some(d) => format!("{name}@{d}"),
                        None => name,
                    },
                ));
            }
            if s.build_args.is_empty() {
                out.push(field("Build args", "none recorded"));
            }
            for (i, a) in s.build_args.iter().enumerate() {
                out.push(field(if i == 0 { "Build args" } else { "" }, a));
            }
            out.push(field(
                "Started",
                s.started_on.as_deref().unwrap_or("unknown"),
            ));
            out.push(field(
                "Finished",
                s.finished_on.as_deref().unwrap_or("unknown"),
            ));
        }
    }
    if let Some(sb) = &p.sbom {
        let agree = match &sb.comparison {
            None => "not compared".to_owned(),
            Some(c) if c.agrees() => "agrees with the image's packages".to_owned(),
            Some(c) => format!(
                "{} only attested, {} only in the image",
                c.only_in_attestation.len(),
                c.only_in_image.len()
            ),
        };
        out.push(field(
            "SBOM",
            &format!("{} ({} packages): {agree}", sb.format, sb.package_count),
        ));
    }
    out.push(Line::raw(""));
    out.push(Line::from(vec![
        heading(&format!(" Attestations ({})", p.attestations.len())),
        Span::styled("  Enter: raw statement", dim()),
    ]));
    let mut rows = Vec::new();
    if p.attestations.is_empty() {
        out.push(Line::styled("   none", dim()));
    }
    for (i, a) in p.attestations.iter().enumerate() {
        let state = match (&a.problem, a.subject_matches) {
            (Some(why), _) => format!("unreadable: {why}"),
            (None, Some(true)) => "subject matches".into(),
            (None, Some(false)) => "SUBJECT MISMATCH".into(),
            (None, None) => "subject not checked".into(),
        };
        let line = Line::raw(format!(
            " {} {:<20} {:<15} {:>8}  {state}",
            if i == app.provenance.selected {
                '>'
            } else {
                ' '
            },
            short_predicate(a.predicate_type.as_deref()),
            fit(&a.digest, 15),
            bytes(a.size),
        ));
        let line = if i == app.provenance.selected {
            line.style(selected(app.focus == Pane::Provenance))
        } else if a.subject_matches == Some(false) || a.problem.is_some() {
            line.style(Style::new().fg(Color::Red))
        } else {
            line
        };
        rows.push(out.len());
        out.push(line);
    }
    out.push(Line::raw(""));
    out.push(Line::from(vec![
        heading(" Signatures "),
        Span::raw(signatures_summary(&p.signatures)),
    ]));
    for sig in &p.signatures {
        let (word, style) = match sig.verified {
            Verified::True => ("verified", Style::new().fg(Color::Green)),
            Verified::False => ("INVALID", Style::new().fg(Color::Red)),
            Verified::Unknown => ("not verified", Style::new().fg(Color::Yellow)),
        };
        let kind = serde_json::to_value(sig.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push(Line::from(vec![
            Span::raw(format!("   {kind:<15} ")),
            Span::styled(format!("{word:<13}"), style),
            Span::raw(sanitize(&format!(
                "{} {}",
                sig.identity.as_deref().unwrap_or("-"),
                sig.reason
            ))),
        ]));
    }
    (out, rows)
}

/// Draws the provenance pane.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Provenance;
    let inner = crate::ui::layout::inner(area);
    if let Some(view) = &app.provenance.statement {
        let what = app
            .image
            .as_ref()
            .and_then(|i| i.provenance.attestations.get(view.attestation))
            .map(|a| {
                format!(
                    " Statement {} · {} ",
                    short_predicate(a.predicate_type.as_deref()),
                    sanitize(&a.digest)
                )
            })
            .unwrap_or_default();
        let height = inner.height as usize;
        let (above, below) = scrolled::hidden(view.lines.len(), view.scroll, height);
        frame.render_widget(
            scrolled::marked(
                block(
                    Line::from(vec![
                        Span::raw(what),
                        Span::styled("(redacted; Enter/Esc back) ", dim()),
                    ]),
                    focused,
                ),
                above,
                below,
            ),
            area,
        );
        let shown: Vec<String> = view
            .lines
            .iter()
            .skip(view.scroll)
            .take(height)
            .cloned()
            .collect();
        let lines: Vec<Line<'static>> = crate::ui::highlight::snippet("JSON", &shown)
            .into_iter()
            .map(|l| {
                Line::from(
                    l.into_iter()
                        .map(|(st, t)| Span::styled(t, st))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    if !app.loaded() {
        frame.render_widget(block(Line::raw(" Provenance "), focused), area);
        frame.render_widget(
            Paragraph::new(Line::styled(" reading the image…", dim())),
            inner,
        );
        return;
    }
    let (lines, rows) = summary(app);
    let height = inner.height as usize;
    let first = summary_first_row(
        &rows,
        app.provenance.follow.then_some(app.provenance.selected),
        app.provenance.scroll,
        lines.len(),
        height,
    );
    let (above, below) = scrolled::hidden(lines.len(), first, height);
    frame.render_widget(
        scrolled::marked(block(Line::raw(" Provenance "), focused), above, below),
        area,
    );
    let lines: Vec<Line<'static>> = lines.into_iter().skip(first).take(height).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The summary's first row on screen: the scroll offset (`PgDn`/`G` reach the signatures
/// below the attestations), moved only as far as needed to keep the selected attestation's row
/// (`rows[selected]`, when it is followed) on screen, and never past the last screenful.
fn summary_first_row(
    rows: &[usize],
    selected: Option<usize>,
    scroll: usize,
    total: usize,
    height: usize,
) -> usize {
    let mut first = scrolled::first_row(total, scroll, height);
    if let Some(&sel) = selected.and_then(|s| rows.get(s)) {
        first = crate::ui::state::follow(first, sel, height.max(1));
    }
    first
}

/// The summary's scroll offset as the pane in `area` shows it (clamped, for the layout).
pub fn summary_scroll(app: &App, area: Rect) -> usize {
    if app.provenance.statement.is_some() || !app.loaded() {
        return app.provenance.scroll;
    }
    let (lines, rows) = summary(app);
    let height = crate::ui::layout::inner(area).height as usize;
    summary_first_row(
        &rows,
        app.provenance.follow.then_some(app.provenance.selected),
        app.provenance.scroll,
        lines.len(),
        height,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_commit_pages() {
        assert!(is_url("https://github.com/example/app.git"));
        assert!(!is_url("context"));
        assert_eq!(
            commit_url("https://github.com/example/app.git#main", "abc123").as_deref(),
            Some("https://github.com/example/app/commit/abc123")
        );
        assert_eq!(commit_url("https://example.org/r.git", "abc"), None);
        assert_eq!(commit_url("https://github.com/x/y", "not-hex"), None);
    }
}
