//! The finding contract shared by every analysis, the reports and the CI gate.

use serde::{Deserialize, Serialize};

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Credentials and keys, present or squashed away.
    Secret,
    /// Bytes shipped but not visible.
    Waste,
    /// Packages, caches and tools an image rarely needs.
    Bloat,
    /// Configuration and build-hygiene checks.
    Config,
}

impl Category {
    /// Lower-case name, as in the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Waste => "waste",
            Self::Bloat => "bloat",
            Self::Config => "config",
        }
    }
}

/// How bad a finding is; ordered from `Info` (least) to `Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Minor.
    Low,
    /// Should be fixed.
    Medium,
    /// Fix before adopting.
    High,
    /// Fix now.
    Critical,
}

impl Severity {
    /// Parses `critical|high|medium|low|info` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Some(Self::Critical),
            "high" => Some(Self::High),
            "medium" => Some(Self::Medium),
            "low" => Some(Self::Low),
            "info" => Some(Self::Info),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }
}

/// One problem found in an image. Field names are part of the `strata.report/v1.1` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id (see docs/rules.md).
    pub rule: String,
    /// Category.
    pub category: Category,
    /// Severity.
    pub severity: Severity,
    /// One-line title.
    pub title: String,
    /// What was found, where, and by which history step.
    pub message: String,
    /// Absolute path in the image, when the finding is about a file.
    pub path: Option<String>,
    /// Index of the layer that holds it.
    pub layer: Option<usize>,
    /// Layer that deleted or superseded it (null while still present).
    pub removed_in: Option<usize>,
    /// Bytes it costs, when it costs bytes.
    pub bytes: Option<u64>,
    /// Redacted evidence (never a raw secret).
    pub evidence: Option<String>,
    /// How to fix it.
    pub fix: Option<String>,
    /// Why it matters, for a learner.
    pub why: Option<String>,
    /// Inherited from the base image (its layer or history step is the base's); see
    /// `analysis::base`. Added in `strata.report/v1.1`.
    #[serde(default)]
    pub base: bool,
    /// Every path one finding stands for, when it groups several files of one cause (eight
    /// setuid files added by one step are one finding); empty otherwise. Added in
    /// `strata.report/v1.2`.
    #[serde(default)]
    pub items: Vec<String>,
}

/// One installed package. Field names are part of the `strata.report/v1.1` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// `dpkg`, `apk`, `rpm`, `python`, `npm`, `go`, `rust`, `java` or `gem`.
    pub manager: String,
    /// Package name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// Installed size in bytes (as the package database records it).
    pub size_bytes: u64,
    /// Layer that added (or last changed) the package's database entry.
    pub layer: Option<usize>,
    /// Absolute path of the file the package was read from (`ARCHIVE!INNER` inside archives).
    /// Added in `strata.report/v1.1`.
    #[serde(default)]
    pub source: String,
    /// Declared license, as the package metadata writes it, when it has one. Added in
    /// `strata.report/v1.1`.
    pub license: Option<String>,
    /// Package URL (purl) identifying the package. Added in `strata.report/v1.1`.
    #[serde(default)]
    pub purl: String,
    /// Installed by the base image (its layer is the base's). Added in `strata.report/v1.1`.
    #[serde(default)]
    pub base: bool,
}
