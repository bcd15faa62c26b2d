//! The text diff of one path's two versions for compare mode: each version read back from its
//! own image (at most [`MAX_BYTES`]), its secret-rule matches masked before anything is
//! compared, then a unified diff with three lines of context (the `similar` crate).

use crate::model::fs::{EntryKind, VersionId};
use crate::model::Image;
use crate::redact::mask_value;
use crate::redact::rules::RuleSet;
use crate::ui::state::compare::{DiffLine, DiffTag};

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

/// The unified diff of two texts: hunk headers, then context, removed and added lines.
pub fn unified(a: &str, b: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(a, b);
    let mut out = Vec::new();
    for hunk in diff.unified_diff().context_radius(CONTEXT).iter_hunks() {
        out.push(DiffLine {
            tag: DiffTag::Hunk,
            text: hunk.header().to_string(),
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
            });
        }
    }
    out
}

/// The text diff of version `a` (in image A) against version `b` (in image B), secrets masked.
pub fn file_diff(
    a: (&Image, Option<VersionId>),
    b: (&Image, Option<VersionId>),
    rules: &RuleSet,
) -> Result<Vec<DiffLine>, String> {
    let ta = side_text(a.0, a.1, rules)?;
    let tb = side_text(b.0, b.1, rules)?;
    Ok(unified(&ta, &tb))
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
    }
}
