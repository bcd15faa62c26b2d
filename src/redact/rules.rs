//! The secret rule engine: built-in rules (`assets/secret-rules.toml`) plus a user's
//! `[secrets]` section of `.strata.toml`, compiled once, with a keyword prefilter. Used by the
//! engine's content inspector, the secret findings and the redactor.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use regex::bytes::{Regex, RegexSet};
use serde::Deserialize;

use super::mask_value;
use super::prefilter::Prefilter;
use crate::model::finding::Severity;
use crate::model::ContentMatch;
use crate::{Error, Result};

/// The built-in rule file.
pub const BUILTIN_RULES: &str = include_str!("../../assets/secret-rules.toml");

/// Bytes of a file sniffed for NUL to decide it is binary.
pub const SNIFF_BYTES: usize = 8 << 10;
/// At most this many matches are kept per rule and file.
const MAX_MATCHES_PER_RULE: usize = 8;
/// At most this many matches are kept per file.
const MAX_MATCHES_PER_FILE: usize = 32;

/// One content rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentRuleSpec {
    /// Stable id.
    pub id: String,
    /// What was found.
    pub title: String,
    /// `critical|high|medium|low|info`.
    pub severity: String,
    /// Literals (case-sensitive) gating the regex.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The pattern (Rust `regex` syntax).
    pub regex: String,
    /// Group holding the secret value.
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// Group shown verbatim (a key name, a kind).
    #[serde(default)]
    pub label_group: Option<usize>,
    /// Minimum Shannon entropy of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Only files whose path matches.
    #[serde(default)]
    pub paths: Option<String>,
    /// Never files whose path matches.
    #[serde(default)]
    pub skip_paths: Option<String>,
    /// Only files (or texts) where this regex also matches somewhere: the context that makes a
    /// match a secret (`kind: Secret` for a manifest's `data:` values).
    #[serde(default)]
    pub requires: Option<String>,
    /// Why it matters.
    #[serde(default)]
    pub why: Option<String>,
    /// How to fix it.
    #[serde(default)]
    pub fix: Option<String>,
}

/// One file-name rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRuleSpec {
    /// Stable id.
    pub id: String,
    /// What was found.
    pub title: String,
    /// `critical|high|medium|low|info`.
    pub severity: String,
    /// Regex over the normalised path (no leading `/`).
    pub path: String,
    /// Why it matters.
    #[serde(default)]
    pub why: Option<String>,
    /// How to fix it.
    #[serde(default)]
    pub fix: Option<String>,
}

/// Paths never scanned and values that are placeholders.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    /// Regexes over paths.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes over secret values.
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    allow: AllowSpec,
    #[serde(default)]
    content: Vec<ContentRuleSpec>,
    #[serde(default)]
    file: Vec<FileRuleSpec>,
}

/// The `[secrets]` section of `.strata.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// Extra content rules (`[[secrets.rules]]`).
    pub rules: Vec<ContentRuleSpec>,
    /// Extra file-name rules (`[[secrets.files]]`).
    pub files: Vec<FileRuleSpec>,
    /// Paths never scanned or reported (regexes over the path without leading `/`).
    pub allow_paths: Vec<String>,
    /// Secret values to ignore (regexes).
    pub allow_values: Vec<String>,
    /// Rule ids to turn off.
    pub disable: Vec<String>,
    /// Files larger than this are scanned only when their name is a known secret file
    /// (default 2 MiB).
    pub max_file_bytes: Option<u64>,
}

/// A compiled content rule.
#[derive(Debug, Clone)]
pub struct ContentRule {
    /// Stable id.
    pub id: Arc<str>,
    /// What was found.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    regex: LazyRegex,
    secret_group: Option<usize>,
    label_group: Option<usize>,
    entropy: Option<f64>,
    paths: Option<Regex>,
    skip_paths: Option<Regex>,
    requires: Option<Regex>,
    always: bool,
    /// Why it matters.
    pub why: Option<String>,
    /// How to fix it.
    pub fix: Option<String>,
}

/// A compiled file-name rule.
#[derive(Debug, Clone)]
pub struct FileRule {
    /// Stable id.
    pub id: Arc<str>,
    /// What was found.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Why it matters.
    pub why: Option<String>,
    /// How to fix it.
    pub fix: Option<String>,
}

/// Every secret rule, compiled once.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Content rules.
    pub content: Vec<ContentRule>,
    /// File-name rules, in the order of `file_set`.
    pub files: Vec<FileRule>,
    file_set: LazySet,
    keywords: Prefilter,
    keyword_rules: Vec<Vec<usize>>,
    allow_paths: LazySet,
    allow_values: LazySet,
    /// Files larger than this are scanned only when named like a secret file.
    pub max_file_bytes: u64,
    /// Why the rules could not be loaded (the set is then empty).
    pub load_error: Option<String>,
}

/// One match of a content rule in a text (config value, history step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// Rule index in [`RuleSet::content`].
    pub rule: usize,
    /// Byte range of the secret in the text.
    pub range: std::ops::Range<usize>,
    /// Redacted preview.
    pub redacted: String,
}

/// A content rule's regex, compiled when its keyword first appears: most rules never meet
/// their keyword in a given input, and compiling every rule up front was most of strata's
/// start-up time. Built-in patterns are checked by a test; a user's are compiled when the
/// rules load, so a bad one is still an error there.
#[derive(Debug, Clone)]
struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    fn new(pattern: &str) -> Self {
        Self {
            pattern: pattern.to_owned(),
            compiled: OnceLock::new(),
        }
    }

    /// The compiled regex (`None` only for a pattern that does not compile, which the rule
    /// loading and the built-in rules' test rule out).
    fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&self.pattern).ok())
            .as_ref()
    }
}

/// A set of patterns compiled on first use, like [`LazyRegex`].
#[derive(Debug, Clone)]
struct LazySet {
    patterns: Vec<String>,
    compiled: OnceLock<RegexSet>,
}

impl LazySet {
    fn new(patterns: Vec<String>) -> Self {
        Self {
            patterns,
            compiled: OnceLock::new(),
        }
    }

    fn get(&self) -> &RegexSet {
        self.compiled
            .get_or_init(|| RegexSet::new(&self.patterns).unwrap_or_else(|_| RegexSet::empty()))
    }
}

fn compile(re: &str, what: &str) -> Result<Regex> {
    Regex::new(re).map_err(|e| Error::Other(format!("secret rule {what}: bad regex: {e}")))
}

/// Compiles a rule's regex and checks that its secret and label groups exist.
fn check_groups(spec: &ContentRuleSpec) -> Result<()> {
    let group_count = compile(&spec.regex, &spec.id)?.captures_len();
    for g in [spec.secret_group, spec.label_group].into_iter().flatten() {
        if g >= group_count {
            return Err(Error::Other(format!(
                "secret rule {}: group {g} does not exist in its regex",
                spec.id
            )));
        }
    }
    Ok(())
}

fn severity(s: &str, what: &str) -> Result<Severity> {
    Severity::parse(s)
        .ok_or_else(|| Error::Other(format!("secret rule {what}: unknown severity {s:?}")))
}

static BUILTIN: LazyLock<std::result::Result<Arc<RuleSet>, String>> = LazyLock::new(|| {
    RuleSet::build(&SecretsConfig::default())
        .map(Arc::new)
        .map_err(|e| e.to_string())
});

impl RuleSet {
    /// The built-in rules, compiled once per process.
    pub fn builtin() -> Result<Arc<RuleSet>> {
        BUILTIN.clone().map_err(Error::Other)
    }

    /// Compiles the built-in rules plus a user's `[secrets]` section.
    pub fn build(user: &SecretsConfig) -> Result<RuleSet> {
        let file: RulesFile = toml::from_str(BUILTIN_RULES)
            .map_err(|e| Error::Other(format!("assets/secret-rules.toml: {e}")))?;
        let disabled = |id: &str| user.disable.iter().any(|d| d == id);
        let mut content = Vec::new();
        let mut kw: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut kw_index: HashMap<String, usize> = HashMap::new();
        let builtin_count = file.content.len();
        for (n, spec) in file.content.iter().chain(&user.rules).enumerate() {
            if disabled(&spec.id) {
                continue;
            }
            let idx = content.len();
            for k in spec.keywords.iter().filter(|k| !k.is_empty()) {
                let key = k.clone();
                let slot = *kw_index.entry(key.clone()).or_insert_with(|| {
                    kw.push(key);
                    keyword_rules.push(Vec::new());
                    kw.len() - 1
                });
                keyword_rules[slot].push(idx);
            }
            if n >= builtin_count {
                check_groups(spec)?;
            }
            content.push(ContentRule {
                id: Arc::from(spec.id.as_str()),
                title: spec.title.clone(),
                severity: severity(&spec.severity, &spec.id)?,
                regex: LazyRegex::new(&spec.regex),
                secret_group: spec.secret_group,
                label_group: spec.label_group,
                entropy: spec.entropy,
                paths: spec
                    .paths
                    .as_deref()
                    .map(|p| compile(p, &spec.id))
                    .transpose()?,
                skip_paths: spec
                    .skip_paths
                    .as_deref()
                    .map(|p| compile(p, &spec.id))
                    .transpose()?,
                requires: spec
                    .requires
                    .as_deref()
                    .map(|p| compile(p, &spec.id))
                    .transpose()?,
                always: spec.keywords.is_empty() || spec.paths.is_some(),
                why: spec.why.clone(),
                fix: spec.fix.clone(),
            });
        }
        let mut files = Vec::new();
        let mut file_patterns = Vec::new();
        for (n, spec) in file.file.iter().chain(&user.files).enumerate() {
            if disabled(&spec.id) {
                continue;
            }
            if n >= file.file.len() {
                compile(&spec.path, &spec.id)?;
            }
            file_patterns.push(spec.path.clone());
            files.push(FileRule {
                id: Arc::from(spec.id.as_str()),
                title: spec.title.clone(),
                severity: severity(&spec.severity, &spec.id)?,
                why: spec.why.clone(),
                fix: spec.fix.clone(),
            });
        }
        // A user's allow patterns are checked now; the sets compile on first use.
        for (p, what) in user
            .allow_paths
            .iter()
            .map(|p| (p, "allow_paths"))
            .chain(user.allow_values.iter().map(|p| (p, "allow_values")))
        {
            Regex::new(p).map_err(|e| Error::Other(format!("secret {what}: bad regex: {e}")))?;
        }
        let keywords = Prefilter::build(&kw, &keep_shortest(&kw, &mut keyword_rules))?;
        Ok(RuleSet {
            content,
            files,
            file_set: LazySet::new(file_patterns),
            keywords,
            keyword_rules,
            allow_paths: LazySet::new(
                file.allow
                    .paths
                    .iter()
                    .chain(&user.allow_paths)
                    .cloned()
                    .collect(),
            ),
            allow_values: LazySet::new(
                file.allow
                    .values
                    .iter()
                    .chain(&user.allow_values)
                    .cloned()
                    .collect(),
            ),
            max_file_bytes: user.max_file_bytes.unwrap_or(2 << 20),
            load_error: None,
        })
    }

    /// A set without rules (used only if the built-in rules fail to load).
    pub fn empty(load_error: Option<String>) -> RuleSet {
        RuleSet {
            content: Vec::new(),
            files: Vec::new(),
            file_set: LazySet::new(Vec::new()),
            keywords: Prefilter::default(),
            keyword_rules: Vec::new(),
            allow_paths: LazySet::new(Vec::new()),
            allow_values: LazySet::new(Vec::new()),
            max_file_bytes: 2 << 20,
            load_error,
        }
    }

    /// True when `path` is allowlisted: never scanned, never reported.
    pub fn path_allowed(&self, path: &[u8]) -> bool {
        self.allow_paths.get().is_match(path)
    }

    /// True when `value` is a placeholder or allowlisted value rather than a secret.
    pub fn value_allowed(&self, value: &[u8]) -> bool {
        self.allow_values.get().is_match(value)
    }

    /// File-name rules matching `path` (indexes into [`RuleSet::files`]).
    pub fn file_rules_for(&self, path: &[u8]) -> Vec<usize> {
        self.file_set.get().matches(path).into_iter().collect()
    }

    /// A clone of the file-name matcher: it has its own regex cache, owned by the calling
    /// thread (the shared one belongs to a layer worker, and other threads take its slow path).
    pub fn file_matcher(&self) -> RegexSet {
        self.file_set.get().clone()
    }

    /// True when a file-name rule matches `path`.
    pub fn is_secret_file(&self, path: &[u8]) -> bool {
        self.file_set.get().is_match(path)
    }

    /// The content rule with this id.
    pub fn content_rule(&self, id: &str) -> Option<&ContentRule> {
        self.content.iter().find(|r| &*r.id == id)
    }

    /// Passes the keyword prefilter makes over each text (for benchmarks and tests).
    pub fn prefilter_passes(&self) -> usize {
        self.keywords.passes()
    }

    /// Scans one file's content. Binary files (a NUL byte in the first 8 KiB) are skipped.
    pub fn scan(&self, path: &[u8], content: &[u8]) -> Vec<ContentMatch> {
        let head = &content[..content.len().min(SNIFF_BYTES)];
        if head.contains(&0) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (ri, (start, end, label, secret)) in self.candidates(Some(path), content) {
            if out.len() >= MAX_MATCHES_PER_FILE {
                break;
            }
            let rule = &self.content[ri];
            let line = 1 + content[..start].iter().filter(|&&b| b == b'\n').count();
            out.push(ContentMatch {
                rule: rule.id.clone(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                offset: start as u64,
                len: u32::try_from(end - start).unwrap_or(u32::MAX),
                redacted: preview(label.as_deref(), &content[start..end], secret),
            });
        }
        out
    }

    /// Scans a text that is not a file (an ENV value, a history step). Rules restricted to
    /// file paths do not apply.
    pub fn scan_text(&self, text: &str) -> Vec<TextMatch> {
        self.candidates(None, text.as_bytes())
            .into_iter()
            .map(|(rule, (start, end, label, secret))| TextMatch {
                rule,
                range: start..end,
                redacted: preview(label.as_deref(), &text.as_bytes()[start..end], secret),
            })
            .collect()
    }

    /// Which rules the keyword prefilter lets run on `content`.
    fn triggered(&self, content: &[u8]) -> Vec<bool> {
        let mut hit: Vec<bool> = self.content.iter().map(|r| r.always).collect();
        self.keywords.search(content, |k| {
            for &r in &self.keyword_rules[k] {
                hit[r] = true;
            }
        });
        hit
    }

    /// Every accepted match: (rule, (start, end, label, is_secret_group)).
    #[allow(clippy::type_complexity)]
    fn candidates(
        &self,
        path: Option<&[u8]>,
        content: &[u8],
    ) -> Vec<(usize, (usize, usize, Option<String>, bool))> {
        let hit = self.triggered(content);
        let mut out = Vec::new();
        for (ri, rule) in self.content.iter().enumerate() {
            if !hit[ri] {
                continue;
            }
            match path {
                Some(p) => {
                    if rule.paths.as_ref().is_some_and(|re| !re.is_match(p))
                        || rule.skip_paths.as_ref().is_some_and(|re| re.is_match(p))
                    {
                        continue;
                    }
                }
                None => {
                    if rule.paths.is_some() {
                        continue;
                    }
                }
            }
            if rule
                .requires
                .as_ref()
                .is_some_and(|re| !re.is_match(content))
            {
                continue;
            }
            let Some(regex) = rule.regex.get() else {
                continue;
            };
            let mut n = 0;
            for caps in regex.captures_iter(content) {
                let Some(whole) = caps.get(0) else { continue };
                let secret = rule.secret_group.and_then(|g| caps.get(g));
                let (start, end) =
                    secret.map_or((whole.start(), whole.end()), |m| (m.start(), m.end()));
                let value = &content[start..end];
                if rule.secret_group.is_some() && (value.is_empty() || self.value_allowed(value)) {
                    continue;
                }
                if rule.entropy.is_some_and(|min| entropy(value) < min) {
                    continue;
                }
                // One secret, one finding: the more specific rule (earlier in the file) wins.
                if out.iter().any(|(_, (s, e, _, _))| *s < end && start < *e) {
                    continue;
                }
                let label = rule
                    .label_group
                    .and_then(|g| caps.get(g))
                    .map(|m| crate::model::sanitize_bytes(m.as_bytes()));
                out.push((ri, (start, end, label, rule.secret_group.is_some())));
                n += 1;
                if n >= MAX_MATCHES_PER_RULE {
                    break;
                }
            }
        }
        out
    }
}

/// The keywords worth searching: a keyword containing another keyword is dropped and its rules
/// move to the shorter one (a superset gate: the rule's regex decides).
fn keep_shortest(kw: &[String], keyword_rules: &mut [Vec<usize>]) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::new();
    for (i, k) in kw.iter().enumerate() {
        let inner = kw
            .iter()
            .enumerate()
            .find(|&(j, o)| j != i && k.contains(o.as_str()) && (o.len() < k.len() || j < i));
        match inner {
            Some((j, _)) => {
                let moved = std::mem::take(&mut keyword_rules[i]);
                keyword_rules[j].extend(moved);
            }
            None => kept.push(i),
        }
    }
    kept
}

/// The redacted preview of a match: the label (a key name or a kind) and the first characters
/// of the secret value; a whole-match rule (a key block) shows only its label.
fn preview(label: Option<&str>, value: &[u8], is_value: bool) -> String {
    let text = String::from_utf8_lossy(value);
    match (label, is_value) {
        (Some(l), true) if l.ends_with([':', '=']) => format!("{l}{}", mask_value(&text)),
        (Some(l), true) => format!("{l}={}", mask_value(&text)),
        (None, true) => mask_value(&text),
        (Some(l), false) => format!("{l} (redacted)"),
        (None, false) => mask_value(&text),
    }
}

/// Shannon entropy of `b` in bits per byte.
pub fn entropy(b: &[u8]) -> f64 {
    if b.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &x in b {
        counts[x as usize] += 1;
    }
    let n = b.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Arc<RuleSet> {
        RuleSet::builtin().expect("built-in rules compile")
    }

    fn ids(path: &str, content: &str) -> Vec<String> {
        rules()
            .scan(path.as_bytes(), content.as_bytes())
            .into_iter()
            .map(|m| m.rule.to_string())
            .collect()
    }

    // Test secrets are assembled at run time so this file holds no secret-looking literal.
    fn fake(prefix: &str, alphabet: &str, n: usize, seed: u64) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        let mut x = seed | 1;
        let mut s = prefix.to_owned();
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push(a[(x % a.len() as u64) as usize]);
        }
        s
    }
    const B62: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    #[test]
    fn builtin_rules_compile_with_unique_ids() {
        let r = rules();
        let mut ids: Vec<&str> = r.content.iter().map(|c| &*c.id).collect();
        ids.extend(r.files.iter().map(|f| &*f.id));
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule ids");
        assert!(r.content.len() >= 25);
        // Built-in patterns compile lazily: each must compile, with the groups it names.
        let file: RulesFile = toml::from_str(BUILTIN_RULES).expect("rule file");
        for spec in &file.content {
            check_groups(spec).unwrap_or_else(|e| panic!("{e}"));
        }
        for spec in &file.file {
            compile(&spec.path, &spec.id).unwrap_or_else(|e| panic!("{e}"));
        }
        for p in file.allow.paths.iter().chain(&file.allow.values) {
            compile(p, "allow").unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(r.content.iter().all(|c| c.regex.get().is_some()));
        assert_eq!(r.file_set.get().len(), r.files.len());
    }

    #[test]
    fn private_keys_match_with_a_body_only() {
        let body = fake("", B62, 64, 7);
        let pem = format!(
            "-----BEGIN {k}-----\n{body}\n{body}\n-----END {k}-----\n",
            k = "RSA PRIVATE KEY"
        );
        let m = rules().scan(b"app/key.pem", pem.as_bytes());
        assert_eq!(m.len(), 1);
        assert_eq!(&*m[0].rule, "private-key");
        assert_eq!(m[0].line, 1);
        assert_eq!(m[0].redacted, "RSA PRIVATE KEY (redacted)");
        assert!(!m[0].redacted.contains(&body[..10]));
        let ossh = format!(
            "-----BEGIN {k}-----\n{body}\n-----END {k}-----\n",
            k = "OPENSSH PRIVATE KEY"
        );
        assert_eq!(ids("home/u/.ssh/id_ed25519", &ossh), ["private-key"]);
        // Documentation placeholder: no body.
        let doc = "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n";
        assert!(ids("app/README", doc).is_empty());
    }

    #[test]
    fn token_formats() {
        let aws = fake("AKIA", UPPER, 16, 3);
        assert_eq!(
            ids("app/x.env", &format!("ID={aws}\n")),
            ["aws-access-key-id"]
        );
        // The AWS documentation example key is a placeholder.
        assert!(ids("app/x", &format!("ID={}\n", "AKIAIOSFODNN7EXAMPLE")).is_empty());
        let gh = fake("ghp_", B62, 36, 5);
        assert_eq!(ids("app/c", &format!("token: {gh}\n"))[0], "github-token");
        let npm = fake("npm_", B62, 36, 9);
        assert!(ids("app/c", &npm).contains(&"npm-token".to_owned()));
        let slack = fake("xoxb-", "0123456789", 12, 11) + "-" + &fake("", B62, 24, 13);
        assert!(ids("app/c", &slack).contains(&"slack-token".to_owned()));
        let jwt = format!(
            "{}.{}.{}",
            fake("eyJ", B62, 20, 1),
            fake("eyJ", B62, 30, 2),
            fake("", B62, 30, 3)
        );
        assert!(ids("app/c", &jwt).contains(&"jwt".to_owned()));
        let glpat = fake("glpat-", B62, 20, 17);
        assert!(ids("app/c", &glpat).contains(&"gitlab-token".to_owned()));
        let stripe = fake("sk_live_", B62, 24, 19);
        assert!(ids("app/c", &stripe).contains(&"stripe-secret-key".to_owned()));
        let azure = fake("xY75Q~", B62, 34, 53);
        assert_eq!(
            ids(
                "app/appsettings.json",
                &format!("\"ClientSecret\": \"{azure}\"\n")
            ),
            ["azure-client-secret"]
        );
        let aws_secret = fake("", B62, 40, 59);
        assert_eq!(
            ids("app/.env", &format!("AWS_SECRET_ACCESS_KEY={aws_secret}\n")),
            ["aws-secret-access-key"]
        );
        assert_eq!(
            ids(
                "app/sa.json",
                "{\"type\": \"service_account\", \"project_id\": \"p\"}"
            ),
            ["gcp-service-account"]
        );
        let pypi = fake("pypi-AgEIcHlwaS5vcmc", B62, 60, 61);
        assert_eq!(ids("app/c", &pypi), ["pypi-token"]);
    }

    #[test]
    fn url_credentials_and_placeholders() {
        let pw = fake("", B62, 14, 23);
        assert_eq!(
            ids(
                "app/settings.ini",
                &format!("url = postgres://app:{pw}@db.local/x\n")
            ),
            ["url-credentials"]
        );
        assert!(ids("app/settings.ini", "url = postgres://app:${DB_PASS}@db/x\n").is_empty());
        assert!(ids("app/settings.ini", "url = http://user:password@host/\n").is_empty());
    }

    #[test]
    fn generic_assignment_needs_entropy() {
        let pw = fake("", B62, 20, 29);
        assert_eq!(
            ids("app/config.yml", &format!("db_password: \"{pw}\"\n")),
            ["generic-secret-assignment"]
        );
        assert!(ids("app/config.yml", "db_password: aaaaaaaaaaaa\n").is_empty());
        assert!(ids("app/config.yml", "password = changeme\n").is_empty());
        // Library code is not scanned by the generic rule.
        assert!(ids(
            "usr/lib/python3.11/site-packages/x/y.yml",
            &format!("db_password: \"{pw}\"\n")
        )
        .is_empty());
    }

    #[test]
    fn file_restricted_rules() {
        let tok = fake("", B62, 30, 31);
        assert_eq!(
            ids(
                "root/.npmrc",
                &format!("//registry.npmjs.org/:_authToken={tok}\n")
            ),
            ["npmrc-auth"]
        );
        assert!(ids("app/notes.txt", &format!("_authToken={tok}\n")).is_empty());
        assert_eq!(
            ids(
                "root/.netrc",
                &format!("machine h login u password {tok}\n")
            ),
            ["netrc-password"]
        );
        let auth = fake("", B62, 24, 37);
        assert_eq!(
            ids(
                "root/.docker/config.json",
                &format!("{{\"auths\":{{\"r\":{{\"auth\":\"{auth}\"}}}}}}")
            ),
            ["docker-config-auth"]
        );
        assert_eq!(
            ids(
                "root/.kube/config",
                &format!("users:\n- name: a\n  user:\n    token: {tok}\n")
            ),
            ["kubeconfig-credential"]
        );
    }

    #[test]
    fn binaries_are_skipped() {
        let aws = fake("AKIA", UPPER, 16, 3);
        let mut bin = b"\x7fELF\0\0".to_vec();
        bin.extend_from_slice(aws.as_bytes());
        assert!(rules().scan(b"usr/bin/x", &bin).is_empty());
    }

    #[test]
    fn file_name_rules() {
        let r = rules();
        let names = |p: &str| -> Vec<String> {
            r.file_rules_for(p.as_bytes())
                .into_iter()
                .map(|i| r.files[i].id.to_string())
                .collect()
        };
        assert_eq!(names("app/.env"), ["file-dotenv"]);
        assert_eq!(names("app/.env.production"), ["file-dotenv"]);
        assert_eq!(names("root/.ssh/id_rsa"), ["file-ssh-private-key"]);
        assert!(names("root/.ssh/id_rsa.pub").is_empty());
        assert_eq!(names("etc/ssh/ssh_host_ed25519_key"), ["file-ssh-host-key"]);
        assert!(names("etc/ssh/ssh_host_ed25519_key.pub").is_empty());
        assert_eq!(names("root/.bash_history"), ["file-shell-history"]);
        assert_eq!(names("opt/app/keystore.jks"), ["file-keystore"]);
        assert_eq!(names("app/.aws/credentials"), ["file-cloud-credentials"]);
        assert!(names("etc/environment").is_empty());
    }

    #[test]
    fn user_rules_and_allowlists() {
        let cfg: SecretsConfig = toml::from_str(
            r#"
            allow_paths = ['^opt/fixtures/']
            disable = ["jwt"]
            [[rules]]
            id = "acme-token"
            title = "ACME token"
            severity = "high"
            keywords = ["acme_"]
            regex = 'acme_[a-z0-9]{16}'
            "#,
        )
        .expect("config");
        let r = RuleSet::build(&cfg).expect("rules");
        let found = r.scan(b"app/x", b"k = acme_0123456789abcdef\n");
        assert_eq!(found.len(), 1);
        assert_eq!(&*found[0].rule, "acme-token");
        assert!(r.path_allowed(b"opt/fixtures/key.pem"));
        assert!(r.content_rule("jwt").is_none());
        let bad: SecretsConfig =
            toml::from_str("[[rules]]\nid='x'\ntitle='x'\nseverity='high'\nregex='('\n")
                .expect("config");
        assert!(RuleSet::build(&bad).is_err());
    }

    #[test]
    fn every_keyword_triggers_its_rule() {
        let file: RulesFile = toml::from_str(BUILTIN_RULES).expect("rules");
        let r = rules();
        for spec in &file.content {
            let idx = r
                .content
                .iter()
                .position(|c| *c.id == spec.id)
                .expect("rule");
            for k in &spec.keywords {
                let hay = format!("{}{k}{}", "x ".repeat(40), " y".repeat(40));
                assert!(r.triggered(hay.as_bytes())[idx], "{} by {k:?}", spec.id);
            }
        }
        assert!(!r.triggered(b"nothing to see here")[0]);
    }

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
