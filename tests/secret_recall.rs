//! Secret recall and precision (issue 10), measured through the real scanner: every case of the
//! labelled corpus `tests/secret_corpus.toml` becomes one file of a fixture image, `strata
//! report` scans it, and each file's secret findings are compared with its label. Per rule
//! family the test prints positives, negatives, true and false positives, recall and precision,
//! and asserts recall 1.0 and no false positive: every case was written for a rule, so a miss or
//! a false alarm is a regression of that rule (or a wrong label), never noise.
//!
//! The image's config and history carry new token formats too. The image then goes through every
//! output format: no generated secret value may appear.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::fixture::*;
use serde::Deserialize;

const STRATA: &str = env!("CARGO_BIN_EXE_strata");
const CORPUS: &str = include_str!("secret_corpus.toml");
const RULES: &str = include_str!("../assets/secret-rules.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    families: BTreeMap<String, Vec<String>>,
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    path: String,
    family: String,
    expect: Vec<String>,
    text: String,
    #[serde(default)]
    binary: bool,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// A case with its generators expanded.
struct Expanded {
    bytes: Vec<u8>,
    /// Every generated run (the random parts of the fake secrets).
    generated: Vec<String>,
}

/// Deterministic xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

fn alphabet(name: &str) -> &'static [u8] {
    match name {
        "B62" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "UP" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "B32U" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "LOW" => b"abcdefghijklmnopqrstuvwxyz0123456789",
        "HEX" => b"0123456789abcdef",
        "B64" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "URL" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
        "B32L" => b"abcdefghijklmnopqrstuvwxyz234567",
        "DIG" => b"0123456789",
        "ALPHA" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        other => panic!("unknown alphabet {other:?} in the corpus"),
    }
}

/// Expands a case's `«NAME:N»` and `«UUID»` with a generator seeded by the case number.
fn expand(case: &Case, seed: u64) -> Expanded {
    let (text, generated) = expand_text(&case.text, seed);
    let mut bytes = Vec::new();
    if case.binary {
        bytes.extend_from_slice(b"\0\0\0\x01");
    }
    bytes.extend_from_slice(text.as_bytes());
    Expanded { bytes, generated }
}

/// The text with its generators expanded, and every generated run.
fn expand_text(text: &str, seed: u64) -> (String, Vec<String>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x1000_0000_01b3) | 1);
    let mut out = String::new();
    let mut generated = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('«') {
        out.push_str(&rest[..open]);
        let after = &rest[open + '«'.len_utf8()..];
        let close = after
            .find('»')
            .unwrap_or_else(|| panic!("{text:?}: unclosed generator"));
        let spec = &after[..close];
        let value = if spec == "UUID" {
            let h = |rng: &mut Rng, n| rng.pick(alphabet("HEX"), n);
            format!(
                "{}-{}-4{}-a{}-{}",
                h(&mut rng, 8),
                h(&mut rng, 4),
                h(&mut rng, 3),
                h(&mut rng, 3),
                h(&mut rng, 12)
            )
        } else {
            let (name, n) = spec
                .split_once(':')
                .unwrap_or_else(|| panic!("bad generator {spec:?}"));
            let n: usize = n
                .parse()
                .unwrap_or_else(|_| panic!("bad length in {spec:?}"));
            rng.pick(alphabet(name), n)
        };
        out.push_str(&value);
        generated.push(value);
        rest = &after[close + '»'.len_utf8()..];
    }
    out.push_str(rest);
    (out, generated)
}

/// Every rule id of the built-in rule file, content and file rules.
fn builtin_rule_ids() -> BTreeSet<String> {
    let v: toml::Value = toml::from_str(RULES).expect("assets/secret-rules.toml parses");
    ["content", "file"]
        .iter()
        .flat_map(|k| v[k].as_array().expect("rule array").iter())
        .map(|r| r["id"].as_str().expect("rule id").to_owned())
        .collect()
}

/// One image holding every case as a file (parent directories included).
fn corpus_image(cases: &[Case], expanded: &[Expanded], env: &[String], history: &str) -> ImageSpec {
    let mut dirs = BTreeSet::new();
    for c in cases {
        let mut p = Path::new(&c.path).parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_string_lossy().into_owned());
            p = d.parent();
        }
    }
    let mut entries: Vec<EntrySpec> = dirs
        .iter()
        .map(|d| EntrySpec::dir(format!("{d}/"), 0o755))
        .collect();
    for (c, e) in cases.iter().zip(expanded) {
        entries.push(EntrySpec::file(&c.path, &e.bytes, 0o644));
    }
    let mut spec = ImageSpec::new(vec![LayerSpec::new(history, entries)]);
    spec.config = serde_json::json!({ "Env": env });
    spec
}

/// The image config's `Env` and the layer's history step: new token formats outside files,
/// found (and masked) only by the content rules (the names are not secret-looking).
const ENV: [&str; 2] = [
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "BACKUP_URL=https://strata.blob.core.windows.net/b?sv=2022-11-02&sr=c&sp=rw&sig=«B64:43»%3D",
];
const HISTORY: &str = "/bin/sh -c curl -H 'Authorization: Bearer dapi«HEX:32»' https://adb-1.azuredatabricks.net/api/2.0/jobs/list && docker login -u ci -p dckr_pat_«URL:27» && vault login hvs.CAES«URL:88»";

fn report(image: &Path, format: &str) -> String {
    let out = Command::new(STRATA)
        .args(["report", &image.display().to_string(), "--format", format])
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "strata report --format {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 report")
}

/// Per family: `expected` detections of the family's rules (positives), near-miss `negatives`
/// labelled with the family, and what the scanner reported.
#[derive(Default)]
struct Tally {
    negatives: usize,
    expected: usize,
    true_pos: usize,
    false_pos: usize,
}

#[test]
fn secret_corpus_recall_and_precision_per_family() {
    let corpus: Corpus = toml::from_str(CORPUS).expect("tests/secret_corpus.toml parses");
    let cases = &corpus.case;
    assert!(cases.len() >= 150, "the corpus holds {} cases", cases.len());

    // Every rule belongs to exactly one family, every family rule exists.
    let rules = builtin_rule_ids();
    let mut family_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (fam, ids) in &corpus.families {
        for id in ids {
            assert!(rules.contains(id), "family {fam}: no rule {id}");
            assert!(
                family_of.insert(id, fam).is_none(),
                "rule {id} is in two families"
            );
        }
    }
    for id in &rules {
        assert!(
            family_of.contains_key(id.as_str()),
            "rule {id} has no family"
        );
    }

    // Labels are well-formed: unique paths, known families and rules, each rule with a
    // positive, each family with a near-miss negative.
    let mut paths = BTreeSet::new();
    let mut rules_with_positive = BTreeSet::new();
    let mut families_with_negative = BTreeSet::new();
    for c in cases {
        assert!(paths.insert(&c.path), "duplicate path {}", c.path);
        assert!(
            corpus.families.contains_key(&c.family),
            "{}: unknown family {}",
            c.path,
            c.family
        );
        for id in &c.expect {
            assert!(
                family_of.contains_key(id.as_str()),
                "{}: unknown rule {id}",
                c.path
            );
            rules_with_positive.insert(id.as_str());
        }
        if c.expect.is_empty() {
            families_with_negative.insert(c.family.as_str());
        }
    }
    for id in &rules {
        assert!(
            rules_with_positive.contains(id.as_str()),
            "rule {id} has no positive case"
        );
    }
    for fam in corpus.families.keys() {
        assert!(
            families_with_negative.contains(fam.as_str()),
            "family {fam} has no negative case"
        );
    }

    let expanded: Vec<Expanded> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| expand(c, i as u64 + 1))
        .collect();
    for (c, e) in cases.iter().zip(&expanded) {
        assert!(
            e.bytes.len() >= 16,
            "{}: shorter than the scanner's 16-byte minimum",
            c.path
        );
    }
    // Config and history values, seeded after the cases.
    let mut outside = Vec::new();
    let env: Vec<String> = ENV
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (text, generated) = expand_text(e, 10_000 + i as u64);
            outside.extend(generated);
            text
        })
        .collect();
    let (history, generated) = expand_text(HISTORY, 20_000);
    outside.extend(generated);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = dir.path().join("corpus.tar");
    write_image(
        &corpus_image(cases, &expanded, &env, &history),
        Layout::DockerLegacy,
        &image,
    )
    .expect("write corpus image");

    // Secret findings per file.
    let json: serde_json::Value = serde_json::from_str(&report(&image, "json")).expect("json");
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unplaced: Vec<String> = Vec::new();
    for f in json["findings"].as_array().expect("findings[]") {
        if f["category"] != "secret" {
            continue;
        }
        let rule = f["rule"].as_str().expect("rule").to_owned();
        match f["path"].as_str() {
            Some(path) => {
                found
                    .entry(path.trim_start_matches('/').to_owned())
                    .or_default()
                    .insert(rule);
            }
            None => unplaced.push(format!("{rule}: {}", f["title"])),
        }
    }
    // The config's SAS URL and the history's three tokens, each found by its content rule.
    unplaced.sort();
    assert_eq!(
        unplaced,
        [
            "env-secret: \"Secret in ENV BACKUP_URL\"",
            "history-secret: \"Databricks access token in the build history\"",
            "history-secret: \"Docker Hub access token in the build history\"",
            "history-secret: \"HashiCorp Vault token in the build history\"",
        ],
        "config and history findings"
    );

    let mut tally: BTreeMap<&str, Tally> = corpus
        .families
        .keys()
        .map(|f| (f.as_str(), Tally::default()))
        .collect();
    let mut failures = Vec::new();
    let none = BTreeSet::new();
    for c in cases {
        let got = found.remove(&c.path).unwrap_or_default();
        let want: BTreeSet<String> = c.expect.iter().cloned().collect();
        let t = tally.get_mut(c.family.as_str()).expect("family");
        if want.is_empty() {
            t.negatives += 1;
        }
        for id in &want {
            tally
                .get_mut(family_of[id.as_str()])
                .expect("family")
                .expected += 1;
            if got.contains(id) {
                tally
                    .get_mut(family_of[id.as_str()])
                    .expect("family")
                    .true_pos += 1;
            } else {
                failures.push(format!("MISS  {}: expected {id}, got {got:?}", c.path));
            }
        }
        for id in got.difference(&want) {
            let fam = family_of.get(id.as_str()).copied().unwrap_or("generic");
            tally.get_mut(fam).expect("family").false_pos += 1;
            failures.push(format!("FALSE {}: {id} fired (expected {want:?})", c.path));
        }
    }
    // Findings on paths that are not cases (the image has nothing else).
    for (path, ids) in &found {
        if ids != &none {
            failures.push(format!("EXTRA /{path}: {ids:?}"));
        }
    }

    println!(
        "\n{:<20} {:>4} {:>4} {:>5} {:>4} {:>4} {:>7} {:>9}",
        "family", "pos", "neg", "rules", "TP", "FP", "recall", "precision"
    );
    let (mut all_exp, mut all_tp, mut all_fp) = (0, 0, 0);
    for (fam, t) in &tally {
        let recall = t.true_pos as f64 / t.expected.max(1) as f64;
        let precision = t.true_pos as f64 / (t.true_pos + t.false_pos).max(1) as f64;
        println!(
            "{fam:<20} {:>4} {:>4} {:>5} {:>4} {:>4} {:>7.3} {:>9.3}",
            t.expected,
            t.negatives,
            corpus.families[*fam].len(),
            t.true_pos,
            t.false_pos,
            recall,
            precision
        );
        all_exp += t.expected;
        all_tp += t.true_pos;
        all_fp += t.false_pos;
    }
    let negatives = cases.iter().filter(|c| c.expect.is_empty()).count();
    println!(
        "{:<20} {:>4} {:>4} {:>5} {:>4} {:>4} {:>7.3} {:>9.3}\n",
        "all",
        all_exp,
        negatives,
        rules.len(),
        all_tp,
        all_fp,
        all_tp as f64 / all_exp.max(1) as f64,
        all_tp as f64 / (all_tp + all_fp).max(1) as f64
    );
    assert!(
        failures.is_empty(),
        "{} mislabelled results:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // No generated secret value reaches any output format. A masked preview shows at most the
    // first 4 characters of a value, so both the whole run and the run without its first 4
    // characters must be absent (runs of 8 or more characters; shorter ones are not secrets).
    let mut raw: Vec<&str> = Vec::new();
    let positives = cases
        .iter()
        .zip(&expanded)
        .filter(|(c, _)| !c.expect.is_empty())
        .flat_map(|(_, e)| &e.generated);
    for g in positives.chain(&outside) {
        if g.len() >= 12 {
            raw.push(g);
            raw.push(&g[4..]);
        }
    }
    assert!(raw.len() > 200, "{} generated values", raw.len());
    for format in ["json", "text", "sarif", "markdown"] {
        let text = report(&image, format);
        assert!(
            text.contains("(redacted)"),
            "{format} shows redacted findings"
        );
        for r in &raw {
            assert!(!text.contains(r), "{format} output leaks {r:?}");
        }
    }
}

/// The corpus generator itself: fixed seeds give the same values, different cases differ.
#[test]
fn corpus_generators_are_deterministic() {
    let case = |text: &str| Case {
        path: "p".into(),
        family: "f".into(),
        expect: Vec::new(),
        text: text.into(),
        binary: false,
        note: None,
    };
    let c = case("k=«HEX:32» id=«UUID»");
    let (a, b) = (expand(&c, 7), expand(&c, 7));
    assert_eq!(a.bytes, b.bytes);
    assert_ne!(a.bytes, expand(&c, 8).bytes);
    assert_eq!(a.generated.len(), 2);
    assert_eq!(a.generated[0].len(), 32);
    assert!(a.generated[0].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(a.generated[1].len(), 36);
}

/// A typo in a generator name must not silently produce an empty value.
#[test]
#[should_panic(expected = "unknown alphabet")]
fn corpus_generator_refuses_an_unknown_alphabet() {
    let case = Case {
        path: "p".into(),
        family: "f".into(),
        expect: Vec::new(),
        text: "«NOPE:3»".into(),
        binary: false,
        note: None,
    };
    expand(&case, 1);
}
