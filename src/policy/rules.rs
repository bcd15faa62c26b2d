//! Evaluation of a [`Policy`] against an image's metrics and findings.

use serde::Serialize;

use super::config::{ByteLimit, Policy};
use crate::analysis::efficiency::Efficiency;
use crate::analysis::finding::Finding;
use crate::model::fs::EntryKind;
use crate::model::Image;
use crate::text::bytes as human;

/// The measured quantities the size rules compare.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Bytes of regular files over all layers.
    pub total_bytes: u64,
    /// Bytes visible in the final filesystem.
    pub visible_bytes: u64,
    /// `total_bytes - visible_bytes`.
    pub reclaimable_bytes: u64,
    /// `visible_bytes / total_bytes` (1.0 for an image without file bytes).
    pub efficiency: f64,
    /// Number of layers.
    pub layers: usize,
    /// Bytes of the layers above the base (layers 1..n; layer 0 is the base, as in dive).
    pub user_bytes: u64,
    /// Reclaimable bytes held by versions in layers 1..n.
    pub user_reclaimable_bytes: u64,
    /// `user_reclaimable_bytes / user_bytes` (0 when there is no byte above the base).
    pub user_reclaimable_percent: f64,
}

impl Metrics {
    /// Measures `image`.
    pub fn of(image: &Image, eff: &Efficiency) -> Self {
        let user_bytes: u64 = image.layers.iter().skip(1).map(|l| l.size_bytes).sum();
        let user_reclaimable_bytes: u64 = image
            .fs
            .versions
            .iter()
            .filter(|v| v.kind == EntryKind::File && v.layer >= 1 && !v.is_visible())
            .map(|v| v.size)
            .sum();
        let user_reclaimable_percent = if user_bytes == 0 {
            0.0
        } else {
            user_reclaimable_bytes as f64 / user_bytes as f64
        };
        Self {
            total_bytes: eff.total_bytes,
            visible_bytes: eff.visible_bytes,
            reclaimable_bytes: eff.reclaimable_bytes,
            efficiency: eff.score,
            layers: image.layers.len(),
            user_bytes,
            user_reclaimable_bytes,
            user_reclaimable_percent,
        }
    }
}

/// The result of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The rule failed: the gate fails.
    Fail,
    /// Worth a look; the gate still passes.
    Warn,
    /// The rule held.
    Pass,
    /// The rule is switched off.
    Skip,
}

impl Status {
    /// Upper-case label (`PASS`, `WARN`, `FAIL`, `SKIP`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Warn => "WARN",
            Self::Fail => "FAIL",
            Self::Skip => "SKIP",
        }
    }
}

/// One evaluated rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// Rule name, as the config key (`lowest-efficiency`, `max-severity.secret`, …).
    pub rule: String,
    /// Outcome.
    pub status: Status,
    /// What was measured, for people.
    pub measured: String,
    /// The threshold, for people.
    pub threshold: String,
}

/// How the gate judged one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Makes a rule fail.
    Fail,
    /// Makes `warn-on` warn.
    Warn,
    /// Reported, below every threshold.
    Pass,
    /// Ignored through an allowlist.
    Allowed,
}

/// A finding with the gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    /// The verdict.
    pub verdict: Verdict,
    /// The finding (as the analysis produced it; already redacted).
    #[serde(flatten)]
    pub finding: Finding,
}

/// Everything `strata ci` decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// `pass` or `fail`.
    pub status: Status,
    /// The measured quantities.
    pub metrics: Metrics,
    /// Every rule, in a fixed order.
    pub rules: Vec<RuleResult>,
    /// Every finding, worst first (failing, then warning, then the rest, then allowed).
    pub findings: Vec<Judged>,
}

impl Outcome {
    /// True when no rule failed.
    pub fn passed(&self) -> bool {
        self.status != Status::Fail
    }

    /// Process exit code: 0 pass (warnings allowed), 1 a rule failed.
    pub fn exit_code(&self) -> u8 {
        if self.passed() {
            0
        } else {
            1
        }
    }
}

/// Formats a fraction as a percentage with up to 4 decimals (`40.8135%`, `10%`).
pub fn pct(f: f64) -> String {
    let s = format!("{:.4}", f * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// `layer 1` or `layers 1-N`: the layers above the base of an image with `layers` layers.
pub fn user_layers(layers: usize) -> String {
    if layers <= 2 {
        "layer 1".into()
    } else {
        format!("layers 1-{}", layers - 1)
    }
}

fn byte_count(n: u64) -> String {
    format!("{n} bytes ({})", human(n))
}

fn pass_fail(failed: bool) -> Status {
    if failed {
        Status::Fail
    } else {
        Status::Pass
    }
}

fn skip(rule: &str) -> RuleResult {
    RuleResult {
        rule: rule.to_owned(),
        status: Status::Skip,
        measured: "-".into(),
        threshold: "off".into(),
    }
}

fn is_allowed(f: &Finding, policy: &Policy) -> bool {
    (policy.ignore_inherited && f.base)
        || policy.allow_rules.contains(&f.rule)
        || f.path
            .as_deref()
            .is_some_and(|p| policy.allow_paths.iter().any(|a| a.matches(p)))
        // A finding grouping several files is allowed when every one of them is.
        || f.path.is_none()
            && !f.items.is_empty()
            && f.items
                .iter()
                .all(|p| policy.allow_paths.iter().any(|a| a.matches(p)))
}

fn violates(f: &Finding, policy: &Policy) -> bool {
    policy.fail_on.is_some_and(|s| f.severity >= s)
        || policy.forbid_rules.contains(&f.rule)
        || policy
            .max_severity
            .get(&f.category)
            .is_some_and(|max| max.is_none_or(|m| f.severity > m))
}

fn summary(fs: &[&Finding]) -> String {
    match fs.iter().map(|f| f.severity).max() {
        None => "no findings".into(),
        Some(w) => format!(
            "{} finding{}, worst {}",
            fs.len(),
            if fs.len() == 1 { "" } else { "s" },
            w.as_str()
        ),
    }
}

/// Evaluates `policy` against the image's metrics and its findings.
pub fn evaluate(image: &Image, eff: &Efficiency, findings: &[Finding], policy: &Policy) -> Outcome {
    let m = Metrics::of(image, eff);
    let mut rules = Vec::new();

    rules.push(match policy.lowest_efficiency {
        None => skip("lowest-efficiency"),
        Some(t) => RuleResult {
            rule: "lowest-efficiency".into(),
            status: pass_fail(m.efficiency < t),
            measured: format!(
                "{} ({} visible of {} bytes)",
                pct(m.efficiency),
                m.visible_bytes,
                m.total_bytes
            ),
            threshold: format!(">= {}", pct(t)),
        },
    });

    rules.push(match policy.highest_reclaimable_bytes {
        None => skip("highest-reclaimable-bytes"),
        Some(limit) => {
            let (failed, threshold) = match limit {
                ByteLimit::Bytes(b) => (m.reclaimable_bytes > b, format!("<= {}", byte_count(b))),
                ByteLimit::Fraction(f) => {
                    let cap = f * m.total_bytes as f64;
                    (
                        m.reclaimable_bytes as f64 > cap,
                        format!("<= {} of {} bytes", pct(f), m.total_bytes),
                    )
                }
            };
            RuleResult {
                rule: "highest-reclaimable-bytes".into(),
                status: pass_fail(failed),
                measured: byte_count(m.reclaimable_bytes),
                threshold,
            }
        }
    });

    rules.push(match policy.highest_user_reclaimable_percent {
        None => skip("highest-user-reclaimable-percent"),
        Some(t) => RuleResult {
            rule: "highest-user-reclaimable-percent".into(),
            status: pass_fail(m.user_reclaimable_percent > t),
            measured: if m.layers <= 1 {
                "0% (no layer above the base)".into()
            } else {
                format!(
                    "{} ({} of {} bytes in {})",
                    pct(m.user_reclaimable_percent),
                    m.user_reclaimable_bytes,
                    m.user_bytes,
                    user_layers(m.layers)
                )
            },
            threshold: format!("<= {}", pct(t)),
        },
    });

    let active: Vec<&Finding> = findings.iter().filter(|f| !is_allowed(f, policy)).collect();
    let allowed = findings.len() - active.len();

    for (&cat, &max) in &policy.max_severity {
        let of_cat: Vec<&Finding> = active
            .iter()
            .copied()
            .filter(|f| f.category == cat)
            .collect();
        let failed = of_cat.iter().any(|f| max.is_none_or(|m| f.severity > m));
        rules.push(RuleResult {
            rule: format!("max-severity.{}", cat.as_str()),
            status: pass_fail(failed),
            measured: summary(&of_cat),
            threshold: match max {
                Some(m) => format!("<= {}", m.as_str()),
                None => "no finding allowed".into(),
            },
        });
    }

    if policy.forbid_rules.is_empty() {
        rules.push(skip("forbid-rules"));
    } else {
        let mut fired: Vec<(&str, usize)> = Vec::new();
        for r in &policy.forbid_rules {
            let n = active.iter().filter(|f| f.rule == *r).count();
            if n > 0 {
                fired.push((r, n));
            }
        }
        rules.push(RuleResult {
            rule: "forbid-rules".into(),
            status: pass_fail(!fired.is_empty()),
            measured: if fired.is_empty() {
                "none fired".into()
            } else {
                fired
                    .iter()
                    .map(|(r, n)| format!("{} x{n}", crate::model::sanitize(r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            threshold: format!(
                "none of {}",
                crate::model::sanitize(&policy.forbid_rules.join(", "))
            ),
        });
    }

    for (name, level, status) in [
        ("fail-on", policy.fail_on, Status::Fail),
        ("warn-on", policy.warn_on, Status::Warn),
    ] {
        rules.push(match level {
            None => skip(name),
            Some(l) => {
                let hit: Vec<&Finding> =
                    active.iter().copied().filter(|f| f.severity >= l).collect();
                RuleResult {
                    rule: name.into(),
                    status: if hit.is_empty() { Status::Pass } else { status },
                    measured: if hit.is_empty() {
                        format!("{} (none >= {})", summary(&active), l.as_str())
                    } else {
                        format!("{} >= {}", summary(&hit), l.as_str())
                    },
                    threshold: format!("no finding >= {}", l.as_str()),
                }
            }
        });
    }
    if allowed > 0 {
        let inherited = if policy.ignore_inherited {
            let n = findings.iter().filter(|f| f.base).count();
            format!(" ({n} inherited from the base)")
        } else {
            String::new()
        };
        rules.push(RuleResult {
            rule: "allowlist".into(),
            status: Status::Pass,
            measured: format!(
                "{allowed} finding{} ignored{inherited}",
                if allowed == 1 { "" } else { "s" }
            ),
            threshold: format!(
                "{} rule id(s), {} path pattern(s)",
                policy.allow_rules.len(),
                policy.allow_paths.len()
            ),
        });
    }

    let mut judged: Vec<Judged> = findings
        .iter()
        .map(|f| Judged {
            verdict: if is_allowed(f, policy) {
                Verdict::Allowed
            } else if violates(f, policy) {
                Verdict::Fail
            } else if policy.warn_on.is_some_and(|w| f.severity >= w) {
                Verdict::Warn
            } else {
                Verdict::Pass
            },
            finding: f.clone(),
        })
        .collect();
    judged.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then(b.finding.severity.cmp(&a.finding.severity))
            .then(b.finding.bytes.cmp(&a.finding.bytes))
            .then_with(|| a.finding.rule.cmp(&b.finding.rule))
            .then_with(|| a.finding.path.cmp(&b.finding.path))
    });

    let status = rules
        .iter()
        .map(|r| r.status)
        .filter(|s| matches!(s, Status::Fail | Status::Warn))
        .min()
        .unwrap_or(Status::Pass);
    Outcome {
        status,
        metrics: m,
        rules,
        findings: judged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::finding::{Category, Severity};
    use crate::policy::config::PathPattern;

    fn finding(rule: &str, category: Category, severity: Severity, path: Option<&str>) -> Finding {
        Finding {
            rule: rule.into(),
            category,
            severity,
            title: format!("{rule} title"),
            message: format!("{rule} message"),
            path: path.map(Into::into),
            layer: Some(1),
            removed_in: None,
            bytes: None,
            evidence: None,
            fix: None,
            why: None,
            base: false,
            items: Vec::new(),
        }
    }

    fn image() -> (Image, Efficiency) {
        let img = crate::policy::tests::empty_image();
        let eff = Efficiency::of(&img);
        (img, eff)
    }

    fn rule<'a>(o: &'a Outcome, name: &str) -> &'a RuleResult {
        o.rules.iter().find(|r| r.rule == name).unwrap()
    }

    #[test]
    fn finding_rules() {
        let (img, eff) = image();
        let fs = vec![
            finding(
                "secret.private-key",
                Category::Secret,
                Severity::Critical,
                Some("/app/keys/id_rsa"),
            ),
            finding("config.root-user", Category::Config, Severity::Medium, None),
            finding(
                "bloat.apt-lists",
                Category::Bloat,
                Severity::Low,
                Some("/var/lib/apt/lists"),
            ),
        ];
        let mut p = Policy::default();
        let o = evaluate(&img, &eff, &fs, &p);
        assert_eq!(rule(&o, "fail-on").status, Status::Fail);
        assert_eq!(rule(&o, "warn-on").status, Status::Warn);
        assert_eq!(o.exit_code(), 1);
        assert_eq!(o.findings[0].verdict, Verdict::Fail);
        assert_eq!(o.findings[0].finding.rule, "secret.private-key");
        assert_eq!(o.findings[1].verdict, Verdict::Warn);
        assert_eq!(o.findings[2].verdict, Verdict::Pass);

        // Allowlisting the key's path leaves a warning only: exit 0.
        p.allow_paths.push(PathPattern::parse("/app/keys").unwrap());
        let o = evaluate(&img, &eff, &fs, &p);
        assert_eq!(rule(&o, "fail-on").status, Status::Pass);
        assert_eq!(o.status, Status::Warn);
        assert_eq!(o.exit_code(), 0);
        assert_eq!(o.findings.last().unwrap().verdict, Verdict::Allowed);
        assert_eq!(rule(&o, "allowlist").measured, "1 finding ignored");

        // max-severity per category, exact boundaries.
        p.max_severity
            .insert(Category::Config, Some(Severity::Medium));
        p.max_severity.insert(Category::Bloat, Some(Severity::Info));
        let o = evaluate(&img, &eff, &fs, &p);
        assert_eq!(rule(&o, "max-severity.config").status, Status::Pass);
        assert_eq!(rule(&o, "max-severity.bloat").status, Status::Fail);
        assert_eq!(
            rule(&o, "max-severity.bloat").measured,
            "1 finding, worst low"
        );
        p.max_severity.insert(Category::Bloat, Some(Severity::Low));
        p.max_severity.insert(Category::Secret, None);
        let o = evaluate(&img, &eff, &fs, &p);
        assert_eq!(rule(&o, "max-severity.bloat").status, Status::Pass);
        // The only secret is allowlisted: nothing of the category remains.
        assert_eq!(rule(&o, "max-severity.secret").status, Status::Pass);
        assert_eq!(o.exit_code(), 0);

        // Forbidden rules fail whatever their severity.
        p.forbid_rules.push("bloat.apt-lists".into());
        let o = evaluate(&img, &eff, &fs, &p);
        assert_eq!(rule(&o, "forbid-rules").status, Status::Fail);
        assert_eq!(rule(&o, "forbid-rules").measured, "bloat.apt-lists x1");
        assert_eq!(o.exit_code(), 1);
        p.allow_rules.push("bloat.apt-lists".into());
        p.forbid_rules.clear();
        p.fail_on = None;
        p.warn_on = None;
        let o = evaluate(&img, &eff, &fs, &p);
        assert_eq!(rule(&o, "fail-on").status, Status::Skip);
        assert_eq!(o.status, Status::Pass);
    }

    #[test]
    fn size_rules_on_empty_image() {
        let (img, eff) = image();
        let o = evaluate(&img, &eff, &[], &Policy::default());
        assert_eq!(o.metrics.efficiency, 1.0);
        assert_eq!(o.metrics.user_reclaimable_percent, 0.0);
        assert_eq!(rule(&o, "lowest-efficiency").status, Status::Pass);
        assert_eq!(rule(&o, "highest-reclaimable-bytes").status, Status::Skip);
        assert_eq!(o.status, Status::Pass);
    }

    #[test]
    fn percent_format() {
        assert_eq!(pct(0.1), "10%");
        assert_eq!(pct(18000.0 / 44103.0), "40.8136%");
        assert_eq!(pct(1.0), "100%");
    }
}
