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
    let doc = Document { diff, gate };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        format!(
            "{{\"error\":\"{}\"}}",
            crate::model::sanitize(&e.to_string())
        )
    });
    s.push('\n');
    s
}
