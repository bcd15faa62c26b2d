//! The readable text rendering of a [`Report`].

use std::fmt::Write;

use super::Report;
use crate::model::sanitize;
pub use crate::text::{bytes, one_line};

/// Renders the report as text.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let i = &r.image;
    let _ = writeln!(s, "Image      {}", sanitize(&i.reference));
    let _ = writeln!(s, "ID         {}", i.id);
    if !i.repo_tags.is_empty() {
        let _ = writeln!(s, "Tags       {}", sanitize(&i.repo_tags.join(", ")));
    }
    let _ = writeln!(
        s,
        "Platform   {}/{}{}",
        i.os,
        i.architecture,
        i.variant
            .as_ref()
            .map(|v| format!("/{v}"))
            .unwrap_or_default()
    );
    if let Some(c) = &i.created {
        let _ = writeln!(s, "Created    {c}");
    }
    let _ = writeln!(
        s,
        "Size       {} ({} bytes) in {} layers",
        bytes(i.size_bytes),
        i.size_bytes,
        r.layers.len()
    );
    let c = &i.config;
    let _ = writeln!(
        s,
        "User       {}",
        c.user
            .as_deref()
            .filter(|u| !u.is_empty())
            .map_or_else(|| "root (unset)".to_owned(), sanitize)
    );
    if let Some(e) = &c.entrypoint {
        let _ = writeln!(s, "Entrypoint {}", sanitize(&e.join(" ")));
    }
    if let Some(cmd) = &c.cmd {
        let _ = writeln!(s, "Cmd        {}", sanitize(&cmd.join(" ")));
    }
    for e in &c.env {
        let _ = writeln!(s, "Env        {e}");
    }
    if !c.exposed_ports.is_empty() {
        let _ = writeln!(s, "Ports      {}", c.exposed_ports.join(", "));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Layers");
    let _ = writeln!(
        s,
        "  {:>3}  {:>10}  {:>6} {:>6} {:>6}  Command",
        "#", "Size", "+add", "~mod", "-del"
    );
    for l in &r.layers {
        let _ = writeln!(
            s,
            "  {:>3}  {:>10}  {:>6} {:>6} {:>6}  {}",
            l.index,
            bytes(l.size_bytes),
            l.files_added,
            l.files_modified,
            l.files_removed,
            one_line(&l.created_by, 90)
        );
    }
    let e = &r.efficiency;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Efficiency {:.2}%  (visible {} of {} shipped)",
        e.score * 100.0,
        bytes(e.visible_bytes),
        bytes(e.total_bytes)
    );
    let _ = writeln!(
        s,
        "Reclaimable {} ({} bytes)",
        bytes(e.reclaimable_bytes),
        e.reclaimable_bytes
    );
    if !e.top_reclaimable.is_empty() {
        let _ = writeln!(s, "  {:>10}  Layers  Path", "Bytes");
        for t in &e.top_reclaimable {
            let layers: Vec<String> = t.layers.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                s,
                "  {:>10}  {:<6}  {}",
                bytes(t.bytes),
                layers.join(","),
                t.path
            );
        }
    }
    render_findings(&mut s, r);
    for w in &r.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

/// The Findings section (worst first) and a package summary. Finding text is already
/// redacted; it is sanitised again here because it quotes image strings.
fn render_findings(s: &mut String, r: &Report) {
    let _ = writeln!(s);
    if r.findings.is_empty() {
        let _ = writeln!(s, "Findings   none");
    } else {
        let _ = writeln!(s, "Findings   {} (worst first)", r.findings.len());
    }
    for f in &r.findings {
        let mut head = format!(
            "  [{}] {} ({}): {}",
            f.severity.as_str().to_uppercase(),
            sanitize(&f.title),
            sanitize(&f.rule),
            match f.bytes {
                Some(b) if b > 0 => bytes(b),
                _ => String::new(),
            }
        );
        if head.ends_with(": ") {
            head.truncate(head.len() - 2);
        }
        let _ = writeln!(s, "{head}");
        let _ = writeln!(s, "        {}", sanitize(&f.message));
        if let Some(e) = &f.evidence {
            let _ = writeln!(s, "        evidence: {}", sanitize(e));
        }
        if let Some(fix) = &f.fix {
            let _ = writeln!(s, "        fix: {}", sanitize(fix));
        }
    }
    if !r.packages.is_empty() {
        let mut by: std::collections::BTreeMap<&str, (usize, u64)> = Default::default();
        for p in &r.packages {
            let e = by.entry(p.manager.as_str()).or_default();
            e.0 += 1;
            e.1 += p.size_bytes;
        }
        let parts: Vec<String> = by
            .iter()
            .map(|(m, (n, b))| format!("{m} {n} ({})", bytes(*b)))
            .collect();
        let _ = writeln!(s);
        let _ = writeln!(s, "Packages   {}", parts.join(", "));
        let mut top: Vec<&crate::analysis::finding::Package> = r.packages.iter().collect();
        top.sort_by(|a, b| {
            b.size_bytes
                .cmp(&a.size_bytes)
                .then_with(|| a.name.cmp(&b.name))
        });
        for p in top.iter().take(10) {
            let _ = writeln!(
                s,
                "  {:>10}  {:<6} {} {}{}",
                bytes(p.size_bytes),
                p.manager,
                sanitize(&p.name),
                sanitize(&p.version),
                p.layer
                    .map(|l| format!("  (layer {l})"))
                    .unwrap_or_default()
            );
        }
    }
}
