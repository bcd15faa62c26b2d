//! The image details pane: sizes, reclaimable bytes, efficiency, the top reclaimable files and
//! the runtime config (env values that look secret are masked).

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::{block, dim, heading, scrolled};
use crate::model::{path, sanitize};
use crate::ui::app::{App, LoadState, Pane};
use crate::ui::text::{bytes, fit_left, one_line};

/// How many reclaimable paths are listed.
pub const TOP_RECLAIMABLE: usize = 8;

fn field(name: &str, value: String) -> Line<'static> {
    Line::from(vec![heading(&format!("{name}: ")), Span::raw(value)])
}

fn list(v: &[String]) -> String {
    v.iter().map(|s| one_line(s)).collect::<Vec<_>>().join(" ")
}

/// The lines of the image details (also used by tests).
pub fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let Some(img) = app.image.as_ref() else {
        return vec![Line::styled("waiting for the image…", dim())];
    };
    let mut out = Vec::new();
    out.push(field("Image", sanitize(&img.reference)));
    if !img.repo_tags.is_empty() {
        out.push(field("Tags", list(&img.repo_tags)));
    }
    let id = img.id.strip_prefix("sha256:").unwrap_or(&img.id);
    out.push(field(
        "Id",
        format!(
            "{} ({}/{})",
            sanitize(&id[..id.len().min(12)]),
            sanitize(&img.os),
            sanitize(&img.architecture)
        ),
    ));
    match (&app.load, &app.eff) {
        (LoadState::Done, Some(eff)) => {
            out.push(field(
                "Size",
                format!(
                    "{} in {} layers, {} visible",
                    bytes(eff.total_bytes),
                    img.layers.len(),
                    bytes(eff.visible_bytes)
                ),
            ));
            let pct = if eff.total_bytes == 0 {
                0.0
            } else {
                eff.reclaimable_bytes as f64 * 100.0 / eff.total_bytes as f64
            };
            let colour = if pct >= 10.0 {
                Color::Red
            } else if pct >= 2.0 {
                Color::Yellow
            } else {
                Color::Green
            };
            out.push(Line::from(vec![
                heading("Reclaimable: "),
                Span::styled(
                    format!("{} ({pct:.1} %)", bytes(eff.reclaimable_bytes)),
                    Style::new().fg(colour),
                ),
                heading("  Efficiency: "),
                Span::styled(
                    format!("{:.1} %", eff.score * 100.0),
                    Style::new().fg(colour),
                ),
            ]));
            if !app.largest.is_empty() {
                out.push(Line::from(heading(
                    "Largest files (layer that added them):",
                )));
                for &vid in &app.largest {
                    let v = &img.fs.versions[vid as usize];
                    let gone = match v.removed_in {
                        Some(r) if !v.is_visible() => format!(" (gone in L{r})"),
                        _ => String::new(),
                    };
                    out.push(Line::from(vec![
                        Span::raw(format!("{:>10} ", bytes(v.size))),
                        Span::styled(format!("{:<7} ", format!("L{}", v.layer)), dim()),
                        Span::raw(fit_left(
                            &path::display(img.fs.path(v.path)),
                            width.saturating_sub(19 + gone.chars().count()),
                        )),
                        Span::styled(gone, dim()),
                    ]));
                }
            }
            if !eff.reclaimable.is_empty() {
                out.push(Line::from(heading("Top reclaimable files:")));
                for r in eff.reclaimable.iter().take(TOP_RECLAIMABLE) {
                    let layers: Vec<String> = r
                        .layers
                        .iter()
                        .zip(&r.removed_in)
                        .map(|(a, b)| format!("L{a}→L{b}"))
                        .collect();
                    out.push(Line::from(vec![
                        Span::raw(format!("{:>10} ", bytes(r.bytes))),
                        Span::styled(format!("{:<7} ", layers.join(",")), dim()),
                        Span::raw(fit_left(
                            &path::display(img.fs.path(r.path)),
                            width.saturating_sub(19),
                        )),
                    ]));
                }
                if eff.reclaimable.len() > TOP_RECLAIMABLE {
                    out.push(Line::styled(
                        format!(
                            "   … {} more paths",
                            eff.reclaimable.len() - TOP_RECLAIMABLE
                        ),
                        dim(),
                    ));
                }
            }
        }
        (LoadState::Failed(e), _) => out.push(Line::styled(
            format!("failed: {e}"),
            Style::new().fg(Color::Red),
        )),
        _ => out.push(Line::styled("sizes: reading layers…", dim())),
    }
    let c = &img.config;
    out.push(Line::from(heading("Config")));
    out.push(field("User", sanitize(img.effective_user())));
    if let Some(e) = &c.entrypoint {
        out.push(field("Entrypoint", list(e)));
    }
    if let Some(cmd) = &c.cmd {
        out.push(field("Cmd", list(cmd)));
    }
    if let Some(w) = &c.workdir {
        out.push(field("Workdir", sanitize(w)));
    }
    if !c.exposed_ports.is_empty() {
        out.push(field("Ports", list(&c.exposed_ports)));
    }
    if !c.volumes.is_empty() {
        out.push(field("Volumes", list(&c.volumes)));
    }
    if let Some(h) = &c.healthcheck {
        out.push(field("Healthcheck", list(h)));
    }
    if let Some(s) = &c.stop_signal {
        out.push(field("Stop signal", sanitize(s)));
    }
    if !c.env.is_empty() {
        out.push(Line::from(heading("Env:")));
        let redact = app.findings.cfg.redactor();
        for e in &c.env {
            out.push(Line::raw(format!(
                "  {}",
                redact.env(e).replace('\n', "\\n")
            )));
        }
    }
    if !c.labels.is_empty() {
        out.push(Line::from(heading("Labels:")));
        let redact = app.findings.cfg.redactor();
        for (k, v) in &c.labels {
            out.push(Line::raw(format!(
                "  {}={}",
                one_line(k),
                one_line(&redact.label(k, v))
            )));
        }
    }
    for w in &img.warnings {
        out.push(Line::styled(
            format!("warning: {}", one_line(w)),
            Style::new().fg(Color::Yellow),
        ));
    }
    out
}

/// The scroll offset the pane shows in `area`: "bottom" resolved, never past the last
/// screenful.
pub fn scroll(app: &App, area: Rect) -> usize {
    let lines = lines(app, area.width.saturating_sub(2) as usize);
    scrolled::settle(&lines, app.image_details_scroll, area)
}

/// Draws the image details pane (wrapped, scrolled, with its "more" markers).
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::ImageDetails;
    let lines = lines(app, area.width.saturating_sub(2) as usize);
    let b = block(Line::raw(" Image details "), focused);
    scrolled::draw(frame, area, b, &lines, app.image_details_scroll);
}
