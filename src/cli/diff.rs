//! `strata diff A B`: loads both images, compares them, renders the comparison and, with gate
//! flags, decides the exit code (0 pass, 1 a rule failed, 2 could not compare).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use crate::analysis::diff::{compare_snapshots, Side, Snapshot};
use crate::analysis::diff_gate::{evaluate, Growth, Policy};
use crate::analysis::efficiency::Efficiency;
use crate::analysis::finding::{Finding, Package};
use crate::analysis::findings::FindingsConfig;
use crate::model::Image;
use crate::source::{LoadOptions, Progress};
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

/// One analysed image: the model, its size accounting, findings and packages.
#[derive(Debug)]
pub struct Analysed {
    /// The image.
    pub image: Image,
    /// Its size accounting.
    pub efficiency: Efficiency,
    /// Its findings, worst first.
    pub findings: Vec<Finding>,
    /// Its package inventory.
    pub packages: Vec<Package>,
}

impl Analysed {
    /// The view the comparison reads.
    pub fn side(&self) -> Side<'_> {
        Side {
            image: &self.image,
            efficiency: &self.efficiency,
            findings: &self.findings,
            packages: &self.packages,
        }
    }
}

/// Input in, analysed image out (the one place `diff` wires load and analysis; it becomes the
/// engine's entry point once that exists).
pub fn analyse(input: &str, opts: &LoadOptions, cfg: &FindingsConfig) -> Result<Analysed> {
    let mut image = super::load(input, opts, &Progress::default())?;
    let efficiency = Efficiency::of(&image);
    let (findings, packages) = crate::analysis::findings::analyze(&image, &efficiency, cfg);
    // The package databases and content matches are read; the comparison needs neither.
    image.captured = Default::default();
    image.content_matches = Vec::new();
    Ok(Analysed {
        image,
        efficiency,
        findings,
        packages,
    })
}

/// A and B as the comparison keeps them; B is `None` when the same input was named twice.
#[derive(Debug)]
pub struct Pair {
    /// Image A.
    pub a: Snapshot,
    /// Image B, unless it is A.
    pub b: Option<Snapshot>,
    /// Layers of B taken from A's reading instead of read again.
    pub layers_read_once: usize,
}

/// Loads A, keeps its snapshot and drops the model, then B: memory holds one model at a time.
/// A layer B holds that A already read (same diff_id and blob) is not read again, when B is an
/// uncompressed archive or a layout directory (its layer list is known before reading). The
/// same input named twice is read once.
pub fn analyse_pair(a: &str, b: &str, opts: &LoadOptions, cfg: &FindingsConfig) -> Result<Pair> {
    let snapshot = |input: &str, opts: &LoadOptions| -> Result<Snapshot> {
        let x = analyse(input, opts, cfg)?;
        Ok(Snapshot::of(x.side(), &cfg.rules))
    };
    if a == b {
        return Ok(Pair {
            a: snapshot(a, opts)?,
            b: None,
            layers_read_once: 0,
        });
    }
    let cache = crate::source::cache::LayerCache::for_later_load(b, opts).map(Arc::new);
    let opts = LoadOptions {
        layer_cache: cache.clone(),
        ..opts.clone()
    };
    let sa = snapshot(a, &opts)?;
    let sb = snapshot(b, &opts)?;
    Ok(Pair {
        a: sa,
        b: Some(sb),
        layers_read_once: cache.map_or(0, |c| c.reused()),
    })
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
    let cfg = FindingsConfig::discover()?;
    let mut opts = opts;
    opts.scan.inspector = Some(Arc::new(crate::analysis::inspector::Inspector::new(&cfg)));
    let pair = analyse_pair(&args.a, &args.b, &opts, &cfg)?;
    let diff = compare_snapshots(&pair.a, pair.b.as_ref().unwrap_or(&pair.a), &cfg.rules);
    drop(pair);
    let verdict = (!policy.is_empty()).then(|| evaluate(&diff, &policy));
    let text = match args.format {
        DiffFormat::Text => crate::report::diff_text::render(&diff, verdict.as_ref()),
        DiffFormat::Json => crate::report::diff_json::render(&diff, verdict.as_ref()),
        DiffFormat::Markdown => crate::report::diff_markdown::render(&diff, verdict.as_ref()),
    };
    crate::ci::write_out(args.output.as_deref(), &text)?;
    Ok(match verdict {
        Some(v) if !v.passed => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}
