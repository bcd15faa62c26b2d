//! SARIF 2.1.0 output for code scanning (GitHub and other SARIF consumers).
//!
//! One run; `tool.driver.rules` holds one entry per rule id that fired, with help text;
//! every finding is a result whose location is the artifact `layer/<diff_id hex>/<path>` (or
//! `image/<config digest hex>/config` for configuration findings), with a logical location
//! naming the layer digest, and the history step that made the layer in the message.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::analysis::finding::{Category, Finding, Severity};
use crate::analysis::pipeline::Analysed;
use crate::model::{sanitize, Image};
use crate::redact::Redactor;

/// SARIF version written.
pub const VERSION: &str = "2.1.0";
/// `$schema` of the document.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The history step that made `layer`, on one line, sanitised and redacted.
pub fn history_command(r: &Redactor, image: &Image, layer: usize) -> Option<String> {
    let cmd = image
        .history_for_layer(layer)
        .map(|h| h.created_by.as_str())
        .or_else(|| image.layers.get(layer).map(|l| l.created_by.as_str()))?;
    let cmd = r.command(cmd);
    let line = crate::text::one_line(&cmd, 200);
    (!line.is_empty()).then(|| r.text(&line))
}

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score (0–10) of a severity.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Percent-encodes a path for a URI reference (unreserved characters and `/` kept).
fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(digest: &str) -> &str {
    digest.split_once(':').map_or(digest, |(_, h)| h)
}

/// The artifact URI of a finding: `layer/<diff_id hex>/<path>`, `layer/<diff_id hex>` or
/// `image/<config digest hex>/config`.
pub fn artifact_uri(image: &Image, f: &Finding) -> String {
    let layer = f.layer.and_then(|l| image.layers.get(l));
    let path = f
        .path
        .as_deref()
        .map(|p| encode_path(p.trim_start_matches('/')));
    match (layer, path) {
        (Some(l), Some(p)) => format!("layer/{}/{p}", encode_path(hex(&l.diff_id))),
        (Some(l), None) => format!("layer/{}", encode_path(hex(&l.diff_id))),
        (None, Some(p)) => format!("image/{}/rootfs/{p}", encode_path(hex(&image.id))),
        (None, None) => format!("image/{}/config", encode_path(hex(&image.id))),
    }
}

fn fingerprint(f: &Finding) -> String {
    let mut h = Sha256::new();
    for part in [
        f.rule.as_str(),
        f.category.as_str(),
        f.path.as_deref().unwrap_or(""),
        &f.layer.map(|l| l.to_string()).unwrap_or_default(),
        if f.path.is_none() {
            f.title.as_str()
        } else {
            ""
        },
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn rule_name(id: &str) -> String {
    id.split(['.', '-', '_', '/'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A rule-level title from its findings' titles: each without a trailing `: <path>`, then the
/// words they all start with (the first title when they share fewer than two words).
fn rule_title(fs: &[&Finding]) -> String {
    let generic = |f: &Finding| -> String {
        let t = f.title.trim();
        match f.path.as_deref() {
            Some(p) if t.ends_with(p) => t[..t.len() - p.len()]
                .trim_end()
                .trim_end_matches(':')
                .trim_end()
                .to_owned(),
            _ => t.to_owned(),
        }
    };
    let titles: Vec<String> = fs.iter().map(|f| generic(f)).collect();
    let first: Vec<&str> = titles[0].split_whitespace().collect();
    let mut n = first.len();
    for t in &titles[1..] {
        let common = first
            .iter()
            .zip(t.split_whitespace())
            .take_while(|(a, b)| **a == *b)
            .count();
        n = n.min(common);
    }
    if n >= 2 {
        first[..n].join(" ")
    } else {
        titles[0].clone()
    }
}

/// The line a finding points at, when its evidence ends in `<path>:<line>`.
fn finding_line(f: &Finding) -> u64 {
    let (Some(p), Some(e)) = (f.path.as_deref(), f.evidence.as_deref()) else {
        return 1;
    };
    e.rsplit_once(&format!("{p}:"))
        .and_then(|(_, n)| n.trim().parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

fn rule_descriptor(r: &Redactor, id: &str, fs: &[&Finding]) -> Value {
    let first = fs[0];
    let worst = fs
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(first.severity);
    let title = r.text(&rule_title(fs));
    let why = first.why.as_deref().map(|s| r.text(s));
    let fix = first.fix.as_deref().map(|s| r.text(s));
    let mut text = why.clone().unwrap_or_else(|| title.clone());
    let mut md = format!("**{title}**");
    if let Some(w) = &why {
        md.push_str(&format!("\n\n{w}"));
    }
    if let Some(fx) = &fix {
        text.push_str(&format!("\n\nFix: {fx}"));
        md.push_str(&format!("\n\n**Fix:** {fx}"));
    }
    md.push_str(&format!("\n\nRule `{}` of strata.", sanitize(id)));
    let mut tags = vec![first.category.as_str().to_owned(), "container-image".into()];
    let mut props = serde_json::Map::new();
    if matches!(first.category, Category::Secret | Category::Config) {
        tags.push("security".into());
    }
    if first.category == Category::Secret {
        props.insert("security-severity".into(), json!(security_severity(worst)));
    }
    props.insert("tags".into(), json!(tags));
    props.insert("category".into(), json!(first.category.as_str()));
    json!({
        "id": sanitize(id),
        "name": rule_name(&sanitize(id)),
        "shortDescription": { "text": title },
        "fullDescription": { "text": why.unwrap_or_else(|| title.clone()) },
        "help": { "text": text, "markdown": md },
        "defaultConfiguration": { "level": level(worst) },
        "properties": props,
    })
}

fn result(r: &Redactor, image: &Image, f: &Finding, rule_index: usize) -> Value {
    let mut msg = r.text(&f.message);
    if msg.is_empty() {
        msg = r.text(&f.title);
    }
    if let Some(p) = &f.path {
        if !msg.contains(p.as_str()) {
            msg.push_str(&format!(" Path: {}.", sanitize(p)));
        }
    }
    let mentions_layer = f
        .layer
        .is_some_and(|l| msg.to_ascii_lowercase().contains(&format!("layer {l}")));
    if let (Some(l), false) = (f.layer, mentions_layer) {
        msg.push_str(&format!(" Layer {l}"));
        if let Some(r) = f.removed_in {
            msg.push_str(&format!(" (removed in layer {r}, still shipped)"));
        }
        match history_command(r, image, l) {
            Some(cmd) => msg.push_str(&format!(", created by: {cmd}")),
            None => msg.push('.'),
        }
    }
    if let Some(e) = &f.evidence {
        msg.push_str(&format!(" Evidence: {}", r.text(e)));
    }
    let mut logical = Vec::new();
    if let Some(layer) = f.layer.and_then(|l| image.layers.get(l)) {
        logical.push(json!({
            "name": sanitize(&layer.diff_id),
            "fullyQualifiedName": format!("layer/{}", layer.index),
            "kind": "module",
        }));
    } else {
        logical.push(json!({
            "name": sanitize(&image.id),
            "fullyQualifiedName": "image/config",
            "kind": "resource",
        }));
    }
    let mut props = serde_json::Map::new();
    props.insert("category".into(), json!(f.category.as_str()));
    props.insert("severity".into(), json!(f.severity.as_str()));
    if let Some(l) = f.layer {
        props.insert("layer".into(), json!(l));
    }
    if let Some(r) = f.removed_in {
        props.insert("removedIn".into(), json!(r));
    }
    if let Some(b) = f.bytes {
        props.insert("bytes".into(), json!(b));
    }
    props.insert("base".into(), json!(f.base));
    if f.items.len() > 1 {
        let items: Vec<String> = f.items.iter().map(|p| sanitize(p)).collect();
        props.insert("items".into(), json!(items));
    }
    json!({
        "ruleId": sanitize(&f.rule),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": msg },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": artifact_uri(image, f) },
                "region": { "startLine": finding_line(f) },
            },
            "logicalLocations": logical,
        }],
        "partialFingerprints": { "strataFinding/v1": fingerprint(f) },
        "properties": props,
    })
}

/// Builds the SARIF document of an analysed image's findings.
pub fn document(a: &Analysed) -> Value {
    let (image, eff, findings, r) = (&*a.image, &a.efficiency, &a.findings, &a.redactor);
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_rule.entry(f.rule.as_str()).or_default().push(f);
    }
    let index: BTreeMap<&str, usize> = by_rule.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rules: Vec<Value> = by_rule
        .iter()
        .map(|(id, fs)| rule_descriptor(r, id, fs))
        .collect();
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.path.cmp(&b.path))
            .then(a.layer.cmp(&b.layer))
    });
    let results: Vec<Value> = ordered
        .iter()
        .map(|f| {
            result(
                r,
                image,
                f,
                index.get(f.rule.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    let mut driver = serde_json::Map::new();
    driver.insert("name".into(), json!("strata"));
    driver.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    driver.insert("semanticVersion".into(), json!(env!("CARGO_PKG_VERSION")));
    let info = [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|u| !u.is_empty());
    if let Some(u) = info {
        driver.insert("informationUri".into(), json!(u));
    }
    driver.insert("rules".into(), json!(rules));
    let reference = sanitize(&image.reference);
    json!({
        "$schema": SCHEMA_URI,
        "version": VERSION,
        "runs": [{
            "tool": { "driver": driver },
            "automationDetails": { "id": format!("strata/{reference}/") },
            "invocations": [{ "executionSuccessful": true }],
            "results": results,
            "properties": {
                "image": reference,
                "imageId": sanitize(&image.id),
                "repoTags": image.repo_tags.iter().map(|t| sanitize(t)).collect::<Vec<_>>(),
                "layers": image.layers.iter().map(|l| sanitize(&l.diff_id)).collect::<Vec<_>>(),
                "totalBytes": eff.total_bytes,
                "visibleBytes": eff.visible_bytes,
                "reclaimableBytes": eff.reclaimable_bytes,
                "efficiency": eff.score,
            },
        }],
    })
}

/// Renders the SARIF document as pretty JSON.
pub fn render(a: &Analysed) -> String {
    serde_json::to_string_pretty(&document(a)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_names() {
        assert_eq!(encode_path("app/a b/#x"), "app/a%20b/%23x");
        assert_eq!(rule_name("secret.private-key"), "SecretPrivateKey");
    }
}
