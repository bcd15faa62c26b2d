//! The daemon source against the REAL running dockerd and the `strata-test/*` images built by
//! `scripts/build-test-images.sh` (contents: tests/daemon_images/README.md).
//!
//! Tests that need the daemon run with `STRATA_TEST_REAL=1` (set by scripts/test.sh), where a
//! missing daemon fails them; without it they are ignored (tests/common/real.rs).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use strata::source::daemon;
use strata::source::{LoadOptions, Progress, ProgressEvent};

mod common;
use common::real::images_dir;

const STRATA: &str = env!("CARGO_BIN_EXE_strata");

/// `(name, refs, id, archive)` of every test image.
fn test_images() -> Vec<(String, Vec<String>, String, PathBuf)> {
    let dir = images_dir();
    let text = std::fs::read_to_string(dir.join("images.json")).expect("images.json");
    let v: Value = serde_json::from_str(&text).expect("images.json is JSON");
    v["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().expect("name").to_owned(),
                i["refs"]
                    .as_array()
                    .expect("refs")
                    .iter()
                    .map(|r| r.as_str().expect("ref").to_owned())
                    .collect(),
                i["id"].as_str().expect("id").to_owned(),
                dir.join(i["archive"].as_str().expect("archive")),
            )
        })
        .collect()
}

fn image_id(name: &str) -> String {
    test_images()
        .into_iter()
        .find(|i| i.0 == name)
        .map(|i| i.2)
        .expect("image in images.json")
}

fn strata(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(STRATA);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run strata")
}

fn report(target: &str) -> Value {
    let out = strata(&["report", target, "--format", "json"], &[]);
    assert!(
        out.status.success(),
        "strata report {target}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report is JSON")
}

/// Asserts a clean failure: exit 2, nothing on stdout, one line on stderr containing `needle`.
fn assert_one_line_failure(out: &Output, needle: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "exit code; stderr: {err}");
    assert!(out.stdout.is_empty(), "no partial output on stdout");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.to_lowercase().contains(needle),
        "stderr should mention {needle:?}: {err}"
    );
    err
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn images_lists_what_docker_images_lists() {
    common::real::daemon_with_images();
    let docker = Command::new("docker")
        .args(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        .output()
        .expect("docker images");
    assert!(docker.status.success());
    let want: BTreeSet<String> = String::from_utf8_lossy(&docker.stdout)
        .lines()
        .map(str::to_owned)
        .collect();

    let out = strata(&["images", "--format", "json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON array");
    let got: BTreeSet<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}:{} {}",
                r["repository"].as_str().expect("repository"),
                r["tag"].as_str().expect("tag"),
                r["short_id"].as_str().expect("short_id")
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(rows.len(), want.len(), "no duplicate rows");

    // The multi-tag image: two rows, one id, both tags listed on each.
    let multi: Vec<&Value> = rows
        .iter()
        .filter(|r| r["repository"] == "strata-test/multi")
        .collect();
    assert_eq!(multi.len(), 2);
    assert_eq!(multi[0]["id"], multi[1]["id"]);
    assert_eq!(multi[0]["id"], image_id("multi").as_str());
    assert_eq!(multi[0]["repo_tags"].as_array().map(Vec::len), Some(2));
    // The untagged image: one dangling `<none>:<none>` row opened by id.
    let untagged = image_id("untagged");
    let row = rows
        .iter()
        .find(|r| r["id"] == untagged.as_str())
        .expect("untagged image listed");
    assert_eq!(row["dangling"], true);
    assert_eq!(row["tag"], "<none>");
    assert_eq!(row["reference"], untagged.as_str());
    assert_eq!(row["size_bytes"], 1_984_306);
    let layers = rows
        .iter()
        .find(|r| r["reference"] == "strata-test/layers:1")
        .expect("layers listed");
    assert_eq!(layers["dangling"], false);
    assert_eq!(layers["size_bytes"], 2_028_394);

    // The text table has the docker header and one line per row.
    let out = strata(&["images"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    for col in ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"] {
        assert!(header.contains(col), "{header}");
    }
    assert_eq!(lines.count(), want.len());
    assert!(text.contains("ago"));
}

/// The daemon report must equal the report of the `docker save` archive of the same image.
/// Only what depends on what the user typed legitimately differs: `image.reference` (a daemon
/// reference vs. a path) and the `config-mutable-tag` finding, which judges that reference on
/// the daemon (an id is immutable) and the archive's tags otherwise. Tags come from inspect on
/// the daemon side and from `manifest.json` in the archive (saved with every tag), neither side
/// has a registry or manifest digest for these locally built images, warnings are the same,
/// and both read the same config and layer tars.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn daemon_report_equals_archive_report_for_every_test_image() {
    common::real::daemon_with_images();
    let images = test_images();
    assert!(images.len() >= 7, "{images:?}");
    for (name, refs, id, archive) in images {
        let target = refs.first().cloned().unwrap_or_else(|| id.clone());
        let mut from_daemon = report(&target);
        let mut from_archive = report(&archive.display().to_string());
        assert_eq!(from_daemon["image"]["reference"], target.as_str());
        assert_eq!(from_daemon["image"]["id"], id.as_str(), "{name}");
        for r in [&mut from_daemon, &mut from_archive] {
            r["image"]["reference"] = Value::Null;
            // Through the daemon a labelled base image is looked up (rule `label`); an archive
            // falls back to the history. The boundary and every `base` flag must agree.
            r["base"]["rule"] = Value::Null;
            r["base"]["reason"] = Value::Null;
            if let Some(f) = r.get_mut("findings").and_then(Value::as_array_mut) {
                f.retain(|f| f["rule"] != "config-mutable-tag");
            }
        }
        assert_eq!(
            serde_json::to_string_pretty(&from_daemon).expect("json"),
            serde_json::to_string_pretty(&from_archive).expect("json"),
            "{name}: daemon and archive reports differ"
        );
    }
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn layers_image_numbers_from_the_daemon() {
    common::real::daemon_with_images();
    let r = report("strata-test/layers:1");
    assert_eq!(r["layers"].as_array().map(Vec::len), Some(7));
    assert_eq!(r["history"].as_array().map(Vec::len), Some(10));
    assert_eq!(r["history"][7]["empty_layer"], true);
    assert_eq!(r["layers"][4]["size_bytes"], 0, "whiteout-only layer");
    assert_eq!(r["efficiency"]["reclaimable_bytes"], 18_000);
    assert_eq!(
        r["image"]["repo_tags"],
        serde_json::json!(["strata-test/layers:1"])
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn short_id_full_id_and_name_give_the_same_image() {
    common::real::daemon_with_images();
    let id = image_id("layers");
    let hex = id.trim_start_matches("sha256:");
    let by_name = report("strata-test/layers:1");
    for target in [id.as_str(), hex, &hex[..12]] {
        let r = report(target);
        assert_eq!(r["image"]["id"], id.as_str(), "{target}");
        assert_eq!(r["image"]["reference"], target);
        assert_eq!(
            r["image"]["repo_tags"], by_name["image"]["repo_tags"],
            "{target}"
        );
        assert_eq!(r["layers"], by_name["layers"], "{target}");
        assert_eq!(r["efficiency"], by_name["efficiency"], "{target}");
    }
    // Both tags of the multi-tag image name the same image and carry both tags.
    let a = report("strata-test/multi:1");
    let b = report("strata-test/multi:latest");
    assert_eq!(a["image"]["id"], b["image"]["id"]);
    assert_eq!(a["image"]["repo_tags"], b["image"]["repo_tags"]);
    assert_eq!(a["image"]["repo_tags"].as_array().map(Vec::len), Some(2));
}

/// Metadata (from inspect + history) arrives before any layer byte, with the layer list and a
/// history mapping that, for these legacy-builder images, matches the exact one.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn load_reports_metadata_first_then_streams() {
    common::real::daemon_with_images();
    for (name, refs, id, _) in test_images() {
        let target = refs.first().cloned().unwrap_or(id.clone());
        let events: Arc<Mutex<Vec<ProgressEvent>>> = Arc::default();
        let sink = events.clone();
        let progress = Progress::new(move |e| sink.lock().expect("lock").push(e));
        let image = daemon::load(&target, &LoadOptions::default(), &progress).expect("load");
        let events = events.lock().expect("lock");
        let ProgressEvent::Metadata(preview) = &events[0] else {
            panic!("{name}: first event is not Metadata: {:?}", events[0]);
        };
        assert!(
            matches!(&events[1], ProgressEvent::Phase(p) if p.contains("waiting for the daemon")),
            "{name}: {:?}",
            events[1]
        );
        let first_byte = events
            .iter()
            .position(|e| matches!(e, ProgressEvent::Bytes(_) | ProgressEvent::LayerStarted(_)))
            .expect("streaming events");
        assert!(first_byte > 1);
        let Some(ProgressEvent::Bytes(total)) = events
            .iter()
            .rev()
            .find(|e| matches!(e, ProgressEvent::Bytes(_)))
        else {
            panic!("{name}: no byte count");
        };
        // The engine counts every layer byte it reads; the daemon's layers are uncompressed,
        // so the count ends at the layers' total tar size.
        let tar_bytes: u64 = image.layers.iter().map(|l| l.tar_bytes).sum();
        assert_eq!(*total, tar_bytes, "{name}");

        assert_eq!(preview.id, id, "{name}");
        assert_eq!(preview.id, image.id, "{name}");
        assert_eq!(preview.reference, target);
        assert!(preview.fs.versions.is_empty());
        assert_eq!(preview.config, image.config, "{name}: config from inspect");
        assert_eq!(preview.os, image.os);
        assert_eq!(preview.architecture, image.architecture);
        let diff_ids = |i: &strata::model::Image| -> Vec<String> {
            i.layers.iter().map(|l| l.diff_id.clone()).collect()
        };
        assert_eq!(diff_ids(preview), diff_ids(&image), "{name}");
        let mapping = |i: &strata::model::Image| -> Vec<(String, bool, Option<usize>)> {
            i.history
                .iter()
                .map(|h| (h.created_by.clone(), h.empty_layer, h.layer))
                .collect()
        };
        assert_eq!(
            mapping(preview),
            mapping(&image),
            "{name}: inferred history mapping"
        );
        assert!(matches!(&image.origin, strata::model::Origin::Daemon(i) if *i == id));
        assert_eq!(image.reference, target);
    }
}

/// The TUI calls `load` from `spawn_blocking`; it must also work inside a current-thread runtime.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn load_works_from_blocking_threads_of_any_runtime() {
    common::real::daemon_with_images();
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let id = multi.block_on(async {
        tokio::task::spawn_blocking(|| {
            daemon::load(
                "strata-test/clean:1",
                &LoadOptions::default(),
                &Progress::default(),
            )
            .map(|i| i.id)
        })
        .await
        .expect("join")
    });
    assert_eq!(id.expect("load"), image_id("clean"));
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows = current.block_on(async {
        tokio::task::spawn_blocking(daemon::list_images)
            .await
            .expect("join")
    });
    assert!(rows
        .expect("list")
        .iter()
        .any(|r| r.reference == "strata-test/clean:1"));
}

/// File contents of a daemon image are read back by exporting again (`export_blocking`).
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn anatomy_of_a_daemon_image_says_what_exists_and_reads_raw_entries_back() {
    use strata::model::documents::DocumentKind;
    common::real::daemon_with_images();
    let image = daemon::load(
        "strata-test/layers:1",
        &LoadOptions::default(),
        &Progress::default(),
    )
    .expect("load");
    // dockerd 20.10's export: manifest.json and the config, no OCI manifest; said so.
    let kinds: Vec<DocumentKind> = image.documents.chain.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![DocumentKind::ArchiveManifest, DocumentKind::Config]
    );
    assert_eq!(
        image.documents.notes,
        vec![daemon::DAEMON_DOCUMENTS.to_owned()]
    );
    let config = image.documents.config().expect("config");
    assert_eq!(config.digest.as_deref(), Some(image.id.as_str()));
    // Layer 4 deletes a file and a directory tree (README: whiteouts, the second with dockerd's
    // bogus link name), read back from a new export.
    let raw = strata::source::content::raw_entries(&image, 4, None).expect("raw entries");
    let names: Vec<String> = raw
        .iter()
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        .collect();
    assert_eq!(raw.len(), image.layers[4].entries, "{names:?}");
    let removals = strata::analysis::anatomy::LayerRemovals::of(&image, 4);
    let whiteouts: Vec<String> = raw
        .iter()
        .filter(|e| {
            e.path.ends_with(b".wh.delete-me.bin") || e.path.ends_with(b".wh.dir-to-delete")
        })
        .filter_map(|e| strata::analysis::anatomy::explain(&removals, e))
        .collect();
    assert_eq!(whiteouts.len(), 2, "{names:?}");
    // Sizes from the README: delete-me.bin 3000 bytes; dir-to-delete holds a.bin (1000) and
    // sub/b.bin (500).
    let file = format!(
        "whiteout: this entry is how layer 4 deletes /data/delete-me.bin: its bytes stay in layer 1 ({})",
        strata::text::bytes(3000)
    );
    assert!(
        whiteouts.iter().any(|w| w.starts_with(&file)),
        "{whiteouts:?}"
    );
    let dir = format!(
        "whiteout: this entry is how layer 4 deletes /data/dir-to-delete: the directory's bytes stay in layer 1 (2 files, {}); its link name is a dockerd quirk, not a hard link",
        strata::text::bytes(1500)
    );
    assert!(whiteouts.contains(&dir), "{whiteouts:?}");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn file_contents_are_read_back_from_the_daemon() {
    common::real::daemon_with_images();
    let image = daemon::load(
        "strata-test/layers:1",
        &LoadOptions::default(),
        &Progress::default(),
    )
    .expect("load");
    let fs = &image.fs;
    let keep = fs.lookup(b"data/keep.txt").expect("data/keep.txt");
    let v = fs.final_version(keep).expect("visible");
    let bytes = strata::source::content::read_content(&image, v, 1024).expect("read back");
    assert_eq!(bytes, b"keep\n");
    let over = fs.lookup(b"data/overwrite.bin").expect("overwrite.bin");
    let v = fs.final_version(over).expect("visible");
    let bytes = strata::source::content::read_content(&image, v, 1 << 20).expect("read back");
    assert_eq!(bytes.len(), 20_000);

    let mut tar = Vec::new();
    daemon::export_blocking(&image_id("multi"))
        .expect("export")
        .read_to_end(&mut tar)
        .expect("read export");
    assert!(tar.len() > 1_984_307, "whole image tar: {}", tar.len());
    let err = daemon::export_blocking(
        "sha256:00000000000000000000000000000000000000000000000000000000000000ff",
    )
    .err()
    .expect("missing image");
    assert!(err.to_string().contains("not found"), "{err}");
}

#[test]
fn missing_socket_fails_in_one_line() {
    let out = strata(
        &["report", "--source", "daemon", "x"],
        &[("DOCKER_HOST", "unix:///tmp/nothing-here.sock")],
    );
    let err = assert_one_line_failure(&out, "daemon");
    assert!(err.contains("unix:///tmp/nothing-here.sock"), "{err}");
    assert!(err.contains("dockerd"), "{err}");
    let out = strata(
        &["images"],
        &[("DOCKER_HOST", "unix:///tmp/nothing-here.sock")],
    );
    assert_one_line_failure(&out, "cannot reach the docker daemon");
}

#[test]
fn closed_tcp_port_fails_in_one_line() {
    let out = strata(
        &["report", "--source", "daemon", "strata-test/layers:1"],
        &[("DOCKER_HOST", "tcp://127.0.0.1:1")],
    );
    let err = assert_one_line_failure(&out, "connection refused");
    assert!(err.contains("tcp://127.0.0.1:1"), "{err}");
    let out = strata(&["images"], &[("DOCKER_HOST", "tcp://127.0.0.1:1")]);
    assert_one_line_failure(&out, "daemon");
    // --host wins over DOCKER_HOST.
    let out = strata(
        &["--host", "unix:///tmp/nothing-here.sock", "images"],
        &[("DOCKER_HOST", "tcp://127.0.0.1:1")],
    );
    assert_one_line_failure(&out, "nothing-here.sock (from --host)");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn missing_image_is_not_found_and_never_pulled() {
    common::real::daemon_with_images();
    let name = "strata-test/does-not-exist:1";
    // `--source daemon`: without it a name the daemon lacks is read from its registry
    // (tests/registry.rs covers that path).
    let out = strata(&["report", "--source", "daemon", name], &[]);
    let err = assert_one_line_failure(&out, "not found");
    assert!(err.contains("never pulls"), "{err}");
    let out = strata(
        &[
            "report",
            "--source",
            "daemon",
            "sha256:00000000000000000000000000000000000000000000000000000000000000ff",
        ],
        &[],
    );
    assert_one_line_failure(&out, "not found");
    let inspect = Command::new("docker")
        .args(["image", "inspect", name])
        .output()
        .expect("docker");
    assert!(
        !inspect.status.success(),
        "the image must not have been pulled"
    );
    let out = strata(&["report", "strata-test/x/../../containers/json"], &[]);
    assert_one_line_failure(&out, "not an image reference");
}

/// A name without a tag whose repository the daemon has under another tag: the error names
/// that tag (issue 13, edge 8d), from the daemon alone and before any registry is asked.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn a_name_without_tag_suggests_the_daemons_tag() {
    common::real::daemon_with_images();
    for args in [
        &["report", "--source", "daemon", "strata-test/layers"][..],
        &["report", "strata-test/layers"][..],
        &["ci", "strata-test/layers"][..],
    ] {
        let out = strata(args, &[]);
        let err = assert_one_line_failure(&out, "strata-test/layers");
        assert!(
            err.contains("did you mean strata-test/layers:1?"),
            "{args:?}: {err}"
        );
    }
    // A tagged name that is missing gets no suggestion.
    let out = strata(
        &["report", "--source", "daemon", "strata-test/layers:2"],
        &[],
    );
    let err = assert_one_line_failure(&out, "not found");
    assert!(!err.contains("did you mean"), "{err}");
}

/// A Docker context selected by `currentContext` in `$DOCKER_CONFIG/config.json`.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn docker_context_is_followed() {
    common::real::daemon_with_images();
    let ep = daemon::endpoint().expect("daemon endpoint");
    let dir = tempfile::tempdir().expect("tempdir");
    let write_context = |name: &str, host: &str| {
        use sha2::{Digest, Sha256};
        let hash: String = Sha256::digest(name.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let meta = dir.path().join("contexts/meta").join(hash);
        std::fs::create_dir_all(&meta).expect("mkdir");
        let json = serde_json::json!({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}});
        std::fs::write(meta.join("meta.json"), json.to_string()).expect("write meta");
    };
    write_context("strata-good", &ep.host);
    write_context("strata-bad", "unix:///tmp/nothing-here.sock");
    let cfg = dir.path().display().to_string();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"currentContext": "strata-good"}"#,
    )
    .expect("config");
    let env_base = [("DOCKER_CONFIG", cfg.as_str()), ("DOCKER_HOST", "")];
    let out = strata(&["images", "--format", "json"], &env_base);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = strata(
        &["images"],
        &[env_base[0], env_base[1], ("DOCKER_CONTEXT", "strata-bad")],
    );
    let err = assert_one_line_failure(&out, "context strata-bad");
    assert!(err.contains("nothing-here.sock"), "{err}");
    let out = strata(
        &["images"],
        &[
            env_base[0],
            env_base[1],
            ("DOCKER_CONTEXT", "no-such-context"),
        ],
    );
    assert_one_line_failure(&out, "docker context `no-such-context`");
}

/// Running as an unprivileged user against the root-owned socket (needs root and `setpriv`).
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn permission_denied_on_the_socket_names_the_docker_group() {
    common::real::daemon_with_images();
    let uid = Command::new("id").arg("-u").output().expect("id");
    let ep = daemon::endpoint().expect("daemon endpoint");
    let socket = ep.host.trim_start_matches("unix://").to_owned();
    let world_open = std::fs::metadata(&socket)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o006 != 0)
        .unwrap_or(true);
    assert!(
        String::from_utf8_lossy(&uid.stdout).trim() == "0"
            && Command::new("setpriv").arg("--version").output().is_ok()
            && ep.host.starts_with("unix://")
            && !world_open,
        "the permission test needs root, setpriv and a unix socket not open to all"
    );
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            STRATA,
            "images",
        ])
        .env("DOCKER_HOST", &ep.host)
        .env("HOME", "/nonexistent")
        .output()
        .expect("setpriv");
    let err = assert_one_line_failure(&out, "permission denied");
    assert!(err.contains("docker group"), "{err}");
}

/// A proxy in front of the real socket that forwards each response up to `limit` bytes and then
/// closes the connection: the daemon connection closing mid-export, for real.
fn cutting_proxy(upstream: &str, dir: &Path, limit: usize) -> PathBuf {
    let path = dir.join("cut.sock");
    let listener = UnixListener::bind(&path).expect("bind proxy");
    let upstream = upstream.to_owned();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = UnixStream::connect(&upstream) else {
                return;
            };
            let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
                return;
            };
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut s2);
            });
            std::thread::spawn(move || {
                let mut sent = 0;
                let mut buf = vec![0u8; 16 << 10];
                while sent < limit {
                    let n = match server.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n.min(limit - sent),
                    };
                    if client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    path
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn connection_closed_mid_export_is_an_error_not_a_partial_report() {
    common::real::daemon_with_images();
    let ep = daemon::endpoint().expect("daemon endpoint");
    let upstream = ep
        .host
        .strip_prefix("unix://")
        .expect("the suite's daemon listens on a unix socket");
    let dir = tempfile::tempdir().expect("tempdir");
    // Metadata answers are a few KB; the export of strata-test/layers:1 is ~2 MB.
    let sock = cutting_proxy(upstream, dir.path(), 300 << 10);
    let host = format!("unix://{}", sock.display());
    let out = strata(
        &["report", "strata-test/layers:1", "--format", "json"],
        &[("DOCKER_HOST", host.as_str())],
    );
    let err = assert_one_line_failure(&out, "broke off");
    eprintln!("message: {err}");
    assert!(err.contains("strata-test/layers:1"), "{err}");
    assert!(
        err.contains("no partial") || err.contains("nothing is shown"),
        "{err}"
    );
    // The same through the library: an Err naming the reference, after Metadata was sent.
    let proxy = daemon::Endpoint {
        host,
        via: "test proxy".into(),
    };
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = events.clone();
    let progress = Progress::new(move |e| {
        sink.lock()
            .expect("lock")
            .push(format!("{e:?}").chars().take(20).collect());
    });
    let r = daemon::load_from(
        &proxy,
        "strata-test/layers:1",
        &LoadOptions::default(),
        &progress,
    );
    let e = r.expect_err("must fail");
    assert!(matches!(e, strata::Error::Daemon(_)), "{e:?}");
    assert!(e.to_string().starts_with("strata-test/layers:1: "), "{e}");
    assert!(events.lock().expect("lock")[0].starts_with("Metadata"));
}
