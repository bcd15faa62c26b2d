//! The `strata.diff/v1` JSON document (docs/diff-schema.md), with the gate's verdict when the
//! command ran as a gate.

use serde::Serialize;

use crate::analysis::diff::Diff;
use crate::policy::diff::Verdict;

#[derive(Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    diff: &'a Diff,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<&'a Verdict>,
}

/// Renders the diff (and the gate's verdict, if any) as pretty JSON with a final newline.
pub fn render(diff: &Diff, gate: Option<&Verdict>) -> String {
    let mut out = Vec::new();
    match write(diff, gate, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => format!(
            "{{\"error\":\"{}\"}}\n",
            crate::model::sanitize(&e.to_string())
        ),
    }
}

/// Writes the same document as [`render`] to `out` while it is serialised, never holding the
/// whole text (a diff of many files is megabytes).
pub fn write(
    diff: &Diff,
    gate: Option<&Verdict>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Document { diff, gate })?;
    out.write_all(b"\n")
}
