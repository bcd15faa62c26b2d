//! What the file viewer keeps masked until the deliberate reveal (`v`, then `y`): the byte
//! spans a secret rule of the configured rule set matched (the rules of the engine's one
//! redaction owner, [`crate::redact`]: built-ins, the user's `[[secrets.rules]]`, allowlists).
//! Every other pane redacts through [`crate::redact::Redactor`].

use std::borrow::Cow;
use std::ops::Range;

use crate::model::fs::VersionId;
use crate::model::Image;
use crate::redact::rules::RuleSet;

/// Byte ranges of `content` (a piece of the file at `path`, as stored in the image) that a
/// secret rule of `rules` matched. Allowlisted paths have none, as in the findings.
pub fn secret_spans(rules: &RuleSet, path: &[u8], content: &[u8]) -> Vec<Range<usize>> {
    if rules.path_allowed(path) {
        return Vec::new();
    }
    // The rules skip binary content (a NUL near the start). For the hex view NULs become line
    // breaks: offsets stay the same and no match runs across one.
    let text: Cow<'_, [u8]> = if content.contains(&0) {
        Cow::Owned(
            content
                .iter()
                .map(|&b| if b == 0 { b'\n' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(content)
    };
    rules
        .scan(path, &text)
        .into_iter()
        .map(|m| {
            let start = usize::try_from(m.offset).unwrap_or(usize::MAX);
            start..start.saturating_add(m.len as usize)
        })
        .collect()
}

/// Spans of the file `version` to mask that lie in `offset..offset + content.len()`, in file
/// offsets: the matches recorded for it during the layer pass (they see the whole file, so a
/// key cut by a chunk boundary is still found) plus a scan of `content` itself (files the pass
/// did not read, such as large or binary ones).
pub fn file_spans(
    rules: &RuleSet,
    image: &Image,
    version: VersionId,
    offset: u64,
    content: &[u8],
) -> Vec<Range<u64>> {
    let fs = &image.fs;
    let Some(v) = fs.versions.get(version as usize) else {
        return Vec::new();
    };
    let path = fs.path(v.path);
    let end = offset + content.len() as u64;
    let mut spans: Vec<Range<u64>> = secret_spans(rules, path, content)
        .into_iter()
        .map(|r| offset + r.start as u64..offset + r.end as u64)
        .collect();
    let same_content = |x: VersionId| x == version || v.link_version == Some(x);
    spans.extend(
        image
            .content_matches
            .iter()
            .filter(|(x, _)| same_content(*x))
            .map(|(_, m)| m.offset..m.offset + u64::from(m.len))
            .filter(|r| r.start < end && offset < r.end),
    );
    merge(spans)
}

/// Shown for each masked character (and for each masked byte's two hex digits).
pub const MASK: char = '•';

/// A text line as drawn: pieces of safe text (tabs expanded, control characters escaped),
/// each flagged when it is a masked part, shown as one [`MASK`] per character it covers.
/// `masks` are byte ranges of `line`, sorted by start. The viewer draws these pieces and its
/// search matches their text, so a search never sees a masked value.
pub fn shown_pieces(line: &str, masks: &[&Range<usize>]) -> Vec<(String, bool)> {
    use crate::ui::text::safe_content;
    let mut pieces = Vec::new();
    let mut col = 0;
    let mut at = 0;
    let boundary = |mut i: usize| {
        i = i.min(line.len());
        while !line.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    for r in masks {
        let (a, b) = (boundary(r.start.max(at)), boundary(r.end));
        if a >= b {
            continue;
        }
        if at < a {
            pieces.push((safe_content(&line[at..a], &mut col), false));
        }
        let width = safe_content(&line[a..b], &mut col).chars().count();
        pieces.push((std::iter::repeat_n(MASK, width).collect(), true));
        at = b;
    }
    if at < line.len() {
        pieces.push((safe_content(&line[at..], &mut col), false));
    }
    pieces
}

/// Sorts and joins overlapping or touching ranges.
pub fn merge(mut spans: Vec<Range<u64>>) -> Vec<Range<u64>> {
    spans.retain(|r| r.start < r.end);
    spans.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(spans.len());
    for r in spans {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Masked parts of text lines, for lines split as [`crate::ui::worker::split_lines`] splits
/// `body` (the bytes at file offset `base`): `(line index in body, byte range in the line)`.
/// A line that is not valid UTF-8 is shown with escapes, so a match in it masks it whole
/// (`0..usize::MAX`).
pub fn line_spans(body: &[u8], base: u64, spans: &[Range<u64>]) -> Vec<(usize, Range<usize>)> {
    let mut out = Vec::new();
    if spans.is_empty() {
        return out;
    }
    let trimmed = body.strip_suffix(b"\n").unwrap_or(body);
    let mut start = base;
    for (i, raw) in trimmed.split(|&b| b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line_end = start + line.len() as u64;
        for s in spans.iter().filter(|s| s.start < line_end && start < s.end) {
            match std::str::from_utf8(line) {
                Ok(text) => {
                    let mut a = (s.start.max(start) - start) as usize;
                    let mut b = (s.end.min(line_end) - start) as usize;
                    while !text.is_char_boundary(a) {
                        a -= 1;
                    }
                    while !text.is_char_boundary(b) {
                        b += 1;
                    }
                    if a < b {
                        out.push((i, a..b));
                    }
                }
                Err(_) => out.push((i, 0..usize::MAX)),
            }
        }
        start += raw.len() as u64 + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_get_the_parts_a_span_covers() {
        let body = b"a=1\nkey: SECRET\r\nx\xffSECRET\nend\n";
        // "SECRET" on line 1 (bytes 9..15) and on line 2 (bytes 19..25).
        let spans = [9..15, 19..25];
        assert_eq!(
            line_spans(body, 0, &spans),
            vec![(1, 5..11), (2, 0..usize::MAX)]
        );
        // A span across lines masks the end of one and the start of the next.
        assert_eq!(
            line_spans(b"ab\ncd\n", 100, &[101..104, 200..201]),
            vec![(0, 1..2), (1, 0..1)]
        );
    }

    #[test]
    fn merge_joins_overlaps() {
        assert_eq!(
            merge(vec![5..9, 1..3, 2..4, 9..10, 7..7]),
            vec![1..4, 5..10]
        );
    }
}
