//! Attestations and provenance, as a user runs strata: images laid out as buildx/BuildKit
//! store them (an attestation manifest in the image index whose layers are in-toto statements),
//! written by the fixture builder as a `docker save` archive (OCI-in-tar with `manifest.json`),
//! an `oci-archive`, an OCI layout directory, and pushed to the suite's registry. Covers SLSA
//! provenance v0.2 and v1, an SPDX SBOM attestation that disagrees with strata's inventory by
//! one package each way, a subject naming another image, a statement blob missing from the
//! layout, and an image without attestations: the report's `provenance` section, the "Who made
//! this" block, the findings and `strata ci --require-provenance`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::fixture::{
    self, slsa_v02_predicate, slsa_v1_predicate, spdx_predicate, write_attested, AttestedLayout,
    AttestedWritten, EntrySpec, ImageSpec, LayerSpec, Layout, StatementSpec,
};
use serde_json::Value;

const STRATA: &str = env!("CARGO_BIN_EXE_strata");
const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
const SPDX: &str = "https://spdx.dev/Document";
const BASE_PURL: &str = "pkg:docker/alpine@3.20?platform=linux%2Famd64";
const BASE_DIGEST: &str = "sha256:beefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeefbeef";
const SECRET_ARG: &str = "ghp_R4nd0mT0k3nV4lu3AbCdEfGh1234567890";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// An Alpine-like image whose apk database lists musl and busybox.
fn spec() -> ImageSpec {
    let installed = "P:musl\nV:1.2.5-r0\nA:x86_64\nI:4096\nL:MIT\n\nP:busybox\nV:1.36.1-r29\nA:x86_64\nI:8192\nL:GPL-2.0-only\n\n";
    let mut s = ImageSpec::new(vec![
        LayerSpec::new(
            "ADD alpine-minirootfs-3.20.3-x86_64.tar.gz / # buildkit",
            vec![
                EntrySpec::dir("lib/", 0o755),
                EntrySpec::dir("lib/apk/", 0o755),
                EntrySpec::dir("lib/apk/db/", 0o755),
                EntrySpec::file("lib/apk/db/installed", installed, 0o644),
                EntrySpec::dir("bin/", 0o755),
                EntrySpec::file("bin/busybox", "busybox binary", 0o755),
            ],
        ),
        LayerSpec::new(
            "COPY app /app # buildkit",
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::file("app/run.sh", "#!/bin/sh\necho hi\n", 0o755),
            ],
        ),
    ]);
    s.repo_tags = vec!["example/attested:1.0".into()];
    s
}

fn v02() -> StatementSpec {
    StatementSpec::new(
        SLSA_V02,
        slsa_v02_predicate(
            (BASE_PURL, BASE_DIGEST),
            &[("VERSION", "1.2.3"), ("API_TOKEN", SECRET_ARG)],
            ("https://github.com/example/app", COMMIT),
        ),
    )
}

fn v1() -> StatementSpec {
    StatementSpec::new(
        SLSA_V1,
        slsa_v1_predicate(
            ("pkg:docker/debian@12?platform=linux%2Famd64", BASE_DIGEST),
            &[("CHANNEL", "stable")],
            ("https://github.com/example/app.git", COMMIT),
            "build/Dockerfile",
        ),
    )
}

/// SPDX listing musl (also in the image) and zlib (not in it); busybox left out.
fn spdx_one_off() -> StatementSpec {
    StatementSpec::new(
        SPDX,
        spdx_predicate(&[("musl", "1.2.5-r0"), ("zlib", "1.3.1-r1")]),
    )
}

fn spdx_agreeing() -> StatementSpec {
    StatementSpec::new(
        SPDX,
        spdx_predicate(&[("musl", "1.2.5-r0"), ("busybox", "1.36.1-r29")]),
    )
}

fn run(args: &[&str]) -> Output {
    Command::new(STRATA)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .output()
        .expect("run strata")
}

fn report(input: &str) -> Value {
    let out = run(&["report", "--quiet", "--format", "json", input]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

fn text(input: &str, format: &str) -> String {
    let out = run(&["report", "--quiet", "--format", format, input]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `strata ci` with only the provenance gate judged (size and severity rules off).
fn ci(input: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "ci",
        "--quiet",
        input,
        "--lowest-efficiency",
        "off",
        "--highest-user-reclaimable-percent",
        "off",
        "--fail-on",
        "off",
        "--warn-on",
        "off",
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn rules(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn finding<'a>(r: &'a Value, rule: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["rule"] == rule))
        .unwrap_or_else(|| panic!("no {rule} in {:#?}", rules(r)))
}

fn provenance_rules(r: &Value) -> Vec<String> {
    let mut v: Vec<String> = rules(r)
        .into_iter()
        .filter(|x| x.starts_with("provenance-") || x.starts_with("sbom-attestation"))
        .collect();
    v.sort();
    v
}

fn write(statements: &[StatementSpec], layout: AttestedLayout, dest: &Path) -> AttestedWritten {
    write_attested(&spec(), statements, layout, dest).expect("fixture")
}

fn status_line<'a>(out: &'a str, rule: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(rule))
        .unwrap_or_else(|| panic!("no {rule} line in\n{out}"))
}

/// The SLSA v0.2 + SPDX image, checked field by field in its report (shared by the archive
/// and the registry tests).
fn check_v02_report(r: &Value, w: &AttestedWritten) {
    let p = &r["provenance"];
    let manifest = w.image.manifest_digest.as_deref().expect("manifest digest");
    assert_eq!(p["subject_digest"], manifest);
    assert_eq!(p["valid"], true);
    let atts = p["attestations"].as_array().expect("attestations");
    assert_eq!(atts.len(), 2, "{p:#}");
    for (a, (digest, size)) in atts.iter().zip(&w.statements) {
        assert_eq!(a["manifest"], w.attestation_digest.as_str());
        assert_eq!(a["media_type"], "application/vnd.in-toto+json");
        assert_eq!(a["digest"], digest.as_str());
        assert_eq!(a["size"].as_u64(), Some(*size));
        assert_eq!(a["subjects"], serde_json::json!([manifest]));
        assert_eq!(a["subject_matches"], true);
        assert_eq!(a["problem"], Value::Null);
    }
    assert_eq!(atts[0]["predicate_type"], SLSA_V02);
    assert_eq!(atts[1]["predicate_type"], SPDX);
    let s = &p["slsa"];
    assert_eq!(s["version"], "v0.2");
    assert_eq!(
        s["builder_id"],
        "https://github.com/example/app/actions/runs/42"
    );
    assert_eq!(s["build_type"], "https://mobyproject.org/buildkit@v1");
    // A local context: the repository and commit come from BuildKit's vcs metadata.
    assert_eq!(s["source_repo"], "https://github.com/example/app");
    assert_eq!(s["source_commit"], COMMIT);
    assert_eq!(s["dockerfile"], "docker/Dockerfile.release");
    let args: Vec<&str> = s["build_args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(args.len(), 2, "{args:?}");
    assert!(args[0].starts_with("API_TOKEN=ghp_") && args[0].contains("redacted"));
    assert_eq!(args[1], "VERSION=1.2.3");
    assert_eq!(s["materials"].as_array().map(Vec::len), Some(2));
    // The Dockerfile frontend is a material, not the base image.
    assert_eq!(s["base_image"]["uri"], BASE_PURL);
    assert_eq!(s["base_image"]["digest"], BASE_DIGEST);
    assert_eq!(s["started_on"], "2024-05-01T10:00:00.5Z");
    assert_eq!(s["finished_on"], "2024-05-01T10:02:03Z");
    // The base boundary takes the provenance's base as its name and digest.
    assert_eq!(r["base"]["name"], "alpine:3.20");
    assert_eq!(r["base"]["digest"], BASE_DIGEST);
    assert!(r["base"]["reason"]
        .as_str()
        .is_some_and(|x| x.contains("provenance attestation names base alpine:3.20")));
    // SPDX against strata's apk inventory: zlib only attested, busybox only found.
    let sbom = &p["sbom"];
    assert_eq!(sbom["format"], "spdx");
    assert_eq!(sbom["package_count"], 2);
    assert_eq!(
        sbom["comparison"]["only_in_attestation"],
        serde_json::json!([{"name": "zlib", "version": "1.3.1-r1"}])
    );
    assert_eq!(
        sbom["comparison"]["only_in_image"],
        serde_json::json!([{"name": "busybox", "version": "1.36.1-r29"}])
    );
    assert_eq!(provenance_rules(r), ["sbom-attestation-disagrees"]);
    let f = finding(r, "sbom-attestation-disagrees");
    assert_eq!(f["severity"], "low");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("zlib 1.3.1-r1") && m.contains("busybox 1.36.1-r29"),
        "{m}"
    );
    assert!(!r.to_string().contains(SECRET_ARG), "raw build arg leaked");
}

#[test]
fn slsa_v02_and_spdx_in_a_docker_save_archive() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("attested.tar");
    let w = write(&[v02(), spdx_one_off()], AttestedLayout::DockerSave, &path);
    let input = path.to_str().expect("utf-8");
    let r = report(input);
    check_v02_report(&r, &w);
    assert_eq!(r["schema"], "strata.report/v1.2");

    // Text: the block comes first.
    let t = text(input, "text");
    let head: Vec<&str> = t.lines().take(9).collect();
    assert_eq!(head[0], "Who made this", "{t}");
    assert_eq!(
        head[1],
        "  Provenance   SLSA v0.2 (subject matches this image)"
    );
    assert_eq!(
        head[2],
        "  Builder      https://github.com/example/app/actions/runs/42"
    );
    assert_eq!(
        head[3],
        format!("  Source       https://github.com/example/app@{COMMIT}")
    );
    assert_eq!(head[4], "  Dockerfile   docker/Dockerfile.release");
    assert_eq!(head[5], format!("  Base image   alpine:3.20@{BASE_DIGEST}"));
    assert_eq!(
        head[6],
        "  Built        2024-05-01T10:00:00.5Z to 2024-05-01T10:02:03Z"
    );
    assert_eq!(head[7], "  Attestations SLSA provenance v0.2, SPDX SBOM");
    assert_eq!(head[8], "  Signatures   none found");
    assert!(!t.contains(SECRET_ARG));

    // Markdown: the block right under the title.
    let md = text(input, "markdown");
    let lines: Vec<&str> = md.lines().collect();
    assert!(lines[0].starts_with("### strata:"), "{md}");
    assert_eq!(lines[2], "#### Who made this");
    assert!(md.contains("| Builder | https://github.com/example/app/actions/runs/42 |"));
    assert!(md.contains("| Provenance | SLSA v0.2 (subject matches this image) |"));

    // The gate: valid provenance passes require-provenance.
    let (code, out) = ci(input, &["--require-provenance"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        status_line(&out, "require-provenance").contains("PASS"),
        "{out}"
    );
    assert!(
        status_line(&out, "require-provenance").contains("SLSA provenance v0.2, subject matches")
    );
}

#[test]
fn slsa_v1_and_an_agreeing_sbom_in_an_oci_layout_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("layout");
    let w = write(&[v1(), spdx_agreeing()], AttestedLayout::OciDir, &path);
    let r = report(&format!("oci:{}", path.display()));
    let p = &r["provenance"];
    assert_eq!(p["valid"], true);
    assert_eq!(
        p["subject_digest"].as_str(),
        w.image.manifest_digest.as_deref()
    );
    let s = &p["slsa"];
    assert_eq!(s["version"], "v1");
    assert_eq!(
        s["builder_id"],
        "https://github.com/example/app/actions/runs/43"
    );
    assert_eq!(
        s["build_type"],
        "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md"
    );
    assert_eq!(s["source_repo"], "https://github.com/example/app.git");
    assert_eq!(s["source_commit"], COMMIT);
    assert_eq!(s["dockerfile"], "build/Dockerfile");
    assert_eq!(s["build_args"], serde_json::json!(["CHANNEL=stable"]));
    assert_eq!(
        s["base_image"]["uri"],
        "pkg:docker/debian@12?platform=linux%2Famd64"
    );
    assert_eq!(s["started_on"], "2024-06-02T08:00:00Z");
    assert_eq!(s["finished_on"], "2024-06-02T08:05:00Z");
    let cmp = &p["sbom"]["comparison"];
    assert_eq!(cmp["only_in_attestation"], serde_json::json!([]));
    assert_eq!(cmp["only_in_image"], serde_json::json!([]));
    // Everything agrees: no provenance finding at all.
    assert!(provenance_rules(&r).is_empty(), "{:?}", rules(&r));
    assert_eq!(r["base"]["name"], "debian:12");
}

#[test]
fn a_subject_naming_another_image_fires_and_fails_the_gate() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("swapped.tar");
    let other = format!("sha256:{}", "c".repeat(64));
    let mut st = v1();
    st.subject = Some(other.clone());
    let w = write(&[st], AttestedLayout::OciArchive, &path);
    let input = path.to_str().expect("utf-8");
    let r = report(input);
    let p = &r["provenance"];
    assert_eq!(p["valid"], false);
    assert_eq!(p["attestations"][0]["subject_matches"], false);
    assert_eq!(p["attestations"][0]["subjects"], serde_json::json!([other]));
    // The SLSA statement is read (so not "missing"), but it is about another image.
    assert_eq!(provenance_rules(&r), ["provenance-subject-mismatch"]);
    let f = finding(&r, "provenance-subject-mismatch");
    assert_eq!(f["severity"], "high");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(
        m.contains(&other) && m.contains(w.image.manifest_digest.as_deref().unwrap_or("?")),
        "{m}"
    );
    assert_eq!(
        f["evidence"],
        format!("attestation manifest {}", w.attestation_digest)
    );
    let t = text(input, "text");
    assert!(t.contains("  Provenance   SLSA v1 (subject does NOT name this image)"));
    assert!(t.contains("  Attestations SLSA provenance v1 (subject mismatch)"));

    let (code, out) = ci(input, &["--require-provenance"]);
    assert_eq!(code, 1, "{out}");
    let line = status_line(&out, "require-provenance");
    assert!(
        line.contains("FAIL") && line.contains("names another image"),
        "{line}"
    );
    // The finding alone fails the default gate (fail-on high).
    let out = run(&[
        "ci",
        "--quiet",
        input,
        "--lowest-efficiency",
        "off",
        "--highest-user-reclaimable-percent",
        "off",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

/// A statement blob missing from the layout (copied without it): the image still opens, a
/// warning names the blob, the attestation carries the problem, and provenance counts as
/// missing (the statement cannot be read, so nothing it says is believed).
#[test]
fn a_missing_statement_blob_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    for layout in [AttestedLayout::OciArchive, AttestedLayout::OciDir] {
        let path = dir.path().join(format!("missing-{layout:?}"));
        let mut st = v02();
        st.drop_blob = true;
        let w = write(&[st, spdx_one_off()], layout, &path);
        let input = if layout == AttestedLayout::OciDir {
            format!("oci:{}", path.display())
        } else {
            path.display().to_string()
        };
        let out = run(&["report", "--quiet", "--format", "json", &input]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let r: Value = serde_json::from_slice(&out.stdout).expect("json");
        let missing = &w.statements[0].0;
        let warnings = r["warnings"].as_array().expect("warnings");
        assert!(
            warnings
                .iter()
                .any(|x| x.as_str().is_some_and(|x| x.contains(missing.as_str())
                    && x.contains("is not in")
                    && x.contains(SLSA_V02))),
            "{warnings:?}"
        );
        let a = &r["provenance"]["attestations"][0];
        assert_eq!(a["digest"], missing.as_str());
        assert_eq!(a["subject_matches"], Value::Null);
        assert!(a["problem"]
            .as_str()
            .is_some_and(|x| x.contains("is not in")));
        assert_eq!(r["provenance"]["slsa"], Value::Null);
        // The SBOM statement next to it is still read.
        assert_eq!(r["provenance"]["sbom"]["package_count"], 2);
        assert_eq!(
            provenance_rules(&r),
            ["provenance-missing", "sbom-attestation-disagrees"]
        );
        let (code, out) = ci(&input, &["--require-provenance"]);
        assert_eq!(code, 1, "{out}");
        assert!(status_line(&out, "require-provenance").contains("unreadable"));
    }
}

#[test]
fn an_image_without_attestations_gets_provenance_missing_only() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("plain.tar");
    let w = fixture::write_image(&spec(), Layout::OciArchiveGzip, &path).expect("fixture");
    let input = path.to_str().expect("utf-8");
    let r = report(input);
    let p = &r["provenance"];
    assert_eq!(p["attestations"], serde_json::json!([]));
    assert_eq!(p["subject_digest"].as_str(), w.manifest_digest.as_deref());
    assert_eq!(p["slsa"], Value::Null);
    assert_eq!(p["sbom"], Value::Null);
    assert_eq!(p["valid"], false);
    assert_eq!(provenance_rules(&r), ["provenance-missing"]);
    assert_eq!(finding(&r, "provenance-missing")["severity"], "info");
    assert_eq!(r["base"]["name"], Value::Null);
    let t = text(input, "text");
    assert!(
        t.starts_with("Who made this\n  Provenance   no provenance attestation\n  Attestations none\n  Signatures   none found\n\nImage "),
        "{t}"
    );
    let (code, out) = ci(input, &["--require-provenance"]);
    assert_eq!(code, 1, "{out}");
    assert!(status_line(&out, "require-provenance").contains("no provenance attestation"));
    // Without the flag the rule is skipped and the gate passes; the flag can be turned off.
    let (code, out) = ci(input, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(status_line(&out, "require-provenance").contains("SKIP"));
    let (code, _) = ci(input, &["--require-provenance=false"]);
    assert_eq!(code, 0);
    // The config file key.
    let cfg = dir.path().join("policy.toml");
    std::fs::write(&cfg, "[ci]\nrequire-provenance = true\n").expect("write");
    let (code, out) = ci(input, &["--config", cfg.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{out}");
    let (code, out) = ci(input, &["--require-provenance=maybe"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn the_registry_source_reads_attestations_through_its_cache() {
    use common::registry::{require_tools, Auth, Registry};
    require_tools();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("attested.tar");
    let w = write(&[v02(), spdx_one_off()], AttestedLayout::OciArchive, &path);
    let swapped_path = dir.path().join("swapped.tar");
    let mut st = v1();
    st.subject = Some(format!("sha256:{}", "d".repeat(64)));
    write(&[st], AttestedLayout::OciArchive, &swapped_path);
    let reg = Registry::start(&Auth::None, None);
    reg.push(
        &format!("oci-archive:{}", path.display()),
        "team/attested:1",
        None,
        None,
    );
    reg.push(
        &format!("oci-archive:{}", swapped_path.display()),
        "team/swapped:1",
        None,
        None,
    );
    let cache = dir.path().join("cache");
    let registry_report = |reference: &str| -> Value {
        let out = Command::new(STRATA)
            .args([
                "report",
                "--quiet",
                "--format",
                "json",
                "--tls-verify=false",
            ])
            .arg(format!("registry:{}/{reference}", reg.addr))
            .env("STRATA_CACHE_DIR", &cache)
            .env("DOCKER_CONFIG", dir.path().join("docker"))
            .env_remove("CI")
            .output()
            .expect("strata");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let r = registry_report("team/attested:1");
    check_v02_report(&r, &w);
    // The attestation manifest and both statements were fetched from the registry.
    assert_eq!(
        reg.access_lines("GET", &format!("/manifests/{}", w.attestation_digest)),
        1
    );
    for (d, _) in &w.statements {
        assert_eq!(reg.access_lines("GET", &format!("/blobs/{d}")), 1, "{d}");
    }
    // A second run reads the statements from the blob cache.
    let again = registry_report("team/attested:1");
    assert_eq!(again["provenance"], r["provenance"]);
    for (d, _) in &w.statements {
        assert_eq!(reg.access_lines("GET", &format!("/blobs/{d}")), 1, "{d}");
    }
    let s = registry_report("team/swapped:1");
    assert_eq!(provenance_rules(&s), ["provenance-subject-mismatch"]);
    assert_eq!(s["provenance"]["valid"], false);
}
