//! The anatomy view (in place of the tree while open): a tab line for its three views, the
//! optional "what am I looking at" line, a header, then the rows of the view — the chain of
//! documents and the layers, the selected layer's raw tar entries, or the reconstructed
//! Dockerfile — or a document's JSON.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{block, dim, scrolled, selected};
use crate::analysis::anatomy::kind_name;
use crate::model::documents::{Descriptor, Role};
use crate::model::{sanitize, sanitize_bytes, Compression, Image};
use crate::ui::app::{App, Pane};
use crate::ui::highlight;
use crate::ui::layout;
use crate::ui::state::anatomy::{doc_items, AnatomyView, DocItem, EntriesState};
use crate::ui::text::{bytes, fit, wrap};

/// Lines above the rows: the tab line, the explanation when shown, the header.
fn top_lines(app: &App, width: usize) -> usize {
    let explain = if app.anatomy.explain && app.anatomy.json.is_none() {
        wrap(app.anatomy.view.explanation(), width).len()
    } else {
        0
    };
    2 + explain
}

/// The rows area of the view inside the pane `area`.
pub fn body(app: &App, area: Rect) -> Rect {
    let inner = layout::inner(area);
    let top = (top_lines(app, inner.width as usize) as u16).min(inner.height);
    Rect {
        y: inner.y + top,
        height: inner.height - top,
        ..inner
    }
}

/// `sha256:0123456789ab…` (the first 12 hex digits).
pub fn short_digest(d: &str) -> String {
    let d = sanitize(d);
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}…", &hex[..12]),
        _ => d,
    }
}

fn role_text(r: &Descriptor) -> String {
    match &r.role {
        Role::Followed => "the chosen image: the next document".into(),
        Role::OtherPlatform => "another platform (not read)".into(),
        Role::Attestation(Some(of)) => format!(
            "attestation manifest (SBOM/provenance) for {}",
            short_digest(of)
        ),
        Role::Attestation(None) => "attestation manifest (SBOM/provenance)".into(),
        Role::Artifact => "an artifact, not an image".into(),
        Role::Config => "the config".into(),
        Role::Layer(n) => format!("layer {n}"),
    }
}

fn doc_line(image: &Image, item: DocItem) -> Line<'static> {
    let docs = &image.documents;
    match item {
        DocItem::Document(i) => {
            let d = &docs.chain[i];
            let id = d
                .digest
                .as_deref()
                .map_or_else(|| sanitize(&d.name), short_digest);
            Line::from(vec![
                Span::styled(
                    format!("{:<13} ", d.kind.label()),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!("{id}  {}  ", bytes(d.size()))),
                Span::styled(
                    sanitize(d.media_type.as_deref().unwrap_or("(no media type)")),
                    dim(),
                ),
            ])
        }
        DocItem::Ref(i, j) => {
            let r = &docs.chain[i].refs[j];
            let mut text = format!("  {} → {}", sanitize(&r.field), short_digest(&r.target));
            if let Some(s) = r.size {
                text.push_str(&format!("  {}", bytes(s)));
            }
            if let Some(p) = &r.platform {
                text.push_str(&format!("  {}", sanitize(p)));
            }
            let style = match r.role {
                Role::Followed => Style::new().fg(Color::Green),
                Role::Attestation(_) => Style::new().fg(Color::Magenta),
                _ => Style::new(),
            };
            Line::from(vec![
                Span::styled(text, style),
                Span::styled(format!("  ({})", role_text(r)), dim()),
            ])
        }
        DocItem::LayersHeading => Line::from(vec![
            Span::styled("layers        ", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw("blob (as stored) ⇒ tar (unpacked)"),
        ]),
        DocItem::Layer(l) => {
            let layer = &image.layers[l];
            let compression = match layer.compression {
                Compression::None => "uncompressed",
                Compression::Gzip => "gzip",
                Compression::Zstd => "zstd",
            };
            Line::raw(format!(
                "  layer {l:<3} blob {} {} ({compression})",
                short_digest(&layer.blob_digest),
                bytes(layer.blob_bytes),
            ))
        }
        DocItem::Note(n) => Line::styled(format!("note: {}", sanitize(&docs.notes[n])), dim()),
    }
}

fn tabs(app: &App) -> Line<'static> {
    let mut spans = Vec::new();
    for v in AnatomyView::ALL {
        let text = format!(" {} {} ", v.index() + 1, v.label());
        if v == app.anatomy.view {
            spans.push(Span::styled(
                text,
                Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            ));
        } else {
            spans.push(Span::raw(text));
        }
    }
    spans.push(Span::styled(
        if app.anatomy.explain {
            "  i hides the explanation"
        } else {
            "  i explains"
        },
        dim(),
    ));
    Line::from(spans)
}

/// Draws the anatomy view.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Anatomy;
    let title = Line::from(vec![
        Span::raw(" Anatomy "),
        Span::styled("· what the image is made of ", dim()),
    ]);
    let inner = layout::inner(area);
    let rows = body(app, area);
    // A document's JSON is a text pane: its frame marks the lines above and below.
    let (above, below) = app.anatomy.json.as_ref().map_or((0, 0), |j| {
        scrolled::hidden(j.lines.len(), j.scroll, rows.height as usize)
    });
    frame.render_widget(scrolled::marked(block(title, focused), above, below), area);
    if inner.height < 3 {
        return;
    }
    let width = inner.width as usize;
    let mut top: Vec<Line<'static>> = vec![tabs(app)];
    let a = &app.anatomy;
    if let Some(j) = &a.json {
        top.push(Line::styled(
            fit(&format!("{} · Esc closes", j.title), width),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        let lines: Vec<Line<'static>> = j
            .lines
            .iter()
            .skip(j.scroll)
            .take(rows.height as usize)
            .map(|l| {
                Line::from(
                    l.iter()
                        .map(|(st, t)| Span::styled(t.clone(), *st))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(top), inner);
        frame.render_widget(Paragraph::new(lines), rows);
        return;
    }
    if a.explain {
        for l in wrap(a.view.explanation(), width) {
            top.push(Line::styled(
                l,
                Style::new().fg(Color::Cyan).add_modifier(Modifier::ITALIC),
            ));
        }
    }
    let Some(image) = app.image.as_deref() else {
        top.push(Line::styled("waiting for the image…", dim()));
        frame.render_widget(Paragraph::new(top), inner);
        return;
    };
    let v = a.view.index();
    let (sel, first) = (a.selected[v], a.scroll[v]);
    let height = rows.height as usize;
    let mark = |i: usize, line: Line<'static>| {
        if i == sel {
            line.style(selected(focused))
        } else {
            line
        }
    };
    let mut lines: Vec<Line<'static>> = Vec::with_capacity(height);
    match a.view {
        AnatomyView::Documents => {
            top.push(Line::styled(
                fit(
                    &format!(
                        "{} document{} · Enter: a document's JSON, or a layer's raw entries",
                        image.documents.chain.len(),
                        if image.documents.chain.len() == 1 {
                            ""
                        } else {
                            "s"
                        }
                    ),
                    width,
                ),
                Style::new().add_modifier(Modifier::BOLD),
            ));
            let items = doc_items(image);
            for (i, item) in items.iter().enumerate().skip(first) {
                if lines.len() >= height {
                    break;
                }
                lines.push(mark(i, doc_line(image, *item)));
                for sub in a.sub_lines(image, &items, i) {
                    lines.push(Line::styled(fit(&sub, width), dim()));
                }
            }
        }
        AnatomyView::Entries => match &a.entries {
            EntriesState::Ready(listing) => {
                top.push(Line::styled(
                    fit(
                        &format!(
                            "layer {} · {} entries as stored, in archive order · {} special · {} in memory · ←/→ layer",
                            listing.layer,
                            listing.entries.len(),
                            listing.explained.len(),
                            bytes(listing.memory_bytes() as u64)
                        ),
                        width,
                    ),
                    Style::new().add_modifier(Modifier::BOLD),
                ));
                for (i, e) in listing.entries.iter().enumerate().skip(first) {
                    if lines.len() >= height {
                        break;
                    }
                    let mut text = format!(
                        "{:<10} {:>7o} {:>5}:{:<5} {:>10}  {}",
                        kind_name(e.kind),
                        e.mode,
                        e.uid,
                        e.gid,
                        bytes(e.size),
                        sanitize_bytes(&e.path)
                    );
                    if let Some(l) = &e.link {
                        text.push_str(&format!(" → {}", sanitize_bytes(l)));
                    }
                    let line = if listing.explanation(i).is_some() {
                        Line::styled(fit(&text, width), Style::new().fg(Color::Yellow))
                    } else {
                        Line::raw(fit(&text, width))
                    };
                    lines.push(mark(i, line));
                    for sub in a.sub_lines(image, &[], i) {
                        lines.push(Line::styled(fit(&sub, width), dim()));
                    }
                }
            }
            EntriesState::Reading { layer, read } => top.push(Line::styled(
                format!("reading layer {layer} once… {read} entries so far"),
                dim(),
            )),
            EntriesState::Failed { layer, error } => top.push(Line::styled(
                fit(&format!("layer {layer}: {}", sanitize(error)), width),
                Style::new().fg(Color::Red),
            )),
            EntriesState::Idle => top.push(Line::styled(
                "the layer's entries are read once the image is loaded",
                dim(),
            )),
        },
        AnatomyView::Dockerfile => {
            let Some(d) = &a.dockerfile else {
                frame.render_widget(Paragraph::new(top), inner);
                return;
            };
            top.push(Line::from(vec![
                Span::styled(
                    format!("{}  ", sanitize(&d.from)),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::styled(sanitize(&d.from_note), dim()),
            ]));
            for (i, s) in d.steps.iter().enumerate().skip(first) {
                if lines.len() >= height {
                    break;
                }
                let place = match (s.layer, s.size) {
                    (Some(l), Some(b)) => format!("{l:>3} {:>10}", bytes(b)),
                    (Some(l), None) => format!("{l:>3} {:>10}", ""),
                    _ => format!("{:>3} {:>10}", "-", "(empty)"),
                };
                let base = if s.base { "B" } else { " " };
                let instr = if s.instruction.is_empty() {
                    "(no recorded command)".to_owned()
                } else {
                    fit(&sanitize(&s.instruction), width.saturating_sub(22))
                };
                let mut spans = vec![Span::styled(
                    format!("{:>3} {place} {base} ", s.history),
                    dim(),
                )];
                let styled = highlight::snippet("Dockerfile", std::slice::from_ref(&instr));
                match styled.into_iter().next() {
                    Some(parts) if s.layer.is_some() => {
                        spans.extend(parts.into_iter().map(|(st, t)| Span::styled(t, st)));
                    }
                    _ => spans.push(Span::styled(instr, dim())),
                }
                lines.push(mark(i, Line::from(spans)));
                for sub in a.sub_lines(image, &[], i) {
                    lines.push(Line::styled(fit(&sub, width), dim()));
                }
            }
        }
    }
    lines.truncate(height);
    frame.render_widget(Paragraph::new(top), inner);
    frame.render_widget(Paragraph::new(lines), rows);
}
