//! Text helpers shared by every layer above the model: human byte counts and one-line
//! commands.

use humansize::{format_size, BINARY};

use crate::model::sanitize;

/// Formats bytes for people (`1.5 MiB`), exact bytes alongside where it matters.
pub fn bytes(n: u64) -> String {
    format_size(n, BINARY)
}

/// First line of a command, sanitised and cut to `max` characters.
pub fn one_line(cmd: &str, max: usize) -> String {
    let cmd = cmd.trim();
    let cmd = cmd.strip_prefix("/bin/sh -c ").unwrap_or(cmd);
    let cmd = cmd.strip_prefix("#(nop) ").unwrap_or(cmd).trim();
    let flat = sanitize(&cmd.replace('\n', " ↵ "));
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        flat
    }
}
