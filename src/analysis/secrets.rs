//! Secret findings: file contents (every version in every layer, squashed-away ones
//! included), file names, the image config (ENV, labels) and the build history (build args
//! leaked into `RUN` steps). Everything shown is redacted.
//!
//! The rules themselves live in [`crate::redact::rules`].

use std::collections::HashMap;

use super::context::{finding, Ctx};
use super::finding::{Category, Finding, Severity};
use crate::model::fs::{EntryKind, VersionId};
use crate::model::ContentMatch;
use crate::redact::{assignments, looks_secret_name, mask_value, placeholder, redact_with};

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
    let mut s = format!("added in layer {layer} by {}", ctx.cmd(layer));
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
                "; {} ({}), but still recoverable from layer {layer}'s tarball",
                super::context::removal_words(cause, r),
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
    let file_set = rules.file_matcher();
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
        let by_name = looks_secret_name(key) && !placeholder(rules, value);
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
            if !looks_secret_name(k) || placeholder(rules, v) {
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
                        super::context::one_line(&redact_with(rules, cmd), 120)
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
                        super::context::one_line(&redact_with(rules, cmd), 120)
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

    #[test]
    fn build_args_and_redaction() {
        let v = fake("", B62, 16, 41);
        let cmd = format!("|2 GITHUB_TOKEN={v} MODE=prod /bin/sh -c make");
        let (args, rest) = split_build_args(&cmd);
        assert_eq!(rest.trim_start(), "/bin/sh -c make");
        assert_eq!(args.map(|a| a.len()), Some(2));
        let red = crate::redact::Redactor::default().command(&cmd);
        assert!(!red.contains(&v), "{red}");
        assert!(red.contains("MODE=prod"));
        assert!(red.contains(&v[..4]));
        let gh = fake("ghp_", B62, 36, 43);
        let red = crate::redact::Redactor::default()
            .command(&format!("/bin/sh -c curl -H 'Authorization: token {gh}' x"));
        assert!(!red.contains(&gh));
        assert_eq!(
            instruction("/bin/sh -c #(nop)  ENV A=b"),
            Some("ENV"),
            "legacy ENV step"
        );
    }
}
