//! Text helpers shared by every layer above the model: human byte counts and one-line
//! commands.

use humansize::{format_size, BINARY};

use crate::model::sanitize;

/// Formats bytes for people: binary units with one decimal always (`48.0 KiB`, `1.5 MiB`), so
/// a column never mixes `48 KiB` with `56.0 KiB`; whole bytes below 1 KiB (`977 B`). Every
/// output (report, image lists, explorer) uses this one convention; JSON carries exact bytes.
pub fn bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n} B");
    }
    format_size(n, BINARY.decimal_places(1).decimal_zeroes(1))
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
