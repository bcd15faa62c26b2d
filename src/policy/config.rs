//! The CI policy: defaults, `.dive-ci`, `.strata.toml` `[ci]` and command-line flags, merged in
//! that order (a later source overrides a single value; list values accumulate).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::analysis::finding::{Category, Severity};
use crate::{Error, Result};

/// A limit on reclaimable bytes: absolute, or a fraction of all shipped bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ByteLimit {
    /// At most this many bytes.
    Bytes(u64),
    /// At most this fraction (0–1) of the image's total bytes.
    Fraction(f64),
}

/// A path allowlist entry: a glob (`/app/test/**`, `*.pem`) or a regex (`re:^/usr/share/`).
#[derive(Debug, Clone)]
pub struct PathPattern {
    /// As written by the user.
    pub raw: String,
    re: Regex,
}

impl PathPattern {
    /// Parses a glob or, with a `re:` prefix, a regular expression.
    ///
    /// Globs: `*` matches within one path segment, `**` across segments, `?` one character; a
    /// pattern without a leading `/` matches at any depth; a pattern matching a directory
    /// also matches everything below it.
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        let re = if let Some(r) = raw.strip_prefix("re:") {
            Regex::new(r)
                .map_err(|e| format!("invalid regex {raw:?}: {}", one_line(&e.to_string())))?
        } else {
            if raw.trim().is_empty() {
                return Err("empty path pattern".into());
            }
            Regex::new(&glob_to_regex(raw)).map_err(|e| format!("invalid glob {raw:?}: {e}"))?
        };
        Ok(Self {
            raw: raw.to_owned(),
            re,
        })
    }

    /// True when `path` (absolute, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        if path.starts_with('/') {
            self.re.is_match(path)
        } else {
            self.re.is_match(&format!("/{path}"))
        }
    }
}

fn glob_to_regex(glob: &str) -> String {
    let g = glob.trim_end_matches('/');
    let (mut out, body) = match g.strip_prefix('/') {
        Some(rest) => (String::from("^/"), rest),
        None => (String::from("^(?:.*/)?"), g),
    };
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    out.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    out.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out.push_str("(?:/.*)?$");
    out
}

/// The merged CI policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Fail when the efficiency score is below this (0–1).
    pub lowest_efficiency: Option<f64>,
    /// Fail when reclaimable bytes exceed this.
    pub highest_reclaimable_bytes: Option<ByteLimit>,
    /// Fail when the reclaimable share of the non-base layers (1..n) exceeds this (0–1).
    pub highest_user_reclaimable_percent: Option<f64>,
    /// Highest severity allowed per category; `None` as a value allows no finding at all.
    pub max_severity: BTreeMap<Category, Option<Severity>>,
    /// Rule ids that fail the gate whenever they fire.
    pub forbid_rules: Vec<String>,
    /// Rule ids whose findings are ignored.
    pub allow_rules: Vec<String>,
    /// Paths whose findings are ignored.
    pub allow_paths: Vec<PathPattern>,
    /// Ignore findings inherited from the base image (off by default).
    pub ignore_inherited: bool,
    /// Fail when no valid SLSA provenance attestation names the image (off by default).
    pub require_provenance: bool,
    /// Fail when a finding of at least this severity remains.
    pub fail_on: Option<Severity>,
    /// Warn when a finding of at least this severity remains.
    pub warn_on: Option<Severity>,
    /// Fail unless the image has a valid signature (checked with `key`, or keyless against
    /// `trusted-root` and the required identity).
    pub require_signature: bool,
    /// The public key cosign signatures are verified with (relative to the policy file).
    pub key: Option<PathBuf>,
    /// The Sigstore trusted root keyless certificates must chain to (relative to the file).
    pub trusted_root: Option<PathBuf>,
    /// The identity (SAN email or URI) a keyless certificate must carry.
    pub certificate_identity: Option<String>,
    /// The OIDC issuer a keyless certificate must carry.
    pub certificate_oidc_issuer: Option<String>,
    /// The files the policy was read from, in order.
    pub sources: Vec<PathBuf>,
    /// What the policy files held that strata ignores, one line per file (printed on stderr).
    pub warnings: Vec<String>,
}

impl Default for Policy {
    /// dive's defaults for the size rules (`0.9`, off, `0.1`), `fail-on = high`,
    /// `warn-on = medium`.
    fn default() -> Self {
        Self {
            lowest_efficiency: Some(0.9),
            highest_reclaimable_bytes: None,
            highest_user_reclaimable_percent: Some(0.1),
            max_severity: BTreeMap::new(),
            forbid_rules: Vec::new(),
            allow_rules: Vec::new(),
            allow_paths: Vec::new(),
            ignore_inherited: false,
            require_provenance: false,
            fail_on: Some(Severity::High),
            warn_on: Some(Severity::Medium),
            require_signature: false,
            key: None,
            trusted_root: None,
            certificate_identity: None,
            certificate_oidc_issuer: None,
            sources: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Every key of the `[ci]` section, as written in `.strata.toml` (flags use the same names).
pub const CI_KEYS: [&str; 16] = [
    "lowest-efficiency",
    "highest-reclaimable-bytes",
    "highest-user-reclaimable-percent",
    "max-severity",
    "forbid-rules",
    "allow-rules",
    "allow-paths",
    "ignore-inherited",
    "require-provenance",
    "fail-on",
    "warn-on",
    "require-signature",
    "key",
    "trusted-root",
    "certificate-identity",
    "certificate-oidc-issuer",
];

/// A raw value from any source, before interpretation.
#[derive(Debug, Clone)]
pub enum Raw {
    /// A string (flags and `.dive-ci` values are always strings).
    Str(String),
    /// A TOML integer.
    Int(i64),
    /// A TOML float.
    Float(f64),
    /// A TOML boolean (`false` disables a rule).
    Bool(bool),
}

impl Raw {
    fn describe(&self) -> String {
        match self {
            Raw::Str(s) => format!("{s:?}"),
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => b.to_string(),
        }
    }

    /// True for the values that switch a rule off: `disabled`, `off`, `false`, `none`, `""`.
    fn is_off(&self) -> bool {
        match self {
            Raw::Str(s) => matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "" | "disabled" | "off" | "false" | "none"
            ),
            Raw::Bool(b) => !b,
            _ => false,
        }
    }
}

/// Parses a byte size: `20MB` = 20,000,000, `20MiB` = 20,971,520, `1.5GiB`, `512k`, `1234`
/// (bytes); units are case-insensitive, SI (`kB`, `MB`, …, powers of 1000) or IEC (`KiB`,
/// `MiB`, …, powers of 1024), as dive's go-humanize reads them.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || format!("invalid size {s:?} (expected e.g. 20MB, 20MiB, 1.5GiB or 1234)");
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return Err(bad());
    }
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "ki" | "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mi" | "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gi" | "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "ti" | "tib" => 1 << 40,
        "p" | "pb" => 1_000_000_000_000_000,
        "pi" | "pib" => 1 << 50,
        _ => return Err(bad()),
    };
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(mult).ok_or_else(bad);
    }
    let f: f64 = num.parse().map_err(|_| bad())?;
    let v = (f * mult as f64).round();
    if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(v as u64)
}

/// Parses a percentage `5%` / `0.5 %` into a fraction 0–1.
pub fn parse_percent(s: &str) -> Option<std::result::Result<f64, String>> {
    let num = s.trim().strip_suffix('%')?;
    Some(match num.trim().parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p / 100.0),
        _ => Err(format!("invalid percentage {s:?} (expected 0% to 100%)")),
    })
}

fn parse_fraction(v: &Raw) -> std::result::Result<Option<f64>, String> {
    if v.is_off() {
        return Ok(None);
    }
    let bad = || {
        format!(
            "invalid value {} (expected a fraction 0-1 such as 0.9, a percentage such as \"90%\", or \"off\")",
            v.describe()
        )
    };
    let f = match v {
        Raw::Float(f) => *f,
        Raw::Int(i) => *i as f64,
        Raw::Str(s) => match parse_percent(s) {
            Some(r) => return r.map(Some),
            None => s.trim().parse::<f64>().map_err(|_| bad())?,
        },
        Raw::Bool(_) => return Err(bad()),
    };
    if (0.0..=1.0).contains(&f) {
        Ok(Some(f))
    } else {
        Err(bad())
    }
}

fn parse_byte_limit(v: &Raw) -> std::result::Result<Option<ByteLimit>, String> {
    if v.is_off() {
        return Ok(None);
    }
    match v {
        Raw::Int(i) if *i >= 0 => Ok(Some(ByteLimit::Bytes(*i as u64))),
        Raw::Str(s) => match parse_percent(s) {
            Some(r) => r.map(|f| Some(ByteLimit::Fraction(f))),
            None => parse_size(s).map(|b| Some(ByteLimit::Bytes(b))),
        },
        _ => Err(format!(
            "invalid size {} (expected e.g. \"20MB\", \"20MiB\", \"1.5GiB\", \"5%\" or a byte count)",
            v.describe()
        )),
    }
}

fn parse_severity(v: &Raw) -> std::result::Result<Option<Severity>, String> {
    if v.is_off() {
        return Ok(None);
    }
    match v {
        Raw::Str(s) => Severity::parse(s.trim()).map(Some).ok_or_else(|| {
            format!("invalid severity {s:?} (expected critical, high, medium, low, info or off)")
        }),
        _ => Err(format!(
            "invalid severity {} (expected critical, high, medium, low, info or off)",
            v.describe()
        )),
    }
}

fn parse_bool(v: &Raw) -> std::result::Result<bool, String> {
    match v {
        Raw::Bool(b) => Ok(*b),
        Raw::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(format!("invalid value {s:?} (expected true or false)")),
        },
        _ => Err(format!(
            "invalid value {} (expected true or false)",
            v.describe()
        )),
    }
}

/// Parses a category name (`secret`, `waste`, `bloat`, `config`; plurals accepted).
pub fn parse_category(s: &str) -> Option<Category> {
    match s.trim().to_ascii_lowercase().trim_end_matches('s') {
        "secret" => Some(Category::Secret),
        "waste" => Some(Category::Waste),
        "bloat" => Some(Category::Bloat),
        "config" => Some(Category::Config),
        _ => None,
    }
}

fn text_value(v: &Raw) -> std::result::Result<String, String> {
    match v {
        Raw::Str(s) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(format!(
            "invalid value {} (expected a non-empty string)",
            v.describe()
        )),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Policy {
    /// Sets one key from a raw value; `Err` holds the problem (without the key or file).
    pub fn set(&mut self, key: &str, v: &Raw) -> std::result::Result<(), String> {
        match key {
            "lowest-efficiency" => self.lowest_efficiency = parse_fraction(v)?,
            "highest-reclaimable-bytes" => self.highest_reclaimable_bytes = parse_byte_limit(v)?,
            "highest-user-reclaimable-percent" => {
                self.highest_user_reclaimable_percent = parse_fraction(v)?;
            }
            "ignore-inherited" => self.ignore_inherited = parse_bool(v)?,
            "require-provenance" => self.require_provenance = parse_bool(v)?,
            "fail-on" => self.fail_on = parse_severity(v)?,
            "warn-on" => self.warn_on = parse_severity(v)?,
            "require-signature" => self.require_signature = parse_bool(v)?,
            "key" => self.key = Some(PathBuf::from(text_value(v)?)),
            "trusted-root" => self.trusted_root = Some(PathBuf::from(text_value(v)?)),
            "certificate-identity" => self.certificate_identity = Some(text_value(v)?),
            "certificate-oidc-issuer" => self.certificate_oidc_issuer = Some(text_value(v)?),
            "forbid-rules" => self.forbid_rules.push(rule_id(v)?),
            "allow-rules" => self.allow_rules.push(rule_id(v)?),
            "allow-paths" => match v {
                Raw::Str(s) => self.allow_paths.push(PathPattern::parse(s)?),
                _ => return Err(format!("invalid path pattern {}", v.describe())),
            },
            "max-severity" => {
                // `category=level` (the flag form).
                let Raw::Str(s) = v else {
                    return Err(format!(
                        "invalid value {} (expected category=level)",
                        v.describe()
                    ));
                };
                let Some((c, l)) = s.split_once('=') else {
                    return Err(format!(
                        "invalid value {s:?} (expected category=level, e.g. secret=low)"
                    ));
                };
                self.set_max_severity(c, &Raw::Str(l.to_owned()))?;
            }
            _ => return Err(format!("unknown key (known: {})", CI_KEYS.join(", "))),
        }
        Ok(())
    }

    fn set_max_severity(&mut self, category: &str, v: &Raw) -> std::result::Result<(), String> {
        let c = parse_category(category).ok_or_else(|| {
            format!("unknown category {category:?} (expected secret, waste, bloat or config)")
        })?;
        match v {
            Raw::Str(s) if s.trim().eq_ignore_ascii_case("none") => {
                self.max_severity.insert(c, None);
            }
            _ => match parse_severity(v)? {
                Some(level) => {
                    self.max_severity.insert(c, Some(level));
                }
                None => {
                    self.max_severity.remove(&c);
                }
            },
        }
        Ok(())
    }

    /// Checks combinations that cannot be meant.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.require_signature && self.key.is_none() {
            if self.certificate_identity.is_none() && self.certificate_oidc_issuer.is_none() {
                return Err(
                    "require-signature needs key (a cosign public key) or certificate-identity \
                     with trusted-root (keyless)"
                        .into(),
                );
            }
            if self.trusted_root.is_none() {
                return Err(
                    "require-signature with certificate-identity needs trusted-root: keyless \
                     certificates cannot be verified offline without it"
                        .into(),
                );
            }
        }
        if let Some(r) = self
            .forbid_rules
            .iter()
            .find(|r| self.allow_rules.contains(r))
        {
            return Err(format!("rule {r:?} is both forbidden and allowed"));
        }
        Ok(())
    }

    /// Applies the `[ci]` section of a `.strata.toml` file. Other top-level sections belong to
    /// other parts of strata and are ignored here; unknown keys inside `[ci]` are errors.
    pub fn apply_toml(&mut self, text: &str, file: &Path) -> Result<()> {
        let err = |problem: String| Error::invalid(file.display().to_string(), problem);
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            err(format!("invalid TOML: {}", one_line(&e.to_string())))
        })?;
        self.sources.push(file.to_owned());
        let Some(ci) = table.get("ci") else {
            return Ok(());
        };
        let toml::Value::Table(ci) = ci else {
            return Err(err("`ci` must be a table ([ci])".into()));
        };
        for (key, value) in ci {
            let at = |problem: String| err(format!("ci.{key}: {problem}"));
            // `fail_on` is read as `fail-on`, like the snake_case keys of `[findings]`.
            let canonical = key.replace('_', "-");
            match (canonical.as_str(), value) {
                ("max-severity", toml::Value::Table(t)) => {
                    for (c, l) in t {
                        let raw = toml_raw(l).ok_or_else(|| {
                            err(format!("ci.max-severity.{c}: expected a severity string"))
                        })?;
                        self.set_max_severity(c, &raw)
                            .map_err(|p| err(format!("ci.max-severity.{c}: {p}")))?;
                    }
                }
                ("max-severity", _) => {
                    return Err(at(
                        "expected a table, e.g. max-severity = { secret = \"low\" }".into(),
                    ))
                }
                ("forbid-rules" | "allow-rules" | "allow-paths", toml::Value::Array(items)) => {
                    for item in items {
                        let raw = toml_raw(item)
                            .ok_or_else(|| at("expected an array of strings".into()))?;
                        self.set(&canonical, &raw).map_err(at)?;
                    }
                }
                ("forbid-rules" | "allow-rules" | "allow-paths", _) => {
                    return Err(at("expected an array of strings".into()))
                }
                (k @ ("key" | "trusted-root"), toml::Value::String(p)) => {
                    // A file named in the policy is found next to the policy.
                    let path = Path::new(p);
                    let path = match file.parent() {
                        Some(dir) if path.is_relative() => dir.join(path),
                        _ => path.to_owned(),
                    };
                    self.set(k, &Raw::Str(path.display().to_string()))
                        .map_err(at)?;
                }
                (k, v) if CI_KEYS.contains(&k) => {
                    let raw =
                        toml_raw(v).ok_or_else(|| at("expected a number or a string".into()))?;
                    self.set(k, &raw).map_err(at)?;
                }
                (_, _) => {
                    return Err(err(format!(
                        "unknown key `ci.{key}` (known: {})",
                        CI_KEYS.join(", ")
                    )))
                }
            }
        }
        self.validate().map_err(err)
    }

    /// Applies a dive `.dive-ci` file, read as YAML the way dive reads it: only the `rules:`
    /// mapping counts (`lowestEfficiency: 0.95`, `highestWastedBytes: 20MB`,
    /// `highestUserWastedPercent: 0.20`, and their dashed spellings), each value taken as text
    /// (quoted or not; `disabled`, `off`, `false` or `""` switch the rule off; an empty value
    /// keeps the default). Everything else (other top-level keys, plugin rules) is ignored and
    /// named in [`Policy::warnings`]. A file without `rules:` is an error; a rule key at the top
    /// level is ignored with a warning, since dive reads rules only under `rules:`.
    pub fn apply_dive_ci(&mut self, text: &str, file: &Path) -> Result<()> {
        let err = |problem: String| Error::invalid(file.display().to_string(), problem);
        let docs = MarkedYaml::load_from_str(text)
            .map_err(|e| err(format!("invalid YAML: {}", one_line(&e.to_string()))))?;
        let root = docs
            .iter()
            .find(|d| !matches!(d.data, YamlData::Value(Scalar::Null)));
        let Some(root) = root else {
            return Err(err(
                "no `rules:` mapping (the file is empty; dive reads its rules only from `rules:`)"
                    .into(),
            ));
        };
        let YamlData::Mapping(top) = &root.data else {
            return Err(err(format!(
                "line {}: expected a mapping with a `rules:` key",
                line_of(root)
            )));
        };
        let mut ignored: Vec<String> = Vec::new();
        let mut misplaced: Vec<String> = Vec::new();
        let mut rules = None;
        for (k, v) in top {
            let key = yaml_key(k);
            if key == "rules" {
                rules = Some(v);
            } else if dive_rule_key(&key).is_some() {
                misplaced.push(key);
            } else {
                ignored.push(key);
            }
        }
        let Some(rules) = rules else {
            let found = if misplaced.is_empty() {
                String::new()
            } else {
                format!(" (found {} at the top level)", misplaced.join(", "))
            };
            return Err(err(format!(
                "no `rules:` mapping{found}; dive reads its rules only from `rules:`"
            )));
        };
        match &rules.data {
            YamlData::Mapping(m) => {
                for (k, v) in m {
                    let key = yaml_key(k);
                    let at = |problem: String| {
                        err(format!("line {}: rules.{key}: {problem}", line_of(v)))
                    };
                    let Some(strata_key) = dive_rule_key(&key) else {
                        if let Some(near) = near_dive_rule_key(&key) {
                            return Err(err(format!(
                                "line {}: unknown key `rules.{key}` (did you mean `{near}`?)",
                                line_of(k)
                            )));
                        }
                        ignored.push(format!("rules.{key}"));
                        continue;
                    };
                    match yaml_text(v) {
                        Ok(None) => {}
                        Ok(Some(value)) => self.set(strata_key, &Raw::Str(value)).map_err(at)?,
                        Err(kind) => {
                            return Err(at(format!(
                                "expected a value, got a {kind} (dive reads rule values as text)"
                            )))
                        }
                    }
                }
            }
            // `rules:` with nothing under it: dive keeps its defaults.
            YamlData::Value(Scalar::Null) => {}
            _ => {
                return Err(err(format!(
                    "line {}: `rules` must be a mapping of rule keys",
                    line_of(rules)
                )))
            }
        }
        let mut notes = Vec::new();
        if !ignored.is_empty() {
            notes.push(format!(
                "ignoring {} (strata reads only rules.lowestEfficiency, rules.highestWastedBytes and rules.highestUserWastedPercent)",
                ignored.join(", ")
            ));
        }
        if !misplaced.is_empty() {
            notes.push(format!(
                "ignoring {} at the top level: dive reads rules only under `rules:`",
                misplaced.join(", ")
            ));
        }
        if !notes.is_empty() {
            self.warnings.push(format!(
                "{}: {}",
                file.display(),
                crate::model::sanitize(&notes.join("; "))
            ));
        }
        self.sources.push(file.to_owned());
        Ok(())
    }

    /// Loads the policy: `--config FILE` alone when given (a `.dive-ci`-style file is
    /// recognised by its name or by a leading `rules:` line), else `.dive-ci` then
    /// `.strata.toml` from `dir`, each when present.
    pub fn load(explicit: Option<&Path>, dir: &Path) -> Result<Self> {
        let mut p = Self::default();
        let read = |f: &Path| std::fs::read_to_string(f).map_err(|e| Error::io(f, e));
        match explicit {
            Some(f) => {
                let text = read(f)?;
                if is_dive_ci(f, &text) {
                    p.apply_dive_ci(&text, f)?;
                } else {
                    p.apply_toml(&text, f)?;
                }
            }
            None => {
                let dive = dir.join(".dive-ci");
                if dive.is_file() {
                    p.apply_dive_ci(&read(&dive)?, Path::new(".dive-ci"))?;
                }
                let strata = dir.join(".strata.toml");
                if strata.is_file() {
                    p.apply_toml(&read(&strata)?, Path::new(".strata.toml"))?;
                }
            }
        }
        Ok(p)
    }
}

fn rule_id(v: &Raw) -> std::result::Result<String, String> {
    match v {
        Raw::Str(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(format!("invalid rule id {}", v.describe())),
    }
}

fn toml_raw(v: &toml::Value) -> Option<Raw> {
    Some(match v {
        toml::Value::String(s) => Raw::Str(s.clone()),
        toml::Value::Integer(i) => Raw::Int(*i),
        toml::Value::Float(f) => Raw::Float(*f),
        toml::Value::Boolean(b) => Raw::Bool(*b),
        _ => return None,
    })
}

/// True when `f` is a dive `.dive-ci`-style file: by its name (`*dive-ci*`, `*.yaml`,
/// `*.yml`), or, unless it ends in `.toml`, by a line `rules:` at the top level.
pub fn is_dive_ci(f: &Path, text: &str) -> bool {
    let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".toml") {
        return false;
    }
    if name.contains("dive-ci") || name.ends_with(".yaml") || name.ends_with(".yml") {
        return true;
    }
    text.lines()
        .map(strip_yaml_comment)
        .any(|l| l.trim_end() == "rules:")
}

fn strip_yaml_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev_space => return &line[..i],
            _ => {}
        }
        prev_space = c == ' ' || c == '\t';
    }
    line
}

/// The strata key a dive rule key maps to: dive's `.dive-ci` spelling (camelCase) or the
/// dashed spelling of dive's application config.
fn dive_rule_key(key: &str) -> Option<&'static str> {
    match key {
        "lowestEfficiency" | "lowest-efficiency" => Some("lowest-efficiency"),
        "highestWastedBytes" | "highest-wasted-bytes" => Some("highest-reclaimable-bytes"),
        "highestUserWastedPercent" | "highest-user-wasted-percent" => {
            Some("highest-user-reclaimable-percent")
        }
        _ => None,
    }
}

/// A dive rule key `key` is probably a misspelling of (case, dashes or at most two edits).
fn near_dive_rule_key(key: &str) -> Option<&'static str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let k = norm(key);
    [
        "lowestEfficiency",
        "highestWastedBytes",
        "highestUserWastedPercent",
    ]
    .into_iter()
    .find(|known| edit_distance(&k, &norm(known)) <= 2)
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// 1-based line of a YAML node.
fn line_of(node: &MarkedYaml) -> usize {
    node.span.start.line()
}

/// A mapping key as text (non-text keys shown as YAML would).
fn yaml_key(node: &MarkedYaml) -> String {
    match yaml_text(node) {
        Ok(Some(s)) => s,
        Ok(None) => "null".to_owned(),
        Err(kind) => format!("<{kind}>"),
    }
}

/// A scalar as dive's YAML decoder hands it to a string field: its text (`0.95`, `20MB`,
/// `false`); `None` for null (dive then keeps the default); `Err` names a non-scalar.
fn yaml_text(node: &MarkedYaml) -> std::result::Result<Option<String>, &'static str> {
    match &node.data {
        YamlData::Value(Scalar::Null) => Ok(None),
        YamlData::Value(Scalar::String(s)) => Ok(Some(s.to_string())),
        YamlData::Value(Scalar::Boolean(b)) => Ok(Some(b.to_string())),
        YamlData::Value(Scalar::Integer(i)) => Ok(Some(i.to_string())),
        YamlData::Value(Scalar::FloatingPoint(f)) => Ok(Some(f.to_string())),
        YamlData::Representation(s, _, _) => Ok(Some(s.to_string())),
        YamlData::Tagged(_, inner) => yaml_text(inner),
        YamlData::Sequence(_) => Err("list"),
        YamlData::Mapping(_) => Err("mapping"),
        YamlData::Alias(_) | YamlData::BadValue => Err("alias"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_go_humanize() {
        assert_eq!(parse_size("20MB"), Ok(20_000_000));
        assert_eq!(parse_size("20MiB"), Ok(20_971_520));
        assert_eq!(parse_size("1.5GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("20mb"), Ok(20_000_000));
        assert_eq!(parse_size("512k"), Ok(512_000));
        assert_eq!(parse_size("18000"), Ok(18_000));
        assert_eq!(parse_size("18000B"), Ok(18_000));
        assert_eq!(parse_size("0"), Ok(0));
        for bad in [
            "",
            "MB",
            "20XB",
            "-5MB",
            "1.2.3MB",
            "20 M B",
            ".5MB",
            "99999999999PB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn percentages_and_fractions() {
        assert_eq!(parse_percent("5%"), Some(Ok(0.05)));
        assert_eq!(parse_percent(" 50 %"), Some(Ok(0.5)));
        assert!(matches!(parse_percent("101%"), Some(Err(_))));
        assert_eq!(parse_percent("5"), None);
        assert_eq!(parse_fraction(&Raw::Float(0.9)), Ok(Some(0.9)));
        assert_eq!(parse_fraction(&Raw::Str("90%".into())), Ok(Some(0.9)));
        assert_eq!(parse_fraction(&Raw::Str("0.25".into())), Ok(Some(0.25)));
        assert_eq!(parse_fraction(&Raw::Int(1)), Ok(Some(1.0)));
        assert_eq!(parse_fraction(&Raw::Str("disabled".into())), Ok(None));
        assert_eq!(parse_fraction(&Raw::Bool(false)), Ok(None));
        assert!(parse_fraction(&Raw::Float(1.5)).is_err());
        assert!(parse_fraction(&Raw::Int(90)).is_err());
        assert_eq!(
            parse_byte_limit(&Raw::Str("5%".into())),
            Ok(Some(ByteLimit::Fraction(0.05)))
        );
        assert_eq!(
            parse_byte_limit(&Raw::Int(17_999)),
            Ok(Some(ByteLimit::Bytes(17_999)))
        );
        assert!(parse_byte_limit(&Raw::Float(1.5)).is_err());
    }

    #[test]
    fn globs_and_regexes() {
        let p = |s: &str| PathPattern::parse(s).unwrap();
        assert!(p("/app/keys/**").matches("/app/keys/id_rsa"));
        assert!(p("/app/keys").matches("/app/keys/id_rsa"));
        assert!(!p("/app/keys").matches("/app/keys2/id_rsa"));
        assert!(p("*.pem").matches("/etc/ssl/a.pem"));
        assert!(!p("*.pem").matches("/etc/ssl/a.pem.bak"));
        assert!(p("/app/*/deploy.env").matches("/app/config/deploy.env"));
        assert!(!p("/app/*/deploy.env").matches("/app/a/b/deploy.env"));
        assert!(p("/app/**/deploy.env").matches("/app/a/b/deploy.env"));
        assert!(p("/app/**/deploy.env").matches("/app/deploy.env"));
        assert!(p("id_rs?").matches("app/keys/id_rsa"));
        assert!(p("re:^/usr/share/(doc|man)/").matches("/usr/share/doc/x"));
        assert!(!p("re:^/usr/share/(doc|man)/").matches("/usr/share/info/x"));
        assert!(PathPattern::parse("re:(").is_err());
        assert!(PathPattern::parse("").is_err());
    }

    #[test]
    fn toml_section_is_strict_others_lenient() {
        let mut p = Policy::default();
        let f = Path::new("x/.strata.toml");
        p.apply_toml(
            r#"
[secrets]
anything = "goes"
[findings.whatever]
x = 1
[ci]
lowest-efficiency = "95%"
highest-reclaimable-bytes = "20MiB"
highest-user-reclaimable-percent = 0.2
fail_on = "critical"
warn-on = "off"
forbid-rules = ["secret.private-key"]
allow-rules = ["config.no-healthcheck"]
allow-paths = ["/app/test/**", "re:\\.md$"]
max-severity = { secret = "low", config = "none" }
"#,
            f,
        )
        .unwrap();
        assert_eq!(p.lowest_efficiency, Some(0.95));
        assert_eq!(
            p.highest_reclaimable_bytes,
            Some(ByteLimit::Bytes(20_971_520))
        );
        assert_eq!(p.highest_user_reclaimable_percent, Some(0.2));
        assert_eq!(p.fail_on, Some(Severity::Critical));
        assert_eq!(p.warn_on, None);
        assert_eq!(p.forbid_rules, ["secret.private-key"]);
        assert_eq!(p.allow_rules, ["config.no-healthcheck"]);
        assert_eq!(p.allow_paths.len(), 2);
        assert_eq!(p.max_severity[&Category::Secret], Some(Severity::Low));
        assert_eq!(p.max_severity[&Category::Config], None);

        let e = Policy::default()
            .apply_toml("[ci]\nlowest-eficiency = 0.9\n", f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x/.strata.toml") && e.contains("ci.lowest-eficiency"),
            "{e}"
        );
        let e = Policy::default()
            .apply_toml("[ci]\nhighest-reclaimable-bytes = \"20XB\"\n", f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ci.highest-reclaimable-bytes") && e.contains("20XB"),
            "{e}"
        );
        let e = Policy::default()
            .apply_toml("[ci]\nfail-on = \"severe\"\n", f)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ci.fail-on") && e.contains("severe"), "{e}");
        let e = Policy::default()
            .apply_toml(
                "[ci]\nmax-severity = { secrets = \"low\", cfg = \"low\" }\n",
                f,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("ci.max-severity.cfg"), "{e}");
        let e = Policy::default()
            .apply_toml("[ci\nx=1", f)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid TOML") && !e.contains('\n'), "{e}");
        let e = Policy::default()
            .apply_toml("[ci]\nforbid-rules = [\"a\"]\nallow-rules = [\"a\"]\n", f)
            .unwrap_err()
            .to_string();
        assert!(e.contains("both forbidden and allowed"), "{e}");
    }

    #[test]
    fn dive_ci_lines() {
        let mut p = Policy::default();
        let f = Path::new(".dive-ci");
        p.apply_dive_ci(
            "# dive rules\n---\nlog:\n  level: debug\nrules:\n  lowestEfficiency: 0.95 # comment\n  highestWastedBytes: \"20MB\"\n  highestUserWastedPercent: disabled\n",
            f,
        )
        .unwrap();
        assert_eq!(p.lowest_efficiency, Some(0.95));
        assert_eq!(
            p.highest_reclaimable_bytes,
            Some(ByteLimit::Bytes(20_000_000))
        );
        assert_eq!(p.highest_user_reclaimable_percent, None);

        let mut p = Policy::default();
        p.apply_dive_ci(
            "rules:\n  highest-wasted-bytes: ''\n  lowest-efficiency: off\n",
            f,
        )
        .unwrap();
        assert_eq!(p.highest_reclaimable_bytes, None);
        assert_eq!(p.lowest_efficiency, None);
        // Defaults (dive's) stay for keys the file does not set.
        assert_eq!(p.highest_user_reclaimable_percent, Some(0.1));

        let e = Policy::default()
            .apply_dive_ci("rules:\n  lowestEfficency: 0.9\n", f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(".dive-ci") && e.contains("line 2") && e.contains("lowestEfficency"),
            "{e}"
        );
        let e = Policy::default()
            .apply_dive_ci("rules:\n  highestWastedBytes: lots\n", f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("highestWastedBytes") && e.contains("lots"),
            "{e}"
        );
        assert!(is_dive_ci(Path::new("ci-rules"), "# x\nrules:\n  a: 1\n"));
        assert!(!is_dive_ci(Path::new("ci.toml"), "rules:\n"));
    }
}
