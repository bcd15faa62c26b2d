//! The direction of imports between the top-level modules of `src/` (see the top of
//! `src/lib.rs`): every `crate::…` path in a module must name a module before it in [`ORDER`],
//! so there is no cycle, the engine never reaches the terminal (`ui`) or the command line
//! (`cli`), and the engine uses no terminal crate, clap or standard output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level modules, lowest first. A module may use only modules listed before it.
const ORDER: &[&str] = &[
    "model", "error", "text", "redact", "config", "source", "analysis", "policy", "report", "ui",
    "cli",
];
/// Everything up to here is the engine.
const LAST_ENGINE: &str = "report";
/// Crates and calls that belong to the terminal and command-line layers.
const NOT_IN_ENGINE: &[&str] = &[
    "ratatui::",
    "crossterm::",
    "syntect::",
    "two_face::",
    "clap::",
    "std::io::stdout",
    "std::io::stdin",
    "println!",
    "print!(",
];

/// One offending import: the file, the importing module, the imported module.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    from: String,
    to: String,
    why: String,
}

/// The top-level module a file under `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_owned())
}

/// Source without comments (line, doc and block comments) and without the contents of string
/// literals (raw strings included), so doc links and text do not count as imports.
fn strip_comments(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#"))
            && !(i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            // Raw string: r"…", r#"…"#, r##"…"##.
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            i += 2 + hashes;
            while i < b.len() && !b[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if b[i] == b'"' && !(i > 0 && b[i - 1] == b'\'') {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Every top-level module named by a `crate::` path in `code`, including the members of a
/// `crate::{a, b::c}` group.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(pos) = rest.find("crate::") {
        let before = rest[..pos].chars().next_back();
        rest = &rest[pos + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::`, `mycrate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

/// Checks the files (path relative to `src/`, content) against [`ORDER`].
fn check(files: &[(PathBuf, String)]) -> Vec<Violation> {
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let engine_top = rank(LAST_ENGINE).unwrap_or(0);
    // Crate-root items (`crate::Error`, `crate::Result`) live in the error module.
    let root_items: BTreeMap<&str, &str> = [("Error", "error"), ("Result", "error")].into();
    let mut out = Vec::new();
    for (rel, src) in files {
        let Some(from) = module_of(rel) else { continue };
        let file = rel.display().to_string();
        let Some(from_rank) = rank(&from) else {
            out.push(Violation {
                file,
                from: from.clone(),
                to: String::new(),
                why: "top-level module missing from ORDER in tests/architecture.rs".into(),
            });
            continue;
        };
        let code = strip_comments(src);
        for name in crate_paths(&code) {
            let to = root_items
                .get(name.as_str())
                .map_or(name.clone(), |m| (*m).to_owned());
            if to == from {
                continue;
            }
            let why = match rank(&to) {
                None => format!("`crate::{name}` is not a module in ORDER"),
                Some(r) if r > engine_top && from_rank <= engine_top => {
                    format!("engine module `{from}` imports `{to}`")
                }
                Some(r) if r > from_rank => format!("`{from}` imports `{to}`, which sits above it"),
                Some(_) => continue,
            };
            out.push(Violation {
                file: file.clone(),
                from: from.clone(),
                to,
                why,
            });
        }
        if from_rank <= engine_top {
            for bad in NOT_IN_ENGINE {
                if code.contains(bad) {
                    out.push(Violation {
                        file: file.clone(),
                        from: from.clone(),
                        to: (*bad).to_owned(),
                        why: format!("engine module `{from}` uses `{bad}`"),
                    });
                }
            }
        }
    }
    out
}

fn rust_files(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            out.push((p.strip_prefix(root).expect("under src").to_owned(), text));
        }
    }
}

#[test]
fn imports_follow_the_module_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &root, &mut files);
    let modules: std::collections::BTreeSet<String> =
        files.iter().filter_map(|(p, _)| module_of(p)).collect();
    assert!(
        modules.len() >= 8 && modules.contains("source") && modules.contains("report"),
        "the walk found the modules: {modules:?}"
    );
    let violations = check(&files);
    let listing: Vec<String> = violations
        .iter()
        .map(|v| format!("{}: {}", v.file, v.why))
        .collect();
    assert!(
        violations.is_empty(),
        "import order broken:\n{}",
        listing.join("\n")
    );
}

#[test]
fn the_check_catches_cycles_upward_imports_and_terminal_crates() {
    let f = |p: &str, s: &str| (PathBuf::from(p), s.to_owned());
    let files = vec![
        f(
            "analysis/x.rs",
            "use crate::report::Report;\nuse crate::model::Image;",
        ),
        f(
            "report/mod.rs",
            "use crate::analysis::efficiency::Efficiency;",
        ),
        f("source/y.rs", "use crate::{Error, ui::App};"),
        f("policy/z.rs", "fn f() { println!(\"x\"); }"),
        f(
            "model/w.rs",
            "/// See [`crate::report::Report`].\nconst S: &str = \"// crate::cli\";",
        ),
        f("newmod.rs", "use crate::model::Image;"),
        f(
            "cli/mod.rs",
            "use crate::ui::run; use crate::report::Report;",
        ),
    ];
    let v = check(&files);
    let got: Vec<(&str, &str)> = v.iter().map(|v| (v.from.as_str(), v.to.as_str())).collect();
    assert_eq!(
        got,
        [
            ("analysis", "report"),
            ("source", "ui"),
            ("policy", "println!"),
            ("newmod", ""),
        ],
        "{v:#?}"
    );
    assert_eq!(crate_paths("use crate::{a::b, c};"), ["a", "c"]);
    assert_eq!(crate_paths("$crate::x mycrate::z"), Vec::<String>::new());
    assert_eq!(
        strip_comments("a /* b /* c */ d */ e \"f // g\" r#\"h\"i\"# j // k\nl"),
        "a  e \"\" \"\" j \nl"
    );
}

#[test]
fn finding_rules_do_not_import_the_findings_pass() {
    // The pass (findings.rs) runs the rule files; they share only context.rs, never the pass.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/analysis");
    let mut checked = 0;
    for rule in ["secrets", "waste", "bloat", "checks", "packages", "context"] {
        // A rule is `rule.rs` or a folder `rule/` of modules (`packages/mod.rs`, `rpm.rs`, …).
        let file = dir.join(format!("{rule}.rs"));
        let files: Vec<std::path::PathBuf> = if file.is_file() {
            vec![file]
        } else {
            let mut fs: Vec<_> = std::fs::read_dir(dir.join(rule))
                .unwrap_or_else(|e| panic!("rule {rule}: neither {rule}.rs nor {rule}/: {e}"))
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .collect();
            fs.sort();
            assert!(!fs.is_empty(), "rule folder {rule}/ holds no module");
            fs
        };
        for p in files {
            let code = strip_comments(&std::fs::read_to_string(&p).expect("rule file"));
            // Inside a rule folder, `super::` is the rule's own module; the pass is two up.
            for bad in [
                "super::findings",
                "analysis::findings",
                "super::pipeline",
                "super::super::findings",
                "super::super::pipeline",
            ] {
                assert!(!code.contains(bad), "{}: imports `{bad}`", p.display());
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}
