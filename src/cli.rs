//! Command-line interface: parses arguments and dispatches to the engine, reports or the UI.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::efficiency::Efficiency;
use crate::analysis::findings::{analyze, FindingsConfig};
use crate::analysis::inspector::Inspector;
use crate::report::Report;
use crate::source::registry::{self, RegistryOptions};
use crate::source::resolve::Platform;
use crate::source::{Input, LoadOptions, Progress, ProgressEvent, SourceChoice};
use crate::{Error, Result};

/// strata: what is really inside a container image, layer by layer.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about)]
pub struct Cli {
    /// Image to open: daemon reference, archive path, or oci:DIR / docker-archive:PATH / oci-archive:PATH.
    pub image: Option<String>,
    /// Open the built-in demo image.
    #[arg(long)]
    pub demo: bool,
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, global = true)]
    pub platform: Option<String>,
    /// Skip sha256 verification of layers (faster on huge images).
    #[arg(long, global = true)]
    pub no_verify: bool,
    /// Docker daemon address (unix:///path or tcp://host:port); overrides DOCKER_HOST.
    #[arg(long, global = true, value_name = "URL")]
    pub host: Option<String>,
    /// Where a bare reference is read from: the daemon when it has the image, else its
    /// registry (auto); only the daemon; or always the registry.
    #[arg(long, global = true, value_enum, default_value_t = SourceChoice::Auto)]
    pub source: SourceChoice,
    /// Verify registry TLS certificates; `--tls-verify=false` also allows plain HTTP.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true,
          num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub tls_verify: bool,
    /// Do not read or fill the registry blob cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// No progress bar on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Subcommand.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the images on the Docker daemon (like `docker images`).
    Images {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print the analysis of an image.
    Report {
        /// Image reference or archive.
        image: String,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Skip the findings pass (secrets, waste, packages, checks): engine and size only.
        #[arg(long)]
        no_findings: bool,
    },
    /// Gate an image in a pipeline: exit 0 pass, 1 a rule failed, 2 could not analyse.
    Ci(Box<crate::ci::CiArgs>),
    /// Show the registry blob cache (place, size, limit); `--prune` empties it.
    Cache {
        /// Remove every cached blob first.
        #[arg(long)]
        prune: bool,
    },
    /// Write the built-in demo image as an archive `docker load -i` accepts.
    Demo {
        /// Archive file to write.
        #[arg(long, value_name = "FILE")]
        write: PathBuf,
    },
}

/// Formats of `strata images`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table like `docker images`.
    Text,
    /// A JSON array (documented in docs/report-schema.md).
    Json,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// The `strata.report/v1` JSON contract.
    Json,
}

/// Formats of `strata report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Readable text.
    Text,
    /// The `strata.report/v1` JSON contract.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// A Markdown summary for a pull-request comment.
    Markdown,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let msg = crate::model::sanitize(&e.to_string());
            let _ = writeln!(std::io::stderr(), "strata: {}", msg.replace("\\n", " "));
            ExitCode::from(2)
        }
    }
}

fn load_options(cli: &Cli) -> Result<LoadOptions> {
    let mut opts = LoadOptions::default();
    if let Some(p) = &cli.platform {
        opts.platform = Some(Platform::parse(p)?);
    }
    opts.scan.skip_digests = cli.no_verify;
    opts.source = cli.source;
    opts.registry = RegistryOptions {
        tls_verify: cli.tls_verify,
        use_cache: !cli.no_cache,
        ..RegistryOptions::default()
    };
    opts.progress_bar = !cli.quiet;
    Ok(opts)
}

/// Reads `.strata.toml` (an invalid one is an error) and lets its secret rules and package
/// databases ride along the single pass over the layers.
fn with_findings(mut opts: LoadOptions) -> Result<(LoadOptions, FindingsConfig)> {
    let cfg = FindingsConfig::discover()?;
    opts.scan.inspector = Some(std::sync::Arc::new(Inspector::new(&cfg)));
    Ok((opts, cfg))
}

/// Loads any input the engine reads. With `opts.progress_bar`, no listener in `progress` and
/// stderr a terminal, a progress bar is drawn on stderr meanwhile.
pub fn load(input: &str, opts: &LoadOptions, progress: &Progress) -> Result<crate::model::Image> {
    use std::io::IsTerminal;
    let bar = (opts.progress_bar && progress.is_silent() && std::io::stderr().is_terminal())
        .then(crate::progress_bar::Bar::new);
    let listener = bar
        .as_ref()
        .map_or_else(|| progress.clone(), |b| b.progress());
    let notice = |msg: String| {
        if let Some(b) = &bar {
            b.println(&msg);
        } else if progress.is_silent() {
            if opts.progress_bar {
                let _ = writeln!(std::io::stderr(), "strata: {msg}");
            }
        } else {
            progress.emit(ProgressEvent::Phase(msg));
        }
    };
    let loaded = load_from_source(input, opts, &listener, notice);
    if let Some(b) = bar {
        b.finish();
    }
    loaded
}

/// True for an image id (hex, or `sha256:` hex), which only the daemon knows.
fn is_image_id(r: &str) -> bool {
    let hex = r.strip_prefix("sha256:").unwrap_or(r);
    hex.len() >= 12 && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn load_from_source(
    input: &str,
    opts: &LoadOptions,
    progress: &Progress,
    notice: impl Fn(String),
) -> Result<crate::model::Image> {
    use crate::source::daemon;
    match Input::parse(input) {
        Input::Registry(r) => registry::load(&r, opts, progress),
        Input::Daemon(r) => match opts.source {
            SourceChoice::Daemon => daemon::load(&r, opts, progress),
            SourceChoice::Registry => registry::load(&r, opts, progress),
            SourceChoice::Auto if is_image_id(&r) => daemon::load(&r, opts, progress),
            SourceChoice::Auto => match daemon::has_image(&r) {
                Some(true) => daemon::load(&r, opts, progress),
                found => {
                    let full = registry::full_reference(&r)?;
                    let why = if found.is_some() {
                        "not on the Docker daemon"
                    } else {
                        "no Docker daemon answers"
                    };
                    notice(format!(
                        "{full}: {why}; reading it from the registry (nothing is stored in the daemon; \
                         --source daemon forbids this)"
                    ));
                    registry::load(&r, opts, progress)
                }
            },
        },
        other => crate::source::load_path(&other, opts, progress),
    }
}

fn write_out(output: Option<&PathBuf>, text: &str) -> Result<()> {
    crate::ci::write_out(output.map(PathBuf::as_path), text)
}

fn run(cli: Cli) -> Result<ExitCode> {
    let opts = load_options(&cli)?;
    if let Some(h) = &cli.host {
        crate::source::daemon::set_host(h);
    }
    match cli.command {
        Some(Command::Images { format }) => {
            use crate::source::daemon;
            let images = daemon::list_images()?;
            let text = match format {
                ListFormat::Json => daemon::images_json(&images) + "\n",
                ListFormat::Text => {
                    daemon::images_table(&images, jiff::Timestamp::now().as_second())
                }
            };
            write_out(None, &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Report {
            image,
            format,
            output,
            no_findings,
        }) => {
            let (opts, findings_cfg) = if no_findings {
                (opts, None)
            } else {
                let (opts, cfg) = with_findings(opts)?;
                (opts, Some(cfg))
            };
            let img = load(&image, &opts, &Progress::default())?;
            let eff = Efficiency::of(&img);
            let (findings, packages) = match &findings_cfg {
                Some(cfg) => analyze(&img, &eff, cfg),
                None => (Vec::new(), Vec::new()),
            };
            let report = Report::build(&img, &eff, findings, packages);
            let text = match format {
                ReportFormat::Json => report.to_json() + "\n",
                ReportFormat::Text => crate::report::text::render(&report),
                ReportFormat::Sarif => crate::report::sarif::render(&img, &eff, &report.findings),
                ReportFormat::Markdown => {
                    crate::report::markdown::render(&img, &eff, &report.findings, None)
                }
            };
            write_out(output.as_ref(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ci(args)) => crate::ci::run(&args, &opts),
        Some(Command::Cache { prune }) => {
            write_out(None, &registry::cache_command(prune)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Demo { write }) => {
            crate::demo::write(&write)?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            use std::io::IsTerminal;
            if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                return Err(Error::Other(
                    "the explorer needs a terminal; use `strata report IMAGE` for text output"
                        .into(),
                ));
            }
            let launch = match (cli.demo, cli.image) {
                (true, _) => crate::ui::Launch::Demo,
                (false, Some(image)) => crate::ui::Launch::Image(image),
                (false, None) => crate::ui::Launch::List,
            };
            let (opts, findings_cfg) = with_findings(opts)?;
            crate::ui::run(launch, opts, findings_cfg)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
