//! Benchmark (not a test) of the secret scan alone: `RuleSet::scan` over every file of a
//! corpus held in memory, with the built-in rules and, for comparison, with another rule file
//! (an older `assets/secret-rules.toml`) compiled by the same engine.
//!
//!     cargo run --release --example secret_scan -- CORPUS_DIR... [--rules OLD.toml]
//!
//! Prints the best of 5 runs for each rule set, in MB/s of scanned bytes, and the ratio.

use std::path::{Path, PathBuf};
use std::time::Instant;

use strata::redact::rules::{ContentRuleSpec, RuleSet, SecretsConfig};

/// At most this many bytes are read into the corpus.
const CORPUS_CAP: usize = 600 << 20;

fn collect(dir: &Path, out: &mut Vec<(Vec<u8>, Vec<u8>)>, total: &mut usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if *total >= CORPUS_CAP {
            return;
        }
        let Ok(t) = e.file_type() else { continue };
        let p = e.path();
        if t.is_dir() {
            collect(&p, out, total);
        } else if t.is_file() {
            if let Ok(bytes) = std::fs::read(&p) {
                *total += bytes.len();
                out.push((p.to_string_lossy().into_owned().into_bytes(), bytes));
            }
        }
    }
}

/// One timed scan of the whole corpus: seconds and matches found.
fn time(rules: &RuleSet, corpus: &[(Vec<u8>, Vec<u8>)]) -> (f64, usize) {
    let t = Instant::now();
    let found = corpus.iter().map(|(p, c)| rules.scan(p, c).len()).sum();
    (t.elapsed().as_secs_f64(), found)
}

/// Rounds of the interleaved comparison (the best of each side counts).
const ROUNDS: usize = 7;

#[derive(serde::Deserialize)]
struct OldFile {
    #[serde(default)]
    content: Vec<ContentRuleSpec>,
}

fn main() {
    let mut dirs = Vec::new();
    let mut old: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--rules" {
            old = args.next().map(PathBuf::from);
        } else {
            dirs.push(PathBuf::from(a));
        }
    }
    let mut corpus = Vec::new();
    let mut total = 0;
    for d in &dirs {
        collect(d, &mut corpus, &mut total);
    }
    let text: usize = corpus
        .iter()
        .filter(|(_, c)| !c[..c.len().min(8192)].contains(&0))
        .map(|(_, c)| c.len())
        .sum();
    println!(
        "corpus: {} files, {:.1} MB ({:.1} MB text)",
        corpus.len(),
        total as f64 / 1e6,
        text as f64 / 1e6
    );
    let current = RuleSet::builtin().expect("built-in rules");
    let other = old.as_ref().map(|path| {
        let file: OldFile =
            toml::from_str(&std::fs::read_to_string(path).expect("read rules")).expect("parse");
        // The other rules replace every built-in content rule (file-name rules stay: a path
        // RegexSet, not part of the content scan).
        let builtin: OldFile =
            toml::from_str(strata::redact::rules::BUILTIN_RULES).expect("built-in rules");
        let renamed = file
            .content
            .into_iter()
            .map(|mut r| {
                r.id = format!("other-{}", r.id);
                r
            })
            .collect();
        let cfg = SecretsConfig {
            rules: renamed,
            disable: builtin.content.into_iter().map(|r| r.id).collect(),
            ..SecretsConfig::default()
        };
        RuleSet::build(&cfg).expect("compile the other rules")
    });
    // Interleaved rounds, so that load from elsewhere on the machine hits both sides alike.
    let (mut best_new, mut best_old) = (f64::MAX, f64::MAX);
    let (mut n_new, mut n_old) = (0, 0);
    for _ in 0..ROUNDS {
        let (t, n) = time(&current, &corpus);
        (best_new, n_new) = (best_new.min(t), n);
        if let Some(o) = &other {
            let (t, n) = time(o, &corpus);
            (best_old, n_old) = (best_old.min(t), n);
        }
    }
    let rate = |t: f64| text as f64 / 1e6 / t;
    println!(
        "built-in rules: {best_new:.3} s, {:.0} MB/s of text, {n_new} matches",
        rate(best_new)
    );
    if let Some(path) = &old {
        println!(
            "{}: {best_old:.3} s, {:.0} MB/s of text, {n_old} matches",
            path.display(),
            rate(best_old)
        );
        println!("ratio built-in / other: {:.2}x", best_new / best_old);
    }
}
