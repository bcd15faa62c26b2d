//! `strata diff` as a gate: rules over a [`Diff`] (new findings, growth, new packages), pure.

use serde::Serialize;

use crate::analysis::diff::{Change, Diff};
use crate::model::finding::Severity;

/// How much B may grow over A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Growth {
    /// At most this many bytes (`total_bytes` of B minus A).
    Bytes(u64),
    /// At most this percentage of A's `total_bytes`.
    Percent(f64),
}

impl Growth {
    /// Parses `20MB`, `20MiB`, `1234` or `5%` (any non-negative percentage).
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(p) = s.trim().strip_suffix('%') {
            return match p.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(Self::Percent(v)),
                _ => Err(format!(
                    "invalid growth {s:?} (expected a size such as 20MB or a percentage such as 5%)"
                )),
            };
        }
        super::config::parse_size(s).map(Self::Bytes)
    }
}

/// The gate's rules; an unset rule is not evaluated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// Fail on a new finding of at least this severity.
    pub new_findings: Option<Severity>,
    /// Fail when B's total size grows more than this.
    pub max_growth: Option<Growth>,
    /// Fail when a package whose name matches one of these `*` globs is added.
    pub forbid_new_packages: Vec<String>,
}

impl Policy {
    /// Parses a `--fail-on` value: `new-findings` (any severity) or `new-findings=SEVERITY`.
    pub fn parse_fail_on(s: &str) -> Result<Severity, String> {
        let bad = || {
            format!("invalid --fail-on {s:?} (expected new-findings or new-findings=critical|high|medium|low|info)")
        };
        match s.trim().split_once('=') {
            None if s.trim() == "new-findings" => Ok(Severity::Info),
            Some(("new-findings", sev)) => Severity::parse(sev.trim()).ok_or_else(bad),
            _ => Err(bad()),
        }
    }

    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The gate's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// True when every rule passed.
    pub passed: bool,
    /// One entry per rule that was set.
    pub rules: Vec<RuleResult>,
}

/// One rule's result.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    /// `new-findings`, `max-growth` or `forbid-new-packages`.
    pub rule: &'static str,
    /// True when it passed.
    pub passed: bool,
    /// The limit, as given.
    pub limit: String,
    /// What was measured.
    pub actual: String,
    /// What failed it (findings, packages), at most 20 lines.
    pub details: Vec<String>,
}

const MAX_DETAILS: usize = 20;

/// Evaluates `policy` over `diff`.
pub fn evaluate(diff: &Diff, policy: &Policy) -> Verdict {
    let mut rules = Vec::new();
    if let Some(min) = policy.new_findings {
        let bad: Vec<String> = diff
            .findings
            .new
            .iter()
            .filter(|f| f.severity >= min)
            .map(|f| {
                let at = f
                    .path
                    .as_deref()
                    .map(|p| format!(" at {p}"))
                    .unwrap_or_default();
                format!("[{}] {}{at}: {}", f.severity.as_str(), f.rule, f.title)
            })
            .collect();
        rules.push(RuleResult {
            rule: "new-findings",
            passed: bad.is_empty(),
            limit: format!("no new finding of severity {} or worse", min.as_str()),
            actual: format!("{} new", bad.len()),
            details: bad.into_iter().take(MAX_DETAILS).collect(),
        });
    }
    if let Some(g) = policy.max_growth {
        let d = diff.size.delta.total_bytes;
        let (passed, limit) = match g {
            Growth::Bytes(b) => (
                d <= i64::try_from(b).unwrap_or(i64::MAX),
                format!("{b} bytes"),
            ),
            Growth::Percent(p) => (diff.size.growth_percent <= p, format!("{p}%")),
        };
        rules.push(RuleResult {
            rule: "max-growth",
            passed,
            limit,
            actual: format!("{d:+} bytes ({:+.2}%)", diff.size.growth_percent),
            details: Vec::new(),
        });
    }
    if !policy.forbid_new_packages.is_empty() {
        let bad: Vec<String> = diff
            .packages
            .iter()
            .filter(|p| p.change == Change::Added)
            .filter(|p| {
                policy
                    .forbid_new_packages
                    .iter()
                    .any(|g| crate::analysis::packages::glob(g, &p.name))
            })
            .map(|p| {
                format!(
                    "{} {} {}",
                    p.manager,
                    p.name,
                    p.version_b.as_deref().unwrap_or("")
                )
            })
            .collect();
        rules.push(RuleResult {
            rule: "forbid-new-packages",
            passed: bad.is_empty(),
            limit: policy.forbid_new_packages.join(", "),
            actual: format!("{} forbidden package(s) added", bad.len()),
            details: bad.into_iter().take(MAX_DETAILS).collect(),
        });
    }
    Verdict {
        passed: rules.iter().all(|r| r.passed),
        rules,
    }
}
