//! A Markdown rendering of a [`Diff`] made for a pull-request comment: the verdict, a size
//! table, then the largest file changes, packages, findings and configuration, the long lists
//! folded in `<details>`.

use std::fmt::Write as _;

use crate::analysis::diff::{Change, Diff};
use crate::policy::diff::Verdict;
use crate::report::diff_text::{largest, signed_bytes, top_directories};
use crate::report::markdown::cell;
use crate::report::text::bytes;

/// How many rows each table lists.
pub const TOP: usize = 15;

/// Inline code that cannot break out of its backticks or a table.
fn code(s: &str) -> String {
    format!(
        "`{}`",
        crate::model::sanitize(s)
            .replace('`', "'")
            .replace('|', "\\|")
    )
}

fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "_unset_".to_owned(),
        serde_json::Value::String(s) => code(s),
        other => code(&other.to_string()),
    }
}

fn details_open(s: &mut String, summary: &str) {
    let _ = writeln!(s);
    let _ = writeln!(s, "<details><summary>{summary}</summary>");
    let _ = writeln!(s);
}

fn details_close(s: &mut String) {
    let _ = writeln!(s);
    let _ = writeln!(s, "</details>");
}

/// Renders the comparison; `gate` adds the verdict to the heading and a rule table.
pub fn render(d: &Diff, gate: Option<&Verdict>) -> String {
    let mut s = String::new();
    let verdict = gate.map_or("", |g| {
        if g.passed {
            " ✅ passed"
        } else {
            " ❌ failed"
        }
    });
    let _ = writeln!(
        s,
        "### strata diff: {} → {}{verdict}",
        code(&d.a.reference),
        code(&d.b.reference)
    );
    let _ = writeln!(s);
    let z = &d.size;
    let _ = writeln!(s, "| | A | B | Change |");
    let _ = writeln!(s, "|---|---:|---:|---:|");
    let row = |s: &mut String, name: &str, a: u64, b: u64, delta: i64| {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} |",
            bytes(a),
            bytes(b),
            signed_bytes(delta)
        );
    };
    for (name, a, b, delta) in z.rows() {
        row(&mut s, name, a, b, delta);
    }
    let l = &d.layers;
    let _ = writeln!(
        s,
        "| Layers | {} | {} | {} shared, {} only in A, {} only in B |",
        d.a.layer_count,
        d.b.layer_count,
        l.shared.len(),
        l.only_a.len(),
        l.only_b.len()
    );
    let f = &d.files;
    let _ = writeln!(
        s,
        "| Files | | | {} added, {} removed, {} modified |",
        f.added, f.removed, f.modified
    );
    let pk = |c: Change| d.packages.iter().filter(|p| p.change == c).count();
    let _ = writeln!(
        s,
        "| Packages | | | {} added, {} removed, {} upgraded, {} downgraded |",
        pk(Change::Added),
        pk(Change::Removed),
        pk(Change::Upgraded),
        pk(Change::Downgraded)
    );
    let fi = &d.findings;
    let _ = writeln!(
        s,
        "| Findings | | | {} new, {} fixed, {} unchanged |",
        fi.new.len(),
        fi.fixed.len(),
        fi.unchanged.len()
    );

    if let Some(g) = gate {
        let _ = writeln!(s);
        let _ = writeln!(s, "| Rule | Result | Measured | Limit |");
        let _ = writeln!(s, "|---|---|---|---|");
        for r in &g.rules {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                code(r.rule),
                if r.passed { "✅ pass" } else { "❌ fail" },
                cell(&r.actual),
                cell(&r.limit)
            );
        }
    }

    for (label, list) in [("New findings", &fi.new), ("Fixed findings", &fi.fixed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "#### {label} ({})", list.len());
        let _ = writeln!(s);
        let _ = writeln!(s, "| Severity | Rule | Where | Finding |");
        let _ = writeln!(s, "|---|---|---|---|");
        for x in list.iter().take(TOP) {
            let mut place = x.path.as_deref().map_or_else(|| "config".to_owned(), code);
            if let Some(layer) = x.layer {
                let _ = write!(place, " layer {layer}");
            }
            let mut what = cell(&x.title);
            if let Some(e) = &x.evidence {
                let _ = write!(what, " {}", code(e));
            }
            let _ = writeln!(
                s,
                "| {} | {} | {place} | {what} |",
                x.severity.as_str(),
                code(&x.rule)
            );
        }
        if list.len() > TOP {
            let _ = writeln!(s, "\n…and {} more.", list.len() - TOP);
        }
    }

    let big = largest(d);
    if !big.is_empty() {
        details_open(
            &mut s,
            &format!(
                "Largest file changes ({} of {})",
                big.len().min(TOP),
                big.len()
            ),
        );
        let _ = writeln!(s, "| | Path | A | B | What |");
        let _ = writeln!(s, "|---|---|---:|---:|---|");
        for c in big.iter().take(TOP) {
            let opt = |b: Option<u64>| b.map_or_else(String::new, bytes);
            let what: Vec<&str> = c.what.iter().map(|w| w.as_str()).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                c.change.as_str(),
                code(&c.path),
                opt(c.bytes_a),
                opt(c.bytes_b),
                what.join(", ")
            );
        }
        let dirs = top_directories(d);
        if !dirs.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "| Directory | Files | Added | Removed |");
            let _ = writeln!(s, "|---|---:|---:|---:|");
            for dir in dirs.iter().take(TOP) {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    code(&dir.path),
                    dir.files_changed,
                    bytes(dir.bytes_added),
                    bytes(dir.bytes_removed)
                );
            }
        }
        details_close(&mut s);
    }

    if !d.packages.is_empty() {
        details_open(&mut s, &format!("Package changes ({})", d.packages.len()));
        let _ = writeln!(s, "| Manager | Package | A | B | Change |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for p in &d.packages {
            let v = |v: &Option<String>| v.as_deref().map_or_else(String::new, code);
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                cell(&p.manager),
                code(&p.name),
                v(&p.version_a),
                v(&p.version_b),
                p.change.as_str()
            );
        }
        details_close(&mut s);
    }

    if !l.only_a.is_empty() || !l.only_b.is_empty() {
        details_open(&mut s, "Layers not shared");
        let _ = writeln!(s, "| Image | Layer | Size | Command |");
        let _ = writeln!(s, "|---|---:|---:|---|");
        for (side, list) in [("A", &l.only_a), ("B", &l.only_b)] {
            for x in list {
                let _ = writeln!(
                    s,
                    "| {side} | {} | {} | {} |",
                    x.index,
                    bytes(x.size_bytes),
                    code(&x.command)
                );
            }
        }
        details_close(&mut s);
    }

    if !d.config.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "#### Configuration");
        let _ = writeln!(s);
        let _ = writeln!(s, "| Field | A | B |");
        let _ = writeln!(s, "|---|---|---|");
        for c in &d.config {
            let field = match &c.key {
                Some(k) => format!("{} {}", c.field, code(k)),
                None => c.field.to_owned(),
            };
            let _ = writeln!(s, "| {field} | {} | {} |", value(&c.a), value(&c.b));
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "<sub>strata {}: sizes are bytes of regular files; secrets are redacted.</sub>",
        env!("CARGO_PKG_VERSION")
    );
    s
}
