//! The image list: the daemon's (`strata` with no argument) or an archive's.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{dim, framed_list, selected};
use crate::model::sanitize;
use crate::ui::app::App;
use crate::ui::state::follow;
use crate::ui::text::{bytes, fit};

/// The age as `strata images` prints it ("7 minutes ago").
fn age(created: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    format!("{} ago", crate::report::images::human_age(now - created))
}

/// Draws the image list.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let title = Line::from(vec![
        Span::raw(match &app.images.archive {
            Some(_) => format!(" Images in {} ", app.images.title_source()),
            None => " Images on the Docker daemon ".to_owned(),
        }),
        Span::styled(format!("({}) ", app.images.rows.len()), dim()),
    ]);
    let Some((header, rows)) = framed_list(frame, title, true, area) else {
        return;
    };
    let w = rows.width as usize;
    let name_w = w.saturating_sub(12 + 2 + 10 + 2 + 16 + 2).max(10);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(
                "{:<name_w$}  {:<12}  {:>10}  {}",
                "Repository:tag", "Image id", "Size", "Created"
            ),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        header,
    );
    if app.images.loading {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("asking {}…", app.images.title_source()),
                dim(),
            )),
            rows,
        );
        return;
    }
    let list = &app.images;
    let first = follow(list.scroll, list.selected, rows.height as usize);
    let mut lines = Vec::new();
    for (i, r) in list
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(rows.height as usize)
    {
        let id = r.id.strip_prefix("sha256:").unwrap_or(&r.id);
        let mut line = Line::raw(format!(
            "{:<name_w$}  {:<12}  {:>10}  {}",
            fit(&sanitize(&r.reference), name_w),
            sanitize(&id[..id.len().min(12)]),
            bytes(r.size),
            if r.created == 0 {
                "-".to_owned()
            } else {
                age(r.created)
            }
        ));
        if i == list.selected {
            line = line.style(selected(true));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), rows);
}
