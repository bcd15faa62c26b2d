//! Redaction with the user's own rules: the documented example rule `acme-token`
//! (docs/rules.md) in `.strata.toml`, and an image (built with the fixture builder) holding an
//! ACME token in its history (`RUN curl -H 'Authorization: acme_…'`), in an ENV value and in a
//! file. The raw token must appear in no output of the real binary (report json, text, sarif,
//! markdown; ci text, json, markdown and the `--sarif` file), nor in the library's renderers and
//! the explorer's redactor, while the token stays recognisable by its masked prefix.

mod common;

use std::path::Path;
use std::process::Command;

use common::fixture::{write_image, EntrySpec, ImageSpec, LayerSpec, Layout};

/// The rule exactly as docs/rules.md documents it.
const STRATA_TOML: &str = r#"
[[secrets.rules]]
id = "acme-token"
title = "ACME token"
severity = "high"
keywords = ["acme_"]
regex = '\bacme_[a-z0-9]{32}\b'
"#;

/// Three distinct tokens, built at run time (no secret-looking literal in the repository).
fn token(seed: u8) -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    let mut s = String::from("acme_");
    for _ in 0..32 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s.push(char::from(alphabet[(x % alphabet.len() as u32) as usize]));
    }
    s
}

struct Tokens {
    history: String,
    env: String,
    file: String,
}

/// Writes the image: the history token in a `RUN curl` step, the ENV token under an innocent
/// name (`ACME_ENDPOINT_HINT`), the file token in `/app/deploy.sh`.
fn image(dir: &Path) -> (std::path::PathBuf, Tokens) {
    let t = Tokens {
        history: token(1),
        env: token(2),
        file: token(3),
    };
    let run = format!(
        "/bin/sh -c curl -fsS -H 'Authorization: {}' https://acme.example/install | sh",
        t.history
    );
    let mut spec = ImageSpec::new(vec![
        LayerSpec::new(
            "/bin/sh -c #(nop) ADD file:base in /",
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::file("app/readme.txt", b"hello\n", 0o644),
            ],
        ),
        LayerSpec::new(
            &run,
            vec![EntrySpec::file(
                "app/deploy.sh",
                format!(
                    "#!/bin/sh\ncurl -H 'X-Acme: {}' https://acme.example/\n",
                    t.file
                ),
                0o755,
            )],
        ),
    ]);
    spec.config = serde_json::json!({
        "Env": ["PATH=/usr/bin:/bin", format!("ACME_ENDPOINT_HINT=use {}", t.env)],
        "Labels": {"org.example.note": format!("deploy with {}", t.history)},
        "Cmd": ["/app/deploy.sh"],
    });
    let archive = dir.join("acme.tar");
    write_image(&spec, Layout::DockerLegacy, &archive).expect("fixture");
    (archive, t)
}

fn run(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run strata");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn assert_no_token(what: &str, out: &str, t: &Tokens) {
    for (place, tok) in [("history", &t.history), ("env", &t.env), ("file", &t.file)] {
        assert!(
            !out.contains(tok.as_str()),
            "{what} prints the {place} token {tok}:\n{out}"
        );
    }
}

#[test]
fn user_rule_tokens_never_leave_the_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (archive, t) = image(dir.path());
    let img = archive.to_str().expect("utf-8");
    // Without `.strata.toml` the built-in rules do not know the token: the image really
    // carries it where the outputs would print it (so the assertions below can fail).
    let (code, plain) = run(dir.path(), &["report", img, "--format", "json"]);
    assert_eq!(code, 0, "{plain}");
    assert!(
        plain.contains(&t.history),
        "history token in the plain report"
    );
    assert!(plain.contains(&t.env), "env token in the plain report");

    std::fs::write(dir.path().join(".strata.toml"), STRATA_TOML).expect("config");
    let sarif = dir.path().join("ci.sarif");
    let sarif_arg = sarif.to_str().expect("utf-8");
    let mut outputs = Vec::new();
    for format in ["json", "text", "sarif", "markdown"] {
        let (code, out) = run(dir.path(), &["report", img, "--format", format]);
        assert_eq!(code, 0, "report {format}: {out}");
        outputs.push((format!("report --format {format}"), out));
    }
    let (code, out) = run(
        dir.path(),
        &["report", img, "--format", "json", "--no-findings"],
    );
    assert_eq!(code, 0, "{out}");
    outputs.push(("report --no-findings".into(), out));
    for format in ["text", "json", "markdown"] {
        let (code, out) = run(
            dir.path(),
            &["ci", img, "--format", format, "--sarif", sarif_arg],
        );
        assert_eq!(code, 1, "ci {format} fails on the high findings: {out}");
        outputs.push((format!("ci --format {format}"), out));
        let file = std::fs::read_to_string(&sarif).expect("sarif written");
        outputs.push((format!("ci --sarif ({format})"), file));
    }
    for args in [&["history", img][..], &["history", img, "--dockerfile"][..]] {
        let (code, out) = run(dir.path(), args);
        assert_eq!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains("acme…(redacted)"),
            "{args:?} masks the token: {out}"
        );
        outputs.push((args.join(" "), out));
    }
    for (what, out) in &outputs {
        assert_no_token(what, out, &t);
    }

    // The masked tokens are still there, recognisable by their first characters, and the
    // user rule found the file token.
    let json = &outputs[0].1;
    let report: serde_json::Value = serde_json::from_str(json).expect("json");
    let masked = "acme…(redacted)";
    let history = report["history"].to_string();
    assert!(history.contains(masked), "{history}");
    let layers = report["layers"].to_string();
    assert!(layers.contains(masked), "{layers}");
    let env = report["image"]["config"]["env"].to_string();
    assert!(
        env.contains(&format!("ACME_ENDPOINT_HINT=use {masked}")),
        "{env}"
    );
    let labels = report["image"]["config"]["labels"].to_string();
    assert!(labels.contains(masked), "{labels}");
    let file = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "acme-token" && f["path"] == "/app/deploy.sh")
        .unwrap_or_else(|| panic!("the user rule finds the file token: {json}"));
    assert_eq!(file["evidence"], "acme…(redacted) at /app/deploy.sh:2");
}

#[test]
fn library_outputs_and_the_explorer_redactor_use_the_configured_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (archive, t) = image(dir.path());
    let cfg = strata::config::FindingsConfig::from_toml(STRATA_TOML, ".strata.toml").expect("cfg");
    let settings = strata::Settings::new(Default::default(), cfg);
    let input = strata::source::Input::parse(archive.to_str().expect("utf-8"));
    let a = strata::analyse(&input, &settings, &Default::default()).expect("analyse");
    let policy = strata::policy::Policy::default();
    let outcome = strata::policy::evaluate(&a.image, &a.efficiency, &a.findings, &policy);
    let report = strata::report::Report::build(&a);
    for (what, out) in [
        ("json", report.to_json()),
        ("text", strata::report::text::render(&report)),
        ("sarif", strata::report::sarif::render(&a)),
        (
            "markdown",
            strata::report::markdown::render(&a, Some(&outcome)),
        ),
        (
            "ci text",
            strata::report::ci::render_text(&a, &policy, &outcome),
        ),
        ("ci json", strata::report::ci::render_json(&a, &outcome)),
    ] {
        assert_no_token(what, &out, &t);
    }
    // What the explorer's panes show goes through the same redactor.
    let r = &a.redactor;
    for h in &a.image.history {
        assert_no_token("instruction", &r.instruction(&h.created_by), &t);
        assert_no_token("command", &r.command(&h.created_by), &t);
    }
    for e in &a.image.config.env {
        assert_no_token("env", &r.env(e), &t);
    }
    for (k, v) in &a.image.config.labels {
        assert_no_token("label", &r.label(k, v), &t);
    }
    // The anatomy view: every document's JSON and the reconstructed Dockerfile.
    assert!(!a.image.documents.chain.is_empty());
    for d in &a.image.documents.chain {
        let json = r.json_document(&d.raw).expect("JSON document");
        assert_no_token(&format!("{} JSON", d.name), &json, &t);
    }
    let config = a.image.documents.config().expect("config document");
    assert!(
        String::from_utf8_lossy(&config.raw).contains(&t.env),
        "the raw config has it"
    );
    let rebuilt = strata::analysis::dockerfile::reconstruct(&a.image, r);
    assert_no_token(
        "Dockerfile",
        &strata::analysis::dockerfile::render(&rebuilt, "acme"),
        &t,
    );
    // The built-in redactor alone does not know the rule: the test image would leak without it.
    let builtin = strata::redact::Redactor::default();
    assert!(a
        .image
        .history
        .iter()
        .any(|h| builtin.command(&h.created_by).contains(&t.history)));
}
