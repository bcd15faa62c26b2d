//! The text diff of one path's two versions for compare mode: each version read back from its
//! own image (at most [`MAX_BYTES`]), its secret-rule matches masked before anything is
//! compared, then a unified and a side-by-side diff with three lines of context (the `similar`
//! crate), over both texts' lines highlighted by the file's syntax (syntect, on the worker).

use crate::model::fs::{EntryKind, VersionId};
use crate::model::Image;
use crate::redact::mask_value;
use crate::redact::rules::RuleSet;
use crate::ui::highlight::{self, StyledLine};
use crate::ui::state::compare::{DiffLine, DiffTag, SideRow, TextDiff};

/// Bytes read of each version.
pub const MAX_BYTES: u64 = 1 << 20;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// The text of one side: the file's content with secrets masked, a one-line description of
/// what is not a regular file, nothing when the path is absent. `Err` for binary content.
fn side_text(image: &Image, version: Option<VersionId>, rules: &RuleSet) -> Result<String, String> {
    let Some(mut vid) = version else {
        return Ok(String::new());
    };
    let fs = &image.fs;
    let mut v = &fs.versions[vid as usize];
    if let (EntryKind::HardLink, Some(t)) = (v.kind, v.link_version) {
        vid = t;
        v = &fs.versions[t as usize];
    }
    match v.kind {
        EntryKind::File | EntryKind::HardLink => {}
        EntryKind::Symlink => {
            return Ok(format!(
                "(symlink to {})\n",
                crate::model::sanitize_bytes(v.link.as_deref().unwrap_or_default())
            ))
        }
        EntryKind::Dir => return Ok("(directory)\n".into()),
        other => return Ok(format!("(special file: type {})\n", other.letter())),
    }
    let bytes =
        crate::source::content::read_range(image, vid, 0, MAX_BYTES).map_err(|e| e.to_string())?;
    if super::worker::looks_binary(&bytes) {
        return Err(format!(
            "binary content: no text diff ({} in this version)",
            super::text::bytes(v.size)
        ));
    }
    let spans = super::mask::file_spans(rules, image, vid, 0, &bytes);
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0usize;
    for s in spans {
        let (start, end) = (s.start as usize, (s.end as usize).min(bytes.len()));
        if start < at || start >= end {
            continue;
        }
        out.extend_from_slice(&bytes[at..start]);
        out.extend_from_slice(mask_value(&String::from_utf8_lossy(&bytes[start..end])).as_bytes());
        at = end;
    }
    out.extend_from_slice(&bytes[at..]);
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if v.size > MAX_BYTES {
        text.push_str(&format!(
            "\n(only the first {} of {} compared)\n",
            super::text::bytes(MAX_BYTES),
            super::text::bytes(v.size)
        ));
    }
    Ok(text)
}

/// The unified diff of two texts: hunk headers, then context, removed and added lines, each
/// with its line index on its side.
pub fn unified(a: &str, b: &str) -> Vec<DiffLine> {
    unified_of(&similar::TextDiff::from_lines(a, b))
}

fn unified_of<'a>(diff: &'a similar::TextDiff<'a, 'a, 'a, str>) -> Vec<DiffLine> {
    let mut out = Vec::new();
    for hunk in diff.unified_diff().context_radius(CONTEXT).iter_hunks() {
        out.push(DiffLine {
            tag: DiffTag::Hunk,
            text: hunk.header().to_string(),
            a: None,
            b: None,
        });
        for change in hunk.iter_changes() {
            let tag = match change.tag() {
                similar::ChangeTag::Equal => DiffTag::Same,
                similar::ChangeTag::Delete => DiffTag::Removed,
                similar::ChangeTag::Insert => DiffTag::Added,
            };
            out.push(DiffLine {
                tag,
                text: change.value().trim_end_matches(['\n', '\r']).to_string(),
                a: change.old_index(),
                b: change.new_index(),
            });
        }
    }
    out
}

/// The side-by-side rows of two texts, hunk by hunk (same context as [`unified`]): equal
/// lines face each other, and within a run of changes the removed lines face the added ones
/// in order (the longer side goes on alone).
pub fn side_by_side(a: &str, b: &str) -> Vec<SideRow> {
    side_by_side_of(&similar::TextDiff::from_lines(a, b))
}

fn side_by_side_of(diff: &similar::TextDiff<'_, '_, '_, str>) -> Vec<SideRow> {
    let mut out = Vec::new();
    let flush = |out: &mut Vec<SideRow>, old: &mut Vec<usize>, new: &mut Vec<usize>| {
        for i in 0..old.len().max(new.len()) {
            let (a, b) = (old.get(i).copied(), new.get(i).copied());
            let tag = match (a, b) {
                (Some(_), Some(_)) => DiffTag::Changed,
                (Some(_), None) => DiffTag::Removed,
                _ => DiffTag::Added,
            };
            out.push(SideRow { tag, a, b });
        }
        old.clear();
        new.clear();
    };
    for group in diff.grouped_ops(CONTEXT) {
        let Some(first) = group.first() else { continue };
        out.push(SideRow {
            tag: DiffTag::Hunk,
            a: Some(first.old_range().start),
            b: Some(first.new_range().start),
        });
        let (mut old, mut new) = (Vec::new(), Vec::new());
        for op in &group {
            match op {
                similar::DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => {
                    flush(&mut out, &mut old, &mut new);
                    for i in 0..*len {
                        out.push(SideRow {
                            tag: DiffTag::Same,
                            a: Some(old_index + i),
                            b: Some(new_index + i),
                        });
                    }
                }
                other => {
                    old.extend(other.old_range());
                    new.extend(other.new_range());
                }
            }
        }
        flush(&mut out, &mut old, &mut new);
    }
    out
}

/// The lines of one side as the diff counts them, highlighted by the syntax of `name` (else
/// of the first line), plain when none fits; text made safe.
fn highlighted(lines: &[&str], name: &[u8]) -> Vec<StyledLine> {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.trim_end_matches(['\n', '\r']).to_string())
        .collect();
    let assets = highlight::assets();
    let first = lines.first().map_or("", String::as_str);
    let Some(syntax) = highlight::detect(assets, name, first) else {
        return lines.iter().map(|l| highlight::plain(l)).collect();
    };
    let mut out = Vec::with_capacity(lines.len());
    highlight::highlight_lines(assets, syntax, &lines, &|| false, &mut |l| out.push(l));
    out
}

/// The name of version `v`'s path (for picking a syntax).
fn name_of(image: &Image, v: Option<VersionId>) -> Vec<u8> {
    v.map(|v| image.fs.name(image.fs.versions[v as usize].path).to_vec())
        .unwrap_or_default()
}

/// The text diff of version `a` (in image A) against version `b` (in image B), secrets masked
/// before anything is compared or highlighted: the unified and side-by-side views over both
/// texts' highlighted lines.
pub fn file_diff(
    a: (&Image, Option<VersionId>),
    b: (&Image, Option<VersionId>),
    rules: &RuleSet,
) -> Result<TextDiff, String> {
    let ta = side_text(a.0, a.1, rules)?;
    let tb = side_text(b.0, b.1, rules)?;
    let mut name = name_of(b.0, b.1);
    if name.is_empty() {
        name = name_of(a.0, a.1);
    }
    let diff = similar::TextDiff::from_lines(&ta, &tb);
    Ok(TextDiff {
        unified: unified_of(&diff),
        side: side_by_side_of(&diff),
        a_lines: highlighted(diff.old_slices(), &name),
        b_lines: highlighted(diff.new_slices(), &name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_marks_each_line() {
        let d = unified("a\nb\nc\n", "a\nB\nc\nd\n");
        let tags: Vec<DiffTag> = d.iter().map(|l| l.tag).collect();
        assert_eq!(
            tags,
            vec![
                DiffTag::Hunk,
                DiffTag::Same,
                DiffTag::Removed,
                DiffTag::Added,
                DiffTag::Same,
                DiffTag::Added
            ]
        );
        assert_eq!(d[0].text.trim(), "@@ -1,3 +1,4 @@");
        assert_eq!(d[2].text, "b");
        assert!(unified("same\n", "same\n").is_empty());
        assert_eq!((d[2].a, d[2].b), (Some(1), None));
        assert_eq!((d[3].a, d[3].b), (None, Some(1)));
    }

    #[test]
    fn side_by_side_pairs_changed_lines() {
        let rows = side_by_side("a\nb\nc\n", "a\nB\nc\nd\ne\n");
        let got: Vec<(DiffTag, Option<usize>, Option<usize>)> =
            rows.iter().map(|r| (r.tag, r.a, r.b)).collect();
        assert_eq!(
            got,
            vec![
                (DiffTag::Hunk, Some(0), Some(0)),
                (DiffTag::Same, Some(0), Some(0)),
                (DiffTag::Changed, Some(1), Some(1)),
                (DiffTag::Same, Some(2), Some(2)),
                (DiffTag::Added, None, Some(3)),
                (DiffTag::Added, None, Some(4)),
            ]
        );
        let rows = side_by_side("x\ny\n", "");
        assert!(rows[1..]
            .iter()
            .all(|r| r.tag == DiffTag::Removed && r.b.is_none()));
        assert!(side_by_side("same\n", "same\n").is_empty());
    }
}
