//! The readable text rendering of a [`Diff`]: sizes first, then the largest file changes,
//! directories, layers, packages, findings and configuration.

use std::fmt::Write as _;

use crate::analysis::diff::{Change, ConfigChange, Diff, DirChange, FileChange, ImageRef};
use crate::analysis::finding::Finding;
use crate::model::sanitize;
use crate::policy::diff::Verdict;
use crate::report::text::bytes;

/// How many file changes, directories, findings the text lists.
pub const TOP: usize = 20;

/// `+1.5 MiB`, `-200 B`, `±0 B`.
pub fn signed_bytes(d: i64) -> String {
    match d {
        0 => "±0 B".to_owned(),
        d if d > 0 => format!("+{}", bytes(d.unsigned_abs())),
        d => format!("-{}", bytes(d.unsigned_abs())),
    }
}

/// The symbol of a change: `+` added, `-` removed, `~` modified, `↑` upgraded, `↓` downgraded.
pub fn symbol(c: Change) -> char {
    match c {
        Change::Added => '+',
        Change::Removed => '-',
        Change::Modified => '~',
        Change::Upgraded => '↑',
        Change::Downgraded => '↓',
    }
}

/// File changes, largest first (ties by path); directories added or removed are left out
/// (the directory summary covers them).
pub fn largest(d: &Diff) -> Vec<&FileChange> {
    let dir =
        |k: Option<crate::model::EntryKind>| k.is_none_or(|k| k == crate::model::EntryKind::Dir);
    let mut v: Vec<&FileChange> = d
        .files
        .entries
        .iter()
        .filter(|c| c.change == Change::Modified || !(dir(c.kind_a) && dir(c.kind_b)))
        .collect();
    v.sort_by(|a, b| {
        b.weight()
            .cmp(&a.weight())
            .then_with(|| a.path.cmp(&b.path))
    });
    v
}

/// Directories worth showing, largest first: a directory whose changes all sit in one child
/// directory is left out for that child (`/usr` and `/usr/lib` collapse into `/usr/lib/x`),
/// and the root is left out (the totals say it).
pub fn top_directories(d: &Diff) -> Vec<&DirChange> {
    let dirs = &d.files.directories;
    let same = |a: &DirChange, b: &DirChange| {
        (a.files_changed, a.bytes_added, a.bytes_removed)
            == (b.files_changed, b.bytes_added, b.bytes_removed)
    };
    let mut keep: Vec<&DirChange> = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        if dir.path == "/" {
            continue;
        }
        let prefix = format!("{}/", dir.path);
        // Directories are sorted by path: its children follow it.
        let collapsed = dirs[i + 1..]
            .iter()
            .take_while(|c| c.path.starts_with(&prefix))
            .any(|c| !c.path[prefix.len()..].contains('/') && same(dir, c));
        if !collapsed {
            keep.push(dir);
        }
    }
    keep.sort_by(|a, b| {
        (b.bytes_added + b.bytes_removed)
            .cmp(&(a.bytes_added + a.bytes_removed))
            .then_with(|| a.path.cmp(&b.path))
    });
    keep
}

fn side(s: &mut String, label: &str, r: &ImageRef) {
    let tags = if r.tags.is_empty() {
        String::new()
    } else {
        format!("  ({})", r.tags.join(", "))
    };
    let _ = writeln!(s, "{label}  {}{tags}", r.reference);
    let _ = writeln!(s, "   {}  {}, {} layers", r.id, r.platform, r.layer_count);
}

fn what(c: &FileChange) -> String {
    if c.what.is_empty() {
        return String::new();
    }
    let w: Vec<&str> = c.what.iter().map(|w| w.as_str()).collect();
    format!("  [{}]", w.join(", "))
}

fn file_line(s: &mut String, c: &FileChange) {
    let size = match c.change {
        Change::Added => bytes(c.bytes_b.unwrap_or(0)),
        Change::Removed => bytes(c.bytes_a.unwrap_or(0)),
        _ => format!(
            "{} → {}",
            bytes(c.bytes_a.unwrap_or(0)),
            bytes(c.bytes_b.unwrap_or(0))
        ),
    };
    let mut detail = String::new();
    if c.what.iter().any(|w| w.as_str() == "mode") {
        let _ = write!(
            detail,
            "  mode {} → {}",
            c.mode_a.as_deref().unwrap_or("?"),
            c.mode_b.as_deref().unwrap_or("?")
        );
    }
    if c.what.iter().any(|w| w.as_str() == "owner") {
        let _ = write!(
            detail,
            "  owner {} → {}",
            c.owner_a.as_deref().unwrap_or("?"),
            c.owner_b.as_deref().unwrap_or("?")
        );
    }
    if c.what.iter().any(|w| w.as_str() == "link") {
        let _ = write!(
            detail,
            "  -> {} → {}",
            c.link_a.as_deref().unwrap_or(""),
            c.link_b.as_deref().unwrap_or("")
        );
    }
    if c.what.iter().any(|w| w.as_str() == "type") {
        let k = |k: Option<crate::model::EntryKind>| {
            k.map_or("none".to_owned(), |k| format!("{k:?}").to_lowercase())
        };
        let _ = write!(detail, "  {} → {}", k(c.kind_a), k(c.kind_b));
    }
    let _ = writeln!(
        s,
        "  {} {:>21}  {}{}{}",
        symbol(c.change),
        size,
        c.path,
        what(c),
        detail
    );
}

fn finding_line(s: &mut String, f: &Finding) {
    let at = f
        .path
        .as_deref()
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    let layer = f.layer.map(|l| format!(" (layer {l})")).unwrap_or_default();
    let _ = writeln!(
        s,
        "    [{}] {}{at}{layer}: {}",
        f.severity.as_str().to_uppercase(),
        sanitize(&f.rule),
        sanitize(&f.title)
    );
    if let Some(e) = &f.evidence {
        let _ = writeln!(s, "        evidence: {}", sanitize(e));
    }
}

fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "(unset)".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn config_line(s: &mut String, c: &ConfigChange) {
    let key = c
        .key
        .as_deref()
        .map(|k| format!(" {k}"))
        .unwrap_or_default();
    let _ = writeln!(s, "  {}{key}: {} → {}", c.field, value(&c.a), value(&c.b));
}

/// Renders the gate's verdict.
pub fn render_gate(s: &mut String, v: &Verdict) {
    let _ = writeln!(s);
    let _ = writeln!(s, "Gate       {}", if v.passed { "PASS" } else { "FAIL" });
    for r in &v.rules {
        let _ = writeln!(
            s,
            "  {} {}: {} (limit: {})",
            if r.passed { "PASS" } else { "FAIL" },
            r.rule,
            r.actual,
            sanitize(&r.limit)
        );
        for d in &r.details {
            let _ = writeln!(s, "      {}", sanitize(d));
        }
    }
}

/// Renders the diff as text; `gate` adds the verdict at the end.
pub fn render(d: &Diff, gate: Option<&Verdict>) -> String {
    let mut s = String::new();
    side(&mut s, "A", &d.a);
    side(&mut s, "B", &d.b);
    if d.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "No difference: same layers, files, packages, findings and configuration."
        );
    }
    let z = &d.size;
    let _ = writeln!(s);
    let row = |s: &mut String, name: &str, a: u64, b: u64, delta: i64| {
        let _ = writeln!(
            s,
            "{name:<11} {:>10} → {:>10}  ({})",
            bytes(a),
            bytes(b),
            signed_bytes(delta)
        );
    };
    for (name, a, b, delta) in z.rows() {
        row(&mut s, name, a, b, delta);
    }

    let f = &d.files;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Files      {} added, {} removed, {} modified ({} added, {} removed)",
        f.added,
        f.removed,
        f.modified,
        bytes(f.bytes_added),
        bytes(f.bytes_removed)
    );
    let big = largest(d);
    for c in big.iter().take(TOP) {
        file_line(&mut s, c);
    }
    if big.len() > TOP {
        let _ = writeln!(
            s,
            "  … and {} more (--format json lists every path)",
            big.len() - TOP
        );
    }
    let dirs = top_directories(d);
    if !dirs.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Directories (largest changes)");
        for dir in dirs.iter().take(10) {
            let _ = writeln!(
                s,
                "  +{:<10} -{:<10} {:>6} files  {}",
                bytes(dir.bytes_added),
                bytes(dir.bytes_removed),
                dir.files_changed,
                dir.path
            );
        }
    }

    let l = &d.layers;
    let shared: u64 = l.shared.iter().map(|x| x.size_bytes).sum();
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Layers     {} shared ({}), {} only in A, {} only in B",
        l.shared.len(),
        bytes(shared),
        l.only_a.len(),
        l.only_b.len()
    );
    for x in &l.only_a {
        let _ = writeln!(
            s,
            "  - A#{:<3} {:>10}  {}",
            x.index,
            bytes(x.size_bytes),
            x.command
        );
    }
    for x in &l.only_b {
        let _ = writeln!(
            s,
            "  + B#{:<3} {:>10}  {}",
            x.index,
            bytes(x.size_bytes),
            x.command
        );
    }

    if !d.packages.is_empty() {
        let _ = writeln!(s);
        let count = |c: Change| d.packages.iter().filter(|p| p.change == c).count();
        let _ = writeln!(
            s,
            "Packages   {} added, {} removed, {} upgraded, {} downgraded",
            count(Change::Added),
            count(Change::Removed),
            count(Change::Upgraded),
            count(Change::Downgraded)
        );
        for p in &d.packages {
            let _ = writeln!(
                s,
                "  {} {:<6} {} {} → {}",
                symbol(p.change),
                p.manager,
                p.name,
                p.version_a.as_deref().unwrap_or("(none)"),
                p.version_b.as_deref().unwrap_or("(none)")
            );
        }
    }

    let fi = &d.findings;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Findings   {} new, {} fixed, {} unchanged",
        fi.new.len(),
        fi.fixed.len(),
        fi.unchanged.len()
    );
    for (label, list) in [("new", &fi.new), ("fixed", &fi.fixed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "  {label}:");
        for f in list.iter().take(TOP) {
            finding_line(&mut s, f);
        }
        if list.len() > TOP {
            let _ = writeln!(s, "    … and {} more", list.len() - TOP);
        }
    }

    if !d.config.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Config     {} changed", d.config.len());
        for c in &d.config {
            config_line(&mut s, c);
        }
    }
    if let Some(v) = gate {
        render_gate(&mut s, v);
    }
    s
}
