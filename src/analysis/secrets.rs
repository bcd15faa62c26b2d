//! Secret rules and secret findings: file contents (every version in every layer, squashed-away
//! ones included), file names, the image config (ENV, labels) and the build history (build args
//! leaked into `RUN` steps). Everything shown is redacted.
//!
//! The built-in rules live in `assets/secret-rules.toml`; users add rules and allowlists in the
//! `[secrets]` section of `.strata.toml`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use aho_corasick::{packed, AhoCorasick};
use regex::bytes::{Regex, RegexSet};
use serde::Deserialize;

use super::finding::{Category, Finding, Severity};
use super::findings::{finding, Ctx};
use crate::model::fs::{EntryKind, VersionId};
use crate::model::ContentMatch;
use crate::report::mask_value;
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
    regex: Regex,
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
    file_set: RegexSet,
    keywords: Prefilter,
    keyword_rules: Vec<Vec<usize>>,
    allow_paths: RegexSet,
    allow_values: RegexSet,
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

fn compile(re: &str, what: &str) -> Result<Regex> {
    Regex::new(re).map_err(|e| Error::Other(format!("secret rule {what}: bad regex: {e}")))
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
        for spec in file.content.iter().chain(&user.rules) {
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
            let group_count = compile(&spec.regex, &spec.id)?.captures_len();
            for g in [spec.secret_group, spec.label_group].into_iter().flatten() {
                if g >= group_count {
                    return Err(Error::Other(format!(
                        "secret rule {}: group {g} does not exist in its regex",
                        spec.id
                    )));
                }
            }
            content.push(ContentRule {
                id: Arc::from(spec.id.as_str()),
                title: spec.title.clone(),
                severity: severity(&spec.severity, &spec.id)?,
                regex: compile(&spec.regex, &spec.id)?,
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
        for spec in file.file.iter().chain(&user.files) {
            if disabled(&spec.id) {
                continue;
            }
            compile(&spec.path, &spec.id)?;
            file_patterns.push(spec.path.clone());
            files.push(FileRule {
                id: Arc::from(spec.id.as_str()),
                title: spec.title.clone(),
                severity: severity(&spec.severity, &spec.id)?,
                why: spec.why.clone(),
                fix: spec.fix.clone(),
            });
        }
        let set = |pats: Vec<String>, what: &str| {
            RegexSet::new(pats).map_err(|e| Error::Other(format!("secret {what}: bad regex: {e}")))
        };
        let keywords = Prefilter::build(&kw, &mut keyword_rules)?;
        Ok(RuleSet {
            content,
            files,
            file_set: set(file_patterns, "file rules")?,
            keywords,
            keyword_rules,
            allow_paths: set(
                file.allow
                    .paths
                    .iter()
                    .chain(&user.allow_paths)
                    .cloned()
                    .collect(),
                "allow_paths",
            )?,
            allow_values: set(
                file.allow
                    .values
                    .iter()
                    .chain(&user.allow_values)
                    .cloned()
                    .collect(),
                "allow_values",
            )?,
            max_file_bytes: user.max_file_bytes.unwrap_or(2 << 20),
            load_error: None,
        })
    }

    /// A set without rules (used only if the built-in rules fail to load).
    pub fn empty(load_error: Option<String>) -> RuleSet {
        RuleSet {
            content: Vec::new(),
            files: Vec::new(),
            file_set: RegexSet::empty(),
            keywords: Prefilter::default(),
            keyword_rules: Vec::new(),
            allow_paths: RegexSet::empty(),
            allow_values: RegexSet::empty(),
            max_file_bytes: 2 << 20,
            load_error,
        }
    }

    /// True when `path` is allowlisted: never scanned, never reported.
    pub fn path_allowed(&self, path: &[u8]) -> bool {
        self.allow_paths.is_match(path)
    }

    /// True when `value` is a placeholder or allowlisted value rather than a secret.
    pub fn value_allowed(&self, value: &[u8]) -> bool {
        self.allow_values.is_match(value)
    }

    /// File-name rules matching `path` (indexes into [`RuleSet::files`]).
    pub fn file_rules_for(&self, path: &[u8]) -> Vec<usize> {
        self.file_set.matches(path).into_iter().collect()
    }

    /// True when a file-name rule matches `path`.
    pub fn is_secret_file(&self, path: &[u8]) -> bool {
        self.file_set.is_match(path)
    }

    /// The content rule with this id.
    pub fn content_rule(&self, id: &str) -> Option<&ContentRule> {
        self.content.iter().find(|r| &*r.id == id)
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
            let mut n = 0;
            for caps in rule.regex.captures_iter(content) {
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

/// The keyword prefilter: small groups of literals, each searched with the SIMD "Teddy"
/// searcher (a group of up to 13 literals runs at 10-20 GB/s, four groups at about 3 GB/s;
/// one automaton over all keywords runs at the speed of a byte-at-a-time DFA, under 1 GB/s).
#[derive(Debug, Clone, Default)]
struct Prefilter {
    groups: Vec<KeywordGroup>,
}

#[derive(Debug, Clone)]
struct KeywordGroup {
    packed: Option<packed::Searcher>,
    ac: Option<AhoCorasick>,
    /// Keyword index of each pattern of the group.
    ids: Vec<usize>,
}

/// At most this many literals per SIMD group (measured: 13 is the sweet spot of aho-corasick's
/// Teddy; from 17 on it falls back to slower buckets).
const GROUP: usize = 13;

impl Prefilter {
    /// Builds the groups. A keyword containing another keyword is dropped and its rules move
    /// to the shorter one (a superset gate: the rule's regex decides).
    fn build(kw: &[String], keyword_rules: &mut [Vec<usize>]) -> Result<Self> {
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
        // Similar lengths together: a group's fingerprint length is its shortest literal's.
        kept.sort_by_key(|&i| (std::cmp::Reverse(kw[i].len()), i));
        let mut groups = Vec::new();
        let n_groups = kept.len().div_ceil(GROUP).max(1);
        let per = kept.len().div_ceil(n_groups).max(1);
        for chunk in kept.chunks(per) {
            let pats: Vec<&str> = chunk.iter().map(|&i| kw[i].as_str()).collect();
            let searcher = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(&pats)
                .build();
            let ac = match searcher {
                Some(_) => None,
                None => Some(
                    AhoCorasick::builder()
                        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                        .build(&pats)
                        .map_err(|e| Error::Other(format!("secret rule keywords: {e}")))?,
                ),
            };
            groups.push(KeywordGroup {
                packed: searcher,
                ac,
                ids: chunk.to_vec(),
            });
        }
        Ok(Self { groups })
    }

    /// Calls `found` once for each keyword present in `content`.
    fn search(&self, content: &[u8], mut found: impl FnMut(usize)) {
        for g in &self.groups {
            let mut seen = [false; 64];
            let mut left = g.ids.len();
            let mut on = |p: usize| {
                if !seen[p] {
                    seen[p] = true;
                    found(g.ids[p]);
                    left -= 1;
                }
                left == 0
            };
            if let Some(s) = &g.packed {
                for m in s.find_iter(content) {
                    if on(m.pattern().as_usize()) {
                        break;
                    }
                }
            } else if let Some(ac) = &g.ac {
                for m in ac.find_iter(content) {
                    if on(m.pattern().as_usize()) {
                        break;
                    }
                }
            }
        }
    }
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

static ASSIGNMENT: LazyLock<std::result::Result<regex::Regex, regex::Error>> =
    LazyLock::new(|| {
        regex::Regex::new(
            r#"(?:^|[\s;&|(])(?:--)?([A-Za-z_][A-Za-z0-9_.\-]*)=("[^"]*"|'[^']*'|[^\s;&|)]*)"#,
        )
    });

/// Every `NAME=value` assignment in a command (shell words, `ENV`, build args): (name, value,
/// byte range of the value without quotes).
pub fn assignments(cmd: &str) -> Vec<(&str, &str, std::ops::Range<usize>)> {
    let Ok(re) = ASSIGNMENT.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(cmd)
        .filter_map(|c| {
            let k = c.get(1)?;
            let v = c.get(2)?;
            let (mut s, mut e) = (v.start(), v.end());
            let raw = v.as_str();
            if raw.len() >= 2
                && (raw.starts_with('"') && raw.ends_with('"')
                    || raw.starts_with('\'') && raw.ends_with('\''))
            {
                s += 1;
                e -= 1;
            }
            Some((k.as_str(), &cmd[s..e], s..e))
        })
        .collect()
}

/// True when a config or history value is a placeholder or reference, not a secret.
pub fn placeholder(rules: &RuleSet, value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || rules.value_allowed(v.as_bytes()) || v.starts_with('/') && !v.contains(' ')
}

/// A history step or command with every secret value masked: values of secret-looking
/// `NAME=value` assignments and every content-rule match. Control characters are escaped.
pub fn redact_command(cmd: &str) -> String {
    match RuleSet::builtin() {
        Ok(rules) => redact_with(&rules, cmd),
        Err(_) => redact_with_names(cmd),
    }
}

fn redact_with_names(cmd: &str) -> String {
    let mut spans: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (k, v, r) in assignments(cmd) {
        if super::looks_secret_name(k) && !v.is_empty() {
            spans.push((r, mask_value(v)));
        }
    }
    apply_spans(cmd, spans)
}

/// [`redact_command`] with a given rule set.
pub fn redact_with(rules: &RuleSet, cmd: &str) -> String {
    let mut spans: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (k, v, r) in assignments(cmd) {
        if super::looks_secret_name(k) && !v.is_empty() {
            spans.push((r, mask_value(v)));
        }
    }
    for m in rules.scan_text(cmd) {
        spans.push((m.range.clone(), mask_value(&cmd[m.range.clone()])));
    }
    apply_spans(cmd, spans)
}

fn apply_spans(cmd: &str, mut spans: Vec<(std::ops::Range<usize>, String)>) -> String {
    spans.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let mut out = String::with_capacity(cmd.len());
    let mut at = 0;
    for (r, rep) in spans {
        if r.start < at {
            continue;
        }
        out.push_str(&crate::model::sanitize(&cmd[at..r.start]));
        out.push_str(&rep);
        at = r.end;
    }
    out.push_str(&crate::model::sanitize(&cmd[at..]));
    out
}

// ---------------------------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------------------------

/// Secret findings: file contents, file names, config and history.
pub fn findings(ctx: &Ctx) -> Vec<Finding> {
    let mut out = content_findings(ctx);
    out.extend(file_name_findings(ctx));
    out.extend(config_findings(ctx));
    out.extend(history_findings(ctx));
    out
}

/// Where a version's bytes are, in words: "added in layer 1 by `…`, deleted in layer 2 …".
fn version_story(ctx: &Ctx, vids: &[VersionId]) -> (String, Option<usize>, Option<usize>) {
    let fs = &ctx.image.fs;
    let first = &fs.versions[vids[0] as usize];
    let last = &fs.versions[vids[vids.len() - 1] as usize];
    let layer = first.layer as usize;
    let mut s = format!("added in layer {layer} by `{}`", ctx.cmd(layer));
    if vids.len() > 1 {
        let layers: Vec<String> = vids
            .iter()
            .skip(1)
            .map(|&v| fs.versions[v as usize].layer.to_string())
            .collect();
        s.push_str(&format!(", copied again in layer(s) {}", layers.join(", ")));
    }
    if last.is_visible() {
        s.push_str("; present in the final image");
        (s, Some(layer), None)
    } else {
        let removed = last.removed_in.map(|r| r as usize);
        if let (Some(r), Some(cause)) = (removed, last.removal) {
            s.push_str(&format!(
                "; {} (`{}`), but still recoverable from layer {layer}'s tarball",
                super::findings::removal_words(cause, r),
                ctx.cmd(r)
            ));
        }
        (s, Some(layer), removed)
    }
}

/// Groups versions of one path with identical content (a secret copied again by a chmod or an
/// identical rewrite is one secret).
fn group_versions(ctx: &Ctx, vids: Vec<VersionId>) -> Vec<Vec<VersionId>> {
    let fs = &ctx.image.fs;
    let mut groups: Vec<Vec<VersionId>> = Vec::new();
    let mut by_key: HashMap<(u32, u64, u64), usize> = HashMap::new();
    let mut vids = vids;
    vids.sort_unstable();
    for v in vids {
        let ver = &fs.versions[v as usize];
        let key = (ver.path, ver.hash, ver.size);
        match by_key.get(&key) {
            Some(&g) => groups[g].push(v),
            None => {
                by_key.insert(key, groups.len());
                groups.push(vec![v]);
            }
        }
    }
    groups
}

fn content_findings(ctx: &Ctx) -> Vec<Finding> {
    let rules = &ctx.cfg.rules;
    let fs = &ctx.image.fs;
    // rule -> versions, and (rule, version) -> matches.
    let mut by_rule: HashMap<&str, Vec<VersionId>> = HashMap::new();
    let mut matches: HashMap<(&str, VersionId), Vec<&ContentMatch>> = HashMap::new();
    for (v, m) in &ctx.image.content_matches {
        let path = fs.path(fs.versions[*v as usize].path);
        if rules.path_allowed(path) {
            continue;
        }
        let list = matches.entry((&m.rule, *v)).or_default();
        if list.is_empty() {
            by_rule.entry(&m.rule).or_default().push(*v);
        }
        list.push(m);
    }
    let mut out = Vec::new();
    let mut rule_ids: Vec<&str> = by_rule.keys().copied().collect();
    rule_ids.sort_unstable();
    for id in rule_ids {
        let Some(rule) = rules.content_rule(id) else {
            continue;
        };
        for group in group_versions(ctx, by_rule[id].clone()) {
            let v0 = &fs.versions[group[0] as usize];
            let path = ctx.path(v0.path);
            let ms = &matches[&(id, group[0])];
            let (story, layer, removed_in) = version_story(ctx, &group);
            let squashed = removed_in.is_some();
            let lines: Vec<String> = ms.iter().map(|m| m.line.to_string()).collect();
            let mut evidence = format!("{} at {path}:{}", ms[0].redacted, ms[0].line);
            if ms.len() > 1 {
                evidence.push_str(&format!(" (+{} more)", ms.len() - 1));
            }
            let title = if squashed {
                format!("{} squashed away in a lower layer", rule.title)
            } else {
                format!("{} in the final image", rule.title)
            };
            out.push(Finding {
                path: Some(path.clone()),
                layer,
                removed_in,
                bytes: Some(v0.size),
                evidence: Some(evidence),
                fix: rule.fix.clone(),
                why: rule.why.clone(),
                ..finding(
                    &rule.id,
                    Category::Secret,
                    rule.severity,
                    title,
                    format!(
                        "{} in {path} (line {}): {story}.",
                        rule.title,
                        lines.join(", ")
                    ),
                )
            });
        }
    }
    out
}

fn file_name_findings(ctx: &Ctx) -> Vec<Finding> {
    let rules = &ctx.cfg.rules;
    let fs = &ctx.image.fs;
    let with_content: std::collections::HashSet<VersionId> =
        ctx.image.content_matches.iter().map(|(v, _)| *v).collect();
    let mut by_rule: HashMap<usize, Vec<VersionId>> = HashMap::new();
    // A clone has its own regex cache, owned by this thread (the shared one belongs to a
    // layer worker, and every other thread takes its slow path). Each path is tested once.
    let file_set = rules.file_set.clone();
    let mut verdict = vec![0u8; fs.path_count()];
    for (vid, v) in fs.versions.iter().enumerate() {
        if !matches!(v.kind, EntryKind::File | EntryKind::HardLink) {
            continue;
        }
        let slot = &mut verdict[v.path as usize];
        if *slot == 0 {
            let path = fs.path(v.path);
            *slot = if file_set.is_match(path) && !rules.path_allowed(path) {
                2
            } else {
                1
            };
        }
        if *slot != 2 {
            continue;
        }
        let path = fs.path(v.path);
        let vid = vid as VersionId;
        if with_content.contains(&vid) {
            // The content rules already report this file, with stronger evidence.
            continue;
        }
        for r in rules.file_rules_for(path) {
            by_rule.entry(r).or_default().push(vid);
        }
    }
    let mut out = Vec::new();
    let mut keys: Vec<usize> = by_rule.keys().copied().collect();
    keys.sort_unstable();
    for r in keys {
        let rule = &rules.files[r];
        for group in group_versions(ctx, by_rule[&r].clone()) {
            let v0 = &fs.versions[group[0] as usize];
            let path = ctx.path(v0.path);
            let (story, layer, removed_in) = version_story(ctx, &group);
            let title = if removed_in.is_some() {
                format!("{} squashed away in a lower layer", rule.title)
            } else {
                format!("{} in the final image", rule.title)
            };
            out.push(Finding {
                path: Some(path.clone()),
                layer,
                removed_in,
                bytes: Some(v0.size),
                evidence: Some(format!("file name {path} ({} bytes)", v0.size)),
                fix: rule.fix.clone(),
                why: rule.why.clone(),
                ..finding(
                    &rule.id,
                    Category::Secret,
                    rule.severity,
                    title,
                    format!("{path}: {story}."),
                )
            });
        }
    }
    out
}

const CONFIG_WHY: &str = "Everything in the image config (ENV, labels) is readable by anyone who can pull the image (`docker inspect`) and is inherited by every image built FROM it.";
const CONFIG_FIX: &str = "Pass secrets at run time (`docker run -e`, orchestrator secrets, mounted files) instead of `ENV`/`LABEL`, and rotate the exposed value.";

fn config_findings(ctx: &Ctx) -> Vec<Finding> {
    let rules = &ctx.cfg.rules;
    let mut out = Vec::new();
    let mut check = |kind: &str, rule_id: &str, key: &str, value: &str| {
        let by_name = super::looks_secret_name(key) && !placeholder(rules, value);
        let by_value = rules.scan_text(value);
        if !by_name && by_value.is_empty() {
            return;
        }
        let what = by_value
            .first()
            .map(|m| rules.content[m.rule].title.clone())
            .unwrap_or_else(|| "secret-looking value".to_owned());
        let sev = by_value
            .iter()
            .map(|m| rules.content[m.rule].severity)
            .max()
            .unwrap_or(Severity::High)
            .max(Severity::High);
        let key_s = crate::model::sanitize(key);
        out.push(Finding {
            evidence: Some(format!("{kind} {key_s}={}", mask_value(value))),
            fix: Some(CONFIG_FIX.to_owned()),
            why: Some(CONFIG_WHY.to_owned()),
            ..finding(
                rule_id,
                Category::Secret,
                sev,
                format!("Secret in {kind} {key_s}"),
                format!(
                    "{kind} {key_s} holds a {} in the image config; anyone who pulls the image can read it.",
                    what.to_lowercase()
                ),
            )
        });
    };
    for e in &ctx.image.config.env {
        let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
        check("ENV", "env-secret", k, v);
    }
    for (k, v) in &ctx.image.config.labels {
        check("LABEL", "label-secret", k, v);
    }
    out
}

fn history_findings(ctx: &Ctx) -> Vec<Finding> {
    let rules = &ctx.cfg.rules;
    let env: std::collections::HashSet<&str> =
        ctx.image.config.env.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let mut seen: std::collections::HashSet<(String, String)> = Default::default();
    for (hi, h) in ctx.image.history.iter().enumerate() {
        let cmd = h.created_by.as_str();
        let step = match h.layer {
            Some(l) => format!("history step {hi} (layer {l})"),
            None => format!("history step {hi} (no layer)"),
        };
        let (build_args, rest) = split_build_args(cmd);
        let instr = instruction(rest);
        let mut flagged: Vec<std::ops::Range<usize>> = Vec::new();
        for (k, v, r) in assignments(cmd) {
            if !super::looks_secret_name(k) || placeholder(rules, v) {
                continue;
            }
            let in_args = build_args.as_ref().is_some_and(|a| a.contains(&r.start));
            let in_env = matches!(instr, Some("ENV") | Some("ARG"));
            if in_env && !in_args && env.contains(format!("{k}={v}").as_str()) {
                // Reported once, as the ENV of the config.
                flagged.push(r);
                continue;
            }
            if !seen.insert((k.to_owned(), v.to_owned())) {
                flagged.push(r);
                continue;
            }
            let (rule, what) = if in_args {
                ("history-build-arg-secret", "build argument")
            } else if in_env {
                ("history-env-secret", "ENV/ARG value")
            } else {
                ("history-secret", "assignment")
            };
            let k_s = crate::model::sanitize(k);
            out.push(Finding {
                layer: h.layer,
                evidence: Some(format!("{k_s}={}", mask_value(v))),
                fix: Some(if in_args {
                    "Use BuildKit secrets (`RUN --mount=type=secret,id=token`) instead of ARG: every build argument used by a RUN is recorded in the image history.".to_owned()
                } else {
                    "Do not write secrets into Dockerfile instructions; pass them as build secrets (`RUN --mount=type=secret`) or at run time, and rotate the value.".to_owned()
                }),
                why: Some("The image history (`docker history --no-trunc`) is shipped with the image: anyone who pulls it reads every build step, including the values of build arguments and ENV instructions.".to_owned()),
                ..finding(
                    rule,
                    Category::Secret,
                    Severity::High,
                    format!("Secret {what} {k_s} recorded in the history"),
                    format!(
                        "{step} records {what} {k_s} with a value: `{}`.",
                        super::findings::one_line(&redact_with(rules, cmd), 120)
                    ),
                )
            });
            flagged.push(r);
        }
        for m in rules.scan_text(cmd) {
            if flagged
                .iter()
                .any(|r| r.start <= m.range.start && m.range.end <= r.end)
            {
                continue;
            }
            let rule = &rules.content[m.rule];
            if !seen.insert((rule.id.to_string(), cmd[m.range.clone()].to_owned())) {
                continue;
            }
            out.push(Finding {
                layer: h.layer,
                evidence: Some(m.redacted.clone()),
                fix: rule.fix.clone(),
                why: Some("The image history is shipped with the image: anyone who pulls it can read every build command.".to_owned()),
                ..finding(
                    "history-secret",
                    Category::Secret,
                    rule.severity.max(Severity::High),
                    format!("{} in the build history", rule.title),
                    format!(
                        "{step} contains a {}: `{}`.",
                        rule.title.to_lowercase(),
                        super::findings::one_line(&redact_with(rules, cmd), 120)
                    ),
                )
            });
        }
    }
    out
}

/// Splits the `|N A=1 B=2 ` build-argument prefix that the builders record before a RUN
/// command. Returns the byte offsets of the argument values and the rest of the command.
fn split_build_args(cmd: &str) -> (Option<Vec<usize>>, &str) {
    let t = cmd.trim_start();
    let base = cmd.len() - t.len();
    let (t, base) = match t.strip_prefix("RUN ") {
        Some(r) => (r.trim_start(), cmd.len() - r.trim_start().len()),
        None => (t, base),
    };
    let Some(rest) = t.strip_prefix('|') else {
        return (None, t);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(n) = digits.parse::<usize>() else {
        return (None, t);
    };
    let mut pos = base + 1 + digits.len();
    let mut starts = Vec::new();
    for _ in 0..n {
        let tail = &cmd[pos..];
        let trimmed = tail.trim_start();
        pos += tail.len() - trimmed.len();
        let word_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        if let Some(eq) = trimmed[..word_len].find('=') {
            starts.push(pos + eq + 1);
        }
        pos += word_len;
    }
    (Some(starts), &cmd[pos..])
}

/// The Dockerfile instruction of a history step (`ENV`, `ARG`, `RUN`…), if recognisable.
fn instruction(rest: &str) -> Option<&'static str> {
    let t = rest.trim_start();
    let t = t.strip_prefix("/bin/sh -c ").unwrap_or(t).trim_start();
    let t = t.strip_prefix("#(nop)").unwrap_or(t).trim_start();
    ["ENV", "ARG", "LABEL", "RUN", "ADD", "COPY"]
        .into_iter()
        .find(|i| t.starts_with(i) && t[i.len()..].starts_with(char::is_whitespace))
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
    fn build_args_and_redaction() {
        let v = fake("", B62, 16, 41);
        let cmd = format!("|2 GITHUB_TOKEN={v} MODE=prod /bin/sh -c make");
        let (args, rest) = split_build_args(&cmd);
        assert_eq!(rest.trim_start(), "/bin/sh -c make");
        assert_eq!(args.map(|a| a.len()), Some(2));
        let red = redact_command(&cmd);
        assert!(!red.contains(&v), "{red}");
        assert!(red.contains("MODE=prod"));
        assert!(red.contains(&v[..4]));
        let gh = fake("ghp_", B62, 36, 43);
        let red = redact_command(&format!("/bin/sh -c curl -H 'Authorization: token {gh}' x"));
        assert!(!red.contains(&gh));
        assert_eq!(
            instruction("/bin/sh -c #(nop)  ENV A=b"),
            Some("ENV"),
            "legacy ENV step"
        );
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
