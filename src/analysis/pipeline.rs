//! The engine's one entry point: an input in, an analysed image out.
//!
//! ```text
//! Input --open--> Opened { image, efficiency, redactor } --analyse--> Analysed { + findings, packages }
//! ```
//!
//! [`analyse`] does both stages. The explorer calls [`open`] and [`Opened::analyse`] apart, so
//! it can show the image while the findings pass runs. Secret rules and package databases ride
//! along the single pass over the layers (the content [`Inspector`]).

use std::sync::Arc;

use super::efficiency::Efficiency;
use super::finding::{Finding, Package};
use super::inspector::Inspector;
use super::signatures::SignatureOptions;
use crate::config::FindingsConfig;
use crate::model::Image;
use crate::redact::Redactor;
use crate::source::{Input, LoadOptions, Progress};
use crate::Result;

/// How to read and analyse an input.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Platform, digest verification, layer reading.
    pub load: LoadOptions,
    /// Secret rules (which also drive redaction) and findings options from `.strata.toml`.
    pub config: FindingsConfig,
    /// Run the findings pass (secrets, waste, bloat, checks) and the package inventory;
    /// `false` measures sizes only (`strata report --no-findings`).
    pub findings: bool,
    /// What registry signatures are checked against (`--key`, `--trusted-root`, …).
    pub signatures: Arc<SignatureOptions>,
}

impl Settings {
    /// Reads and analyses with `config`, findings included.
    pub fn new(load: LoadOptions, config: FindingsConfig) -> Self {
        Self {
            load,
            config,
            findings: true,
            signatures: Arc::default(),
        }
    }
}

/// Stage one: the image read and measured, findings not yet computed.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The image.
    pub image: Arc<Image>,
    /// Size accounting.
    pub efficiency: Efficiency,
    /// The configured redactor every output goes through.
    pub redactor: Redactor,
    config: FindingsConfig,
    findings: bool,
}

/// An analysed image: what every report, the CI gate and the explorer read.
#[derive(Debug, Clone)]
pub struct Analysed {
    /// The image.
    pub image: Arc<Image>,
    /// Size accounting.
    pub efficiency: Efficiency,
    /// Findings, worst first (empty when the findings pass was off).
    pub findings: Vec<Finding>,
    /// Installed packages of the final image (empty when the findings pass was off).
    pub packages: Vec<Package>,
    /// The configured redactor every output goes through.
    pub redactor: Redactor,
}

/// Stage one: reads `input` through its source and measures it.
pub fn open(input: &Input, settings: &Settings, progress: &Progress) -> Result<Opened> {
    let mut opts = settings.load.clone();
    if settings.findings {
        opts.scan.inspector = Some(Arc::new(Inspector::new(&settings.config)));
    }
    let mut image = crate::source::load(input, &opts, progress)?;
    let names = image
        .referrers
        .as_ref()
        .map(|r| r.subjects.clone())
        .unwrap_or_default();
    super::provenance::read(&mut image.provenance, &names);
    image.provenance.signatures = super::signatures::check(&image, &settings.signatures);
    let image = Arc::new(image);
    let efficiency = Efficiency::of(&image);
    Ok(Opened {
        image,
        efficiency,
        redactor: settings.config.redactor(),
        config: settings.config.clone(),
        findings: settings.findings,
    })
}

impl Opened {
    /// Stage two: the findings pass and the package inventory (nothing when findings are off).
    pub fn analyse(self) -> Analysed {
        let (findings, packages) = if self.findings {
            super::findings::analyze(&self.image, &self.efficiency, &self.config)
        } else {
            (Vec::new(), Vec::new())
        };
        Analysed {
            image: self.image,
            efficiency: self.efficiency,
            findings,
            packages,
            redactor: self.redactor,
        }
    }
}

/// Reads and analyses `input`: both stages.
pub fn analyse(input: &Input, settings: &Settings, progress: &Progress) -> Result<Analysed> {
    Ok(open(input, settings, progress)?.analyse())
}
