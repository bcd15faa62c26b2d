//! The `[secrets]` and `[findings]` sections of `.strata.toml`: the secret rule set (built-in
//! plus the user's, with allowlists) and the options of the findings pass, read once per run.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::redact::rules::{RuleSet, SecretsConfig};
use crate::redact::Redactor;
use crate::{Error, Result};

/// The `[findings]` section of `.strata.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingsOptions {
    /// Rule ids never reported.
    pub disable: Vec<String>,
    /// Waste smaller than this is summed into one `waste-small` finding.
    pub waste_min_bytes: u64,
    /// At most this many individual waste findings per rule; the rest are summed.
    pub waste_max_items: usize,
    /// Identical files smaller than this are not reported as duplicates.
    pub duplicate_min_bytes: u64,
    /// Docs, man pages and locales below this many bytes are not reported.
    pub docs_min_bytes: u64,
    /// Caches below this many bytes are not reported.
    pub cache_min_bytes: u64,
    /// An image older than this many days is reported.
    pub max_age_days: u64,
}

impl Default for FindingsOptions {
    fn default() -> Self {
        Self {
            disable: Vec::new(),
            waste_min_bytes: 1024,
            waste_max_items: 25,
            duplicate_min_bytes: 16 << 10,
            docs_min_bytes: 1 << 20,
            cache_min_bytes: 1,
            max_age_days: 180,
        }
    }
}

/// Everything the findings pass and the content inspector need, built once.
#[derive(Debug, Clone)]
pub struct FindingsConfig {
    /// Compiled secret rules (built-in plus the user's).
    pub rules: Arc<RuleSet>,
    /// `[findings]` options.
    pub options: FindingsOptions,
    /// "Now" as Unix seconds for the image-age check (`None`: the system clock).
    pub now: Option<i64>,
}

impl Default for FindingsConfig {
    fn default() -> Self {
        // The built-in rules are covered by unit tests; if they ever failed to load, scanning
        // goes on without them and the failure is reported as a finding.
        let rules =
            RuleSet::builtin().unwrap_or_else(|e| Arc::new(RuleSet::empty(Some(e.to_string()))));
        Self {
            rules,
            options: FindingsOptions::default(),
            now: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    secrets: Option<SecretsConfig>,
    #[serde(default)]
    findings: Option<FindingsOptions>,
}

impl FindingsConfig {
    /// Parses the `[secrets]` and `[findings]` sections of a `.strata.toml` text (other
    /// sections are ignored). `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| Error::invalid(origin, e.to_string()))?;
        let mut table = toml::map::Map::new();
        if let toml::Value::Table(t) = value {
            for key in ["secrets", "findings"] {
                if let Some(v) = t.get(key) {
                    table.insert(key.to_owned(), v.clone());
                }
            }
        }
        let file: ConfigFile = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| Error::invalid(origin, e.to_string()))?;
        let rules = match &file.secrets {
            Some(s) => {
                Arc::new(RuleSet::build(s).map_err(|e| Error::invalid(origin, e.to_string()))?)
            }
            None => RuleSet::builtin()?,
        };
        Ok(Self {
            rules,
            options: file.findings.unwrap_or_default(),
            now: None,
        })
    }

    /// Reads a `.strata.toml` file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// `.strata.toml` in the current directory if there is one, else the defaults.
    pub fn discover() -> Result<Self> {
        let p = Path::new(".strata.toml");
        if p.is_file() {
            Self::load(p)
        } else {
            Ok(Self::default())
        }
    }
}

impl FindingsConfig {
    /// The redactor applying these rules: the one every output goes through.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.rules.clone())
    }
}
