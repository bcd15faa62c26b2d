//! `strata ci`: a policy gate over the report for pipelines.
//!
//! Exit codes: 0 every rule passed (warnings allowed), 1 a rule failed, 2 the image could not
//! be analysed or the policy is invalid. The rules, config keys and dive mapping are documented
//! in `docs/ci.md`.

pub mod config;
pub mod rules;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use crate::analysis::efficiency::Efficiency;
use crate::analysis::finding::Finding;
use crate::analysis::findings::FindingsConfig;
use crate::analysis::inspector::Inspector;
use crate::model::{sanitize, Image};
use crate::report::sarif::{history_command, redact_text};
use crate::report::text::bytes as human;
use crate::source::{LoadOptions, Progress};
use crate::{Error, Result};

pub use config::{ByteLimit, PathPattern, Policy, Raw};
pub use rules::{evaluate, Metrics, Outcome, RuleResult, Status, Verdict};

/// How many findings the text summary lists.
pub const TOP_FINDINGS: usize = 10;

/// Arguments of `strata ci`. Every rule flag mirrors a `[ci]` key of `.strata.toml` and
/// overrides it; list flags add to the lists of the file.
#[derive(Debug, Clone, Args)]
pub struct CiArgs {
    /// Image reference or archive.
    pub image: String,
    /// Policy file: `.strata.toml` style, or a dive `.dive-ci` [default: `.dive-ci` then
    /// `.strata.toml` in the working directory, when present].
    #[arg(long, short, alias = "ci-config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Fail when the efficiency score is below this (0.9 or "90%"; "off" disables).
    #[arg(long, alias = "lowestEfficiency", value_name = "FRACTION")]
    pub lowest_efficiency: Option<String>,
    /// Fail when reclaimable bytes exceed this ("20MB", "20MiB", "1.5GiB", "5%" of the image).
    #[arg(long, alias = "highestWastedBytes", value_name = "SIZE")]
    pub highest_reclaimable_bytes: Option<String>,
    /// Fail when reclaimable bytes of layers 1..n exceed this share of their bytes (0.1 or "10%").
    #[arg(long, alias = "highestUserWastedPercent", value_name = "FRACTION")]
    pub highest_user_reclaimable_percent: Option<String>,
    /// Highest severity allowed for a category, e.g. `secret=low` or `config=none` (repeatable).
    #[arg(long, value_name = "CATEGORY=LEVEL")]
    pub max_severity: Vec<String>,
    /// Fail whenever this rule id fires (repeatable).
    #[arg(long = "forbid-rules", alias = "forbid-rule", value_name = "ID")]
    pub forbid_rules: Vec<String>,
    /// Ignore findings of this rule id (repeatable).
    #[arg(long = "allow-rules", alias = "allow-rule", value_name = "ID")]
    pub allow_rules: Vec<String>,
    /// Ignore findings under this path: a glob (`/app/test/**`) or `re:REGEX` (repeatable).
    #[arg(long = "allow-paths", alias = "allow-path", value_name = "PATTERN")]
    pub allow_paths: Vec<String>,
    /// Ignore findings inherited from the base image (`--ignore-inherited`, or `=false`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub ignore_inherited: Option<String>,
    /// Fail when a finding of at least this severity remains [default: high].
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<String>,
    /// Warn when a finding of at least this severity remains [default: medium].
    #[arg(long, value_name = "LEVEL")]
    pub warn_on: Option<String>,
    /// Format of the summary.
    #[arg(long, short, value_enum, default_value_t = CiFormat::Text)]
    pub format: CiFormat,
    /// Write the summary to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write SARIF 2.1.0 (for code scanning) to this file.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// Formats of the `strata ci` summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiFormat {
    /// Readable text.
    Text,
    /// The outcome as JSON (`strata.ci/v1`).
    Json,
    /// A pull-request comment.
    Markdown,
}

impl CiArgs {
    /// Applies the rule flags on top of `policy`.
    pub fn apply_flags(&self, policy: &mut Policy) -> Result<()> {
        let flag = |name: &str, p: String| Error::Other(format!("--{name}: {p}"));
        let scalars = [
            ("lowest-efficiency", &self.lowest_efficiency),
            ("highest-reclaimable-bytes", &self.highest_reclaimable_bytes),
            (
                "highest-user-reclaimable-percent",
                &self.highest_user_reclaimable_percent,
            ),
            ("ignore-inherited", &self.ignore_inherited),
            ("fail-on", &self.fail_on),
            ("warn-on", &self.warn_on),
        ];
        for (name, v) in scalars {
            if let Some(v) = v {
                policy
                    .set(name, &Raw::Str(v.clone()))
                    .map_err(|p| flag(name, p))?;
            }
        }
        let lists = [
            ("max-severity", &self.max_severity),
            ("forbid-rules", &self.forbid_rules),
            ("allow-rules", &self.allow_rules),
            ("allow-paths", &self.allow_paths),
        ];
        for (name, vs) in lists {
            for v in vs {
                policy
                    .set(name, &Raw::Str(v.clone()))
                    .map_err(|p| flag(name, p))?;
            }
        }
        policy
            .validate()
            .map_err(|p| Error::Other(format!("policy: {p}")))
    }
}

/// The findings of an image (worst first), as `strata ci` gates them.
pub fn findings(image: &Image, eff: &Efficiency, cfg: &FindingsConfig) -> Vec<Finding> {
    crate::analysis::findings::analyze(image, eff, cfg).0
}

/// The `[secrets]` / `[findings]` configuration for `strata ci`: from the `--config` file
/// when it is a `.strata.toml`-style file, else `.strata.toml` in the working directory.
fn findings_config(explicit: Option<&Path>) -> Result<FindingsConfig> {
    if let Some(f) = explicit {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        if !config::is_dive_ci(f, &text) {
            return FindingsConfig::from_toml(&text, &f.display().to_string());
        }
    }
    FindingsConfig::discover()
}

/// Runs `strata ci`: loads the policy (exit 2 when invalid), analyses the image (exit 2 when it
/// cannot), evaluates and prints; returns 0 or 1.
pub fn run(args: &CiArgs, opts: &LoadOptions) -> Result<ExitCode> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let mut policy = Policy::load(args.config.as_deref(), &cwd)?;
    args.apply_flags(&mut policy)?;
    for w in &policy.warnings {
        eprintln!("strata: warning: {w}");
    }
    let cfg = findings_config(args.config.as_deref())?;
    let mut opts = opts.clone();
    // Secret rules and package databases ride along the single pass over the layers.
    opts.scan.inspector = Some(Arc::new(Inspector::new(&cfg)));
    let image = crate::cli::load(&args.image, &opts, &Progress::default())?;
    let eff = Efficiency::of(&image);
    let found = findings(&image, &eff, &cfg);
    let outcome = evaluate(&image, &eff, &found, &policy);
    let text = match args.format {
        CiFormat::Text => render_text(&image, &policy, &outcome),
        CiFormat::Json => render_json(&image, &outcome),
        CiFormat::Markdown => crate::report::markdown::render(&image, &eff, &found, Some(&outcome)),
    };
    if let Some(p) = &args.sarif {
        let sarif = crate::report::sarif::render(&image, &eff, &found);
        std::fs::write(p, sarif).map_err(|e| Error::io(p, e))?;
    }
    write_out(args.output.as_deref(), &text)?;
    Ok(ExitCode::from(outcome.exit_code()))
}

/// Writes `text` to `output`, or to standard output (a closed pipe is not an error).
pub fn write_out(output: Option<&Path>, text: &str) -> Result<()> {
    use std::io::Write as _;
    match output {
        Some(p) => std::fs::write(p, text).map_err(|e| Error::io(p, e)),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("stdout", e)),
                _ => Ok(()),
            }
        }
    }
}

/// The outcome as JSON: `{schema: "strata.ci/v1", image, id, status, metrics, rules, findings}`.
pub fn render_json(image: &Image, outcome: &Outcome) -> String {
    let mut findings = serde_json::to_value(&outcome.findings).unwrap_or_default();
    if let serde_json::Value::Array(items) = &mut findings {
        for item in items {
            if let serde_json::Value::Object(o) = item {
                for key in ["title", "message", "evidence", "fix", "why", "path"] {
                    if let Some(serde_json::Value::String(s)) = o.get_mut(key) {
                        *s = redact_text(s);
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
pub fn render_text(image: &Image, policy: &Policy, o: &Outcome) -> String {
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
    let active: Vec<&rules::Judged> = o
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
        let mut shown: Vec<&&rules::Judged> = active.iter().take(TOP_FINDINGS).collect();
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
            let _ = write!(line, ": {}", redact_text(&f.title));
            if let Some(e) = &f.evidence {
                let _ = write!(line, " [{}]", redact_text(e));
            }
            let _ = writeln!(s, "{line}");
            if let Some(cmd) = f.layer.and_then(|l| history_command(image, l)) {
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
pub(crate) mod tests {
    use super::*;
    use crate::model::{ImageConfig, Origin};

    /// An image with no layers, for unit tests.
    pub(crate) fn empty_image() -> Image {
        Image {
            reference: "unit-test".into(),
            id: "sha256:00".into(),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            manifest_digest: None,
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            created: None,
            config: ImageConfig::default(),
            history: Vec::new(),
            layers: Vec::new(),
            fs: crate::model::FileSystem::default(),
            warnings: Vec::new(),
            origin: Origin::Daemon("unit-test".into()),
            content_matches: Vec::new(),
            captured: std::collections::HashMap::new(),
            known_base: None,
        }
    }

    #[test]
    fn flags_override_and_errors_name_the_flag() {
        let mut args = CiArgs {
            image: "x".into(),
            config: None,
            lowest_efficiency: Some("0.5".into()),
            highest_reclaimable_bytes: Some("20MiB".into()),
            highest_user_reclaimable_percent: None,
            max_severity: vec!["secret=low".into()],
            forbid_rules: vec!["a.b".into()],
            allow_rules: Vec::new(),
            allow_paths: vec!["/tmp/**".into()],
            ignore_inherited: None,
            fail_on: Some("critical".into()),
            warn_on: Some("off".into()),
            format: CiFormat::Text,
            output: None,
            sarif: None,
        };
        let mut p = Policy::default();
        args.apply_flags(&mut p).unwrap();
        assert_eq!(p.lowest_efficiency, Some(0.5));
        assert_eq!(
            p.highest_reclaimable_bytes,
            Some(ByteLimit::Bytes(20_971_520))
        );
        assert_eq!(p.warn_on, None);
        assert_eq!(p.forbid_rules, ["a.b"]);
        args.highest_reclaimable_bytes = Some("20XB".into());
        let e = args
            .apply_flags(&mut Policy::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--highest-reclaimable-bytes: invalid size"),
            "{e}"
        );
        args.highest_reclaimable_bytes = None;
        args.max_severity = vec!["secrets:low".into()];
        let e = args
            .apply_flags(&mut Policy::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--max-severity:"), "{e}");
    }

    #[test]
    fn text_summary_lists_rules_and_redacts() {
        let img = empty_image();
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
        };
        let p = Policy::default();
        let o = evaluate(&img, &eff, std::slice::from_ref(&f), &p);
        let t = render_text(&img, &p, &o);
        assert!(t.contains("  FAIL  fail-on"), "{t}");
        assert!(t.contains("  PASS  lowest-efficiency"), "{t}");
        assert!(t.contains("  SKIP  highest-reclaimable-bytes"), "{t}");
        assert!(t.contains("Result: FAIL (1 failed, 1 warned"), "{t}");
        assert!(!t.contains("hunter2hunter2hunter2"), "{t}");
        let j = render_json(&img, &o);
        assert!(!j.contains("hunter2hunter2hunter2"), "{j}");
        assert!(j.contains("\"exit_code\": 1"), "{j}");
    }
}
