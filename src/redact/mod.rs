//! The one owner of redaction. Every string that leaves the engine (history steps, layer
//! commands, ENV, labels, findings and their evidence) and every output (JSON, text, SARIF,
//! markdown, the CI summary, the explorer's panes) is redacted through a [`Redactor`] built from
//! the configured rule set: the built-in rules, the user's `[[secrets.rules]]` and the
//! allowlists of `.strata.toml`.
//!
//! Two shapes of text are redacted:
//! - commands (history steps, layer commands, ENV entries, label values): shell-style
//!   `NAME=value` assignments whose name looks secret, plus every content-rule match;
//! - prose (finding titles, messages, evidence): the same content-rule matches plus
//!   `NAME=value` / `name: value` pairs and AWS key ids, leaving already-masked values alone.
//!
//! A masked value keeps its first 4 characters (fewer for short values) then `…(redacted)`.

mod json;
pub mod prefilter;
pub mod rules;

use std::sync::{Arc, LazyLock};

use regex::Regex;

use crate::model::sanitize;
use rules::RuleSet;

/// Applies the configured secret rules to everything the engine hands out.
#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Arc<RuleSet>,
}

impl Default for Redactor {
    /// The built-in rules only (no `.strata.toml`).
    fn default() -> Self {
        Self::new(
            RuleSet::builtin().unwrap_or_else(|e| Arc::new(RuleSet::empty(Some(e.to_string())))),
        )
    }
}

impl Redactor {
    /// A redactor applying `rules` (built-ins plus the user's, with their allowlists).
    pub fn new(rules: Arc<RuleSet>) -> Self {
        Self { rules }
    }

    /// The rule set it applies.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// A history step or layer command with every secret value masked (secret-looking
    /// `NAME=value` assignments and every content-rule match); control characters escaped.
    pub fn command(&self, cmd: &str) -> String {
        redact_with(&self.rules, cmd)
    }

    /// An `ENV` entry (`NAME=value`): the whole value masked when the name looks secret,
    /// else as [`Redactor::command`].
    pub fn env(&self, entry: &str) -> String {
        match entry.split_once('=') {
            Some((k, v)) if looks_secret_name(k) && !v.is_empty() => {
                format!("{}={}", sanitize(k), mask_value(v))
            }
            _ => self.command(entry),
        }
    }

    /// A label value: masked whole when the label name looks secret, else as
    /// [`Redactor::command`].
    pub fn label(&self, name: &str, value: &str) -> String {
        if looks_secret_name(name) && !value.is_empty() {
            mask_value(value)
        } else {
            self.command(value)
        }
    }

    /// Free text about an image (a finding's title, message, evidence, fix): sanitised, every
    /// content-rule match masked, the value of every secret-looking `NAME=value` /
    /// `name: value` masked, AWS access key ids masked. Already masked values stay as they are.
    pub fn text(&self, s: &str) -> String {
        let s = sanitize(s);
        let spans: Vec<(std::ops::Range<usize>, String)> = self
            .rules
            .scan_text(&s)
            .into_iter()
            .map(|m| (m.range.clone(), mask_value(&s[m.range])))
            .collect();
        let s = if spans.is_empty() {
            s
        } else {
            apply_spans(&s, spans)
        };
        redact_prose(&s)
    }

    /// A JSON document (an image config, a manifest) pretty-printed in its stored key order,
    /// every string value redacted: `Env` entries as [`Redactor::env`], `Labels` and
    /// `annotations` values as [`Redactor::label`], every other string (history steps) as
    /// [`Redactor::command`]; keys sanitised. `None` when the bytes are not JSON.
    pub fn json_document(&self, raw: &[u8]) -> Option<String> {
        let node: json::Node = serde_json::from_slice(raw).ok()?;
        let mut out = String::with_capacity(raw.len() + raw.len() / 4);
        json::pretty(&node, self, "", 0, &mut out);
        Some(out)
    }

    /// A Dockerfile-like instruction (`ENV A=b`, `RUN …`) for display: [`Redactor::command`],
    /// then the values of `ENV`/`ARG` words whose names look secret masked whole.
    pub fn instruction(&self, instr: &str) -> String {
        let redacted = self.command(instr);
        let instr = redacted.as_str();
        let Some((head, rest)) = instr.split_once(' ') else {
            return instr.to_owned();
        };
        if head != "ENV" && head != "ARG" {
            return instr.to_owned();
        }
        let masked: Vec<String> = rest
            .split(' ')
            .map(|tok| match tok.split_once('=') {
                Some((k, v)) if !v.is_empty() && looks_secret_name(k) => {
                    format!("{k}={}", mask_value(v))
                }
                _ => tok.to_owned(),
            })
            .collect();
        format!("{head} {}", masked.join(" "))
    }
}

/// Redacts a secret value: its first 4 characters (fewer for short values) then `…`.
pub fn mask_value(v: &str) -> String {
    let keep = if v.chars().count() >= 12 {
        4
    } else {
        v.chars().count() / 4
    };
    let prefix: String = v.chars().take(keep).collect();
    format!("{}…(redacted)", sanitize(&prefix))
}

static SHELL_ASSIGNMENT: LazyLock<std::result::Result<regex::Regex, regex::Error>> =
    LazyLock::new(|| {
        regex::Regex::new(
            r#"(?:^|[\s;&|(])(?:--)?([A-Za-z_][A-Za-z0-9_.\-]*)=("[^"]*"|'[^']*'|[^\s;&|)]*)"#,
        )
    });

/// Every `NAME=value` assignment in a command (shell words, `ENV`, build args): (name, value,
/// byte range of the value without quotes).
pub fn assignments(cmd: &str) -> Vec<(&str, &str, std::ops::Range<usize>)> {
    let Ok(re) = SHELL_ASSIGNMENT.as_ref() else {
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

/// A command with every secret value masked: values of secret-looking `NAME=value`
/// assignments and every match of `rules`. Control characters are escaped.
pub fn redact_with(rules: &RuleSet, cmd: &str) -> String {
    let mut spans: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (k, v, r) in assignments(cmd) {
        if looks_secret_name(k) && !v.is_empty() {
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
        out.push_str(&sanitize(&cmd[at..r.start]));
        out.push_str(&rep);
        at = r.end;
    }
    out.push_str(&sanitize(&cmd[at..]));
    out
}

static TEXT_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z_][A-Za-z0-9_.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s"',;]+)"#)
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});
static AWS_KEY_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16})\b")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// Prose redaction without rules: sanitised, the value of every secret-looking
/// `NAME=value` / `name: value` masked, AWS access key ids masked.
fn redact_prose(s: &str) -> String {
    let s = sanitize(s);
    let text = s.as_str();
    let s = TEXT_ASSIGNMENT.replace_all(text, |c: &regex::Captures<'_>| {
        let (k, sep, v) = (&c[1], &c[2], &c[3]);
        let inner = v.trim_matches(|ch| ch == '"' || ch == '\'');
        // `/app/.aws/credentials:1` is a path and a line number, not an assignment.
        let start = c.get(0).map_or(0, |m| m.start());
        let in_path = text[..start].ends_with(['/', '.']);
        let number = sep.trim() == ":" && inner.bytes().all(|b| b.is_ascii_digit());
        if looks_secret_name(k) && !inner.is_empty() && !inner.contains('…') && !in_path && !number
        {
            format!("{k}{sep}{}", mask_value(inner))
        } else {
            c[0].to_owned()
        }
    });
    AWS_KEY_ID
        .replace_all(&s, |c: &regex::Captures<'_>| mask_value(&c[1]))
        .into_owned()
}

/// Splits a variable or label name into lower-case words: `_`, `-`, `.`, spaces and
/// camelCase boundaries separate them (`dbPassword` -> `db`, `password`).
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.' | ' ' | '/') {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// True when an environment variable, build-arg or label name looks like it holds a secret
/// (`DB_PASSWORD`, `apiKey`, `GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`), but not names that hold a
/// public value or a reference to a secret (`GPG_KEY`, `PUBLIC_KEY`, `PASSWORD_FILE`,
/// `TOKEN_URL`, `org.opencontainers.image.authors`).
pub fn looks_secret_name(name: &str) -> bool {
    let w = name_words(name);
    if w.is_empty() {
        return false;
    }
    const SECRET: [&str; 20] = [
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "apikey",
        "credential",
        "credentials",
        "creds",
        "auth",
        "authorization",
        "privatekey",
        "accesskey",
        "secretkey",
        "apitoken",
        "authtoken",
        "pat",
    ];
    const PUBLIC: [&str; 5] = ["public", "pub", "gpg", "pgp", "fingerprint"];
    const REFERENCE: [&str; 20] = [
        "file", "path", "dir", "url", "uri", "endpoint", "host", "port", "user", "username",
        "name", "type", "mode", "id", "version", "enabled", "length", "ttl", "expiry", "method",
    ];
    if w.iter().any(|x| PUBLIC.contains(&x.as_str())) {
        return false;
    }
    let last = w.last().map(String::as_str).unwrap_or("");
    if w.len() > 1 && REFERENCE.contains(&last) {
        return false;
    }
    if w.iter().any(|x| SECRET.contains(&x.as_str())) {
        return true;
    }
    // `API_KEY`, `ACCESS_KEY`, `LICENSE_KEY`, `SIGNING_KEY`…: a key with a qualifier.
    w.len() > 1 && w.iter().any(|x| x == "key" || x == "keys")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "DB_PASSWORD",
            "API_TOKEN",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "apiKey",
            "dbPassword",
            "MYSQL_ROOT_PASSWORD",
            "NPM_AUTH_TOKEN",
            "client_secret",
            "STRIPE_API_KEY",
            "SECRET_KEY_BASE",
            "REDIS_PASS",
        ] {
            assert!(looks_secret_name(n), "{n}");
        }
        for n in [
            "PATH",
            "APP_MODE",
            "GPG_KEY",
            "GPG_KEYS",
            "PUBLIC_KEY",
            "MYSQL_PASSWORD_FILE",
            "TOKEN_URL",
            "org.opencontainers.image.authors",
            "AUTHOR",
            "PASSENGER_VERSION",
            "KEY",
            "AWS_ACCESS_KEY_ID",
            "LANG",
            "PYTHON_SHA256",
        ] {
            assert!(!looks_secret_name(n), "{n}");
        }
    }

    fn text(s: &str) -> String {
        Redactor::default().text(s)
    }

    #[test]
    fn redaction() {
        assert_eq!(
            text("ENV DB_PASSWORD=strata-fake-db-password APP_MODE=production"),
            "ENV DB_PASSWORD=stra…(redacted) APP_MODE=production"
        );
        assert_eq!(
            text("aws_access_key_id = AKIAABCDEFGHIJKLMNOP"),
            "aws_access_key_id = AKIA…(redacted)"
        );
        assert_eq!(text("key AKIAABCDEFGHIJKLMNOP."), "key AKIA…(redacted).");
        assert_eq!(text("TOKEN=\"abcdefghijklmnop\""), "TOKEN=abcd…(redacted)");
        // Already redacted text stays as it is.
        assert_eq!(text("TOKEN=abcd…(redacted)"), "TOKEN=abcd…(redacted)");
        assert_eq!(text("a\nb"), "a\\nb");
        assert_eq!(
            text("AKIA…(redacted) at /app/.aws/credentials:1"),
            "AKIA…(redacted) at /app/.aws/credentials:1"
        );
        assert_eq!(text("password: 1234"), "password: 1234");
        assert_eq!(text("PIN_PASSWORD=12345678"), "PIN_PASSWORD=12…(redacted)");
    }

    #[test]
    fn instructions_mask_secret_names_build_args_and_url_passwords() {
        let r = Redactor::default();
        assert_eq!(
            r.instruction("ENV A=1 API_TOKEN=abcdefghijklmnop"),
            "ENV A=1 API_TOKEN=abcd…(redacted)"
        );
        let cmd = "|1 GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB /bin/sh -c curl https://deploy:s3cr3tPassw0rd@example.org/x";
        let shown = r.instruction(cmd);
        assert!(
            !shown.contains("ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3tPassw0rd"), "{shown}");
        assert!(shown.contains("example.org"), "{shown}");
    }
}
