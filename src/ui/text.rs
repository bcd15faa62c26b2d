//! Making image strings safe and short for the terminal: every string that comes from an image
//! passes through one of these (or `model::sanitize`) before it becomes a `Span`.

use crate::model::sanitize;

/// Width of a tab stop in the file viewer.
pub const TAB: usize = 4;

/// One line of a history command or label: newlines shown as ` ↵ `, control characters visible.
pub fn one_line(s: &str) -> String {
    s.trim_end_matches(['\n', '\r'])
        .split('\n')
        .map(|l| sanitize(l.trim_end_matches('\r')))
        .collect::<Vec<_>>()
        .join(" ↵ ")
}

/// Makes file content safe for display: tabs expanded to the next stop (`col` is the running
/// column of the line), other control characters, C1 codes and bidi overrides shown as escapes.
pub fn safe_content(s: &str, col: &mut usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\t' {
            let n = TAB - (*col % TAB);
            out.extend(std::iter::repeat_n(' ', n));
            *col += n;
        } else {
            let safe = sanitize(c.encode_utf8(&mut [0u8; 4]));
            *col += safe.chars().count();
            out.push_str(&safe);
        }
    }
    out
}

/// Human-readable byte count (`1.2 MiB`, binary units as in `strata report`).
pub fn bytes(n: u64) -> String {
    crate::text::bytes(n)
}

/// Words of `text` wrapped to `width` columns (at least 10), breaking only at spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Cells of a size bar.
pub const BAR_CELLS: usize = 6;

/// `part`'s share of `whole` as a bar of [`BAR_CELLS`] cells (eighth blocks) and a percentage,
/// `██▌    42%`: the number keeps it readable without colour. Ten cells wide.
pub fn share_bar(part: u64, whole: u64) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let share = if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0)
    };
    let eighths = (share * (BAR_CELLS * 8) as f64).round() as usize;
    let mut bar: String = "█".repeat(eighths / 8);
    if eighths % 8 != 0 {
        bar.push(EIGHTHS[eighths % 8]);
    }
    let pad = BAR_CELLS - bar.chars().count();
    bar.extend(std::iter::repeat_n(' ', pad));
    format!("{bar}{:>3}%", (share * 100.0).round() as u32)
}

/// `ls -l` style permissions, e.g. `-rwsr-xr-x`.
pub fn mode_string(kind: char, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(kind);
    let bit = |b: u32, c: char| if mode & b != 0 { c } else { '-' };
    let special = |x: bool, set: bool, lower: char, upper: char| match (set, x) {
        (true, true) => lower,
        (true, false) => upper,
        (false, true) => 'x',
        (false, false) => '-',
    };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(mode & 0o100 != 0, mode & 0o4000 != 0, 's', 'S'));
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(special(mode & 0o010 != 0, mode & 0o2000 != 0, 's', 'S'));
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(special(mode & 0o001 != 0, mode & 0o1000 != 0, 't', 'T'));
    s
}

/// A history step as a Dockerfile-like instruction: `/bin/sh -c #(nop) ` prefixes dropped,
/// shell steps shown as `RUN …`, BuildKit's `# buildkit` suffix dropped.
pub fn instruction(created_by: &str) -> String {
    let s = created_by.trim();
    let s = s.strip_suffix("# buildkit").map_or(s, str::trim_end);
    if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        return rest.trim().to_owned();
    }
    if let Some(rest) = s.strip_prefix("/bin/sh -c ") {
        return format!("RUN {}", rest.trim());
    }
    if let Some(rest) = s.strip_prefix("|") {
        // BuildKit build args: `|2 A=b C=d /bin/sh -c cmd`.
        if let Some(pos) = rest.find("/bin/sh -c ") {
            return format!("RUN {}", rest[pos + "/bin/sh -c ".len()..].trim());
        }
    }
    s.to_owned()
}

/// Truncates `s` to at most `width` characters, ending with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Truncates `s` to at most `width` characters keeping the end (paths), starting with `…`.
pub fn fit_left(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::from("…");
    out.extend(s.chars().skip(n - (width - 1)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_bars_read_without_colour() {
        assert_eq!(share_bar(1, 2), "███    50%");
        assert_eq!(share_bar(1, 8), "▊      13%");
        assert_eq!(share_bar(5, 5), "██████100%");
        assert_eq!(share_bar(0, 0), "        0%");
        assert_eq!(share_bar(9, 3), "██████100%", "clamped");
        assert!([1u64, 7, 50, 99]
            .iter()
            .all(|&p| share_bar(p, 100).chars().count() == 10));
    }

    #[test]
    fn helpers() {
        assert_eq!(one_line("a\nb\x1b[2J"), "a ↵ b\\x1b[2J");
        let mut col = 0;
        assert_eq!(safe_content("a\tb\x07", &mut col), "a   b\\x07");
        assert_eq!(mode_string('-', 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string('d', 0o1777), "drwxrwxrwt");
        assert_eq!(instruction("/bin/sh -c #(nop)  ENV A=b"), "ENV A=b");
        assert_eq!(
            instruction("/bin/sh -c apt-get update"),
            "RUN apt-get update"
        );
        assert_eq!(
            instruction("RUN /bin/sh -c x # buildkit"),
            "RUN /bin/sh -c x"
        );
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        // Exact and rounded values look alike: one decimal, always.
        assert_eq!(bytes(48 << 10), "48.0 KiB");
        assert_eq!(bytes((56 << 10) + 10), "56.0 KiB");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit_left("/a/b/cdef", 5), "…cdef");
    }
}
