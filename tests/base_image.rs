//! The base image kept apart (issue 10): the base boundary of the daemon-built test images
//! (tests/daemon_images/README.md), of the two-stage build `strata-test/twostage:1` (archive:
//! history rule; daemon: its base labels), of the demo image and of fixture images; the `base`
//! flag of layers, findings, waste items and packages in `strata.report/v1.1`; the grouping of
//! the text and markdown reports; the `ignore-inherited` policy key of `strata ci`.
//!
//! The tests that need the daemon-built images are ignored (with their reason) unless
//! `STRATA_TEST_REAL=1` (tests/common/real.rs); then a missing image fails them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixture::*;
use serde_json::Value;

/// The archive of a daemon-built test image (the test fails when it was not built).
fn archive(name: &str) -> Option<PathBuf> {
    Some(common::real::test_image(name))
}

/// The daemon, with strata-test/twostage:1 (the test fails without them).
fn daemon() -> bool {
    common::real::daemon();
    true
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

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

fn report(target: &str) -> Value {
    let r = strata(&["report", target, "--format", "json"]);
    assert_eq!(r.code, 0, "{target}: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("report json")
}

fn layer_flags(r: &Value) -> Vec<bool> {
    r["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["base"].as_bool().expect("layers[].base"))
        .collect()
}

fn findings(r: &Value) -> &Vec<Value> {
    r["findings"].as_array().expect("findings")
}

fn finding<'a>(r: &'a Value, rule: &str, path: Option<&str>) -> &'a Value {
    findings(r)
        .iter()
        .find(|f| f["rule"] == rule && path.is_none_or(|p| f["path"] == p))
        .unwrap_or_else(|| panic!("no {rule} {path:?} in {:#}", r["findings"]))
}

/// Every flag agrees with the boundary: a layered finding is inherited exactly when its layer
/// (and, for waste, the layer that removed it) is the base's.
fn assert_consistent(r: &Value, base_layers: u64) {
    assert_eq!(r["schema"], "strata.report/v1.2");
    assert_eq!(r["base"]["layers"], base_layers);
    for (i, b) in layer_flags(r).into_iter().enumerate() {
        assert_eq!(b, (i as u64) < base_layers, "layer {i}");
    }
    for f in findings(r) {
        if let Some(l) = f["layer"].as_u64() {
            let removed_ok = f["removed_in"].as_u64().is_none_or(|x| x < base_layers);
            assert_eq!(
                f["base"].as_bool(),
                Some(l < base_layers && removed_ok),
                "{f:#}"
            );
        }
    }
    for p in r["packages"].as_array().expect("packages") {
        let l = p["layer"].as_u64().expect("package layer");
        assert_eq!(p["base"].as_bool(), Some(l < base_layers), "{p:#}");
    }
    for w in r["efficiency"]["top_reclaimable"].as_array().expect("top") {
        let inherited = w["removed_in"]
            .as_array()
            .expect("removed_in")
            .iter()
            .all(|x| x.as_u64().expect("int") < base_layers);
        assert_eq!(w["base"].as_bool(), Some(inherited), "{w:#}");
    }
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images; STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn test_images_built_from_the_imported_base() {
    // base:1 is an imported root filesystem with nothing on top: no base of its own.
    let Some(p) = archive("base") else { return };
    let r = report(&p.display().to_string());
    assert_eq!(r["base"]["rule"], "none");
    assert_consistent(&r, 0);
    // Every Dockerfile image is FROM it: layer 0 and history 0 (the import) are the base.
    for name in [
        "layers", "secrets", "clean", "packages", "multi", "untagged",
    ] {
        let Some(p) = archive(name) else { return };
        let r = report(&p.display().to_string());
        assert_eq!(r["base"]["rule"], "history", "{name}");
        assert_eq!(r["base"]["history"], 1, "{name}");
        assert_consistent(&r, 1);
        let h = r["history"].as_array().expect("history");
        assert_eq!(h[0]["base"], true);
        assert!(h[1..].iter().all(|e| e["base"] == false), "{name}");
    }
    // Everything the secrets image's Dockerfile did is its own, its ENV secret included.
    let Some(p) = archive("secrets") else { return };
    let r = report(&p.display().to_string());
    assert!(
        findings(&r).iter().all(|f| f["base"] == false),
        "{:#}",
        r["findings"]
    );
    assert!(!findings(&r).is_empty());
}

/// The two-stage build: final stage FROM strata-test/secrets:1 (5 layers, 10 history
/// entries), plus a COPY --from the build stage (layer 5) and a RUN (layer 6).
fn assert_twostage(r: &Value) {
    assert_eq!(r["base"]["history"], 10);
    assert_consistent(r, 5);
    assert_eq!(layer_flags(r), [true, true, true, true, true, false, false]);
    assert_eq!(r["base"]["name"], "strata-test/secrets:1");
    // Inherited: the secrets the base holds or squashed, its world-writable log, its ENV
    // password and its EXPOSE 22.
    for (rule, path) in [
        ("config-world-writable", Some("/app/shared.log")),
        ("env-secret", None),
        ("config-sensitive-port", None),
    ] {
        assert_eq!(finding(r, rule, path)["base"], true, "{rule}");
    }
    let inherited_secrets: Vec<&Value> = findings(r)
        .iter()
        .filter(|f| f["category"] == "secret" && f["layer"].as_u64().is_some())
        .collect();
    assert!(inherited_secrets.len() >= 3, "{inherited_secrets:#?}");
    assert!(inherited_secrets.iter().all(|f| f["base"] == true));
    // Its own: the world-writable file it wrote, and the base file it deleted (the base's
    // layer 4 still ships its 1234 bytes, but this image's layer 6 made them waste).
    assert_eq!(
        finding(r, "config-world-writable", Some("/app/own-data.bin"))["base"],
        false
    );
    let del = finding(r, "waste-deleted", Some("/usr/local/bin/suid-helper"));
    assert_eq!(
        (
            &del["layer"],
            &del["removed_in"],
            &del["bytes"],
            &del["base"]
        ),
        (
            &Value::from(4),
            &Value::from(6),
            &Value::from(1234),
            &Value::from(false)
        )
    );
    assert_eq!(finding(r, "config-root-user", None)["base"], false);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images; STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn two_stage_build_from_its_archive_and_from_the_daemon() {
    let Some(p) = archive("twostage") else { return };
    let r = report(&p.display().to_string());
    assert_eq!(r["base"]["rule"], "history");
    assert!(
        r["base"]["reason"]
            .as_str()
            .is_some_and(|s| s.contains("CMD") && s.contains("not available")),
        "{:#}",
        r["base"]
    );
    assert_twostage(&r);
    if !daemon() {
        return;
    }
    // Through the daemon the labelled base image is there to compare layers with.
    let r = report("strata-test/twostage:1");
    assert_eq!(r["base"]["rule"], "label", "{:#}", r["base"]);
    assert_twostage(&r);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images; STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn reports_group_added_before_inherited() {
    let Some(p) = archive("twostage") else { return };
    let t = strata(&["report", p.to_str().unwrap_or_default()]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    let added = t
        .stdout
        .find("  Added by this image (")
        .expect("added group");
    let inherited = t
        .stdout
        .find("  Inherited from the base (")
        .expect("inherited group");
    assert!(added < inherited, "{}", t.stdout);
    assert!(t
        .stdout
        .contains("Base       strata-test/secrets:1: layers 0-4, history 0-9"));
    // The world-writable file this image wrote is listed before the base's secrets.
    let after = |needle: &str| added + t.stdout[added..].find(needle).expect(needle);
    let own = after("World-writable file: /app/own-data.bin");
    let base_secret = after("AWS access key ID in the final image");
    assert!(own < inherited && inherited < base_secret, "{}", t.stdout);
    assert!(
        t.stdout.contains("B   4"),
        "base layers marked:\n{}",
        t.stdout
    );

    let m = strata(&[
        "report",
        p.to_str().unwrap_or_default(),
        "--format",
        "markdown",
    ]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let added = m
        .stdout
        .find("#### Added by this image: top findings")
        .expect("md added");
    let inherited = m
        .stdout
        .find("#### Inherited from the base: top findings")
        .expect("md inherited");
    assert!(added < inherited, "{}", m.stdout);

    // SARIF carries the same flag on every result as the JSON report on its finding.
    let s = strata(&[
        "report",
        p.to_str().unwrap_or_default(),
        "--format",
        "sarif",
    ]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let sarif: Value = serde_json::from_str(&s.stdout).expect("sarif json");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let json = report(p.to_str().unwrap_or_default());
    let mut from_sarif: Vec<(String, bool)> = results
        .iter()
        .map(|x| {
            (
                x["ruleId"].as_str().unwrap_or_default().to_owned(),
                x["properties"]["base"].as_bool().expect("properties.base"),
            )
        })
        .collect();
    from_sarif.sort();
    let mut from_json: Vec<(String, bool)> = findings(&json)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["base"].as_bool().expect("base"),
            )
        })
        .collect();
    from_json.sort();
    assert_eq!(from_sarif, from_json);
    assert!(from_sarif.iter().any(|(_, b)| *b) && from_sarif.iter().any(|(_, b)| !*b));
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images; STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn ci_ignores_inherited_findings_only_when_asked() {
    let Some(p) = archive("twostage") else { return };
    let img = p.to_str().unwrap_or_default();
    let size_off = ["--highest-user-reclaimable-percent", "off"];
    // Off by default: the base's private key and ENV password fail the gate.
    let r = strata(&[&["ci", img][..], &size_off[..]].concat());
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Inherited from the base ("),
        "{}",
        r.stdout
    );
    // Asked: only what this image added counts (warnings, no failure).
    let r = strata(&[&["ci", img, "--ignore-inherited"][..], &size_off[..]].concat());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("inherited from the base)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("deploy.env"), "{}", r.stdout);
    // The same from .strata.toml, and `false` there switches it back off.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".strata.toml"),
        "[ci]\nignore-inherited = true\nhighest-user-reclaimable-percent = \"off\"\n",
    )
    .expect("write");
    let r = strata_in(dir.path(), &["ci", img]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = strata_in(dir.path(), &["ci", img, "--ignore-inherited=false"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let r = strata(&["ci", img, "--ignore-inherited=maybe"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--ignore-inherited"), "{}", r.stderr);
}

#[test]
fn demo_image_base_is_its_root_filesystem_and_cmd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.tar");
    let w = strata(&["demo", "--write", path.to_str().unwrap_or_default()]);
    assert_eq!(w.code, 0, "{}", w.stderr);
    let r = report(&path.display().to_string());
    assert_eq!(r["base"]["rule"], "history");
    assert_eq!(
        r["base"]["history"], 2,
        "ADD file:… in / and CMD [\"/bin/sh\"]"
    );
    assert_consistent(&r, 1);
    // Its own ENV token (history 2) is its own; nothing it added is called inherited.
    let env = findings(&r)
        .iter()
        .find(|f| f["rule"] == "env-secret")
        .expect("env-secret");
    assert_eq!(env["base"], false);
    assert!(findings(&r).iter().any(|f| f["base"] == false));
}

#[test]
fn label_rule_needs_the_base_itself_and_history_rule_its_cmd() {
    // A fixture image FROM a two-layer base (ADD rootfs, RUN, CMD) with its own two steps.
    let spec = ImageSpec {
        history: vec![
            HistorySpec::layer("/bin/sh -c #(nop) ADD file:0a1b in / "),
            HistorySpec::empty("/bin/sh -c #(nop)  CMD [\"bash\"]"),
            HistorySpec::layer("/bin/sh -c apt-get install -y x"),
            HistorySpec::empty("/bin/sh -c #(nop)  CMD [\"x\"]"),
            HistorySpec::empty(
                "/bin/sh -c #(nop)  LABEL org.opencontainers.image.base.name=example/x:1",
            ),
            HistorySpec::layer("/bin/sh -c #(nop) COPY file:aa in /app "),
            HistorySpec::empty("/bin/sh -c #(nop)  CMD [\"/app/run\"]"),
        ],
        config: serde_json::json!({
            "Labels": { "org.opencontainers.image.base.name": "example/x:1" }
        }),
        ..ImageSpec::new(vec![
            LayerSpec::new(
                "rootfs",
                vec![EntrySpec::file("etc/os-release", "ID=x\n", 0o644)],
            ),
            LayerSpec::new("run", vec![EntrySpec::file("usr/bin/x", "x", 0o755)]),
            LayerSpec::new("copy", vec![EntrySpec::file("app/run", "run", 0o755)]),
        ])
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("image.tar");
    write_image(&spec, Layout::DockerLegacy, &path).expect("write");
    let mut image = strata::source::load(
        &strata::source::Input::parse(&path.display().to_string()),
        &strata::source::LoadOptions::default(),
        &strata::source::Progress::default(),
    )
    .expect("load");
    use strata::analysis::base::{BaseBoundary, BaseRule};
    // History: the last CMD a layer follows is the base's (history 3); the LABEL after it is
    // taken along; layers 0-1.
    let b = BaseBoundary::detect(&image);
    assert_eq!((b.rule, b.layers, b.history), (BaseRule::History, 2, 5));
    assert_eq!(b.name.as_deref(), Some("example/x:1"));
    // Label: the base image itself is known and shares both layers.
    let ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
    image.known_base = Some(strata::model::KnownBase {
        found: "example/x:1".into(),
        diff_ids: ids[..2].to_vec(),
        history: 4,
    });
    let b = BaseBoundary::detect(&image);
    assert_eq!((b.rule, b.layers, b.history), (BaseRule::Label, 2, 4));
    // A known base that does not share its layers is not believed: back to the history.
    image.known_base = Some(strata::model::KnownBase {
        found: "example/x:1".into(),
        diff_ids: vec![ids[0].clone(), "sha256:00".into()],
        history: 4,
    });
    assert_eq!(BaseBoundary::detect(&image).rule, BaseRule::History);
}
