//! Driving the explorer's state in tests: draw on a 120x40 TestBackend, type key scripts.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use strata::ui::app::{App, Event};
use strata::ui::{panes, worker};

/// Draws `app` on a fresh 120x40 test terminal (telling the app its size first, as the
/// terminal does when it opens or resizes).
pub fn draw(app: &mut App) -> Terminal<TestBackend> {
    if app.size != (120, 40) {
        let _ = app.update(Event::Resize(120, 40));
    }
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| panes::draw(f, app)).unwrap();
    t
}

/// Sends one key, runs the commands it produced to completion, and redraws.
pub fn press(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    let cmds = app.update(Event::Key(KeyEvent::new(code, mods)));
    worker::settle(app, cmds);
    draw(app);
}

/// Types a key script: plain characters, `\t` for Tab, `\n` for Enter.
pub fn keys(app: &mut App, script: &str) {
    for c in script.chars() {
        let code = match c {
            '\t' => KeyCode::Tab,
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        press(app, code, KeyModifiers::NONE);
    }
}

/// Sends Ctrl+`c`.
pub fn ctrl(app: &mut App, c: char) {
    press(app, KeyCode::Char(c), KeyModifiers::CONTROL);
}

/// Finds `needle` on screen: (column, row) of its first character.
pub fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    for y in 0..buf.area.height {
        let mut line = String::new();
        let mut cols = Vec::new();
        for x in 0..buf.area.width {
            let s = buf[(x, y)].symbol();
            for _ in s.chars() {
                cols.push(x);
            }
            line.push_str(s);
        }
        if let Some(i) = line.find(needle) {
            let ci = line[..i].chars().count();
            return Some((cols[ci], y));
        }
    }
    None
}
