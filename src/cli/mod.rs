//! Command-line interface: parses arguments (clap), calls the engine entry point
//! ([`crate::analysis::pipeline`]), renders through [`crate::report`] and writes to standard
//! output or a file; or starts the explorer.

pub mod ci;
pub mod progress;
pub mod signatures;

pub mod diff;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::pipeline::{analyse, Settings};
use crate::config::FindingsConfig;
use crate::report::Report;
use crate::source::registry::{self, RegistryOptions};
use crate::source::resolve::{ImageSelector, Platform};
use crate::source::{Input, LoadOptions, SourceChoice};
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
    /// Skip sha256 verification of layers and configs (faster on huge images).
    #[arg(long, global = true)]
    pub no_verify: bool,
    /// Image to read from a multi-image archive or layout: a tag or name, @N (zero-based
    /// position in manifest.json or index.json) or a sha256: digest (manifest or image ID).
    #[arg(
        long = "image",
        id = "select_image",
        global = true,
        value_name = "REF|@N|DIGEST"
    )]
    pub select_image: Option<String>,
    /// Open the explorer in compare mode: IMAGE against this image (B).
    #[arg(long, value_name = "IMAGE_B", requires = "image")]
    pub compare: Option<String>,
    /// Docker daemon address (unix:///path or tcp://host:port); overrides DOCKER_HOST.
    #[arg(long, global = true, value_name = "URL")]
    pub host: Option<String>,
    /// Where a bare reference is read from: the daemon when it has the image, else its
    /// registry (auto); only the daemon; or always the registry.
    #[arg(long, global = true, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
    /// Verify registry TLS certificates; `--tls-verify=false` also allows plain HTTP.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true,
          num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub tls_verify: bool,
    /// Do not read or fill the registry blob cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// No progress bar or notes on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Signature checks for the explorer's provenance pane (as `strata report` takes them).
    #[command(flatten)]
    pub signatures: signatures::SignatureArgs,
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
        /// Signature checks.
        #[command(flatten)]
        signatures: signatures::SignatureArgs,
    },
    /// Write the image's software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON).
    Sbom {
        /// Image reference or archive.
        image: String,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = SbomFormat::CyclonedxJson)]
        format: SbomFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Gate an image in a pipeline: exit 0 pass, 1 a rule failed, 2 could not analyse.
    Ci(Box<ci::CiArgs>),
    /// Show the registry blob cache (place, size, limit); `--prune` empties it.
    Cache {
        /// Remove every cached blob first.
        #[arg(long)]
        prune: bool,
    },
    /// Compare two images: layers, files, packages, findings, config and size (exit 0 pass,
    /// 1 a gate rule failed, 2 could not compare).
    Diff(Box<diff::DiffArgs>),
    /// The image's build history, one line per step (like `docker history`, oldest first);
    /// `--dockerfile` prints it as a reconstructed Dockerfile.
    History {
        /// Image reference or archive.
        image: String,
        /// Print the Dockerfile reconstructed from the history (secrets and build args
        /// masked, a note wherever it cannot be exact).
        #[arg(long)]
        dockerfile: bool,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Write the built-in demo image as an archive `docker load -i` accepts.
    Demo {
        /// Archive file to write.
        #[arg(long, value_name = "FILE")]
        write: PathBuf,
    },
}

/// `--source`: where a bare reference is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// The daemon when it has the image, else its registry.
    Auto,
    /// Only the Docker daemon.
    Daemon,
    /// Always the registry.
    Registry,
}

/// Formats of `strata images`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table like `docker images`.
    Text,
    /// A JSON array (documented in docs/report-schema.md).
    Json,
}

/// Formats of `strata report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Readable text.
    Text,
    /// The `strata.report/v1.2` JSON contract.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// A Markdown summary for a pull-request comment.
    Markdown,
    /// CycloneDX 1.6 JSON SBOM (as `strata sbom`).
    CyclonedxJson,
    /// SPDX 2.3 JSON SBOM (as `strata sbom`).
    SpdxJson,
}

/// Formats of `strata sbom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    CyclonedxJson,
    /// SPDX 2.3 JSON.
    SpdxJson,
}

impl From<SbomFormat> for crate::report::sbom::Format {
    fn from(f: SbomFormat) -> Self {
        match f {
            SbomFormat::CyclonedxJson => Self::CycloneDx,
            SbomFormat::SpdxJson => Self::Spdx,
        }
    }
}

/// Loads `image` with the package inspector and writes its SBOM.
fn write_sbom(
    image: &str,
    opts: LoadOptions,
    format: SbomFormat,
    output: Option<&PathBuf>,
) -> Result<ExitCode> {
    let settings = Settings::new(opts, FindingsConfig::discover()?);
    let (progress, bar) = progress::Bar::for_load(&settings.load);
    let opened = crate::analysis::pipeline::open(&Input::parse(image), &settings, &progress);
    if let Some(b) = bar {
        b.finish();
    }
    let opened = opened?;
    let text = crate::report::sbom::document(&opened, &settings.config, format.into());
    write_out(output.map(PathBuf::as_path), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    #[cfg(feature = "tui")]
    crate::ui::run::mark_process_start();
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
    opts.image = cli.select_image.as_deref().map(ImageSelector::parse);
    opts.scan.skip_digests = cli.no_verify;
    opts.source = match cli.source {
        SourceArg::Auto => SourceChoice::Auto,
        SourceArg::Daemon => SourceChoice::Daemon,
        SourceArg::Registry => SourceChoice::Registry,
    };
    opts.registry = RegistryOptions {
        tls_verify: cli.tls_verify,
        use_cache: !cli.no_cache,
        ..RegistryOptions::default()
    };
    opts.progress_bar = !cli.quiet;
    Ok(opts)
}

/// Writes `text` to `output`, or to standard output (a closed pipe is not an error).
/// Writes to `output` (or standard output) through `write`, buffered, as it is produced.
pub fn write_streamed(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let done = |r: std::io::Result<()>, what: &dyn Fn(std::io::Error) -> Error| match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(what(e)),
        _ => Ok(()),
    };
    match output {
        Some(p) => {
            let file = std::fs::File::create(p).map_err(|e| Error::io(p, e))?;
            let mut w = std::io::BufWriter::new(file);
            done(write(&mut w).and_then(|()| w.flush()), &|e| Error::io(p, e))
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            done(write(&mut w).and_then(|()| w.flush()), &|e| {
                Error::io("stdout", e)
            })
        }
    }
}

/// Writes `text` to `output` (or standard output).
pub fn write_out(output: Option<&Path>, text: &str) -> Result<()> {
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
                ListFormat::Json => crate::report::images::images_json(&images) + "\n",
                ListFormat::Text => {
                    crate::report::images::images_table(&images, jiff::Timestamp::now().as_second())
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
            signatures,
        }) => {
            let sbom = match format {
                ReportFormat::CyclonedxJson => Some(SbomFormat::CyclonedxJson),
                ReportFormat::SpdxJson => Some(SbomFormat::SpdxJson),
                _ => None,
            };
            if let Some(f) = sbom {
                return write_sbom(&image, opts, f, output.as_ref());
            }
            // `.strata.toml` is read even without findings: its rules redact the history.
            let settings = Settings {
                findings: !no_findings,
                signatures: std::sync::Arc::new(signatures.options()?),
                ..Settings::new(opts, FindingsConfig::discover()?)
            };
            let (progress, bar) = progress::Bar::for_load(&settings.load);
            let analysed = analyse(&Input::parse(&image), &settings, &progress);
            if let Some(b) = bar {
                b.finish();
            }
            let a = analysed?;
            let text = match format {
                ReportFormat::Json => Report::build(&a).to_json() + "\n",
                ReportFormat::Text => crate::report::text::render(&Report::build(&a)),
                ReportFormat::Sarif => crate::report::sarif::render(&a),
                ReportFormat::Markdown => crate::report::markdown::render(&a, None),
                // Handled above: SBOMs need no findings pass.
                ReportFormat::CyclonedxJson | ReportFormat::SpdxJson => String::new(),
            };
            write_out(output.as_deref(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Sbom {
            image,
            format,
            output,
        }) => write_sbom(&image, opts, format, output.as_ref()),
        Some(Command::Ci(args)) => ci::run(&args, &opts),
        Some(Command::Cache { prune }) => {
            write_out(None, &registry::cache_command(prune)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Diff(args)) => diff::run(&args, opts),
        Some(Command::History {
            image,
            dockerfile,
            output,
        }) => {
            let settings = Settings {
                findings: false,
                ..Settings::new(opts, FindingsConfig::discover()?)
            };
            let (progress, bar) = progress::Bar::for_load(&settings.load);
            let opened =
                crate::analysis::pipeline::open(&Input::parse(&image), &settings, &progress);
            if let Some(b) = bar {
                b.finish();
            }
            let opened = opened?;
            let rebuilt = crate::analysis::dockerfile::reconstruct(&opened.image, &opened.redactor);
            let text = if dockerfile {
                crate::analysis::dockerfile::render(&rebuilt, &opened.image.reference)
            } else {
                history_table(&rebuilt)
            };
            write_out(output.as_deref(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Demo { write }) => {
            crate::source::demo::write(&write)?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            use std::io::IsTerminal;
            // The user's key file is checked first: a bad one is named even without a terminal.
            crate::ui::user_keys::install_from_file().map_err(Error::Other)?;
            if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                return Err(Error::Other(
                    "the explorer needs a terminal; use `strata report IMAGE` for text output"
                        .into(),
                ));
            }
            let launch = match (cli.demo, cli.image, cli.compare) {
                (true, _, _) => crate::ui::Launch::Demo,
                (false, Some(a), Some(b)) => crate::ui::Launch::Compare(a, b),
                (false, Some(image), None) => crate::ui::Launch::Image(image),
                (false, None, _) => crate::ui::Launch::List,
            };
            crate::ui::run(
                launch,
                opts,
                FindingsConfig::discover()?,
                cli.signatures.options()?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `strata history IMAGE`: step, layer, size and instruction per history entry.
fn history_table(r: &crate::analysis::dockerfile::Reconstructed) -> String {
    let mut out = format!(
        "{:>4}  {:>5}  {:>10}  INSTRUCTION\n",
        "STEP", "LAYER", "SIZE"
    );
    for s in &r.steps {
        let layer = s.layer.map_or_else(|| "-".to_owned(), |l| l.to_string());
        let size = s.size.map_or_else(|| "-".to_owned(), crate::text::bytes);
        let mark = if s.base { " (base)" } else { "" };
        let instr = if s.instruction.is_empty() {
            "(no recorded command)".to_owned()
        } else {
            crate::model::sanitize(&s.instruction)
        };
        out.push_str(&format!(
            "{:>4}  {layer:>5}  {size:>10}  {instr}{mark}\n",
            s.history
        ));
    }
    out
}
