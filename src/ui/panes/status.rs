//! The key bar (generated from the keymap) and the status line (prompts, notices, progress).

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::dim;
use crate::model::sanitize;
use crate::ui::app::{App, Level, LoadState, Prompt};
use crate::ui::text::bytes;

/// Draws the key bar for the focused pane.
pub fn key_bar(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for (key, label) in app.key_bar() {
        let w = key.chars().count() + label.len() + 3;
        if used + w > area.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(
            format!(" {key}"),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(format!(" {label} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A text progress bar.
pub fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!(
        "▕{}{}▏",
        "█".repeat(filled),
        "░".repeat(width - filled.min(width))
    )
}

/// Draws the status line.
pub fn status(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let line = match &app.prompt.active {
        Some(Prompt::Filter { text, error }) => {
            let mut s = vec![
                Span::styled(
                    " Filter (regex on path): /",
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(sanitize(text)),
                Span::styled("█", Style::new().fg(Color::Cyan)),
            ];
            match error {
                Some(e) => s.push(Span::styled(format!("  {e}"), Style::new().fg(Color::Red))),
                None => s.push(Span::styled("  Enter keep · Esc clear", dim())),
            }
            Line::from(s)
        }
        Some(Prompt::PackageFilter { text }) => Line::from(vec![
            Span::styled(
                " Filter packages (manager, name, version, license): /",
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(sanitize(text)),
            Span::styled("█", Style::new().fg(Color::Cyan)),
            Span::styled("  Enter keep · Esc clear", dim()),
        ]),
        Some(Prompt::ExtractDir { text, target }) => Line::from(vec![
            Span::styled(
                format!(
                    " Extract {} (layer {}) as {} into: ",
                    target.display,
                    target.layer,
                    target.lands_as()
                ),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(sanitize(text)),
            Span::styled("█", Style::new().fg(Color::Cyan)),
            Span::styled(
                if target.keep_path {
                    "  Tab name only · Enter save · Esc cancel"
                } else {
                    "  Tab keep path · Enter save · Esc cancel"
                },
                dim(),
            ),
        ]),
        Some(Prompt::CreateDir { dir, .. }) => Line::from(vec![Span::styled(
            format!(
                " {} does not exist. Create it? [y/N]",
                sanitize(&dir.display().to_string())
            ),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )]),
        Some(Prompt::Open { text }) => Line::from(vec![
            Span::styled(" Open image: ", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(sanitize(text)),
            Span::styled("█", Style::new().fg(Color::Cyan)),
            Span::styled(
                "  Enter open · Esc cancel · registry:HOST/REPO:TAG, name:tag, PATH.tar, oci:DIR",
                dim(),
            ),
        ]),
        Some(Prompt::Compare { text }) => Line::from(vec![
            Span::styled(
                " Compare with image (reference, archive or oci:DIR): ",
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(sanitize(text)),
            Span::styled("█", Style::new().fg(Color::Cyan)),
            Span::styled("  Enter compare · Esc cancel", dim()),
        ]),
        Some(Prompt::Search { text }) => Line::from(vec![
            Span::styled(
                " Search this file (as shown, secrets masked): /",
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(sanitize(text)),
            Span::styled("█", Style::new().fg(Color::Cyan)),
            Span::styled("  Enter search (empty: end the search) · Esc cancel", dim()),
        ]),
        Some(Prompt::RevealFile) => Line::from(vec![Span::styled(
            " Show the masked secrets of this file on screen (never saved or logged)? [y/N]",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )]),
        Some(Prompt::Reveal { .. }) => Line::from(vec![Span::styled(
            " Show the raw secret on screen (never saved or logged)? [y/N]",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )]),
        Some(Prompt::Overwrite {
            existing, count, ..
        }) => Line::from(vec![Span::styled(
            if *count > 1 {
                format!(
                    " {} and {} more files exist. Overwrite them? [y/N]",
                    sanitize(&existing.display().to_string()),
                    count - 1
                )
            } else {
                format!(
                    " {} exists. Overwrite? [y/N]",
                    sanitize(&existing.display().to_string())
                )
            },
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )]),
        None => match (&app.notice, &app.load) {
            (Some((n, level)), _) => Line::styled(
                format!(" {n}"),
                match level {
                    Level::Info => Style::new().fg(Color::Cyan),
                    Level::Error => Style::new().fg(Color::Red),
                },
            ),
            (None, LoadState::Loading { label, .. }) => {
                let p = &app.progress;
                let elapsed = app.load_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                let layers = if p.total > 0 {
                    format!(
                        " {} {}/{} layers",
                        bar(p.done, p.total, 20),
                        p.done,
                        p.total
                    )
                } else if p.started > 0 {
                    format!(" layer {}", p.started)
                } else {
                    String::new()
                };
                let phase = if p.phase.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", p.phase)
                };
                Line::styled(
                    format!(
                        " Loading {label}{layers} · {} read{phase} · {elapsed:.1}s",
                        bytes(p.bytes)
                    ),
                    Style::new().fg(Color::Cyan),
                )
            }
            (None, LoadState::Failed(e)) => Line::styled(
                format!(" could not open the image: {e}"),
                Style::new().fg(Color::Red),
            ),
            _ => match (&app.image, &app.eff) {
                (Some(img), Some(eff)) => Line::styled(
                    format!(
                        " {} · {} layers · {} · {} reclaimable · efficiency {:.1} % · {}",
                        sanitize(&img.reference),
                        img.layers.len(),
                        bytes(eff.total_bytes),
                        bytes(eff.reclaimable_bytes),
                        eff.score * 100.0,
                        findings_summary(app)
                    ),
                    dim(),
                ),
                _ => Line::styled(" ? for help", dim()),
            },
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn findings_summary(app: &App) -> String {
    use crate::ui::app::FindingsState;
    match &app.findings.state {
        FindingsState::Ready => format!("{} findings (F)", app.findings.list.len()),
        FindingsState::Failed(_) => "findings failed (F)".into(),
        _ => "analysing…".into(),
    }
}
