//! A Markdown summary fit for a pull-request comment: the image, its size and efficiency, the
//! CI rules (when run through `strata ci`), the top findings and the top reclaimable files.

use std::fmt::Write as _;

use crate::analysis::finding::Finding;
use crate::analysis::pipeline::Analysed;
use crate::model::{path, sanitize};
use crate::policy::{Outcome, Status, Verdict};
use crate::report::sarif::history_command;
use crate::text::bytes as human;

/// How many findings and reclaimable files the summary lists.
pub const TOP: usize = 10;

/// Escapes text for a table cell: sanitised, `|` and backticks escaped, HTML neutralised.
pub fn cell(s: &str) -> String {
    let mut out = String::new();
    for c in sanitize(s).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Inline code that cannot be broken out of (backticks replaced).
fn code(s: &str) -> String {
    let s = sanitize(s).replace('`', "'").replace('|', "\\|");
    format!("`{s}`")
}

fn status_icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅ PASS",
        Status::Warn => "⚠️ WARN",
        Status::Fail => "❌ FAIL",
        Status::Skip => "➖ SKIP",
    }
}

/// A finding as listed: with the gate's verdict under `strata ci`.
type Listed<'a> = (Option<Verdict>, &'a Finding);

/// Renders the summary; `outcome` adds the verdict and the rule table.
pub fn render(a: &Analysed, outcome: Option<&Outcome>) -> String {
    let (image, eff, findings, r) = (&*a.image, &a.efficiency, &a.findings, &a.redactor);
    let mut s = String::new();
    let verdict = outcome.map(|o| {
        if o.passed() {
            " ✅ passed"
        } else {
            " ❌ failed"
        }
    });
    let _ = writeln!(
        s,
        "### strata: {}{}",
        code(&image.reference),
        verdict.unwrap_or_default()
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| | |");
    let _ = writeln!(s, "|---|---|");
    let _ = writeln!(s, "| Image | {} |", code(&image.id));
    if !image.repo_tags.is_empty() {
        let tags: Vec<String> = image.repo_tags.iter().map(|t| code(t)).collect();
        let _ = writeln!(s, "| Tags | {} |", tags.join(", "));
    }
    let _ = writeln!(
        s,
        "| Size | {} ({} bytes) in {} layers |",
        human(eff.total_bytes),
        eff.total_bytes,
        image.layers.len()
    );
    let _ = writeln!(
        s,
        "| Efficiency | {} |",
        crate::policy::rules::pct(eff.score)
    );
    let _ = writeln!(
        s,
        "| Reclaimable | {} ({} bytes) |",
        human(eff.reclaimable_bytes),
        eff.reclaimable_bytes
    );
    if let Some(o) = outcome {
        let m = &o.metrics;
        let _ = writeln!(
            s,
            "| Reclaimable in {} | {} of {} bytes ({}) |",
            crate::policy::rules::user_layers(m.layers),
            m.user_reclaimable_bytes,
            m.user_bytes,
            crate::policy::rules::pct(m.user_reclaimable_percent)
        );
    }
    let base = crate::analysis::base::BaseBoundary::detect(image);
    let _ = writeln!(
        s,
        "| Base image | {} |",
        cell(&crate::report::text::base_line(&base))
    );
    let _ = writeln!(s, "| Findings | {} |", findings.len());

    if let Some(o) = outcome {
        let _ = writeln!(s);
        let _ = writeln!(s, "#### Rules");
        let _ = writeln!(s);
        let _ = writeln!(s, "| Rule | Result | Measured | Threshold |");
        let _ = writeln!(s, "|---|---|---|---|");
        for r in &o.rules {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                code(&r.rule),
                status_icon(r.status),
                cell(&r.measured),
                cell(&r.threshold)
            );
        }
    }

    // Findings, worst first (the gate's order when there is one).
    let listed: Vec<(Option<Verdict>, &Finding)> = match outcome {
        Some(o) => o
            .findings
            .iter()
            .filter(|j| j.verdict != Verdict::Allowed)
            .map(|j| (Some(j.verdict), &j.finding))
            .collect(),
        None => {
            let mut v: Vec<&Finding> = findings.iter().collect();
            v.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.bytes.cmp(&a.bytes)));
            v.into_iter().map(|f| (None, f)).collect()
        }
    };
    // With a base image: what this image added first, then what it inherited.
    let groups: Vec<(String, Vec<&Listed>)> = if base.layers > 0 {
        [
            (false, crate::report::text::ADDED),
            (true, crate::report::text::INHERITED),
        ]
        .into_iter()
        .map(|(b, title)| {
            let g: Vec<_> = listed.iter().filter(|(_, f)| f.base == b).collect();
            (format!("{title}: top findings"), g)
        })
        .collect()
    } else {
        vec![("Top findings".to_owned(), listed.iter().collect())]
    };
    for (title, group) in groups {
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "#### {title} ({} of {})",
            group.len().min(TOP),
            group.len()
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "| Severity | Rule | Where | Finding | Added by |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for (v, f) in group.into_iter().take(TOP) {
            let sev = match v {
                Some(Verdict::Fail) => format!("❌ {}", f.severity.as_str()),
                Some(Verdict::Warn) => format!("⚠️ {}", f.severity.as_str()),
                _ => f.severity.as_str().to_owned(),
            };
            let mut place = f
                .path
                .as_deref()
                .map(code)
                .unwrap_or_else(|| match f.items.len() {
                    0 => "image config".into(),
                    n => format!("{n} files"),
                });
            if let Some(l) = f.layer {
                let _ = write!(place, " layer {l}");
                if let Some(r) = f.removed_in {
                    let _ = write!(place, " (removed in {r})");
                }
            }
            let mut what = cell(&r.text(&f.title));
            if let Some(e) = &f.evidence {
                let _ = write!(what, " {}", code(&r.text(e)));
            }
            let by = f
                .layer
                .and_then(|l| history_command(r, image, l))
                .map(|c| code(&truncate(&c, 80)))
                .unwrap_or_default();
            let _ = writeln!(s, "| {sev} | {} | {place} | {what} | {by} |", code(&f.rule));
        }
    }

    if !eff.reclaimable.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "#### Top reclaimable files");
        let _ = writeln!(s);
        let _ = writeln!(s, "| Bytes | Path | In layers | Removed in |");
        let _ = writeln!(s, "|---:|---|---|---|");
        for r in eff.reclaimable.iter().take(TOP) {
            let join = |v: &[usize]| {
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                r.bytes,
                code(&path::display(image.fs.path(r.path))),
                join(&r.layers),
                join(&r.removed_in)
            );
        }
        if eff.reclaimable.len() > TOP {
            let _ = writeln!(s, "\n…and {} more paths.", eff.reclaimable.len() - TOP);
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "<sub>strata {}: reclaimable bytes are those shipped in a layer but not visible in the final filesystem.</sub>",
        env!("CARGO_PKG_VERSION")
    );
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b<script>"), "a\\|b&lt;script&gt;");
        assert_eq!(code("x`y|z"), "`x'y\\|z`");
        assert_eq!(cell("line\nbreak"), "line\\\\nbreak");
    }
}
