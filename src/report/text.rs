//! The readable text rendering of a [`Report`].

use std::fmt::Write;

use super::Report;
use crate::model::sanitize;
pub use crate::text::{bytes, one_line};

/// Renders the report as text.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let i = &r.image;
    let _ = writeln!(s, "Who made this");
    for (label, text) in r.provenance.who_made_this() {
        let _ = writeln!(s, "  {label:<13}{text}");
    }
    let _ = writeln!(s);
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
        "Size       {} ({} bytes) in {} layer{}",
        bytes(i.size_bytes),
        i.size_bytes,
        r.layers.len(),
        if r.layers.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(s, "Base       {}", base_line(&r.base));
    for sig in &r.provenance.signatures {
        let _ = writeln!(s, "Signature  {}", signature_line(sig));
    }
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
            "{} {:>3}  {:>10}  {:>6} {:>6} {:>6}  {}",
            if l.base { "B" } else { " " },
            l.index,
            bytes(l.size_bytes),
            l.files_added,
            l.files_modified,
            l.files_removed,
            one_line(&l.created_by, 90)
        );
    }
    if r.base.layers > 0 {
        let _ = writeln!(s, "  B: a layer of the base image");
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

/// The heading of the findings this image's own steps added.
pub const ADDED: &str = "Added by this image";
/// The heading of the findings inherited from the base image.
pub const INHERITED: &str = "Inherited from the base";

/// "layers 0-1, history 0-3 (history: root filesystem …)" or "none (…)".
pub fn base_line(b: &crate::analysis::base::BaseBoundary) -> String {
    let name = b
        .name
        .as_deref()
        .or(b.digest.as_deref())
        .map(|n| format!("{n}: "))
        .unwrap_or_default();
    format!("{name}{} ({})", b.describe(), sanitize(&b.reason))
}

fn render_finding(s: &mut String, f: &crate::analysis::finding::Finding) {
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

/// The Findings section (worst first; with a base image, what this image added first, then
/// what it inherited) and a package summary. Finding text is already
/// redacted; it is sanitised again here because it quotes image strings.
fn render_findings(s: &mut String, r: &Report) {
    let _ = writeln!(s);
    if r.findings.is_empty() {
        let _ = writeln!(s, "Findings   none");
    } else {
        let _ = writeln!(s, "Findings   {} (worst first)", r.findings.len());
    }
    let has_base = r.base.layers > 0;
    for (base, title) in [(false, ADDED), (true, INHERITED)] {
        let group: Vec<&crate::analysis::finding::Finding> =
            r.findings.iter().filter(|f| f.base == base).collect();
        if has_base {
            let _ = writeln!(s, "  {title} ({})", group.len());
        }
        for f in group {
            render_finding(s, f);
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
                    .map(|l| format!("  (layer {l}{})", if p.base { ", base" } else { "" }))
                    .unwrap_or_default()
            );
        }
    }
}

/// One signature: kind, identity, where, verification state and why.
fn signature_line(sig: &crate::model::signature::Signature) -> String {
    use crate::model::signature::{SignatureKind, Verified};
    let kind = match sig.kind {
        SignatureKind::Cosign => "cosign",
        SignatureKind::CosignKeyless => "cosign keyless",
        SignatureKind::Notation => "Notation",
    };
    let state = match sig.verified {
        Verified::True => "verified",
        Verified::False => "INVALID",
        Verified::Unknown => "not verified",
    };
    let who = match (&sig.identity, &sig.issuer) {
        (Some(i), Some(iss)) => format!(" by {i} (issuer {iss})"),
        (Some(i), None) => format!(" by {i}"),
        _ => String::new(),
    };
    sanitize(&format!(
        "{kind}{who} at {}: {state}: {}",
        sig.location, sig.reason
    ))
}
