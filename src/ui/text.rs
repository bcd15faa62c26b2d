//! Making image strings safe and short for the terminal: every string that comes from an image
//! passes through one of these (or `model::sanitize`) before it becomes a `Span`.

use ratatui::text::{Line, Span};

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

/// Words of `text` wrapped to `width` columns (at least 10), runs of white space shown as one
/// space; lines break as [`wrap_ranges`] says.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    wrap_ranges(&flat, width, width)
        .into_iter()
        .map(|r| fit(&flat[r], width))
        .collect()
}

/// True for a word part that is (or holds) a digest or an id: a run of 32 hex digits or more.
fn is_digest(s: &str) -> bool {
    let mut run = 0;
    for b in s.bytes() {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= 32 {
            return true;
        }
    }
    false
}

/// The byte ranges of `text`'s rows wrapped to `first` columns on the first row and `rest` on
/// the others. Rows break at spaces (dropped at the break); a word longer than a whole row also
/// breaks after its separators (`/`, and the `:` `=` `,` `.` of lists and labels unless it
/// holds a digest). Nothing else is cut: a word that fits a row never moves in part to fill
/// the row before, and a digest is never split (its row is longer than the width: the caller
/// shortens it with `…`). Only a word part wider than a whole row with no `/` to
/// break at (and no digest) is cut at the row's end, the one way to show all of it. Leading
/// white space stays on the first row.
pub fn wrap_ranges(text: &str, first: usize, rest: usize) -> Vec<std::ops::Range<usize>> {
    let (first, rest) = (first.max(1), rest.max(1));
    let cols = |s: &str| s.chars().count();
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                words.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(s..text.len());
    }
    let lead = words.first().map_or(0, |w| w.start);
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    // The row being filled: its bytes, its columns, and whether it holds a word yet.
    let (mut rs, mut re, mut rc, mut has) = (0, lead, cols(&text[..lead]), false);
    let limit = |out: &Vec<std::ops::Range<usize>>| if out.is_empty() { first } else { rest };
    for w in words {
        let word = &text[w.clone()];
        let wc = cols(word);
        // The white space before the word, as it is (runs of spaces kept inside a row).
        let gap = if has { cols(&text[re..w.start]) } else { 0 };
        if rc + gap + wc <= limit(&out) {
            (re, rc, has) = (w.end, rc + gap + wc, true);
            continue;
        }
        if wc <= rest {
            if has {
                out.push(rs..re);
            }
            (rs, re, rc, has) = (w.start, w.end, wc, true);
            continue;
        }
        // Longer than a whole row: its parts, each ending after a path separator (`/`, or
        // in lists and labels `:` `=` `,` `.`).
        // A word holding a digest breaks only at `/` (`sha256:` stays with its hex).
        let digest = is_digest(word);
        let mut parts = Vec::new();
        let mut p = 0;
        for (i, c) in word.char_indices() {
            let sep = c == '/' || (!digest && matches!(c, ':' | '=' | ',' | '.'));
            if sep && i + 1 < word.len() {
                parts.push((p, i + 1));
                p = i + 1;
            }
        }
        parts.push((p, word.len()));
        for (k, (a, b)) in parts.into_iter().enumerate() {
            let (a, b) = (w.start + a, w.start + b);
            let pc = cols(&text[a..b]);
            let gap = if has && k == 0 {
                cols(&text[re..w.start])
            } else {
                0
            };
            // (A first row holding only the indentation keeps it.)
            if (has || (k == 0 && rc > 0)) && rc + gap + pc <= limit(&out) {
                (re, rc, has) = (b, rc + gap + pc, true);
                continue;
            }
            if has {
                out.push(rs..re);
            }
            has = true;
            if pc <= limit(&out) || is_digest(&text[a..b]) {
                (rs, re, rc) = (a, b, pc);
                continue;
            }
            // No separator and no digest: cut at the row's end, the only way to show it all.
            (rs, rc) = (a, 0);
            for (i, _) in text[a..b].char_indices() {
                if rc == limit(&out) {
                    out.push(rs..a + i);
                    (rs, rc) = (a + i, 0);
                }
                rc += 1;
            }
            re = b;
        }
    }
    if has || out.is_empty() {
        out.push(rs..re);
    }
    out
}

/// A styled line wrapped to `width` columns as [`wrap_ranges`] breaks it, the rows after the
/// first indented two columns past the line's own indentation; a row that is still too wide
/// (a digest) ends in `…`. Styles carry over to every row.
pub fn wrap_line(line: &Line<'_>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let lead = text.chars().take_while(|c| *c == ' ').count();
    let indent = (lead + 2).min(width / 2);
    let ranges = wrap_ranges(&text, width, width - indent);
    let mut rows = Vec::with_capacity(ranges.len());
    for (n, r) in ranges.into_iter().enumerate() {
        let room = if n == 0 { width } else { width - indent };
        let mut spans: Vec<Span<'static>> = Vec::new();
        if n > 0 && indent > 0 {
            spans.push(Span::raw(" ".repeat(indent)));
        }
        let mut at = 0;
        let mut left = room;
        let cut = text[r.clone()].chars().count() > room;
        for s in &line.spans {
            let (a, b) = (at, at + s.content.len());
            at = b;
            let (from, to) = (a.max(r.start), b.min(r.end));
            if from >= to {
                continue;
            }
            let piece = &text[from..to];
            let pc = piece.chars().count();
            if cut && pc >= left {
                let keep: String = piece.chars().take(left.saturating_sub(1)).collect();
                spans.push(Span::styled(format!("{keep}…"), s.style));
                break;
            }
            left -= pc;
            spans.push(Span::styled(piece.to_owned(), s.style));
        }
        let mut l = Line::from(spans).style(line.style);
        l.alignment = line.alignment;
        rows.push(l);
    }
    rows
}

/// `path` made to fit `width` columns by dropping whole leading components, `…/conf.d/x.conf`;
/// only a last component wider than the space is cut inside (keeping its end).
pub fn shorten_path(path: &str, width: usize) -> String {
    if path.chars().count() <= width {
        return path.to_owned();
    }
    for (i, c) in path.char_indices() {
        if c == '/' && i > 0 {
            let tail = &path[i..];
            if tail.chars().count() < width {
                return format!("…{tail}");
            }
        }
    }
    fit_left(path, width)
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
