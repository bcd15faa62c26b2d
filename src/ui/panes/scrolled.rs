//! The one scrolling text pane: text wrapped into screen rows (see [`crate::ui::text::wrap_line`]),
//! a window of them from a scroll offset, and the "more" markers in the frame ("↑ 3 more" at the
//! top right once scrolled, "↓ 12 more" at the bottom right while rows are hidden below), so a
//! pane never cuts off silently. The offset itself is moved by [`crate::ui::state::scroll`]
//! (the keys every list uses) and clamped after each update with [`first_row`].

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::dim;
use crate::ui::text::wrap_line;

/// `lines` as screen rows of `width` columns.
pub fn rows(lines: &[Line<'_>], width: usize) -> Vec<Line<'static>> {
    lines.iter().flat_map(|l| wrap_line(l, width)).collect()
}

/// The first row shown of `total` rows in a window of `height`: `offset` kept within the last
/// screenful (`usize::MAX`, from `G`/End, is the last screenful).
pub fn first_row(total: usize, offset: usize, height: usize) -> usize {
    offset.min(total.saturating_sub(height))
}

/// Rows hidden above and below a window of `height` rows from `first` over `total` rows.
pub fn hidden(total: usize, first: usize, height: usize) -> (usize, usize) {
    (first.min(total), total.saturating_sub(first + height))
}

/// The marker for rows hidden above (`↑ N more`), if any.
pub fn above_marker(above: usize) -> Option<Line<'static>> {
    (above > 0).then(|| Line::styled(format!(" ↑ {above} more "), dim()).right_aligned())
}

/// The marker for rows hidden below (`↓ N more`), if any.
pub fn below_marker(below: usize) -> Option<Line<'static>> {
    (below > 0).then(|| Line::styled(format!(" ↓ {below} more "), dim()).right_aligned())
}

/// `block` with the markers for `above` and `below` hidden rows in its top and bottom borders.
pub fn marked(block: Block<'_>, above: usize, below: usize) -> Block<'_> {
    let mut b = block;
    if let Some(m) = above_marker(above) {
        b = b.title_top(m);
    }
    if let Some(m) = below_marker(below) {
        b = b.title_bottom(m);
    }
    b
}

/// The offset a framed text pane in `area` shows for `lines` from `offset` (for the layout's
/// clamping after each update).
pub fn settle(lines: &[Line<'_>], offset: usize, area: Rect) -> usize {
    let inner = crate::ui::layout::inner(area);
    let rows = rows(lines, inner.width as usize);
    first_row(rows.len(), offset, inner.height as usize)
}

/// Draws `lines` wrapped inside `block` over `area`, from row `offset`, with the markers.
pub fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    block: Block<'_>,
    lines: &[Line<'_>],
    offset: usize,
) {
    let inner = block.inner(area);
    let rows = rows(lines, inner.width as usize);
    let height = inner.height as usize;
    let first = first_row(rows.len(), offset, height);
    let (above, below) = hidden(rows.len(), first, height);
    frame.render_widget(marked(block, above, below), area);
    let shown: Vec<Line<'static>> = rows.into_iter().skip(first).take(height).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_hidden_rows() {
        assert_eq!(first_row(30, usize::MAX, 10), 20);
        assert_eq!(first_row(30, 25, 10), 20);
        assert_eq!(first_row(5, 3, 10), 0);
        assert_eq!(hidden(30, 0, 10), (0, 20));
        assert_eq!(hidden(30, 20, 10), (20, 0));
        assert_eq!(hidden(5, 0, 10), (0, 0));
    }
}
