//! `strata diff A B`: reads both images through the engine ([`analyse_pair`]), compares them,
//! renders the comparison and, with gate flags, decides the exit code (0 pass, 1 a rule failed,
//! 2 could not compare).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::analysis::diff::analyse_pair;
use crate::analysis::pipeline::Settings;
use crate::config::FindingsConfig;
use crate::policy::diff::{evaluate, Growth, Policy};
use crate::source::{Input, LoadOptions, Progress};
use crate::{Error, Result};

/// Arguments of `strata diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The image compared from ("before"): daemon reference, archive, oci:DIR, ….
    pub a: String,
    /// The image compared to ("after").
    pub b: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Exit 1 when B has findings A has not: `new-findings` (any) or `new-findings=SEVERITY`.
    #[arg(long, value_name = "new-findings[=SEVERITY]")]
    pub fail_on: Option<String>,
    /// Exit 1 when B's total size exceeds A's by more than this (`50MB`, `20MiB`, `10%`).
    #[arg(long, value_name = "BYTES|PERCENT")]
    pub max_growth: Option<String>,
    /// Exit 1 when B adds a package whose name matches this `*` glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub forbid_new_packages: Vec<String>,
}

/// Formats of `strata diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Readable text, largest changes first.
    Text,
    /// The `strata.diff/v1` JSON contract (docs/diff-schema.md).
    Json,
    /// A Markdown summary for a pull-request comment.
    Markdown,
}

fn policy(args: &DiffArgs) -> Result<Policy> {
    Ok(Policy {
        new_findings: args
            .fail_on
            .as_deref()
            .map(Policy::parse_fail_on)
            .transpose()
            .map_err(Error::Other)?,
        max_growth: args
            .max_growth
            .as_deref()
            .map(Growth::parse)
            .transpose()
            .map_err(|e| Error::Other(format!("--max-growth: {e}")))?,
        forbid_new_packages: args.forbid_new_packages.clone(),
    })
}

/// Runs `strata diff`.
pub fn run(args: &DiffArgs, opts: LoadOptions) -> Result<ExitCode> {
    let policy = policy(args)?;
    let settings = Settings::new(opts, FindingsConfig::discover()?);
    let pair = analyse_pair(
        &Input::parse(&args.a),
        &Input::parse(&args.b),
        &settings,
        &Progress::default(),
    )?;
    let diff = pair.diff;
    let verdict = (!policy.is_empty()).then(|| evaluate(&diff, &policy));
    match args.format {
        DiffFormat::Text => super::write_out(
            args.output.as_deref(),
            &crate::report::diff_text::render(&diff, verdict.as_ref()),
        )?,
        // Every changed path is in the JSON: written while serialised, not held whole.
        DiffFormat::Json => super::write_streamed(args.output.as_deref(), |w| {
            crate::report::diff_json::write(&diff, verdict.as_ref(), w)
        })?,
        DiffFormat::Markdown => super::write_out(
            args.output.as_deref(),
            &crate::report::diff_markdown::render(&diff, verdict.as_ref()),
        )?,
    }
    Ok(match verdict {
        Some(v) if !v.passed => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}
