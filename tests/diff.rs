//! `strata diff` (issue 12) on pairs written by the fixture builder and on the daemon-built test
//! images: layers, files, packages in each manager's version order, findings matched by rule and
//! location, configuration, sizes, the JSON contract, the gate's exit codes, and one side read
//! from the daemon giving the same answer as from its archive.
//!
//! Tests that need the daemon, its test images or dpkg run under `STRATA_TEST_REAL=1`
//! (scripts/test.sh) and fail without them; otherwise they are ignored with their reason
//! (tests/common/real.rs).

mod common;

use common::fixture::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use strata::analysis::diff::{analyse_pair, compare, Change, Diff, FileChange, What};
use strata::config::FindingsConfig;
use strata::model::EntryKind;
use strata::source::{Input, LoadOptions, Progress};
use strata::{Analysed, Settings};

const STRATA: &str = env!("CARGO_BIN_EXE_strata");
/// 2026-01-01T00:00:00Z: a fixed "now" for the image-age check.
const NOW: i64 = 1_767_225_600;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn config() -> FindingsConfig {
    FindingsConfig {
        now: Some(NOW),
        ..FindingsConfig::default()
    }
}

fn settings() -> Settings {
    Settings::new(LoadOptions::default(), config())
}

fn input(path: &Path) -> Input {
    Input::parse(&path.display().to_string())
}

fn load(path: &Path) -> Analysed {
    strata::analyse(&input(path), &settings(), &Progress::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn diff(a: &Path, b: &Path) -> Diff {
    let (a, b) = (load(a), load(b));
    compare(&a, &b)
}

fn write(spec: &ImageSpec, layout: Layout, dir: &Path, name: &str) -> (PathBuf, Written) {
    let path = dir.join(name);
    let w = write_image(spec, layout, &path).expect("write fixture");
    (path, w)
}

fn entry<'a>(d: &'a Diff, path: &str) -> &'a FileChange {
    d.files
        .entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| {
            let all: Vec<&str> = d.files.entries.iter().map(|e| e.path.as_str()).collect();
            panic!("no change at {path}; changes: {all:?}")
        })
}

fn strata(args: &[&str]) -> Output {
    Command::new(STRATA)
        .args(args)
        .env_remove("DOCKER_HOST")
        .output()
        .expect("run strata")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Bytes of the regular files of a layer spec, counted independently of strata.
fn file_bytes(l: &LayerSpec) -> u64 {
    l.entries
        .iter()
        .map(|e| match e {
            EntrySpec::File { data, .. } => data.len() as u64,
            _ => 0,
        })
        .sum()
}

/// Deterministic pseudo-random token text, so no secret-looking literal sits in this file.
fn token(prefix: &str, n: usize, seed: u64) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = prefix.to_owned();
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(A[(x % A.len() as u64) as usize] as char);
    }
    s
}

fn pem(seed: u64) -> String {
    let body: Vec<String> = (0..8).map(|i| token("", 64, seed + i)).collect();
    format!(
        "-----BEGIN {k}-----\n{}\n-----END {k}-----\n",
        body.join("\n"),
        k = "EC PRIVATE KEY"
    )
}

fn dpkg_status(pkgs: &[(&str, &str)]) -> String {
    pkgs.iter()
        .map(|(n, v)| {
            format!(
                "Package: {n}\nStatus: install ok installed\nInstalled-Size: 10\nVersion: {v}\nDescription: {n}\n"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn apk_db(pkgs: &[(&str, &str)]) -> String {
    pkgs.iter()
        .map(|(n, v)| format!("P:{n}\nV:{v}\nI:4096\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn python_meta(name: &str, version: &str) -> String {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n")
}

// ---------------------------------------------------------------------------------------------
// The fixture pair: a shared base, then A's and B's own layer
// ---------------------------------------------------------------------------------------------

fn base() -> LayerSpec {
    LayerSpec::new(
        "ADD rootfs.tar /",
        vec![
            EntrySpec::dir("etc/", 0o755),
            EntrySpec::file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
            EntrySpec::dir("data/", 0o755),
            EntrySpec::file("data/chmod.bin", text_blob(7, 2000), 0o644),
            EntrySpec::symlink("data/link", "target-a"),
            EntrySpec::file("data/x", text_blob(8, 300), 0o644),
            EntrySpec::file("usr/bin/tool", text_blob(9, 4096), 0o755),
        ],
    )
}

struct Pair {
    a: ImageSpec,
    b: ImageSpec,
    aws: String,
    gcp: String,
    db_a: String,
    db_b: String,
}

fn pair() -> Pair {
    let aws = token("AKIA", 16, 11).to_ascii_uppercase();
    let gcp = token("AIza", 35, 12);
    let db_a = token("", 20, 13);
    let db_b = token("", 20, 14);
    let deploy = format!("AWS_ACCESS_KEY_ID={aws}\n");
    let a_top = LayerSpec::new(
        "RUN install --version 1.4",
        vec![
            EntrySpec::file(
                "var/lib/dpkg/status",
                dpkg_status(&[
                    ("curl", "7.88.1-10+deb12u4"),
                    ("libc6", "2.36-9+deb12u7"),
                    ("libfoo", "1.0-1"),
                    ("oldpkg", "1.0-1"),
                    ("tzdata", "2024a-0+deb12u1"),
                ]),
                0o644,
            ),
            EntrySpec::file(
                "lib/apk/db/installed",
                apk_db(&[("busybox", "1.36.1-r9"), ("musl", "1.2.5_rc1-r0")]),
                0o644,
            ),
            EntrySpec::file(
                "usr/lib/python3/site-packages/Foo_Bar-1.0+local.dist-info/METADATA",
                python_meta("Foo_Bar", "1.0+local"),
                0o644,
            ),
            EntrySpec::file(
                "usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA",
                python_meta("requests", "2.31.0"),
                0o644,
            ),
            EntrySpec::file(
                "app/node_modules/left-pad/package.json",
                r#"{"name": "left-pad", "version": "1.3.0-beta.11"}"#,
                0o644,
            ),
            EntrySpec::file("app/secret.pem", pem(21), 0o600),
            EntrySpec::file("app/config/deploy.env", &deploy, 0o644),
        ],
    );
    let b_top = LayerSpec::new(
        "RUN install --version 1.5",
        vec![
            EntrySpec::file(
                "var/lib/dpkg/status",
                dpkg_status(&[
                    ("curl", "7.88.1-10+deb12u4"),
                    ("libc6", "2.36-9+deb12u10"),
                    ("libfoo", "1.0~rc1-1"),
                    ("newpkg", "2.0-1"),
                    ("tzdata", "1:2023c-5"),
                ]),
                0o644,
            ),
            EntrySpec::file(
                "lib/apk/db/installed",
                apk_db(&[("busybox", "1.36.1-r10"), ("musl", "1.2.5-r0")]),
                0o644,
            ),
            EntrySpec::file(
                "usr/lib/python3/site-packages/foo_bar-1.0.dist-info/METADATA",
                python_meta("foo-bar", "1.0"),
                0o644,
            ),
            EntrySpec::file(
                "usr/lib/python3/site-packages/requests-2.32.0rc1.dist-info/METADATA",
                python_meta("requests", "2.32.0rc1"),
                0o644,
            ),
            EntrySpec::file(
                "app/node_modules/left-pad/package.json",
                r#"{"name": "left-pad", "version": "1.3.0-beta.2"}"#,
                0o644,
            ),
            EntrySpec::file("app/new.env", format!("MAPS_KEY={gcp}\n"), 0o644),
            EntrySpec::file("app/config/deploy.env", &deploy, 0o644),
            // chmod only, symlink retargeted, file turned into a directory.
            EntrySpec::file("data/chmod.bin", text_blob(7, 2000), 0o755),
            EntrySpec::symlink("data/link", "target-b"),
            EntrySpec::dir("data/x/", 0o755),
            EntrySpec::file("data/x/inner.txt", "inner\n", 0o644),
        ],
    );
    let a = ImageSpec {
        config: json!({
            "Env": ["PATH=/usr/bin:/bin", format!("DB_PASSWORD={db_a}")],
            "Cmd": ["/app/run", "--v1"],
            "ExposedPorts": {"8080/tcp": {}},
            "Labels": {"version": "1.4"},
        }),
        repo_tags: vec!["example/app:1.4".into()],
        ..ImageSpec::new(vec![base(), a_top])
    };
    let b = ImageSpec {
        config: json!({
            "User": "1000",
            "Env": ["PATH=/usr/bin:/bin", format!("DB_PASSWORD={db_b}")],
            "Cmd": ["/app/run", "--v2"],
            "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}},
            "Labels": {"version": "1.5"},
            "Healthcheck": {"Test": ["CMD", "/app/health"]},
        }),
        repo_tags: vec!["example/app:1.5".into()],
        ..ImageSpec::new(vec![base(), b_top])
    };
    Pair {
        a,
        b,
        aws,
        gcp,
        db_a,
        db_b,
    }
}

// ---------------------------------------------------------------------------------------------
// Fixture pairs
// ---------------------------------------------------------------------------------------------

#[test]
fn pair_with_a_shared_base_layers_and_files() {
    let p = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, wa) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    // B in another layout: diff_ids are of the uncompressed tars, so the base is still shared.
    let (pb, wb) = write(&p.b, Layout::OciArchiveGzip, dir.path(), "b.tar");
    let d = diff(&pa, &pb);

    assert_eq!(d.schema, "strata.diff/v1");
    assert_eq!(d.a.tags, vec!["example/app:1.4"]);
    assert_eq!(d.a.id, wa.config_digest);
    assert_eq!(d.b.id, wb.config_digest);

    // Layers: the base is shared, each top layer is its own.
    assert_eq!(wa.diff_ids[0], wb.diff_ids[0]);
    assert_eq!(d.layers.shared.len(), 1);
    let s = &d.layers.shared[0];
    assert_eq!((s.index_a, s.index_b), (0, 0));
    assert_eq!(s.diff_id, wa.diff_ids[0]);
    assert_eq!(s.size_bytes, file_bytes(&p.a.layers[0]));
    assert_eq!(d.layers.only_a.len(), 1);
    assert_eq!(d.layers.only_a[0].index, 1);
    assert_eq!(d.layers.only_a[0].diff_id, wa.diff_ids[1]);
    assert_eq!(d.layers.only_a[0].size_bytes, file_bytes(&p.a.layers[1]));
    assert_eq!(d.layers.only_a[0].command, "RUN install --version 1.4");
    assert_eq!(d.layers.only_b[0].diff_id, wb.diff_ids[1]);
    assert_eq!(d.layers.only_b[0].size_bytes, file_bytes(&p.b.layers[1]));

    // chmod only: mode, nothing else.
    let c = entry(&d, "/data/chmod.bin");
    assert_eq!(c.change, Change::Modified);
    assert_eq!(c.what, vec![What::Mode]);
    assert_eq!(
        (c.mode_a.as_deref(), c.mode_b.as_deref()),
        (Some("0644"), Some("0755"))
    );
    assert_eq!((c.bytes_a, c.bytes_b), (Some(2000), Some(2000)));
    assert_eq!((c.layer_a, c.layer_b), (Some(0), Some(1)));

    // Symlink retargeted.
    let l = entry(&d, "/data/link");
    assert_eq!(l.what, vec![What::Link]);
    assert_eq!(
        (l.link_a.as_deref(), l.link_b.as_deref()),
        (Some("target-a"), Some("target-b"))
    );
    assert_eq!(
        (l.kind_a, l.kind_b),
        (Some(EntryKind::Symlink), Some(EntryKind::Symlink))
    );

    // File turned into a directory, with a new child.
    let x = entry(&d, "/data/x");
    assert_eq!(x.what[0], What::Type);
    assert_eq!(
        (x.kind_a, x.kind_b),
        (Some(EntryKind::File), Some(EntryKind::Dir))
    );
    assert_eq!((x.bytes_a, x.bytes_b), (Some(300), Some(0)));
    let inner = entry(&d, "/data/x/inner.txt");
    assert_eq!(inner.change, Change::Added);
    assert_eq!((inner.bytes_a, inner.bytes_b), (None, Some(6)));
    assert_eq!((inner.layer_a, inner.layer_b), (None, Some(1)));

    // The secret file that is gone, the new one, and the same content rewritten by another
    // layer (not a change).
    let gone = entry(&d, "/app/secret.pem");
    assert_eq!(gone.change, Change::Removed);
    assert_eq!(gone.bytes_a, Some(pem(21).len() as u64));
    assert_eq!(gone.layer_a, Some(1));
    assert_eq!(entry(&d, "/app/new.env").change, Change::Added);
    assert!(d
        .files
        .entries
        .iter()
        .all(|e| e.path != "/app/config/deploy.env"));
    assert!(d.files.entries.iter().all(|e| e.path != "/etc/passwd"));
    assert!(d.files.entries.iter().all(|e| e.path != "/usr/bin/tool"));
    let status = entry(&d, "/var/lib/dpkg/status");
    assert_eq!(status.what, vec![What::Content]);

    // Every changed path, independently listed.
    let mut paths: Vec<(&str, Change)> = d
        .files
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.change))
        .collect();
    paths.sort();
    let py = "/usr/lib/python3/site-packages";
    let mut want = vec![
        ("/app/new.env".to_owned(), Change::Added),
        (
            "/app/node_modules/left-pad/package.json".to_owned(),
            Change::Modified,
        ),
        ("/app/secret.pem".to_owned(), Change::Removed),
        ("/data/chmod.bin".to_owned(), Change::Modified),
        ("/data/link".to_owned(), Change::Modified),
        ("/data/x".to_owned(), Change::Modified),
        ("/data/x/inner.txt".to_owned(), Change::Added),
        ("/lib/apk/db/installed".to_owned(), Change::Modified),
        (format!("{py}/Foo_Bar-1.0+local.dist-info"), Change::Removed),
        (
            format!("{py}/Foo_Bar-1.0+local.dist-info/METADATA"),
            Change::Removed,
        ),
        (format!("{py}/foo_bar-1.0.dist-info"), Change::Added),
        (
            format!("{py}/foo_bar-1.0.dist-info/METADATA"),
            Change::Added,
        ),
        (format!("{py}/requests-2.31.0.dist-info"), Change::Removed),
        (
            format!("{py}/requests-2.31.0.dist-info/METADATA"),
            Change::Removed,
        ),
        (format!("{py}/requests-2.32.0rc1.dist-info"), Change::Added),
        (
            format!("{py}/requests-2.32.0rc1.dist-info/METADATA"),
            Change::Added,
        ),
        ("/var/lib/dpkg/status".to_owned(), Change::Modified),
    ];
    want.sort();
    let want: Vec<(&str, Change)> = want.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    assert_eq!(paths, want);
    assert_eq!(
        (d.files.added, d.files.removed, d.files.modified),
        (6, 5, 6)
    );

    // Bytes added and removed, from the specs: B's size of what it adds or changes, A's of
    // what it removes or changes.
    let size_in = |spec: &ImageSpec, path: &str| -> u64 {
        spec.layers[1]
            .entries
            .iter()
            .chain(spec.layers[0].entries.iter())
            .find_map(|e| match e {
                EntrySpec::File { path: p, data, .. } if p == path.as_bytes() => {
                    Some(data.len() as u64)
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{path} not in spec"))
    };
    let changed_b = [
        "app/new.env",
        "app/node_modules/left-pad/package.json",
        "data/chmod.bin",
        "data/x/inner.txt",
        "lib/apk/db/installed",
        "usr/lib/python3/site-packages/foo_bar-1.0.dist-info/METADATA",
        "usr/lib/python3/site-packages/requests-2.32.0rc1.dist-info/METADATA",
        "var/lib/dpkg/status",
    ];
    let changed_a = [
        "app/secret.pem",
        "app/node_modules/left-pad/package.json",
        "data/chmod.bin",
        "data/x",
        "lib/apk/db/installed",
        "usr/lib/python3/site-packages/Foo_Bar-1.0+local.dist-info/METADATA",
        "usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA",
        "var/lib/dpkg/status",
    ];
    let added: u64 = changed_b.iter().map(|x| size_in(&p.b, x)).sum();
    let removed: u64 = changed_a.iter().map(|x| size_in(&p.a, x)).sum();
    assert_eq!(d.files.bytes_added, added);
    assert_eq!(d.files.bytes_removed, removed);
    let data = d
        .files
        .directories
        .iter()
        .find(|x| x.path == "/data")
        .expect("/data summarised");
    assert_eq!(data.files_changed, 4);
    assert_eq!(data.bytes_added, 2000 + 6);
    assert_eq!(data.bytes_removed, 2000 + 300);
    let root = d
        .files
        .directories
        .iter()
        .find(|x| x.path == "/")
        .expect("root");
    assert_eq!((root.bytes_added, root.bytes_removed), (added, removed));

    // Sizes: totals from the specs.
    let total = |s: &ImageSpec| s.layers.iter().map(file_bytes).sum::<u64>();
    assert_eq!(d.size.a.total_bytes, total(&p.a));
    assert_eq!(d.size.b.total_bytes, total(&p.b));
    assert_eq!(
        d.size.delta.total_bytes,
        total(&p.b) as i64 - total(&p.a) as i64
    );
    // B supersedes two base files (chmod.bin, data/x): they are reclaimable in B only.
    assert_eq!(d.size.a.reclaimable_bytes, 0);
    assert_eq!(d.size.b.reclaimable_bytes, 2000 + 300);
    assert_eq!(d.size.delta.reclaimable_bytes, 2300);
}

#[test]
fn a_shared_layer_is_read_once_and_the_answer_is_the_same() {
    let p = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, _) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    let (pb, _) = write(&p.b, Layout::SkopeoDockerArchive, dir.path(), "b.tar");
    let (pdir, _) = write(&p.b, Layout::OciDir, dir.path(), "b-oci");
    let (pgz, _) = write(&p.b, Layout::GzipOuter, dir.path(), "b.tar.gz");
    let settings = settings();
    // What the layout records about the image (tags, a rewritten config) may differ.
    let (pa_gz, _) = write(&p.a, Layout::OciArchiveGzip, dir.path(), "a-oci.tar");
    let separate = comparable(&diff(&pa, &pb));
    // Uncompressed legacy layer tars in both: the base is taken from A's reading.
    // B as an OCI directory stores gzip blobs (another blob): read again. B gzip-compressed
    // as a whole: a stream with no layer list ahead, decompressed whole anyway: read.
    for (a, b, reused) in [
        (&pa, &pb, 1),
        (&pa, &pdir, 0),
        (&pa, &pgz, 0),
        (&pa_gz, &pb, 0),
    ] {
        let pair =
            analyse_pair(&input(a), &input(b), &settings, &Progress::default()).expect("pair");
        assert_eq!(
            pair.layers_read_once,
            reused,
            "{} {}",
            a.display(),
            b.display()
        );
        assert!(!pair.same_input);
        assert_eq!(
            comparable(&pair.diff),
            separate,
            "{} {}",
            a.display(),
            b.display()
        );
    }
    // The same input twice is read once.
    let pair =
        analyse_pair(&input(&pa), &input(&pa), &settings, &Progress::default()).expect("pair");
    assert!(pair.same_input);
    assert!(pair.diff.is_empty());
}

/// B's own layers are read alongside A's: a damaged one is still B's error, word for word, and
/// never a diff.
#[test]
fn a_damaged_layer_of_b_read_alongside_a_is_bs_error() {
    let p = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, _) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    let (pb, _) = write(&p.b, Layout::DockerLegacy, dir.path(), "b.tar");
    // Change one byte of B's own top layer (its dpkg status names newpkg), keeping its size.
    let mut bytes = std::fs::read(&pb).expect("read b");
    let at = bytes
        .windows(6)
        .position(|w| w == b"newpkg")
        .expect("B's own layer holds newpkg");
    bytes[at + 5] = b'h';
    std::fs::write(&pb, &bytes).expect("write b");
    let alone = strata::analyse(&input(&pb), &settings(), &Progress::default())
        .expect_err("B alone fails its digest check")
        .to_string();
    assert!(alone.contains("b.tar"), "{alone}");
    let err = analyse_pair(&input(&pa), &input(&pb), &settings(), &Progress::default())
        .expect_err("the pair fails")
        .to_string();
    assert_eq!(err, alone);
}

#[test]
fn pair_packages_follow_each_managers_order() {
    let p = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, _) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    let (pb, _) = write(&p.b, Layout::DockerLegacy, dir.path(), "b.tar");
    let d = diff(&pa, &pb);
    type Row = (String, String, Option<String>, Option<String>, Change);
    let got: Vec<Row> = d
        .packages
        .iter()
        .map(|c| {
            (
                c.manager.clone(),
                c.name.clone(),
                c.version_a.clone(),
                c.version_b.clone(),
                c.change,
            )
        })
        .collect();
    let s = |x: &str| Some(x.to_owned());
    let row = |m: &str, n: &str, a: Option<String>, b: Option<String>, c: Change| {
        (m.to_owned(), n.to_owned(), a, b, c)
    };
    use Change::*;
    assert_eq!(
        got,
        vec![
            // apk: -r10 after -r9 (text order says otherwise), _rc before the release.
            row("apk", "busybox", s("1.36.1-r9"), s("1.36.1-r10"), Upgraded),
            row("apk", "musl", s("1.2.5_rc1-r0"), s("1.2.5-r0"), Upgraded),
            // dpkg: deb12u10 after deb12u7, `~` before the release, the epoch wins.
            row(
                "dpkg",
                "libc6",
                s("2.36-9+deb12u7"),
                s("2.36-9+deb12u10"),
                Upgraded
            ),
            row("dpkg", "libfoo", s("1.0-1"), s("1.0~rc1-1"), Downgraded),
            row("dpkg", "newpkg", None, s("2.0-1"), Added),
            row("dpkg", "oldpkg", s("1.0-1"), None, Removed),
            row(
                "dpkg",
                "tzdata",
                s("2024a-0+deb12u1"),
                s("1:2023c-5"),
                Upgraded
            ),
            // semver: beta.11 after beta.2.
            row(
                "npm",
                "left-pad",
                s("1.3.0-beta.11"),
                s("1.3.0-beta.2"),
                Downgraded
            ),
            // PEP 440: names normalised (Foo_Bar = foo-bar), a local version after its
            // release, a release candidate after the previous release.
            row("python", "foo-bar", s("1.0+local"), s("1.0"), Downgraded),
            row("python", "requests", s("2.31.0"), s("2.32.0rc1"), Upgraded),
        ]
    );
    let libc = d
        .packages
        .iter()
        .find(|c| c.name == "libc6")
        .expect("libc6");
    assert_eq!((libc.bytes_a, libc.bytes_b), (Some(10240), Some(10240)));
}

#[test]
fn pair_findings_match_by_rule_and_location_and_config_is_redacted() {
    let p = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, _) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    let (pb, _) = write(&p.b, Layout::Docker25, dir.path(), "b.tar");
    let d = diff(&pa, &pb);
    let has = |list: &[strata::analysis::finding::Finding], rule: &str, path: Option<&str>| {
        list.iter()
            .any(|f| f.rule == rule && f.path.as_deref() == path)
    };
    // The removed key is fixed, the new API key is new, the unchanged AWS key id (same path,
    // written again by B's own layer) is unchanged.
    assert!(
        has(&d.findings.fixed, "private-key", Some("/app/secret.pem")),
        "{:#?}",
        d.findings.fixed
    );
    assert!(
        has(&d.findings.new, "gcp-api-key", Some("/app/new.env")),
        "{:#?}",
        d.findings.new
    );
    assert!(has(
        &d.findings.unchanged,
        "aws-access-key-id",
        Some("/app/config/deploy.env")
    ));
    assert!(!has(
        &d.findings.new,
        "aws-access-key-id",
        Some("/app/config/deploy.env")
    ));
    assert!(!has(
        &d.findings.fixed,
        "aws-access-key-id",
        Some("/app/config/deploy.env")
    ));
    // The ENV secret changed its value but not its place: unchanged (never matched by text).
    assert!(d.findings.unchanged.iter().any(|f| f.rule == "env-secret"));
    assert!(d.findings.new.iter().all(|f| f.rule != "env-secret"));

    // Configuration: each changed field, old and new; the secret redacted.
    let field = |f: &str, k: Option<&str>| {
        d.config
            .iter()
            .find(|c| c.field == f && c.key.as_deref() == k)
            .unwrap_or_else(|| panic!("no config change {f} {k:?}: {:#?}", d.config))
    };
    let u = field("user", None);
    assert_eq!((u.a.clone(), u.b.clone()), (Value::Null, json!("1000")));
    let c = field("cmd", None);
    assert_eq!(
        (c.a.clone(), c.b.clone()),
        (json!(["/app/run", "--v1"]), json!(["/app/run", "--v2"]))
    );
    let ports = field("exposed_ports", None);
    assert_eq!(ports.b, json!(["8080/tcp", "9090/tcp"]));
    let h = field("healthcheck", None);
    assert_eq!(
        (h.a.clone(), h.b.clone()),
        (Value::Null, json!(["CMD", "/app/health"]))
    );
    let lab = field("labels", Some("version"));
    assert_eq!((lab.a.clone(), lab.b.clone()), (json!("1.4"), json!("1.5")));
    let env = field("env", Some("DB_PASSWORD"));
    assert!(env.redacted);
    assert!(
        env.a.as_str().is_some_and(|v| v.contains("redacted")),
        "{env:?}"
    );
    assert!(d
        .config
        .iter()
        .all(|c| c.field != "platform" && c.field != "workdir"));
    assert!(d.config.iter().all(|c| c.key.as_deref() != Some("PATH")));

    // No raw secret anywhere, in any format.
    let verdict = None;
    for out in [
        strata::report::diff_json::render(&d, verdict),
        strata::report::diff_text::render(&d, verdict),
        strata::report::diff_markdown::render(&d, verdict),
    ] {
        for secret in [&p.aws, &p.gcp, &p.db_a, &p.db_b] {
            assert!(
                !out.contains(secret.as_str()),
                "raw secret {secret} in output:\n{out}"
            );
        }
        assert!(!out.contains("BEGIN EC PRIVATE KEY\n"));
    }
}

#[test]
fn image_against_itself_and_in_another_layout_is_an_empty_diff() {
    let p = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, _) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    let (pdir, _) = write(&p.a, Layout::OciDir, dir.path(), "a-oci");
    let a = load(&pa);
    for d in [compare(&a, &a), diff(&pa, &pdir)] {
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(d.layers.shared.len(), 2);
        assert!(d.files.entries.is_empty() && d.files.directories.is_empty());
        assert_eq!((d.files.bytes_added, d.files.bytes_removed), (0, 0));
        assert_eq!(d.size.delta.total_bytes, 0);
        assert_eq!(d.size.growth_percent, 0.0);
        assert!(d.packages.is_empty());
        assert!(d.findings.new.is_empty() && d.findings.fixed.is_empty());
        assert_eq!(d.findings.unchanged.len(), a.findings.len());
        assert!(!a.findings.is_empty());
    }
    // The command line says so too, and the same input named twice passes every gate.
    let s = pa.display().to_string();
    let o = strata(&[
        "diff",
        &s,
        &s,
        "--fail-on",
        "new-findings",
        "--max-growth",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("No difference"), "{}", stdout(&o));
}

#[test]
fn images_with_no_common_layer() {
    let p = pair();
    let other = ImageSpec::new(vec![LayerSpec::new(
        "ADD other.tar /",
        vec![
            EntrySpec::dir("etc/", 0o755),
            EntrySpec::file("etc/passwd", "root:x:0:0::/:/bin/sh\n", 0o600),
            EntrySpec::file("srv/index.html", "hello\n", 0o644),
        ],
    )]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, wa) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    let (po, wo) = write(&other, Layout::CraneTarball, dir.path(), "o.tar");
    let d = diff(&pa, &po);
    assert!(d.layers.shared.is_empty());
    let only_a: Vec<&str> = d.layers.only_a.iter().map(|l| l.diff_id.as_str()).collect();
    let only_b: Vec<&str> = d.layers.only_b.iter().map(|l| l.diff_id.as_str()).collect();
    assert_eq!(
        only_a,
        wa.diff_ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        only_b,
        wo.diff_ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let passwd = entry(&d, "/etc/passwd");
    assert_eq!(passwd.what, vec![What::Content, What::Mode]);
    assert_eq!(entry(&d, "/srv/index.html").change, Change::Added);
    assert_eq!(entry(&d, "/usr/bin/tool").change, Change::Removed);
    // Every package of A is gone.
    assert!(d.packages.iter().all(|c| c.change == Change::Removed));
    assert_eq!(d.packages.len(), load(&pa).packages.len());
    assert_eq!(d.size.b.total_bytes, file_bytes(&other.layers[0]));
}

// ---------------------------------------------------------------------------------------------
// The command line: formats, the JSON contract, the gate
// ---------------------------------------------------------------------------------------------

fn pair_paths(dir: &Path) -> (String, String) {
    let p = pair();
    let (pa, _) = write(&p.a, Layout::DockerLegacy, dir, "a.tar");
    let (pb, _) = write(&p.b, Layout::Docker25, dir, "b.tar");
    (pa.display().to_string(), pb.display().to_string())
}

#[test]
fn json_contract_has_every_documented_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = pair_paths(dir.path());
    let out = dir.path().join("diff.json");
    let o = strata(&[
        "diff",
        &a,
        &b,
        "--format",
        "json",
        "--output",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("output")).expect("JSON");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "schema", "a", "b", "layers", "files", "packages", "findings", "config", "size",
    ];
    want.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, want, "no gate key without gate flags");
    assert_eq!(v["schema"], "strata.diff/v1");
    assert_eq!(v["a"]["reference"], a.as_str());
    assert_eq!(v["a"]["tags"], json!(["example/app:1.4"]));
    for k in ["shared", "only_a", "only_b"] {
        assert!(v["layers"][k].is_array(), "layers.{k}");
    }
    for k in ["new", "fixed", "unchanged"] {
        assert!(v["findings"][k].is_array(), "findings.{k}");
    }
    let chmod = v["files"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["path"] == "/data/chmod.bin")
        .expect("chmod entry");
    assert_eq!(
        chmod,
        &json!({
            "path": "/data/chmod.bin", "change": "modified", "what": ["mode"],
            "kind_a": "file", "kind_b": "file", "bytes_a": 2000, "bytes_b": 2000,
            "layer_a": 0, "layer_b": 1, "mode_a": "0644", "mode_b": "0755",
            "owner_a": "0:0", "owner_b": "0:0", "link_a": null, "link_b": null
        })
    );
    let pkg = v["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "tzdata")
        .expect("tzdata");
    assert_eq!(pkg["change"], "upgraded");
    assert_eq!(pkg["version_a"], "2024a-0+deb12u1");
    for k in ["a", "b", "delta"] {
        for f in ["total_bytes", "visible_bytes", "reclaimable_bytes"] {
            assert!(v["size"][k][f].is_number(), "size.{k}.{f}");
        }
    }
    // Every field the documentation names is in the output, and the other way round.
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diff-schema.md"))
            .expect("docs/diff-schema.md");
    let mut fields = std::collections::BTreeSet::new();
    collect_keys(&v, "", &mut fields);
    for f in &fields {
        assert!(
            doc.contains(&format!("`{f}`")),
            "docs/diff-schema.md does not document `{f}`"
        );
    }
}

/// Dotted key paths of a JSON value (`files.entries[].path`).
fn collect_keys(v: &Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                // Findings are the report's contract (docs/report-schema.md); labels are data.
                if prefix.starts_with("findings.") && prefix.ends_with("[]") {
                    continue;
                }
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                collect_keys(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_keys(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn text_leads_with_the_largest_change_and_markdown_fits_a_comment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = pair_paths(dir.path());
    let o = strata(&["diff", &a, &b]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let files_at = text.find("Files ").expect("Files section");
    let first = text[files_at..].lines().nth(1).expect("first change");
    // The largest change moves 2000 + 2000 bytes: chmod.bin (the whole file again).
    assert!(
        first.contains("/data/chmod.bin") && first.contains("[mode]"),
        "{text}"
    );
    assert!(text.contains("Layers     1 shared"), "{text}");
    assert!(
        text.contains("↑ dpkg   tzdata 2024a-0+deb12u1 → 1:2023c-5"),
        "{text}"
    );
    assert!(
        text.contains("new:") && text.contains("gcp-api-key"),
        "{text}"
    );

    let o = strata(&[
        "diff",
        &a,
        &b,
        "--format",
        "markdown",
        "--fail-on",
        "new-findings",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.starts_with("### strata diff: "), "{md}");
    assert!(
        md.lines().next().is_some_and(|l| l.ends_with("❌ failed")),
        "{md}"
    );
    assert!(md.contains("| Size |"), "{md}");
    assert!(md.contains("#### New findings"), "{md}");
    assert!(
        md.contains("<details><summary>Package changes (10)</summary>"),
        "{md}"
    );
    // Tables stay tables: every row of a table has its header's number of cells.
    let cells = |l: &str| {
        let b = l.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut header = 0;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = 0;
            continue;
        }
        if header == 0 {
            header = cells(line);
        }
        assert_eq!(cells(line), header, "broken table row: {line}");
    }
}

#[test]
fn gate_exit_codes_follow_the_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = pair_paths(dir.path());
    let run = |extra: &[&str]| {
        let mut args = vec!["diff", a.as_str(), b.as_str(), "--format", "json"];
        args.extend_from_slice(extra);
        let o = strata(&args);
        (o.status.code(), stdout(&o), stderr(&o))
    };
    // New findings: the new API key is high, nothing new is critical.
    let (code, out, err) = run(&["--fail-on", "new-findings"]);
    assert_eq!(code, Some(1), "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["gate"]["passed"], false);
    assert_eq!(v["gate"]["rules"][0]["rule"], "new-findings");
    assert_eq!(run(&["--fail-on", "new-findings=high"]).0, Some(1));
    assert_eq!(run(&["--fail-on", "new-findings=critical"]).0, Some(0));
    // Growth: B is bigger than A by a known number of bytes.
    let p = pair();
    let total = |s: &ImageSpec| s.layers.iter().map(file_bytes).sum::<u64>();
    let growth = total(&p.b) as i64 - total(&p.a) as i64;
    assert!(growth > 0);
    let g = growth.to_string();
    let g1 = (growth - 1).to_string();
    assert_eq!(run(&["--max-growth", &g]).0, Some(0));
    assert_eq!(run(&["--max-growth", &g1]).0, Some(1));
    let pct = growth as f64 * 100.0 / total(&p.a) as f64;
    assert_eq!(
        run(&["--max-growth", &format!("{:.3}%", pct + 0.01)]).0,
        Some(0)
    );
    assert_eq!(
        run(&["--max-growth", &format!("{:.3}%", pct - 0.01)]).0,
        Some(1)
    );
    // New packages: newpkg is added; nothing matches gcc*; upgrades are not new packages.
    assert_eq!(run(&["--forbid-new-packages", "new*"]).0, Some(1));
    assert_eq!(
        run(&[
            "--forbid-new-packages",
            "gcc*",
            "--forbid-new-packages",
            "libc6"
        ])
        .0,
        Some(0)
    );
    // All together: one failing rule fails the gate.
    let (code, out, _) = run(&[
        "--fail-on",
        "new-findings=critical",
        "--max-growth",
        "1GB",
        "--forbid-new-packages",
        "newpkg",
    ]);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let results: Vec<(String, bool)> = v["gate"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap_or("").to_owned(),
                r["passed"] == true,
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            ("new-findings".to_owned(), true),
            ("max-growth".to_owned(), true),
            ("forbid-new-packages".to_owned(), false)
        ]
    );
    // Errors: exit 2 with one line naming the problem.
    for (args, needle) in [
        (vec!["--max-growth", "lots"], "lots"),
        (vec!["--fail-on", "new-packages"], "new-packages"),
        (vec!["--fail-on", "new-findings=severe"], "severe"),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains(needle) && err.trim().lines().count() == 1,
            "{err}"
        );
    }
    let missing = dir.path().join("missing.tar").display().to_string();
    let o = strata(&["diff", &a, &missing]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("missing.tar") && stderr(&o).trim().lines().count() == 1,
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// dpkg order against the real dpkg
// ---------------------------------------------------------------------------------------------

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dpkg (Debian's own version order): STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn dpkg_order_agrees_with_dpkg_itself() {
    common::real::tool("dpkg", "--version", "dpkg");
    let versions = [
        "1.0~~",
        "1.0~~a",
        "1.0~",
        "1.0~rc1",
        "1.0",
        "1.0-0",
        "1.0-0.1",
        "1.0-1",
        "1.0-1+b1",
        "1.0-1.1",
        "1.0-1~bpo12+1",
        "1.0a",
        "1.0+dfsg",
        "1.0.1",
        "1.01",
        "1.2",
        "1.10",
        "1:0.1",
        "1:0.9-1",
        "2:0",
        "2.36-9+deb12u7",
        "2.36-9+deb12u10",
        "2024a-0+deb12u1",
        "1:2023c-5",
        "7.88.1-10+deb12u4",
        "0.0~git20230101.abc-1",
        "10.0",
        "9.99",
    ];
    let mut checked = 0;
    for a in versions {
        for b in versions {
            let lt = Command::new("dpkg")
                .args(["--compare-versions", a, "lt", b])
                .status()
                .expect("dpkg")
                .success();
            let eq = Command::new("dpkg")
                .args(["--compare-versions", a, "eq", b])
                .status()
                .expect("dpkg")
                .success();
            let want = if lt {
                std::cmp::Ordering::Less
            } else if eq {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Greater
            };
            assert_eq!(
                strata::analysis::version::compare("dpkg", a, b),
                want,
                "{a} vs {b}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, versions.len() * versions.len());
}

// ---------------------------------------------------------------------------------------------
// The daemon-built test images
// ---------------------------------------------------------------------------------------------

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn secrets_image_against_clean_image() {
    let secrets = common::real::test_image("secrets");
    let clean = common::real::test_image("clean");
    let d = diff(&secrets, &clean);
    // Both are FROM strata-test/base:1: its one layer is shared.
    assert_eq!(d.layers.shared.len(), 1);
    assert_eq!(
        (d.layers.shared[0].index_a, d.layers.shared[0].index_b),
        (0, 0)
    );
    assert_eq!(
        d.layers.only_a.iter().map(|l| l.index).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        d.layers.only_b.iter().map(|l| l.index).collect::<Vec<_>>(),
        vec![1]
    );
    // Files (README: secrets' visible /app and /usr/local/bin, clean's /srv/app).
    for (p, bytes) in [
        ("/app/app.txt", 6),
        ("/app/config/deploy.env", 39),
        ("/app/shared.log", 64),
        ("/usr/local/bin/suid-helper", 1234),
    ] {
        let e = entry(&d, p);
        assert_eq!(
            (e.change, e.bytes_a, e.bytes_b),
            (Change::Removed, Some(bytes), None),
            "{p}"
        );
    }
    let index = entry(&d, "/srv/app/index.html");
    assert_eq!((index.change, index.bytes_b), (Change::Added, Some(18)));
    assert_eq!(index.owner_b.as_deref(), Some("1000:1000"));
    assert_eq!(index.layer_b, Some(1));
    assert_eq!(d.files.bytes_added, 18);
    assert_eq!(d.files.bytes_removed, 6 + 39 + 64 + 1234);
    // Size: README daemon sizes minus the 1876 symlink bytes the daemon counts.
    assert_eq!(d.size.delta.total_bytes, 18 - 2675);
    // Findings: the visible and squashed secrets are fixed; nothing is new but the clean
    // image's own checks.
    assert!(d
        .findings
        .fixed
        .iter()
        .any(|f| f.rule == "aws-access-key-id"
            && f.path.as_deref() == Some("/app/config/deploy.env")));
    assert!(d
        .findings
        .fixed
        .iter()
        .any(|f| f.rule == "private-key" && f.path.as_deref() == Some("/app/keys/id_rsa")));
    assert!(d.findings.fixed.iter().any(|f| f.rule == "env-secret"));
    assert!(d
        .findings
        .new
        .iter()
        .all(|f| f.category != strata::analysis::finding::Category::Secret));
    // Config: user, ports, health check, command, env.
    let field = |f: &str, k: Option<&str>| {
        d.config
            .iter()
            .find(|c| c.field == f && c.key.as_deref() == k)
    };
    assert_eq!(
        field("user", None).map(|c| c.b.clone()),
        Some(json!("1000"))
    );
    assert_eq!(
        field("exposed_ports", None).map(|c| (c.a.clone(), c.b.clone())),
        Some((json!(["22/tcp", "8080/tcp"]), json!(["8080/tcp"])))
    );
    assert!(field("healthcheck", None).is_some_and(|c| c.a.is_null()));
    let pw = field("env", Some("DB_PASSWORD")).expect("DB_PASSWORD removed");
    assert!(pw.b.is_null() && pw.redacted);
    let json = strata::report::diff_json::render(&d, None);
    assert!(
        !json.contains("strata-fake-db-password"),
        "raw ENV secret in the JSON"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and its test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn daemon_side_gives_the_same_answer_as_its_archive() {
    common::real::daemon_with_images();
    let secrets = common::real::test_image("secrets");
    let clean = common::real::test_image("clean");
    let clean = clean.display().to_string();
    let json = |a: &str| {
        let o = strata(&["diff", a, &clean, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
        v["a"]["reference"] = Value::Null;
        // The mutable-tag check judges what the user typed (see tests/daemon.rs).
        for k in ["new", "fixed", "unchanged"] {
            if let Some(f) = v["findings"][k].as_array_mut() {
                f.retain(|f| f["rule"] != "config-mutable-tag");
            }
        }
        v
    };
    let from_daemon = json("strata-test/secrets:1");
    let from_archive = json(&secrets.display().to_string());
    assert_eq!(from_daemon, from_archive);
    assert!(!from_daemon["files"]["entries"]
        .as_array()
        .expect("entries")
        .is_empty());
}

// ---------------------------------------------------------------------------------------------
// The explorer's compare: B's shared layers rebuilt from A's model
// ---------------------------------------------------------------------------------------------

/// Everything a load puts in the model, in a comparable form (no hash-map order).
fn model_of(x: &Analysed) -> String {
    let i = &x.image;
    let paths: Vec<&[u8]> = (0..i.fs.path_count() as u32)
        .map(|p| i.fs.path(p))
        .collect();
    let mut captured: Vec<_> = i.captured.iter().collect();
    captured.sort_by_key(|(v, _)| **v);
    format!(
        "{:?}\n{paths:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{captured:?}\n{:?}\n{:?}\n{:?}",
        i.layers,
        i.fs.versions,
        i.fs.removals,
        i.fs.stats,
        i.content_matches,
        i.warnings,
        x.findings,
        x.packages,
    )
}

/// Reads `path` again with every layer it shares with `first` (already read from it) taken
/// from `first`'s model, as the explorer's compare does: the model must be the one a read
/// gives, and every distinct layer must come from the cache.
fn read_again_from_model(first: &Analysed, path: &Path) {
    let (again, cache) = common::load_against_open(&first.image, &input(path), settings());
    let distinct: std::collections::HashSet<&str> = first
        .image
        .layers
        .iter()
        .map(|l| l.diff_id.as_str())
        .collect();
    assert_eq!(cache.reused(), distinct.len(), "{}", path.display());
    assert_eq!(model_of(&again), model_of(first), "{}", path.display());
}

/// A layer entry drawn from a small pool of paths, so that layers overwrite, delete, hide
/// and link each other's paths, and write a path twice.
fn arb_entry() -> impl proptest::strategy::Strategy<Value = EntrySpec> {
    use proptest::prelude::*;
    let path = prop::sample::select(vec!["a", "a/b", "a/b/c", "d", "d/e", "f", "a/g"]);
    prop_oneof![
        (path.clone(), 0u64..4, any::<bool>()).prop_map(|(p, seed, secret)| {
            let data = if secret {
                format!(
                    "aws_access_key_id = {}\n",
                    common::twins::fake_aws_key_id(seed)
                )
            } else {
                format!("data {seed}\n")
            };
            EntrySpec::file(p, data, 0o644)
        }),
        (path.clone(), prop::sample::select(vec![0o755u32, 0o700]))
            .prop_map(|(p, m)| EntrySpec::dir(p, m)),
        (path.clone(), path.clone()).prop_map(|(p, t)| EntrySpec::symlink(p, t)),
        (path.clone(), path.clone()).prop_map(|(p, t)| EntrySpec::hard_link(p, t)),
        path.clone().prop_map(EntrySpec::whiteout),
        path.clone().prop_map(EntrySpec::opaque),
        path.clone()
            .prop_map(|p| EntrySpec::Fifo { path: p.into() }),
        (path, 1u64..3).prop_map(|(p, n)| EntrySpec::FileWithCaps {
            path: p.into(),
            data: b"\x7fELF".to_vec(),
            caps: vfs_cap_v2(n),
        }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// The explorer's compare takes B's layers shared with the open image from its model: for
    /// any layers (overwrites, whiteouts, opaque dirs, links, a path written twice, secrets, a
    /// package database), in any layout, B read that way is B read from its archive.
    #[test]
    fn layers_rebuilt_from_a_model_are_the_layers_read(
        layers in proptest::collection::vec(proptest::collection::vec(arb_entry(), 0..7), 1..4),
        layout in proptest::sample::select(vec![Layout::DockerLegacy, Layout::OciArchiveGzip, Layout::OciDir]),
    ) {
        let layers = layers
            .into_iter()
            .enumerate()
            .map(|(k, mut entries)| {
                // Every layer distinct; the first holds a package database.
                entries.push(EntrySpec::file(format!("layer{k}"), format!("{k}\n"), 0o600));
                if k == 0 {
                    entries.push(EntrySpec::file(
                        "var/lib/dpkg/status",
                        "Package: base\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n",
                        0o644,
                    ));
                }
                LayerSpec::new(&format!("RUN step {k}"), entries)
            })
            .collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(&ImageSpec::new(layers), layout, dir.path(), "x");
        read_again_from_model(&load(&path), &path);
    }
}

/// The suite's sample image and the secrets twin (a secret deleted in a later layer), and an
/// entry of a tar type strata skips with a warning, read again from their models.
#[test]
fn fixture_images_read_again_from_their_models() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut header = tar::Header::new_gnu();
    header.set_path("volume").expect("path");
    header.set_entry_type(tar::EntryType::new(b'V'));
    let mut odd = ImageSpec::sample();
    odd.layers[0].entries.push(EntrySpec::Custom {
        header: Box::new(header),
        pax: Vec::new(),
        data: Vec::new(),
    });
    for (k, spec) in [ImageSpec::sample(), common::twins::secrets(), odd]
        .iter()
        .enumerate()
    {
        let (path, _) = write(spec, Layout::DockerLegacy, dir.path(), &format!("{k}.tar"));
        let first = load(&path);
        if k == 2 {
            assert!(
                first.image.layers[0]
                    .warnings
                    .iter()
                    .any(|w| w.contains("unsupported tar type")),
                "{:?}",
                first.image.layers[0].warnings
            );
        }
        read_again_from_model(&first, &path);
    }
}

/// The explorer's pair: B (another archive) takes A's base from A's model, and the diff is the
/// diff of separate reads.
#[test]
fn explorer_compare_takes_the_shared_base_from_the_open_model() {
    let p = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let (pa, _) = write(&p.a, Layout::DockerLegacy, dir.path(), "a.tar");
    let (pb, _) = write(&p.b, Layout::DockerLegacy, dir.path(), "b.tar");
    let a = load(&pa);
    let (b, cache) = common::load_against_open(&a.image, &input(&pb), settings());
    assert_eq!(cache.reused(), 1, "the base layer");
    assert_eq!(model_of(&b), model_of(&load(&pb)));
    let render = |d: &Diff| strata::report::diff_json::render(d, None);
    assert_eq!(render(&compare(&a, &b)), render(&diff(&pa, &pb)));
}

// ---------------------------------------------------------------------------------------------
// A daemon image as B: its export streams, shared layers are known by size and digest
// ---------------------------------------------------------------------------------------------

/// A diff's JSON without what names the inputs (references, tags, ids, the mutable-tag check):
/// what the layout records about an image (tags, a rewritten config) may differ.
fn comparable(d: &Diff) -> Value {
    let mut v: Value =
        serde_json::from_str(&strata::report::diff_json::render(d, None)).expect("JSON");
    for side in ["a", "b"] {
        for k in ["reference", "tags", "id"] {
            v[side][k] = Value::Null;
        }
    }
    for k in ["new", "fixed", "unchanged"] {
        if let Some(f) = v["findings"][k].as_array_mut() {
            f.retain(|f| f["rule"] != "config-mutable-tag");
        }
    }
    v
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and its test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn a_daemon_image_as_b_takes_the_shared_base_instead_of_scanning_it() {
    common::real::daemon_with_images();
    let secrets = common::real::test_image("secrets");
    let clean = common::real::test_image("clean");
    let separate = comparable(&diff(&secrets, &clean));
    let b = Input::parse("strata-test/clean:1");
    // A from its archive (random access) or from the daemon (a stream too).
    for a in [input(&secrets), Input::parse("strata-test/secrets:1")] {
        let pair = analyse_pair(&a, &b, &settings(), &Progress::default()).expect("pair");
        assert_eq!(pair.layers_read_once, 1, "{a:?}: the base layer");
        assert_eq!(comparable(&pair.diff), separate, "{a:?}");
    }
    // The explorer's compare: the base rebuilt from the open image's model.
    let open = load(&secrets);
    let (via_cache, cache) = common::load_against_open(&open.image, &b, settings());
    assert_eq!(cache.reused(), 1);
    let alone = strata::analyse(&b, &settings(), &Progress::default()).expect("B alone");
    assert_eq!(model_of(&via_cache), model_of(&alone));
}

/// B (in the daemon) has a layer of exactly the size of the layer it shares with A, but other
/// bytes: a small one is scanned from the copy kept while hashing, a large one makes the load
/// read B again without sharing. Either way B is B.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn a_layer_of_a_shared_layers_size_is_still_read() {
    common::real::daemon();
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, len) in [("small", 4096usize), ("large", 40 << 20)] {
        let shared = LayerSpec::new(
            "COPY a /a",
            vec![EntrySpec::file(
                "a",
                common::twins::random_bytes(1, len),
                0o644,
            )],
        );
        let same_size = LayerSpec::new(
            "COPY a /a",
            vec![EntrySpec::file(
                "a",
                common::twins::random_bytes(2, len),
                0o644,
            )],
        );
        let tag = format!("strata-test/same-size-{name}:1");
        let mut spec_b = ImageSpec::new(vec![shared.clone(), same_size]);
        spec_b.repo_tags = vec![tag.clone()];
        let (pa, _) = write(
            &ImageSpec::new(vec![shared]),
            Layout::DockerLegacy,
            dir.path(),
            &format!("{name}-a.tar"),
        );
        let (pb, wb) = write(
            &spec_b,
            Layout::DockerLegacy,
            dir.path(),
            &format!("{name}-b.tar"),
        );
        assert_eq!(wb.layer_tars[0].len(), wb.layer_tars[1].len());
        let loaded = Command::new("docker")
            .args(["load", "-i"])
            .arg(&pb)
            .output()
            .expect("docker load");
        assert!(
            loaded.status.success(),
            "{}",
            String::from_utf8_lossy(&loaded.stderr)
        );
        let b = Input::parse(&tag);
        let pair = analyse_pair(&input(&pa), &b, &settings(), &Progress::default()).expect("pair");
        let separate = comparable(&diff(&pa, &pb));
        assert_eq!(comparable(&pair.diff), separate, "{name}");
        // The small one: the shared layer was taken, the other scanned from its copy.
        // The large one: read again without sharing.
        let reused = usize::from(name == "small");
        assert_eq!(pair.layers_read_once, reused, "{name}");
        if name == "small" {
            // A stores the shared layer gzip-compressed: the daemon's plain member is still
            // known by its tar's size and digest, and takes its scan.
            let (pa_gz, _) = write(
                &ImageSpec::new(vec![spec_b.layers[0].clone()]),
                Layout::OciArchiveGzip,
                dir.path(),
                "small-a-oci.tar",
            );
            let pair =
                analyse_pair(&input(&pa_gz), &b, &settings(), &Progress::default()).expect("pair");
            assert_eq!(pair.layers_read_once, 1, "gzip A");
            assert_eq!(comparable(&pair.diff), separate, "gzip A");
        }
        let _ = Command::new("docker").args(["rmi", &tag]).output();
    }
}
