//! The explorer's state, one sub-state per concern, each with its own update: keys arrive as
//! [`Action`]s (see [`crate::ui::keymap`]) and [`crate::ui::App`] routes them to the focused
//! part. Sub-states never draw and never do I/O; work for the worker comes back as
//! [`crate::ui::msg::Command`]s.

pub mod anatomy;
pub mod compare;
pub mod findings;
pub mod images;
pub mod layers;
pub mod mouse;
pub mod packages;
pub mod prompt;
pub mod provenance;
pub mod tree;
pub mod viewer;

use super::keymap::Action;

/// Moves a selection `i` among `n` items.
pub fn move_index(i: &mut usize, n: usize, action: Action, page: usize) {
    if n == 0 {
        return;
    }
    *i = match action {
        Action::Up => i.saturating_sub(1),
        Action::Down => (*i + 1).min(n - 1),
        Action::PageUp => i.saturating_sub(page),
        Action::PageDown => (*i + page).min(n - 1),
        Action::Top => 0,
        Action::Bottom => n - 1,
        _ => *i,
    };
}

/// Moves a scroll offset (details panes, help); [`Action::Bottom`] asks for the last screenful,
/// which [`crate::ui::App`] resolves when it lays the screen out.
pub fn scroll(offset: &mut usize, action: Action) {
    match action {
        Action::Up => *offset = offset.saturating_sub(1),
        Action::Down => *offset += 1,
        Action::PageUp => *offset = offset.saturating_sub(10),
        Action::PageDown => *offset += 10,
        Action::Top => *offset = 0,
        Action::Bottom => *offset = usize::MAX,
        _ => {}
    }
}

/// The first row on screen that keeps `selected` visible in a window of `height` rows that
/// started at `scroll`.
pub fn follow(scroll: usize, selected: usize, height: usize) -> usize {
    if height == 0 {
        scroll
    } else if selected < scroll {
        selected
    } else if selected >= scroll + height {
        selected + 1 - height
    } else {
        scroll
    }
}
