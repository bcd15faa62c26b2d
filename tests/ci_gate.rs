//! `strata ci` and the SARIF / Markdown reports against fixture twins of the daemon-built test
//! images `layers`, `clean` and `secrets` (tests/common/twins.rs): each rule's pass and
//! fail with thresholds right around the measured values, exit codes 0/1/2 through the real
//! binary, config errors, the `.dive-ci` mapping, SARIF schema validation and redaction.
//!
//! Only the schema test needs a real component (check-jsonschema, under `STRATA_TEST_REAL=1`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use strata::analysis::efficiency::Efficiency;
use strata::analysis::finding::{Category, Finding, Severity};
use strata::policy::{evaluate, Policy, Status};
use strata::source::{LoadOptions, Progress};

mod common;

/// The fixture twin of a daemon test image (tests/common/twins.rs), written once per run.
fn twin(name: &str) -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR
        .get_or_init(|| tempfile::tempdir().expect("tempdir"))
        .path();
    let path = dir.join(format!("{name}.tar"));
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !path.is_file() {
        common::twins::write(name, dir);
    }
    path
}

macro_rules! image {
    ($name:expr) => {
        twin($name)
    };
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the real binary in `cwd` (an empty temporary directory unless given).
fn strata_in(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run strata");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn strata(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    strata_in(dir.path(), args)
}

/// Runs `strata ci IMAGE` with only the size rules given in `rules` enabled (the finding
/// rules switched off), so one rule is tested at a time.
fn ci_only(image: &Path, rules: &[&str]) -> Run {
    let img = image.to_str().expect("utf-8 path");
    let mut args = vec!["ci", img];
    for flag in [
        "--lowest-efficiency",
        "--highest-user-reclaimable-percent",
        "--fail-on",
        "--warn-on",
    ] {
        if !rules.contains(&flag) {
            args.extend_from_slice(&[flag, "off"]);
        }
    }
    args.extend_from_slice(rules);
    strata(&args)
}

/// The status word of `rule` in a text summary.
fn status_of(out: &str, rule: &str) -> String {
    out.lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            let status = w.next()?;
            (w.next()? == rule).then(|| status.to_owned())
        })
        .unwrap_or_else(|| panic!("rule {rule} not in output:\n{out}"))
}

fn report_json(image: &Path) -> serde_json::Value {
    let r = strata(&["report", image.to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("report json")
}

fn next_up(x: f64) -> f64 {
    f64::from_bits(x.to_bits() + 1)
}

// ---------------------------------------------------------------------------------------------
// Size rules on strata-test/layers:1 (exactly 18,000 reclaimable bytes, all in layer 1).

#[test]
fn measured_values_of_layers_image() {
    let img = image!("layers");
    let rep = report_json(&img);
    let total = rep["efficiency"]["total_bytes"].as_u64().expect("total");
    assert_eq!(rep["efficiency"]["reclaimable_bytes"], 18_000);
    let layers = rep["layers"].as_array().expect("layers");
    let user: u64 = layers[1..]
        .iter()
        .map(|l| l["size_bytes"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(user, 44_103, "bytes of layers 1-6");
    let r = strata(&["ci", img.to_str().unwrap_or_default(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("ci json");
    assert_eq!(v["schema"], "strata.ci/v1");
    let m = &v["metrics"];
    assert_eq!(m["total_bytes"], total);
    assert_eq!(m["reclaimable_bytes"], 18_000);
    assert_eq!(m["user_bytes"], 44_103);
    assert_eq!(m["user_reclaimable_bytes"], 18_000);
    assert_eq!(
        m["user_reclaimable_percent"].as_f64(),
        Some(18_000.0 / 44_103.0)
    );
    assert_eq!(
        m["efficiency"].as_f64(),
        Some((total - 18_000) as f64 / total as f64)
    );
    // The defaults (dive's: 0.9 and 0.1) fail this image on the user percentage alone.
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(v["exit_code"], 1);
}

#[test]
fn lowest_efficiency_pass_and_fail() {
    let img = image!("layers");
    let total = report_json(&img)["efficiency"]["total_bytes"]
        .as_u64()
        .expect("total");
    let score = (total - 18_000) as f64 / total as f64;
    // Exactly the score passes (the rule fails only below the threshold) ...
    let at = format!("{score}");
    let r = ci_only(&img, &["--lowest-efficiency", &at]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(status_of(&r.stdout, "lowest-efficiency"), "PASS");
    assert!(
        r.stdout
            .contains(&format!("({} visible of {total} bytes)", total - 18_000)),
        "{}",
        r.stdout
    );
    // ... the next representable value above it fails.
    let above = format!("{}", next_up(score));
    let r = ci_only(&img, &["--lowest-efficiency", &above]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "lowest-efficiency"), "FAIL");
    assert!(r.stdout.contains("Result: FAIL (1 failed"), "{}", r.stdout);
    // Percent form.
    let r = ci_only(&img, &["--lowest-efficiency", "99.2%"]);
    assert_eq!(
        (r.code, status_of(&r.stdout, "lowest-efficiency")),
        (1, "FAIL".into())
    );
    let r = ci_only(&img, &["--lowest-efficiency", "99.1%"]);
    assert_eq!(
        (r.code, status_of(&r.stdout, "lowest-efficiency")),
        (0, "PASS".into())
    );
}

#[test]
fn highest_reclaimable_bytes_pass_and_fail() {
    let img = image!("layers");
    for (limit, code) in [
        ("18000", 0),
        ("17999", 1),
        ("18kB", 0),
        ("17.999kB", 1),
        ("18KiB", 0),
        ("0.018MB", 0),
        ("0", 1),
    ] {
        let r = ci_only(&img, &["--highest-reclaimable-bytes", limit]);
        assert_eq!(r.code, code, "limit {limit}: {}{}", r.stdout, r.stderr);
        let want = if code == 0 { "PASS" } else { "FAIL" };
        assert_eq!(
            status_of(&r.stdout, "highest-reclaimable-bytes"),
            want,
            "limit {limit}"
        );
    }
    // Percentage of the whole image: 18000 / total.
    let total = report_json(&img)["efficiency"]["total_bytes"]
        .as_u64()
        .expect("total");
    let p = 18_000.0 / total as f64 * 100.0;
    let above = format!("{:.5}%", p + 0.00001);
    let below = format!("{:.5}%", p - 0.00001);
    let r = ci_only(&img, &["--highest-reclaimable-bytes", &above]);
    assert_eq!(r.code, 0, "{above}: {}", r.stdout);
    let r = ci_only(&img, &["--highest-reclaimable-bytes", &below]);
    assert_eq!(r.code, 1, "{below}: {}", r.stdout);
    assert!(r.stdout.contains("18000 bytes (17.6 KiB)"), "{}", r.stdout);
}

#[test]
fn highest_user_reclaimable_percent_pass_and_fail() {
    let img = image!("layers");
    // 18000 / 44103 = 0.408135...
    for (limit, code) in [
        ("0.4082", 0),
        ("0.4081", 1),
        ("40.82%", 0),
        ("40.81%", 1),
        ("0.1", 1),
    ] {
        let r = ci_only(&img, &["--highest-user-reclaimable-percent", limit]);
        assert_eq!(r.code, code, "limit {limit}: {}", r.stdout);
        assert!(
            r.stdout
                .contains("40.8136% (18000 of 44103 bytes in layers 1-6)"),
            "{}",
            r.stdout
        );
    }
    // A clean image: 0 of 18 bytes above the base.
    let clean = image!("clean");
    let r = ci_only(&clean, &["--highest-user-reclaimable-percent", "0"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("0% (0 of 18 bytes in layer 1)"),
        "{}",
        r.stdout
    );
}

#[test]
fn skipped_rules_say_so() {
    let img = image!("layers");
    let r = ci_only(&img, &["--highest-reclaimable-bytes", "disabled"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    for rule in [
        "lowest-efficiency",
        "highest-reclaimable-bytes",
        "highest-user-reclaimable-percent",
        "fail-on",
        "warn-on",
        "forbid-rules",
    ] {
        assert_eq!(status_of(&r.stdout, rule), "SKIP", "{rule}");
    }
}

// ---------------------------------------------------------------------------------------------
// Config files, flags, exit code 2.

#[test]
fn strata_toml_in_working_directory_and_flag_override() {
    let img = image!("layers");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".strata.toml"),
        "[findings]\nwaste_min_bytes = 1\n\n[ui]\ntheme = \"dark\"\n\n[ci]\nlowest-efficiency = 0.5\nhighest-reclaimable-bytes = \"17999\"\nhighest-user-reclaimable-percent = \"off\"\nfail-on = \"off\"\nwarn-on = \"off\"\n",
    )
    .expect("write");
    let i = img.to_str().unwrap_or_default();
    let r = strata_in(dir.path(), &["ci", i]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("policy  .strata.toml"), "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "FAIL");
    assert_eq!(status_of(&r.stdout, "lowest-efficiency"), "PASS");
    // A flag overrides the file.
    let r = strata_in(
        dir.path(),
        &["ci", i, "--highest-reclaimable-bytes", "18000"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    // --config names another file; the working directory's is then not read.
    let other = dir.path().join("gate.toml");
    std::fs::write(&other, "[ci]\nlowest-efficiency = \"99.5%\"\nhighest-user-reclaimable-percent = \"off\"\nfail-on = \"off\"\n").expect("write");
    let r = strata_in(
        dir.path(),
        &["ci", i, "--config", other.to_str().unwrap_or_default()],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "lowest-efficiency"), "FAIL");
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "SKIP");
}

fn assert_config_error(file: &str, text: &str, must: &[&str]) {
    let img = image!("layers");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(file), text).expect("write");
    let r = strata_in(dir.path(), &["ci", img.to_str().unwrap_or_default()]);
    assert_eq!(r.code, 2, "{file}: {text:?}\n{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "nothing on stdout: {}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    for m in must {
        assert!(r.stderr.contains(m), "{m:?} missing in {}", r.stderr);
    }
}

#[test]
fn config_errors_exit_2_naming_key_and_file() {
    assert_config_error(
        ".strata.toml",
        "[ui]\nwhatever = 1\n[ci]\nlowest-eficiency = 0.9\n",
        &[".strata.toml", "unknown key `ci.lowest-eficiency`"],
    );
    assert_config_error(
        ".strata.toml",
        "[ci]\nhighest-reclaimable-bytes = \"20XB\"\n",
        &[".strata.toml", "ci.highest-reclaimable-bytes", "20XB"],
    );
    assert_config_error(
        ".strata.toml",
        "[ci]\nfail-on = \"severe\"\n",
        &[".strata.toml", "ci.fail-on", "severe"],
    );
    assert_config_error(
        ".strata.toml",
        "[ci]\nmax-severity = { secret = \"low\", cfg = \"low\" }\n",
        &[".strata.toml", "ci.max-severity.cfg"],
    );
    assert_config_error(
        ".strata.toml",
        "[ci]\nlowest-efficiency = 90\n",
        &[".strata.toml", "ci.lowest-efficiency", "90"],
    );
    assert_config_error(".strata.toml", "[ci\n", &[".strata.toml", "line 1"]);
    assert_config_error(
        ".dive-ci",
        "rules:\n  lowestEfficiency: 0.9\n  highestWastedByte: 20MB\n",
        &[".dive-ci", "line 3", "highestWastedByte"],
    );
    assert_config_error(
        ".dive-ci",
        "rules:\n  highestWastedBytes: 20 megs\n",
        &[".dive-ci", "highestWastedBytes", "20 megs"],
    );
}

#[test]
fn bad_flags_and_inputs_exit_2() {
    let img = image!("layers");
    let i = img.to_str().unwrap_or_default();
    for (args, must) in [
        (
            vec!["ci", i, "--highest-reclaimable-bytes", "lots"],
            "--highest-reclaimable-bytes",
        ),
        (vec!["ci", i, "--fail-on", "severe"], "--fail-on"),
        (
            vec!["ci", i, "--max-severity", "secrets:low"],
            "--max-severity",
        ),
        (vec!["ci", i, "--allow-paths", "re:("], "--allow-paths"),
        (
            vec!["ci", i, "--config", "/nonexistent/strata.toml"],
            "/nonexistent/strata.toml",
        ),
        (
            vec!["ci", "/nonexistent/image.tar"],
            "/nonexistent/image.tar",
        ),
    ] {
        let r = strata(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(must), "{args:?}: {}", r.stderr);
    }
    // A file that is not an image.
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"not a tar at all").expect("write");
    let r = strata(&["ci", junk.to_str().unwrap_or_default()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
}

#[test]
fn dive_ci_is_mapped_onto_strata_metrics() {
    let img = image!("layers");
    let i = img.to_str().unwrap_or_default();
    let dir = tempfile::tempdir().expect("tempdir");
    // dive's keys: efficiency floor off, wasted bytes ceiling exactly at strata's 18000, user
    // percentage just above 18000/44103.
    std::fs::write(
        dir.path().join(".dive-ci"),
        "# dive CI rules\nrules:\n  lowestEfficiency: disabled\n  highestWastedBytes: 18kB\n  highestUserWastedPercent: \"0.4082\"\n",
    )
    .expect("write");
    let r = strata_in(
        dir.path(),
        &["ci", i, "--fail-on", "off", "--warn-on", "off"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("policy  .dive-ci"), "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "lowest-efficiency"), "SKIP");
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "PASS");
    assert_eq!(
        status_of(&r.stdout, "highest-user-reclaimable-percent"),
        "PASS"
    );

    // The same file given with --config (name recognised), one byte tighter: fails.
    let f = dir.path().join("strict.dive-ci");
    std::fs::write(
        &f,
        "rules:\n  highestWastedBytes: 17999\n  highestUserWastedPercent: 0.4081\n",
    )
    .expect("write");
    let r = strata(&[
        "ci",
        i,
        "--config",
        f.to_str().unwrap_or_default(),
        "--fail-on",
        "off",
        "--warn-on",
        "off",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "FAIL");
    assert_eq!(
        status_of(&r.stdout, "highest-user-reclaimable-percent"),
        "FAIL"
    );
    // Not set in the file: dive's default 0.9 applies.
    assert_eq!(status_of(&r.stdout, "lowest-efficiency"), "PASS");
    assert!(r.stdout.contains(">= 90%"), "{}", r.stdout);

    // dive's flag names are accepted as aliases.
    let r = strata(&[
        "ci",
        i,
        "--highestWastedBytes",
        "17999",
        "--highestUserWastedPercent",
        "off",
        "--fail-on",
        "off",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "FAIL");
}

// ---------------------------------------------------------------------------------------------
// `.dive-ci` read as dive reads it (YAML; only `rules:` counts; values as text).

fn dive_fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dive")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `strata ci` on strata-test/layers:1 with a `.dive-ci` holding `text` in the working
/// directory, finding rules off.
fn with_dive_ci(text: &str) -> Option<Run> {
    let img = twin("layers");
    let cwd = tempfile::tempdir().expect("tempdir");
    std::fs::write(cwd.path().join(".dive-ci"), text).expect("write");
    Some(strata_in(
        cwd.path(),
        &[
            "ci",
            img.to_str().unwrap_or_default(),
            "--fail-on",
            "off",
            "--warn-on",
            "off",
        ],
    ))
}

#[test]
fn dives_own_dive_ci_passes_and_what_is_ignored_is_said_once() {
    let Some(r) = with_dive_ci(&dive_fixture(".dive-ci")) else {
        return;
    };
    // lowestEfficiency 0.95, highestWastedBytes 20Mb (20,000,000), highestUserWastedPercent 0.5
    // against 99.1%, 18,000 bytes and 40.8%: all pass.
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("policy  .dive-ci"), "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "lowest-efficiency"), "PASS");
    assert!(r.stdout.contains(">= 95%"), "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "PASS");
    assert!(r.stdout.contains("<= 20000000 bytes"), "{}", r.stdout);
    assert_eq!(
        status_of(&r.stdout, "highest-user-reclaimable-percent"),
        "PASS"
    );
    assert!(r.stdout.contains("<= 50%"), "{}", r.stdout);
    // The plugin list and the plugin rule: one warning line naming both.
    let warnings: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", r.stderr);
    let w = warnings[0];
    assert!(w.starts_with("strata: warning: .dive-ci: ignoring"), "{w}");
    assert!(
        w.contains("plugins") && w.contains("rules.plugin1/rule1"),
        "{w}"
    );

    // dive's test-data file, same rules (0.96, 19Mb, 0.6), no warning.
    let Some(r) = with_dive_ci(&dive_fixture("default-ci-config.dive-ci")) else {
        return;
    };
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(">= 96%") && r.stdout.contains("<= 19000000 bytes"));
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn dive_ci_quotes_comments_and_switches_as_dive_reads_them() {
    // Quoted and unquoted, `off`/`disabled`/`false` (a YAML boolean) all switch a rule off.
    let Some(r) = with_dive_ci(
        "# comment\nrules: # trailing comment\n  lowestEfficiency: \"off\"\n  highestWastedBytes: 'disabled'\n  highestUserWastedPercent: false\n",
    ) else {
        return;
    };
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for rule in [
        "lowest-efficiency",
        "highest-reclaimable-bytes",
        "highest-user-reclaimable-percent",
    ] {
        assert_eq!(status_of(&r.stdout, rule), "SKIP", "{rule}");
    }
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // Quoted numbers are numbers; an empty value keeps the default (dive's YAML decoder leaves
    // the field alone); a bare 18000 is bytes.
    let Some(r) = with_dive_ci(
        "rules:\n  lowestEfficiency:\n  highestWastedBytes: 17999\n  highestUserWastedPercent: '0.4082'\n",
    ) else {
        return;
    };
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(">= 90%"), "default kept: {}", r.stdout);
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "FAIL");
    assert_eq!(
        status_of(&r.stdout, "highest-user-reclaimable-percent"),
        "PASS"
    );
}

#[test]
fn dive_ci_rule_keys_at_the_top_level() {
    // Beside a `rules:` mapping: ignored, with a warning that dive reads only `rules:`.
    let Some(r) = with_dive_ci(
        "rules:\n  lowestEfficiency: 0.5\n  highestUserWastedPercent: off\nhighestWastedBytes: 1\n",
    ) else {
        return;
    };
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(status_of(&r.stdout, "highest-reclaimable-bytes"), "SKIP");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("highestWastedBytes at the top level")
            && r.stderr.contains("dive reads rules only under `rules:`"),
        "{}",
        r.stderr
    );
    // No `rules:` at all: a config error.
    assert_config_error(
        ".dive-ci",
        "lowestEfficiency: 0.95\nhighestWastedBytes: 20MB\n",
        &[".dive-ci", "no `rules:`", "lowestEfficiency", "dive reads"],
    );
    assert_config_error(
        ".dive-ci",
        "---\nplugins:\n  - plugin1\n",
        &[".dive-ci", "no `rules:`"],
    );
    assert_config_error(
        ".dive-ci",
        "rules:\n  lowestEfficiency: [0.9]\n",
        &[".dive-ci", "line 2", "rules.lowestEfficiency", "list"],
    );
    assert_config_error(".dive-ci", "rules: [\n", &[".dive-ci", "invalid YAML"]);
}

// ---------------------------------------------------------------------------------------------
// Finding rules on a real image with hand-made findings (the library API the command uses).

fn finding(
    rule: &str,
    category: Category,
    severity: Severity,
    path: Option<&str>,
    layer: Option<usize>,
) -> Finding {
    Finding {
        rule: rule.into(),
        category,
        severity,
        title: format!("{rule} fired"),
        message: format!("{rule} fired on {}", path.unwrap_or("the config")),
        path: path.map(Into::into),
        layer,
        removed_in: None,
        bytes: Some(1281),
        evidence: Some("-----BEGIN RSA PRIVATE KEY----- …(redacted)".into()),
        fix: Some("Do not copy keys into images".into()),
        why: Some("Anyone who pulls the image gets the key".into()),
        base: false,
        items: Vec::new(),
    }
}

/// An analysed image with hand-made findings, redacted with the built-in rules.
fn analysed(image: &strata::model::Image, eff: &Efficiency, fs: &[Finding]) -> strata::Analysed {
    strata::Analysed {
        image: std::sync::Arc::new(image.clone()),
        efficiency: eff.clone(),
        findings: fs.to_vec(),
        packages: Vec::new(),
        redactor: strata::redact::Redactor::default(),
    }
}

fn load(path: &Path) -> strata::model::Image {
    strata::source::load(
        &strata::source::Input::parse(path.to_str().unwrap_or_default()),
        &LoadOptions::default(),
        &Progress::default(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hand_made() -> Vec<Finding> {
    vec![
        finding(
            "secret-private-key",
            Category::Secret,
            Severity::Critical,
            Some("/app/keys/id_rsa"),
            Some(1),
        ),
        finding(
            "config-root-user",
            Category::Config,
            Severity::Medium,
            None,
            None,
        ),
        finding(
            "config-setuid",
            Category::Config,
            Severity::Low,
            Some("/usr/local/bin/suid-helper"),
            Some(4),
        ),
    ]
}

#[test]
fn finding_rules_on_real_image() {
    let img = image!("secrets");
    let image = load(&img);
    let eff = Efficiency::of(&image);
    let fs = hand_made();
    let status = |o: &strata::policy::Outcome, r: &str| {
        o.rules.iter().find(|x| x.rule == r).map(|x| x.status)
    };

    let mut p = Policy {
        highest_user_reclaimable_percent: None,
        ..Policy::default()
    };
    let o = evaluate(&image, &eff, &fs, &p);
    assert_eq!(status(&o, "fail-on"), Some(Status::Fail));
    assert_eq!(o.exit_code(), 1);

    // fail-on just above the worst severity passes; warn-on still warns.
    p.fail_on = Some(Severity::Critical);
    p.allow_paths
        .push(strata::policy::PathPattern::parse("/app/keys/**").expect("glob"));
    let o = evaluate(&image, &eff, &fs, &p);
    assert_eq!(status(&o, "fail-on"), Some(Status::Pass));
    assert_eq!(status(&o, "warn-on"), Some(Status::Warn));
    assert_eq!(o.exit_code(), 0);

    // max-severity for config: medium passes, low fails.
    p.max_severity
        .insert(Category::Config, Some(Severity::Medium));
    assert_eq!(
        status(&evaluate(&image, &eff, &fs, &p), "max-severity.config"),
        Some(Status::Pass)
    );
    p.max_severity.insert(Category::Config, Some(Severity::Low));
    let o = evaluate(&image, &eff, &fs, &p);
    assert_eq!(status(&o, "max-severity.config"), Some(Status::Fail));
    assert_eq!(o.exit_code(), 1);
    p.max_severity.clear();

    // Forbidden rule ids fail whatever their severity; the rule-id allowlist removes them.
    p.forbid_rules.push("config-setuid".into());
    assert_eq!(evaluate(&image, &eff, &fs, &p).exit_code(), 1);
    p.forbid_rules.clear();
    p.allow_rules.push("config-setuid".into());
    p.fail_on = Some(Severity::Low);
    // Left: config-root-user (medium) >= low.
    assert_eq!(evaluate(&image, &eff, &fs, &p).exit_code(), 1);
    p.allow_rules.push("config-root-user".into());
    let o = evaluate(&image, &eff, &fs, &p);
    assert_eq!(o.exit_code(), 0, "{:?}", o.rules);
}

// ---------------------------------------------------------------------------------------------
// Finding rules through the real binary and the real findings engine.

/// `(rule, category, severity, path)` of every finding `strata ci` reports for `image`.
fn real_findings(image: &Path) -> Vec<(String, String, String, Option<String>)> {
    let r = strata(&["ci", image.to_str().unwrap_or_default(), "--format", "json"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("ci json");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (
                s("rule"),
                s("category"),
                s("severity"),
                f["path"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Runs `strata ci IMAGE` with the size rules off and `args` after them.
fn ci_findings_only(image: &Path, args: &[&str]) -> Run {
    let mut all = vec![
        "ci",
        image.to_str().unwrap_or_default(),
        "--lowest-efficiency",
        "off",
        "--highest-user-reclaimable-percent",
        "off",
    ];
    all.extend_from_slice(args);
    strata(&all)
}

#[test]
fn clean_image_passes_the_defaults() {
    let img = image!("clean");
    let r = strata(&["ci", img.to_str().unwrap_or_default()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Result: PASS"), "{}", r.stdout);
    for f in real_findings(&img) {
        assert!(
            ["info", "low"].contains(&f.2.as_str()),
            "clean image has a {f:?}"
        );
    }
}

#[test]
fn fail_on_and_max_severity_with_real_findings() {
    let img = image!("secrets");
    let found = real_findings(&img);
    // The planted secrets are critical (squashed private key, AWS key ids).
    let secrets: Vec<_> = found.iter().filter(|f| f.1 == "secret").collect();
    assert!(secrets.iter().any(|f| f.2 == "critical"), "{found:?}");
    assert!(
        secrets
            .iter()
            .any(|f| f.3.as_deref() == Some("/app/keys/id_rsa")),
        "{found:?}"
    );

    let r = ci_findings_only(&img, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "fail-on"), "FAIL");
    assert!(r.stdout.contains("/app/keys/id_rsa"), "{}", r.stdout);
    // Nothing is above critical: fail-on critical still fails, fail-on off passes with a warning.
    let r = ci_findings_only(&img, &["--fail-on", "critical"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let r = ci_findings_only(&img, &["--fail-on", "off"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "warn-on"), "WARN");
    assert!(
        r.stdout.contains("Result: PASS (0 failed, 1 warned"),
        "{}",
        r.stdout
    );

    // max-severity: secret=critical allows them, secret=high does not.
    let r = ci_findings_only(
        &img,
        &["--fail-on", "off", "--max-severity", "secret=critical"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "max-severity.secret"), "PASS");
    let r = ci_findings_only(&img, &["--fail-on", "off", "--max-severity", "secret=high"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "max-severity.secret"), "FAIL");
    // The same from a config file.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".strata.toml"),
        "[ci]
fail-on = \"off\"\nlowest-efficiency = \"off\"\nhighest-user-reclaimable-percent = \"off\"\nmax-severity = { secret = \"high\" }\n",
    )
    .expect("write");
    let r = strata_in(dir.path(), &["ci", img.to_str().unwrap_or_default()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(status_of(&r.stdout, "max-severity.secret"), "FAIL");
}

#[test]
fn allowlists_and_forbidden_rules_with_real_findings() {
    let img = image!("secrets");
    let found = real_findings(&img);
    // Allow every finding at or above high: by path where it has one, else by rule id.
    let mut args: Vec<String> = Vec::new();
    for f in found.iter().filter(|f| f.2 == "critical" || f.2 == "high") {
        match &f.3 {
            Some(p) => args.extend(["--allow-paths".into(), p.clone()]),
            None => args.extend(["--allow-rules".into(), f.0.clone()]),
        }
    }
    assert!(!args.is_empty(), "{found:?}");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = ci_findings_only(&img, &refs);
    assert_eq!(r.code, 0, "{refs:?}\n{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "fail-on"), "PASS");
    assert_eq!(status_of(&r.stdout, "allowlist"), "PASS");
    assert!(
        !r.stdout.contains("  /app/keys/id_rsa  (layer"),
        "allowed findings are not listed: {}",
        r.stdout
    );
    // A glob over the directory allows the squashed key too.
    let mut globbed = refs.clone();
    if let Some(i) = globbed.iter().position(|a| *a == "/app/keys/id_rsa") {
        globbed[i] = "/app/keys/**";
    }
    let r = ci_findings_only(&img, &globbed);
    assert_eq!(r.code, 0, "{globbed:?}\n{}", r.stdout);

    // A forbidden rule fails the gate whatever its severity; one that does not fire passes.
    let lowest = found
        .iter()
        .find(|f| f.2 == "low" || f.2 == "info")
        .unwrap_or_else(|| panic!("a low finding: {found:?}"));
    let r = ci_findings_only(&img, &["--fail-on", "off", "--forbid-rules", &lowest.0]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "forbid-rules"), "FAIL");
    let r = ci_findings_only(
        &img,
        &["--fail-on", "off", "--forbid-rules", "no-such-rule"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(status_of(&r.stdout, "forbid-rules"), "PASS");
    // Both forbidden and allowed: a policy error, exit 2.
    let r = ci_findings_only(
        &img,
        &["--forbid-rules", &lowest.0, "--allow-rules", &lowest.0],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("both forbidden and allowed"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// SARIF: valid against the official 2.1.0 schema.

/// The schema to validate against. The copy in `shared/schemas` keeps the SARIF root object
/// under `definitions.Root` with no root-level keywords, so validating against the file as it
/// is accepts anything; the root is then referenced explicitly (`"$ref": "#/definitions/Root"`).
fn rooted_schema(schema: &Path, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(schema).expect("read schema");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("schema json");
    let has_root = ["type", "properties", "$ref", "required"]
        .iter()
        .any(|k| v.get(*k).is_some());
    if !has_root {
        assert!(
            v["definitions"]["Root"].is_object(),
            "{}: neither root keywords nor definitions.Root",
            schema.display()
        );
        v["$ref"] = "#/definitions/Root".into();
    }
    let out = dir.join("sarif-schema-rooted.json");
    std::fs::write(&out, v.to_string()).expect("write schema");
    out
}

/// Validates `doc` against the SARIF schema; `Err` holds the validator's output.
fn validate(cmd: &[String], schema: &Path, doc: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let schema = rooted_schema(schema, dir.path());
    let f = dir.path().join("out.sarif.json");
    std::fs::write(&f, doc).map_err(|e| e.to_string())?;
    // The official schema has a pattern that is not valid ECMAScript regex; python's dialect
    // reads it (format checks stay on).
    let out = Command::new(&cmd[0])
        .args(&cmd[1..])
        .args(["--regex-variant", "python", "--schemafile"])
        .arg(&schema)
        .arg(&f)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn sarif_validates_against_the_official_schema() {
    let img = image!("secrets");
    let schema = common::real::shared_schema("sarif-schema-2.1.0.json");
    let cmd = common::real::json_schema_validator();
    // From the real command.
    let r = strata(&[
        "report",
        img.to_str().unwrap_or_default(),
        "--format",
        "sarif",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    validate(&cmd, &schema, &r.stdout)
        .unwrap_or_else(|e| panic!("strata report --format sarif: {e}"));
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["tool"]["driver"]["name"], "strata");

    // With findings of every shape (path+layer, config, removed later).
    let image = load(&img);
    let eff = Efficiency::of(&image);
    let mut fs = hand_made();
    fs[0].removed_in = Some(2);
    let text = strata::report::sarif::render(&analysed(&image, &eff, &fs));
    validate(&cmd, &schema, &text).unwrap_or_else(|e| panic!("sarif with findings: {e}\n{text}"));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 3);
    let key = rules
        .iter()
        .find(|r| r["id"] == "secret-private-key")
        .expect("rule");
    assert_eq!(key["defaultConfiguration"]["level"], "error");
    assert_eq!(key["properties"]["security-severity"], "9.5");
    assert!(key["properties"]["tags"]
        .as_array()
        .is_some_and(|t| t.contains(&"secret".into())));
    assert!(key["help"]["text"]
        .as_str()
        .is_some_and(|t| t.contains("Do not copy keys")));
    let res = &run["results"][0];
    assert_eq!(res["ruleId"], "secret-private-key");
    assert_eq!(res["level"], "error");
    let diff1 = image.layers[1].diff_id.trim_start_matches("sha256:");
    assert_eq!(
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!("layer/{diff1}/app/keys/id_rsa")
    );
    assert_eq!(
        res["locations"][0]["logicalLocations"][0]["name"],
        image.layers[1].diff_id
    );
    let msg = res["message"]["text"].as_str().expect("message");
    assert!(
        msg.contains("created by: mkdir -p /app/keys /app/.aws"),
        "{msg}"
    );
    assert!(msg.contains("removed in layer 2"), "{msg}");
    assert!(res["partialFingerprints"]["strataFinding/v1"]
        .as_str()
        .is_some_and(|f| f.len() == 64));
    let config = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "config-root-user")
        .expect("config result");
    assert_eq!(config["level"], "warning");
    assert!(
        config["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("image/") && u.ends_with("/config"))
    );

    // Negative control: the validator does reject a broken document.
    let broken = text.replacen("\"level\": \"error\"", "\"level\": \"fatal\"", 1);
    assert_ne!(broken, text);
    let e = validate(&cmd, &schema, &broken).expect_err("validator accepted an invalid level");
    assert!(e.contains("fatal"), "{e}");
    let e = validate(&cmd, &schema, "{\"runs\": []}").expect_err("accepted a log without version");
    assert!(e.contains("version"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Secrets stay redacted in every format.

/// The raw secret values planted in strata-test/secrets:1, read from its layer tars.
fn planted_secrets(archive: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut outer = tar::Archive::new(std::fs::File::open(archive).expect("open"));
    for e in outer.entries().expect("entries") {
        let mut e = e.expect("entry");
        let name = e.path().expect("path").to_string_lossy().into_owned();
        if !name.ends_with("layer.tar") {
            continue;
        }
        let mut buf = Vec::new();
        e.read_to_end(&mut buf).expect("read layer");
        let mut inner = tar::Archive::new(&buf[..]);
        for f in inner.entries().expect("inner") {
            let mut f = f.expect("inner entry");
            let p = f.path().expect("path").to_string_lossy().into_owned();
            if ![
                "app/keys/id_rsa",
                "app/.aws/credentials",
                "app/config/deploy.env",
            ]
            .contains(&p.as_str())
            {
                continue;
            }
            let mut text = String::new();
            f.read_to_string(&mut text).expect("utf-8 secret file");
            for line in text.lines() {
                if let Some(i) = line.find("AKIA") {
                    found.push(line[i..].trim().to_owned());
                } else if !line.starts_with("-----") && !line.starts_with('[') && line.len() >= 16 {
                    found.push(line.to_owned()); // base64 body of the PEM key
                }
            }
        }
    }
    found.push("strata-fake-db-password".into());
    found
}

#[test]
fn secrets_stay_redacted_in_every_format() {
    let img = image!("secrets");
    let secrets = planted_secrets(&img);
    assert!(
        secrets.iter().filter(|s| s.starts_with("AKIA")).count() == 2,
        "{secrets:?}"
    );
    assert!(secrets.len() > 10, "PEM body lines found: {secrets:?}");
    let i = img.to_str().unwrap_or_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let sarif = dir.path().join("out.sarif");
    let mut outputs = Vec::new();
    for args in [
        vec!["ci", i],
        vec!["ci", i, "--format", "json"],
        vec![
            "ci",
            i,
            "--format",
            "markdown",
            "--sarif",
            sarif.to_str().unwrap_or_default(),
        ],
        vec!["report", i, "--format", "sarif"],
        vec!["report", i, "--format", "markdown"],
        vec!["report", i, "--format", "json"],
        vec!["report", i],
    ] {
        let r = strata(&args);
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
        outputs.push((format!("{args:?}"), r.stdout + &r.stderr));
    }
    outputs.push((
        "--sarif file".into(),
        std::fs::read_to_string(&sarif).expect("sarif written"),
    ));
    // The library renderers with findings that quote the history line holding the password.
    let image = load(&img);
    let eff = Efficiency::of(&image);
    let mut fs = hand_made();
    fs.push(finding(
        "secret-env",
        Category::Secret,
        Severity::High,
        None,
        None,
    ));
    fs[3].message = "ENV DB_PASSWORD=strata-fake-db-password in history".into();
    outputs.push((
        "sarif lib".into(),
        strata::report::sarif::render(&analysed(&image, &eff, &fs)),
    ));
    outputs.push((
        "markdown lib".into(),
        strata::report::markdown::render(&analysed(&image, &eff, &fs), None),
    ));
    let o = evaluate(&image, &eff, &fs, &Policy::default());
    outputs.push((
        "ci text lib".into(),
        strata::report::ci::render_text(&analysed(&image, &eff, &fs), &Policy::default(), &o),
    ));
    outputs.push((
        "ci json lib".into(),
        strata::report::ci::render_json(&analysed(&image, &eff, &fs), &o),
    ));
    for (what, out) in &outputs {
        for s in &secrets {
            assert!(!out.contains(s.as_str()), "{what} leaks {s:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown.

#[test]
fn markdown_summary_for_pull_requests() {
    let img = image!("layers");
    let i = img.to_str().unwrap_or_default();
    let r = strata(&[
        "ci",
        i,
        "--format",
        "markdown",
        "--lowest-efficiency",
        "0.99",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = &r.stdout;
    assert!(md.starts_with("### strata: `"), "{md}");
    assert!(md.contains("❌ failed"), "{md}");
    assert!(
        md.contains("| Reclaimable | 17.6 KiB (18000 bytes) |"),
        "{md}"
    );
    assert!(
        md.contains("| Reclaimable in layers 1-6 | 18000 of 44103 bytes (40.8136%) |"),
        "{md}"
    );
    assert!(md.contains("| `lowest-efficiency` | ✅ PASS |"), "{md}");
    assert!(
        md.contains("| `highest-user-reclaimable-percent` | ❌ FAIL |"),
        "{md}"
    );
    assert!(
        md.contains("| 10000 | `/data/overwrite.bin` | 1 | 2 |"),
        "{md}"
    );
    // Written to a file with --output, same text.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("comment.md");
    let r2 = strata(&[
        "report",
        i,
        "--format",
        "markdown",
        "--output",
        out.to_str().unwrap_or_default(),
    ]);
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    assert!(r2.stdout.is_empty());
    let md2 = std::fs::read_to_string(&out).expect("written");
    assert!(
        md2.contains("#### Top reclaimable files") && !md2.contains("#### Rules"),
        "{md2}"
    );
}
