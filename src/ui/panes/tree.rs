//! The file tree pane: only the rows on screen are built. Each row: change marker (symbol and
//! colour), permissions, uid:gid, size, tree guides, name, link target and badges.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{badge_style, change_style, dim, framed_list, selected};
use crate::model::fs::EntryKind;
use crate::model::sanitize_bytes;
use crate::ui::app::{App, LoadState, Pane};
use crate::ui::filetree::{Change, Mode, Sort};
use crate::ui::state::follow;
use crate::ui::text::{bytes, fit, mode_string, share_bar};

fn title(app: &App) -> Line<'static> {
    let layer = app.layers.selected;
    let only = app.tree.only_label.as_ref();
    let mut spans = vec![Span::raw(match (only, app.layers.mode) {
        // A path-set filter names what it shows instead of the mode, to fit the title.
        (Some(label), _) => format!(
            " {} at layer {layer} (Esc shows all) ",
            crate::model::sanitize(label),
        ),
        (None, Mode::PerLayer) => {
            format!(" Filesystem at layer {layer}, coloured by what layer {layer} changed ")
        }
        (None, Mode::Aggregated) => {
            format!(" Aggregated contents (changes since layer 0, up to {layer}) ")
        }
    })];
    if app.tree.building() {
        spans.push(Span::styled("updating… ", dim()));
    }
    if let Some(t) = &app.tree.state {
        let mut hidden = Vec::new();
        if !t.filter.added {
            hidden.push("added");
        }
        if !t.filter.removed {
            hidden.push("removed");
        }
        if !t.filter.modified {
            hidden.push("modified");
        }
        if !t.filter.unchanged {
            hidden.push("unchanged");
        }
        if !hidden.is_empty() {
            spans.push(Span::styled(format!("hiding {} ", hidden.join(",")), dim()));
        }
        if t.sort == Sort::Size {
            spans.push(Span::styled("by size ", dim()));
        }
        if !app.tree.filter_text.is_empty() {
            spans.push(Span::styled(
                format!(
                    "/{}/ {} ",
                    crate::model::sanitize(&app.tree.filter_text),
                    t.matching()
                ),
                dim(),
            ));
        }
    }
    Line::from(spans)
}

/// Draws the file tree pane.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Tree;
    let Some((header, rows_area)) = framed_list(frame, title(app), focused, area) else {
        return;
    };
    let attrs = app.tree.attributes && rows_area.width >= 60;
    let bars = app.size_bars && rows_area.width >= 40;
    let head = format!(
        "  {}{}Name",
        if bars { "Share of dir " } else { "" },
        if attrs {
            "Permission     UID:GID       Size Layer  "
        } else {
            ""
        }
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            head,
            Style::new().add_modifier(Modifier::BOLD),
        )),
        header,
    );
    let Some(tree) = app.tree.state.as_ref() else {
        let msg = match &app.load {
            LoadState::Failed(e) => format!("  could not open the image: {e}"),
            LoadState::Loading { .. } => {
                let p = &app.progress;
                if p.total > 0 {
                    format!("  reading layers… {}/{}", p.done, p.total)
                } else {
                    "  reading layers…".to_string()
                }
            }
            _ => String::new(),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, dim())).wrap(ratatui::widgets::Wrap { trim: false }),
            rows_area,
        );
        return;
    };
    let height = rows_area.height as usize;
    let first = follow(tree.scroll, tree.selected, height);
    if tree.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "  (nothing matches the current filters)",
                dim(),
            )),
            rows_area,
        );
        return;
    }
    let fs = &tree.image.fs;
    let width = rows_area.width as usize;
    let mut lines = Vec::with_capacity(height);
    for (i, row) in tree.rows.iter().enumerate().skip(first).take(height) {
        let change = tree.view.change[row.id as usize];
        let version = tree
            .view
            .version_of(row.id)
            .map(|v| &fs.versions[v as usize]);
        let cstyle = change_style(change);
        let mut spans: Vec<Span<'static>> = Vec::with_capacity(8);
        spans.push(Span::styled(format!("{} ", change.symbol()), cstyle));
        let mut used = 2;
        if bars {
            // The row's bytes in this view against its directory's.
            let own = match version {
                Some(v) if v.kind == EntryKind::File => v.size,
                Some(v) if v.kind != EntryKind::Dir => 0,
                _ => tree.view.size[row.id as usize],
            };
            let parent = tree.view.size[fs.parent(row.id) as usize];
            spans.push(Span::raw(format!("{}   ", share_bar(own, parent))));
            used += 13;
        }
        if attrs {
            let (kind, mode, owner) = match version {
                Some(v) => (v.kind.letter(), v.mode, format!("{}:{}", v.uid, v.gid)),
                None => ('d', 0o755, "-".to_string()),
            };
            let size = if version.is_some_and(|v| v.kind == EntryKind::Dir) || version.is_none() {
                bytes(tree.view.size[row.id as usize])
            } else {
                version.map_or(String::new(), |v| {
                    if v.kind == EntryKind::File {
                        bytes(v.size)
                    } else {
                        "-".into()
                    }
                })
            };
            let setid = mode & 0o6000 != 0;
            spans.push(Span::styled(
                format!("{} ", mode_string(kind, mode)),
                if setid {
                    Style::new().fg(ratatui::style::Color::Magenta)
                } else {
                    Style::new()
                },
            ));
            spans.push(Span::raw(format!("{:>11} {:>9} ", fit(&owner, 11), size)));
            // The layer that wrote the version shown: answers "who added this file?".
            let layer = version.map_or(String::new(), |v| format!("L{}", v.layer));
            spans.push(Span::styled(format!("{layer:>5}  "), dim()));
            used += 11 + 12 + 11 + 6;
        }
        let prefix = row.prefix();
        used += prefix.chars().count();
        spans.push(Span::styled(prefix, dim()));
        let collapsed = row.has_children && tree.collapsed[row.id as usize];
        if collapsed {
            spans.push(Span::styled("⊕ ", cstyle));
            used += 2;
        }
        let mut name = sanitize_bytes(fs.name(row.id));
        if let Some(v) = version {
            match v.kind {
                EntryKind::Dir => name.push('/'),
                EntryKind::Symlink => {
                    name.push_str(" → ");
                    name.push_str(&sanitize_bytes(v.link.as_deref().unwrap_or_default()));
                }
                EntryKind::HardLink => {
                    name.push_str(" ⇒ /");
                    name.push_str(&sanitize_bytes(v.link.as_deref().unwrap_or_default()));
                }
                _ => {}
            }
        } else if row.has_children {
            name.push('/');
        }
        let name_style = if change == Change::Unchanged {
            Style::new()
        } else {
            cstyle
        };
        let badges: Vec<_> = app.findings.path_badges(row.id).collect();
        let badge_width: usize = badges.iter().map(|b| b.text.chars().count() + 3).sum();
        spans.push(Span::styled(
            fit(&name, width.saturating_sub(used + badge_width)),
            name_style,
        ));
        for b in badges {
            spans.push(Span::raw(" "));
            spans.push(Span::styled(format!(" {} ", b.text), badge_style(b.level)));
        }
        let mut line = Line::from(spans);
        if i == tree.selected {
            line = line.style(selected(focused));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), rows_area);
}
