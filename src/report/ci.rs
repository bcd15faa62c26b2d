//! The `strata ci` summary: readable text and the `strata.ci/v1` JSON document.

use std::fmt::Write as _;

use crate::analysis::pipeline::Analysed;
use crate::model::sanitize;
use crate::policy::rules::Judged;
use crate::policy::{Outcome, Policy, Status, Verdict};
use crate::report::sarif::history_command;
use crate::text::bytes as human;

/// How many findings the text summary lists.
pub const TOP_FINDINGS: usize = 10;

/// The outcome as JSON: `{schema: "strata.ci/v1", image, id, status, metrics, rules, findings}`.
pub fn render_json(a: &Analysed, outcome: &Outcome) -> String {
    let image = &*a.image;
    let mut findings = serde_json::to_value(&outcome.findings).unwrap_or_default();
    if let serde_json::Value::Array(items) = &mut findings {
        for item in items {
            if let serde_json::Value::Object(o) = item {
                for key in ["title", "message", "evidence", "fix", "why", "path"] {
                    if let Some(serde_json::Value::String(s)) = o.get_mut(key) {
                        *s = a.redactor.text(s);
                    }
                }
            }
        }
    }
    let doc = serde_json::json!({
        "schema": "strata.ci/v1",
        "image": sanitize(&image.reference),
        "id": image.id,
        "status": outcome.status,
        "exit_code": outcome.exit_code(),
        "metrics": outcome.metrics,
        "rules": outcome.rules,
        "findings": findings,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn policy_sources(policy: &Policy) -> String {
    if policy.sources.is_empty() {
        "defaults and flags".into()
    } else {
        let files: Vec<String> = policy
            .sources
            .iter()
            .map(|p| sanitize(&p.display().to_string()))
            .collect();
        format!("{} (flags override)", files.join(", "))
    }
}

/// The readable summary: each rule with its status, measured value and threshold, then the
/// worst findings (redacted), then the verdict.
pub fn render_text(a: &Analysed, policy: &Policy, o: &Outcome) -> String {
    let (image, r) = (&*a.image, &a.redactor);
    let mut s = String::new();
    let m = &o.metrics;
    let _ = writeln!(s, "strata ci: {}", sanitize(&image.reference));
    let tags = if image.repo_tags.is_empty() {
        String::new()
    } else {
        format!(" ({})", sanitize(&image.repo_tags.join(", ")))
    };
    let _ = writeln!(
        s,
        "image   {}{tags}, {} layers, {} ({} bytes)",
        sanitize(&image.id),
        m.layers,
        human(m.total_bytes),
        m.total_bytes
    );
    let _ = writeln!(s, "policy  {}", policy_sources(policy));
    let _ = writeln!(s);
    let w = o.rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
    let mw = o
        .rules
        .iter()
        .map(|r| r.measured.chars().count())
        .max()
        .unwrap_or(0);
    for r in &o.rules {
        let pad = mw.saturating_sub(r.measured.chars().count());
        let _ = writeln!(
            s,
            "  {}  {:<w$}  {}{}   {}",
            r.status.label(),
            r.rule,
            r.measured,
            " ".repeat(pad),
            r.threshold
        );
    }
    let active: Vec<&Judged> = o
        .findings
        .iter()
        .filter(|j| j.verdict != Verdict::Allowed)
        .collect();
    let _ = writeln!(s);
    if active.is_empty() {
        let _ = writeln!(s, "Findings: none");
    } else {
        let _ = writeln!(
            s,
            "Findings: {} (worst first{})",
            active.len(),
            if active.len() > TOP_FINDINGS {
                format!(", top {TOP_FINDINGS}")
            } else {
                String::new()
            }
        );
        let base = crate::analysis::base::BaseBoundary::detect(image);
        let mut shown: Vec<_> = active.iter().take(TOP_FINDINGS).collect();
        // With a base image: what this image added first, then what it inherited.
        shown.sort_by_key(|j| j.finding.base);
        let mut heading = None;
        for j in shown {
            if base.layers > 0 && heading != Some(j.finding.base) {
                heading = Some(j.finding.base);
                let title = if j.finding.base {
                    crate::report::text::INHERITED
                } else {
                    crate::report::text::ADDED
                };
                let n = active
                    .iter()
                    .filter(|a| a.finding.base == j.finding.base)
                    .count();
                let _ = writeln!(s, "  {title} ({n}):");
            }
            let f = &j.finding;
            let mut line = format!(
                "  {:<4} {:<8} {}",
                match j.verdict {
                    Verdict::Fail => "FAIL",
                    Verdict::Warn => "WARN",
                    _ => "-",
                },
                f.severity.as_str(),
                sanitize(&f.rule)
            );
            if let Some(p) = &f.path {
                let _ = write!(line, "  {}", sanitize(p));
            }
            if let Some(l) = f.layer {
                let _ = write!(line, "  (layer {l}");
                if let Some(r) = f.removed_in {
                    let _ = write!(line, ", removed in {r}");
                }
                line.push(')');
            }
            let _ = write!(line, ": {}", r.text(&f.title));
            if let Some(e) = &f.evidence {
                let _ = write!(line, " [{}]", r.text(e));
            }
            let _ = writeln!(s, "{line}");
            if let Some(cmd) = f.layer.and_then(|l| history_command(r, image, l)) {
                let _ = writeln!(s, "         by: {cmd}");
            }
        }
    }
    let failed = o.rules.iter().filter(|r| r.status == Status::Fail).count();
    let warned = o.rules.iter().filter(|r| r.status == Status::Warn).count();
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Result: {} ({failed} failed, {warned} warned, {} rules)",
        if o.passed() { "PASS" } else { "FAIL" },
        o.rules.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::efficiency::Efficiency;
    use crate::analysis::finding::Finding;
    use crate::policy::evaluate;

    fn analysed(img: crate::model::Image, eff: Efficiency, findings: Vec<Finding>) -> Analysed {
        Analysed {
            image: std::sync::Arc::new(img),
            efficiency: eff,
            findings,
            packages: Vec::new(),
            redactor: crate::redact::Redactor::default(),
        }
    }

    #[test]
    fn text_summary_lists_rules_and_redacts() {
        let img = crate::policy::tests::empty_image();
        let eff = Efficiency::of(&img);
        let f = Finding {
            rule: "secret.env".into(),
            category: crate::analysis::finding::Category::Secret,
            severity: crate::analysis::finding::Severity::High,
            title: "Secret in ENV DB_PASSWORD=hunter2hunter2hunter2".into(),
            message: "m".into(),
            path: None,
            layer: None,
            removed_in: None,
            bytes: None,
            evidence: Some("DB_PASSWORD=hunt…(redacted)".into()),
            fix: None,
            why: None,
            base: false,
            items: Vec::new(),
        };
        let p = Policy::default();
        let o = evaluate(&img, &eff, std::slice::from_ref(&f), &p);
        let a = analysed(img, eff, vec![f]);
        let t = render_text(&a, &p, &o);
        assert!(t.contains("  FAIL  fail-on"), "{t}");
        assert!(t.contains("  PASS  lowest-efficiency"), "{t}");
        assert!(t.contains("  SKIP  highest-reclaimable-bytes"), "{t}");
        assert!(t.contains("Result: FAIL (1 failed, 1 warned"), "{t}");
        assert!(!t.contains("hunter2hunter2hunter2"), "{t}");
        let j = render_json(&a, &o);
        assert!(!j.contains("hunter2hunter2hunter2"), "{j}");
        assert!(j.contains("\"exit_code\": 1"), "{j}");
    }
}
