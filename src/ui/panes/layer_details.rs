//! The layer details pane: the full command (wrapped, highlighted as shell), digests, size,
//! file counts, creation time and comment of the selected layer.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::{block, dim, heading, scrolled};
use crate::model::sanitize;
use crate::ui::app::{App, Pane};
use crate::ui::highlight;
use crate::ui::text::{bytes, instruction};

fn field(name: &str, value: String) -> Line<'static> {
    Line::from(vec![heading(&format!("{name}: ")), Span::raw(value)])
}

/// The lines of the layer details (also used by tests).
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let Some(img) = app.image.as_ref() else {
        return vec![Line::styled("waiting for the image…", dim())];
    };
    let Some(layer) = img.layers.get(app.layers.selected) else {
        return vec![Line::styled("no layers", dim())];
    };
    let hist = img.history_for_layer(app.layers.selected);
    let mut out = Vec::new();
    out.push(Line::from(vec![
        heading(&format!(
            "Layer {} of {}",
            app.layers.selected,
            img.layers.len()
        )),
        Span::styled(
            if app.loaded() {
                format!(
                    "  {}  +{} ~{} -{} files",
                    bytes(layer.size_bytes),
                    layer.files_added,
                    layer.files_modified,
                    layer.files_removed
                )
            } else {
                "  (reading…)".into()
            },
            dim(),
        ),
    ]));
    let cmd = app.findings.cfg.redactor().instruction(&instruction(
        hist.map_or(&layer.created_by, |h| &h.created_by),
    ));
    // Split on real newlines first (heredocs), then make every line safe.
    let raw: Vec<String> = cmd.lines().map(str::to_owned).collect();
    // The instruction keyword is highlighted as a command word; the rest is shell.
    let syntax = "Bourne Again Shell (bash)";
    for l in highlight::snippet(syntax, &raw) {
        out.push(Line::from(
            l.into_iter()
                .map(|(st, t)| Span::styled(t, st))
                .collect::<Vec<_>>(),
        ));
    }
    out.push(field("Digest", sanitize(&layer.diff_id)));
    if !layer.blob_digest.is_empty() && layer.blob_digest != layer.diff_id {
        out.push(field(
            "Blob",
            format!(
                "{} ({:?}, {})",
                sanitize(&layer.blob_digest),
                layer.compression,
                bytes(layer.blob_bytes)
            ),
        ));
    }
    if app.loaded() {
        out.push(field(
            "Tar",
            format!("{} in {} entries", bytes(layer.tar_bytes), layer.entries),
        ));
        if layer.bytes_superseded > 0 {
            out.push(field(
                "Supersedes",
                format!(
                    "{} of lower layers (still shipped)",
                    bytes(layer.bytes_superseded)
                ),
            ));
        }
    }
    if let Some(h) = hist {
        if let Some(c) = &h.created {
            out.push(field("Created", sanitize(c)));
        }
        if let Some(c) = &h.comment {
            out.push(field("Comment", sanitize(c)));
        }
        if let Some(a) = &h.author {
            out.push(field("Author", sanitize(a)));
        }
    }
    out
}

/// The scroll offset the pane shows in `area`: "bottom" resolved, never past the last
/// screenful.
pub fn scroll(app: &App, area: Rect) -> usize {
    scrolled::settle(&lines(app), app.layers.details_scroll, area)
}

/// Draws the layer details pane (wrapped at spaces and `/`, never inside a digest; scrolled,
/// with its "more" markers).
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::LayerDetails;
    let b = block(Line::raw(" Layer details "), focused);
    scrolled::draw(frame, area, b, &lines(app), app.layers.details_scroll);
}
