//! Terminal setup and restoration. The terminal is restored on every exit path: normal return
//! (guard drop), errors, panics on the UI thread (panic hook) and signals (the run loop).

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();
static UI_THREAD: std::sync::OnceLock<std::thread::ThreadId> = std::sync::OnceLock::new();

/// The terminal type used by the explorer.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal in raw mode on the alternate screen with mouse capture, and installs a
/// panic hook that restores it first (worker panics are caught and shown in the UI instead).
pub fn init() -> io::Result<(Term, Guard)> {
    let _ = UI_THREAD.set(std::thread::current().id());
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_ui = UI_THREAD.get() == Some(&std::thread::current().id());
            if ACTIVE.load(Ordering::SeqCst) && (!on_ui || super::worker::in_worker()) {
                // A worker thread: the UI reports it; printing would garble the screen.
                super::worker::record_panic(info.to_string());
                return;
            }
            restore();
            previous(info);
        }));
    });
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let guard = Guard;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, EnableMouseCapture, cursor::Hide)?;
    let term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((term, guard))
}

/// True while the explorer owns the terminal (its render loop is drawing).
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

/// Leaves raw mode and the alternate screen and shows the cursor; safe to call twice.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
        let _ = disable_raw_mode();
        let _ = out.flush();
    }
}
