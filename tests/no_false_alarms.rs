//! No false alarms on every image (issue 10): a stock Debian 12 or Alpine 3.20 root filesystem
//! gets no finding that fires on every image of that distribution, and a real toolchain still
//! does, with its bytes.
//!
//! Fixtures (tests/fixtures/): `debian12/` was captured from a Debian 12 machine's dpkg
//! database by `debian12/capture.py` (the dpkg status of a minbase system, what `apt-get
//! install gcc` adds, and every path, mode, size and content identity the minbase packages
//! install); `alpine320/` holds an apk database modelled on alpine:3.20 and on `apk add
//! build-base`. The images are written by the fixture builder (tests/common/fixture.rs).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::fixture::*;
use strata::analysis::efficiency::Efficiency;
use strata::analysis::finding::{Finding, Package, Severity};
use strata::analysis::findings::{analyze, FindingsConfig};
use strata::analysis::inspector::Inspector;
use strata::source::{load, Input, LoadOptions, Progress};

/// 2026-01-01T00:00:00Z: a fixed "now" for the image-age check.
const NOW: i64 = 1_767_225_600;
const ROOTFS_STEP: &str = "/bin/sh -c #(nop) ADD file:6c52e3b4a0f4c9e2d7a8b1c5f3e9d0a2b4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3 in / ";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Deterministic bytes: the same `seed` always gives the same content.
fn content(seed: &str, len: usize) -> Vec<u8> {
    let mut x = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One line of debian12/files.tsv.
struct Row {
    kind: char,
    mode: u32,
    uid: u64,
    gid: u64,
    size_or_target: String,
    content_id: String,
    path: String,
}

fn rows() -> Vec<Row> {
    read("debian12/files.tsv")
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.splitn(7, '\t').collect();
            Row {
                kind: c[0].chars().next().expect("type"),
                mode: u32::from_str_radix(c[1], 8).expect("mode"),
                uid: c[2].parse().expect("uid"),
                gid: c[3].parse().expect("gid"),
                size_or_target: c[4].to_owned(),
                content_id: c[5].to_owned(),
                path: c[6].to_owned(),
            }
        })
        .collect()
}

/// The Debian 12 minbase root filesystem as one layer, with its real dpkg status.
fn debian_rootfs() -> LayerSpec {
    let mut entries = Vec::new();
    for r in rows() {
        entries.push(match r.kind {
            'd' => EntrySpec::Dir {
                path: format!("{}/", r.path).into_bytes(),
                mode: r.mode,
            },
            'l' => EntrySpec::symlink(&r.path, &r.size_or_target),
            'h' => EntrySpec::hard_link(&r.path, &r.size_or_target),
            _ => {
                let size: usize = r.size_or_target.parse().expect("size");
                let seed = if r.content_id == "-" {
                    &r.path
                } else {
                    &r.content_id
                };
                EntrySpec::File {
                    path: r.path.clone().into_bytes(),
                    data: content(seed, size),
                    mode: r.mode,
                    uid: r.uid,
                    gid: r.gid,
                }
            }
        });
    }
    entries.push(EntrySpec::file(
        "var/lib/dpkg/status",
        read("debian12/status"),
        0o644,
    ));
    LayerSpec::new(ROOTFS_STEP, entries)
}

fn image(layers: Vec<LayerSpec>, history: Vec<HistorySpec>) -> ImageSpec {
    ImageSpec {
        history,
        repo_tags: vec!["example/stock:12".into()],
        created: "2025-12-01T00:00:00Z".into(),
        config: serde_json::json!({ "Cmd": ["bash"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] }),
        ..ImageSpec::new(layers)
    }
}

fn debian(extra: Option<(&str, String)>) -> ImageSpec {
    let mut layers = vec![debian_rootfs()];
    let mut history = vec![
        HistorySpec::layer(ROOTFS_STEP),
        HistorySpec::empty("/bin/sh -c #(nop)  CMD [\"bash\"]"),
    ];
    if let Some((step, status)) = extra {
        layers.push(LayerSpec::new(
            step,
            vec![EntrySpec::file("var/lib/dpkg/status", status, 0o644)],
        ));
        history.push(HistorySpec::layer(step));
    }
    image(layers, history)
}

fn analyse(spec: &ImageSpec) -> (Vec<Finding>, Vec<Package>, strata::model::Image) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("image.tar");
    write_image(spec, Layout::DockerLegacy, &path).expect("write fixture");
    let cfg = FindingsConfig {
        now: Some(NOW),
        ..FindingsConfig::default()
    };
    let mut opts = LoadOptions::default();
    opts.scan.inspector = Some(Arc::new(Inspector::new(&cfg)));
    let image = load(
        &Input::parse(&path.display().to_string()),
        &opts,
        &Progress::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let eff = Efficiency::of(&image);
    let (f, p) = analyze(&image, &eff, &cfg);
    (f, p, image)
}

fn rules(f: &[Finding]) -> BTreeSet<&str> {
    f.iter().map(|x| x.rule.as_str()).collect()
}

fn with_rule<'a>(f: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    f.iter().filter(|x| x.rule == rule).collect()
}

/// `Installed-Size` (KiB) of each package of a dpkg status text, read independently of strata.
fn installed_sizes(status: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for stanza in status.split("\n\n") {
        let get = |k: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_owned()))
        };
        if let (Some(n), Some(s)) = (get("Package:"), get("Installed-Size:")) {
            out.insert(n, s.parse::<u64>().expect("size"));
        }
    }
    out
}

#[test]
fn stock_debian_gets_no_finding_that_fires_on_every_debian_image() {
    let (f, pk, image) = analyse(&debian(None));
    assert_eq!(pk.len(), 90, "the minbase packages are all read");
    assert!(pk.iter().any(|p| p.name == "gcc-12-base"));
    assert!(pk.iter().any(|p| p.name == "libgcc-s1"));
    assert!(pk.iter().any(|p| p.name == "libstdc++6"));
    // gcc-12-base, libgcc-s1, libstdc++6 and libc6 are runtime libraries, not a toolchain.
    assert!(with_rule(&f, "bloat-toolchain").is_empty(), "{f:#?}");
    // dpkg installs one copyright/changelog per package: documentation, never duplicates.
    assert!(with_rule(&f, "waste-duplicate").is_empty(), "{f:#?}");
    // The distribution's setuid programs: one info finding naming them, not one per file.
    let setuid: Vec<String> = rows()
        .iter()
        .filter(|r| r.kind == 'f' && r.mode & 0o6000 != 0)
        .map(|r| format!("/{}", r.path))
        .collect();
    assert_eq!(setuid.len(), 11, "{setuid:?}");
    let s = with_rule(&f, "config-setuid");
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].severity, Severity::Info);
    for p in &setuid {
        assert!(
            s[0].evidence.as_deref().unwrap_or("").contains(p.as_str()),
            "{p}"
        );
    }
    // Documentation is real bloat, with exact bytes.
    let doc_bytes: u64 = rows()
        .iter()
        .filter(|r| r.kind == 'f')
        .filter(|r| {
            [
                "usr/share/doc/",
                "usr/share/man/",
                "usr/share/info/",
                "usr/share/locale/",
                "usr/share/i18n/locales/",
            ]
            .iter()
            .any(|d| r.path.starts_with(d))
        })
        .map(|r| r.size_or_target.parse::<u64>().expect("size"))
        .sum();
    let docs = with_rule(&f, "bloat-docs");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].bytes, Some(doc_bytes));
    // What remains is about the image config, which its author sets, and its build (a
    // `docker save` of the classic store carries no provenance attestation).
    assert_eq!(
        rules(&f),
        BTreeSet::from([
            "bloat-docs",
            "config-missing-labels",
            "config-no-healthcheck",
            "config-root-user",
            "config-setuid",
            "provenance-missing",
        ]),
        "{f:#?}"
    );
    // A root filesystem with nothing on top has no base image.
    let base = strata::analysis::base::BaseBoundary::detect(&image);
    assert_eq!(base.rule, strata::analysis::base::BaseRule::None);
    assert!(f.iter().all(|x| !x.base) && pk.iter().all(|p| !p.base));
}

#[test]
fn debian_with_gcc_reports_the_toolchain_with_its_bytes() {
    let status = format!(
        "{}\n{}",
        read("debian12/status"),
        read("debian12/status-gcc")
    );
    let step = "/bin/sh -c apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*";
    let (f, pk, _) = analyse(&debian(Some((step, status))));
    assert_eq!(pk.len(), 90 + 78);
    let sizes = installed_sizes(&read("debian12/status-gcc"));
    // The compiler, its preprocessor, binutils and the development files apt installs with
    // it; never the runtime libraries it pulls (libgomp1, libasan8, libisl23, …).
    let toolchain = [
        "binutils",
        "binutils-common",
        "binutils-x86-64-linux-gnu",
        "cpp",
        "cpp-12",
        "gcc",
        "gcc-12",
        "libbinutils",
        "libc-dev-bin",
        "libc-devtools",
        "libc6-dev",
        "libcrypt-dev",
        "libctf-nobfd0",
        "libctf0",
        "libgcc-12-dev",
        "libgprofng0",
        "libnsl-dev",
        "libtirpc-dev",
        "linux-libc-dev",
        "manpages-dev",
    ];
    let want: u64 = toolchain.iter().map(|n| sizes[*n] * 1024).sum();
    let tc = with_rule(&f, "bloat-toolchain");
    assert_eq!(tc.len(), 1, "{tc:#?}");
    assert_eq!(tc[0].bytes, Some(want));
    assert_eq!(tc[0].layer, Some(1));
    assert!(!tc[0].base, "installed by the image's own step");
    let ev = tc[0].evidence.as_deref().unwrap_or("");
    assert!(ev.contains("gcc-12 ") && ev.contains("and 10 more"), "{ev}");
    for runtime in [
        "gcc-12-base",
        "libgcc-s1",
        "libstdc++6",
        "libc6 ",
        "libgomp1",
    ] {
        assert!(!ev.contains(runtime), "{runtime} in {ev}");
    }
    // The base (the root filesystem up to its CMD) is apart from the image's own step.
    let pkg = |n: &str| pk.iter().find(|p| p.name == n).expect(n);
    assert!(pkg("gcc-12-base").base && !pkg("gcc-12").base);
}

#[test]
fn cpp_without_a_compiler_is_no_toolchain() {
    let gcc = read("debian12/status-gcc");
    let cpp: Vec<&str> = gcc
        .split("\n\n")
        .filter(|s| {
            s.lines()
                .any(|l| l == "Package: cpp" || l == "Package: cpp-12")
        })
        .collect();
    assert_eq!(cpp.len(), 2);
    let status = format!("{}\n{}\n", read("debian12/status"), cpp.join("\n\n"));
    let (f, pk, _) = analyse(&debian(Some(("/bin/sh -c apt-get install -y cpp", status))));
    assert!(pk.iter().any(|p| p.name == "cpp-12"));
    assert!(with_rule(&f, "bloat-toolchain").is_empty(), "{f:#?}");
}

/// alpine:3.20's root filesystem: busybox and its applet links, musl, the apk database.
fn alpine(db: &str, extra_step: Option<&str>) -> ImageSpec {
    let mut entries = vec![
        EntrySpec::dir("bin/", 0o755),
        EntrySpec::file("bin/busybox", content("busybox", 819_200), 0o755),
        EntrySpec::dir("etc/", 0o755),
        EntrySpec::file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n", 0o644),
        EntrySpec::file("etc/shadow", "root:*::0:::::\nnobody:!::0:::::\n", 0o640),
        EntrySpec::dir("etc/apk/", 0o755),
        EntrySpec::dir("etc/apk/keys/", 0o755),
        EntrySpec::file(
            "etc/apk/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
            "-----BEGIN PUBLIC KEY-----\nMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAutQkua2CAig4VFSJ7v54\n-----END PUBLIC KEY-----\n",
            0o644,
        ),
        EntrySpec::dir("lib/", 0o755),
        EntrySpec::file("lib/ld-musl-x86_64.so.1", content("musl", 647_168), 0o755),
        EntrySpec::symlink("lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1"),
        EntrySpec::dir("lib/apk/", 0o755),
        EntrySpec::dir("lib/apk/db/", 0o755),
        EntrySpec::file("lib/apk/db/installed", read("alpine320/installed"), 0o644),
        EntrySpec::dir("tmp/", 0o1777),
        EntrySpec::dir("var/", 0o755),
        EntrySpec::dir("var/cache/", 0o755),
        EntrySpec::dir("var/cache/apk/", 0o755),
        EntrySpec::dir("var/tmp/", 0o1777),
    ];
    for applet in ["sh", "ls", "wget", "nc", "vi", "su", "mount"] {
        entries.push(EntrySpec::symlink(format!("bin/{applet}"), "/bin/busybox"));
    }
    let root = "ADD alpine-minirootfs-3.20.3-x86_64.tar.gz / # buildkit";
    let mut layers = vec![LayerSpec::new(root, entries)];
    let mut history = vec![
        HistorySpec::layer(root),
        HistorySpec::empty("CMD [\"/bin/sh\"]"),
    ];
    if let Some(step) = extra_step {
        layers.push(LayerSpec::new(
            step,
            vec![EntrySpec::file("lib/apk/db/installed", db, 0o644)],
        ));
        history.push(HistorySpec::layer(step));
    }
    image(layers, history)
}

#[test]
fn stock_alpine_gets_no_finding_that_fires_on_every_alpine_image() {
    let (f, pk, _) = analyse(&alpine("", None));
    assert_eq!(pk.len(), 14);
    assert_eq!(
        rules(&f),
        BTreeSet::from([
            "config-missing-labels",
            "config-no-healthcheck",
            "config-root-user",
            "provenance-missing",
        ]),
        "{f:#?}"
    );
}

#[test]
fn alpine_build_base_reports_the_toolchain_not_its_runtime_libraries() {
    let db = read("alpine320/installed-build-base");
    let (f, pk, _) = analyse(&alpine(
        &db,
        Some("RUN apk add --no-cache build-base # buildkit"),
    ));
    assert_eq!(pk.len(), 36);
    let size = |n: &str| pk.iter().find(|p| p.name == n).expect(n).size_bytes;
    let toolchain = [
        "binutils",
        "build-base",
        "g++",
        "gcc",
        "libc-dev",
        "libstdc++-dev",
        "make",
        "musl-dev",
    ];
    let tc = with_rule(&f, "bloat-toolchain");
    assert_eq!(tc.len(), 1, "{tc:#?}");
    assert_eq!(
        tc[0].bytes,
        Some(toolchain.iter().map(|n| size(n)).sum::<u64>())
    );
    let ev = tc[0].evidence.as_deref().unwrap_or("");
    for runtime in ["libgcc ", "libstdc++ ", "libgomp", "libatomic", "musl "] {
        assert!(!ev.contains(runtime), "{runtime} in {ev}");
    }
    assert_eq!((tc[0].layer, tc[0].base), (Some(1), false));
}
