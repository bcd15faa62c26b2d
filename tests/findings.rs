//! Findings (issue 5) on the real daemon-built test images (archives saved by
//! `scripts/build-test-images.sh`, described in tests/daemon_images/README.md) and on synthetic
//! images written by the fixture builder: every rule fires where it must and stays quiet where
//! it must not, and no raw secret reaches any output format.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::fixture::*;
use serde_json::json;
use strata::analysis::efficiency::Efficiency;
use strata::analysis::finding::{Category, Finding, Package, Severity};
use strata::analysis::findings::{analyze, FindingsConfig};
use strata::analysis::inspector::Inspector;
use strata::model::Image;
use strata::source::{load as load_input, Input, LoadOptions, Progress};

const STRATA: &str = env!("CARGO_BIN_EXE_strata");
/// 2026-01-01T00:00:00Z: a fixed "now" for the image-age check.
const NOW: i64 = 1_767_225_600;

fn config() -> FindingsConfig {
    FindingsConfig {
        now: Some(NOW),
        ..FindingsConfig::default()
    }
}

fn load_with(path: &Path, cfg: &FindingsConfig) -> (Image, Vec<Finding>, Vec<Package>) {
    let mut opts = LoadOptions::default();
    opts.scan.inspector = Some(Arc::new(Inspector::new(cfg)));
    let image = load_input(
        &Input::parse(&path.display().to_string()),
        &opts,
        &Progress::default(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let eff = Efficiency::of(&image);
    let (f, p) = analyze(&image, &eff, cfg);
    (image, f, p)
}

fn load(path: &Path) -> (Image, Vec<Finding>, Vec<Package>) {
    load_with(path, &config())
}

fn write(spec: &ImageSpec) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("image.tar");
    write_image(spec, Layout::DockerLegacy, &path).expect("write fixture");
    (dir, path)
}

fn with_rule<'a>(f: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    f.iter().filter(|x| x.rule == rule).collect()
}

fn at<'a>(f: &'a [Finding], rule: &str, path: &str) -> &'a Finding {
    f.iter()
        .find(|x| x.rule == rule && x.path.as_deref() == Some(path))
        .unwrap_or_else(|| panic!("no {rule} finding at {path}; findings: {:#?}", summary(f)))
}

fn summary(f: &[Finding]) -> Vec<String> {
    f.iter()
        .map(|x| {
            format!(
                "{} {:?} {:?} {:?}/{:?}",
                x.rule, x.path, x.bytes, x.layer, x.removed_in
            )
        })
        .collect()
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

fn aws_id(seed: u64) -> String {
    token("AKIA", 16, seed).to_ascii_uppercase()
}

fn pem(seed: u64) -> String {
    let body: Vec<String> = (0..8).map(|i| token("", 64, seed + i)).collect();
    format!(
        "-----BEGIN {k}-----\n{}\n-----END {k}-----\n",
        body.join("\n"),
        k = "EC PRIVATE KEY"
    )
}

// ---------------------------------------------------------------------------------------------
// The daemon-built images
// ---------------------------------------------------------------------------------------------

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn secrets_image_reports_squashed_and_present_secrets() {
    let p = common::real::test_image("secrets");
    let (_, f, _) = load(&p);

    let key = at(&f, "private-key", "/app/keys/id_rsa");
    assert_eq!(key.severity, Severity::Critical);
    assert_eq!(
        (key.layer, key.removed_in, key.bytes),
        (Some(1), Some(2), Some(1281))
    );
    assert!(
        key.message
            .contains("deleted with its parent directory in layer 2"),
        "{}",
        key.message
    );
    assert!(
        key.message.contains("still recoverable from layer 1"),
        "{}",
        key.message
    );
    assert!(key.title.contains("squashed away"));

    let creds = at(&f, "aws-access-key-id", "/app/.aws/credentials");
    assert_eq!((creds.layer, creds.removed_in), (Some(1), Some(2)));
    assert!(creds
        .evidence
        .as_deref()
        .is_some_and(|e| e.starts_with("AKIA…(redacted)")));

    let live = at(&f, "aws-access-key-id", "/app/config/deploy.env");
    assert_eq!((live.layer, live.removed_in), (Some(3), None));
    assert!(live.title.contains("in the final image"));
    assert!(live.message.contains("present in the final image"));

    // Content evidence wins over the file-name rule for the same file.
    assert!(
        with_rule(&f, "file-cloud-credentials").is_empty(),
        "{:#?}",
        summary(&f)
    );
    assert!(f.iter().all(|x| x.path.as_deref() != Some("/app/app.txt")));

    let env = with_rule(&f, "env-secret");
    assert_eq!(env.len(), 1, "{:#?}", summary(&f));
    assert_eq!(
        env[0].evidence.as_deref(),
        Some("ENV DB_PASSWORD=stra…(redacted)")
    );
    // The ENV instruction in the history is the same value: reported once.
    assert!(with_rule(&f, "history-env-secret").is_empty());

    assert_eq!(with_rule(&f, "config-root-user").len(), 1);
    assert_eq!(with_rule(&f, "config-no-healthcheck").len(), 1);
    let ports = with_rule(&f, "config-sensitive-port");
    assert_eq!(ports.len(), 1, "only 22 of 22 and 8080");
    assert!(ports[0].title.contains("22"));
    let suid = with_rule(&f, "config-setuid");
    assert_eq!(suid.len(), 1);
    assert_eq!(suid[0].path.as_deref(), Some("/usr/local/bin/suid-helper"));
    assert_eq!(suid[0].layer, Some(4));
    let ww = with_rule(&f, "config-world-writable");
    assert_eq!(ww.len(), 1, "/tmp is sticky: {:#?}", summary(&f));
    assert_eq!(ww[0].path.as_deref(), Some("/app/shared.log"));

    // Worst first.
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(f.windows(2).all(|w| w[0].severity >= w[1].severity));
}

/// Every raw secret value the image holds, read back from its layers.
fn raw_secrets(image: &Image) -> Vec<String> {
    let mut out = vec!["strata-fake-db-password".to_owned()];
    for (v, m) in &image.content_matches {
        let bytes = strata::source::content::read_range(image, *v, m.offset, u64::from(m.len))
            .expect("read back");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if &*m.rule == "private-key" {
            // Any body line of the key.
            out.extend(text.lines().skip(1).take(3).map(str::to_owned));
        } else {
            out.push(text.clone());
            out.push(text[4..].to_owned());
        }
    }
    out
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn no_raw_secret_in_any_output_format() {
    let p = common::real::test_image("secrets");
    let (image, f, _) = load(&p);
    let raw = raw_secrets(&image);
    assert!(
        raw.len() >= 8,
        "expected the key body and both AWS ids: {raw:?}"
    );
    assert!(raw.iter().any(|r| r.starts_with("AKIA") && r.len() == 20));
    assert!(!f.is_empty());
    let dir = tempfile::tempdir().expect("tempdir");
    for format in ["json", "text", "sarif", "markdown"] {
        let out = Command::new(STRATA)
            .current_dir(dir.path())
            .args(["report", &p.display().to_string(), "--format", format])
            .output()
            .expect("run strata");
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if format == "json" || format == "text" {
            assert!(
                text.contains("(redacted)"),
                "{format} shows the redacted findings"
            );
        }
        for r in &raw {
            assert!(!text.contains(r.as_str()), "{format} output leaks {r:?}");
        }
    }
    let out = Command::new(STRATA)
        .current_dir(dir.path())
        .args(["report", &p.display().to_string(), "--format", "json"])
        .output()
        .expect("run strata");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings[]")
        .iter()
        .filter_map(|x| x["rule"].as_str())
        .collect();
    assert!(
        rules.contains(&"private-key") && rules.contains(&"env-secret"),
        "{rules:?}"
    );
    assert!(v["packages"].as_array().is_some_and(Vec::is_empty));
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn layers_image_waste_matches_the_reclaimable_bytes() {
    let p = common::real::test_image("layers");
    let (image, f, _) = load(&p);
    let o = at(&f, "waste-overwritten", "/data/overwrite.bin");
    assert_eq!(
        (o.bytes, o.layer, o.removed_in),
        (Some(10000), Some(1), Some(2))
    );
    let m = at(&f, "waste-metadata-copy", "/data/chmod.bin");
    assert_eq!(
        (m.bytes, m.layer, m.removed_in),
        (Some(2000), Some(1), Some(3))
    );
    assert!(m.message.contains("chmod 0755 /data/chmod.bin"));
    let d = at(&f, "waste-deleted", "/data/delete-me.bin");
    assert_eq!((d.bytes, d.removed_in), (Some(3000), Some(4)));
    // A deleted directory is one finding for its whole subtree.
    let dir = at(&f, "waste-deleted", "/data/dir-to-delete");
    assert_eq!(
        (dir.bytes, dir.layer, dir.removed_in),
        (Some(1500), Some(1), Some(4))
    );
    assert!(dir
        .evidence
        .as_deref()
        .is_some_and(|e| e.starts_with("2 files")));
    let opq = at(&f, "waste-deleted", "/data/opaque");
    assert_eq!((opq.bytes, opq.removed_in), (Some(1500), Some(5)));
    assert!(opq.message.contains("opaque directory"));
    // Every reclaimable byte is explained, nothing more.
    let waste: u64 = f
        .iter()
        .filter(|x| x.category == Category::Waste)
        .filter_map(|x| x.bytes)
        .sum();
    assert_eq!(waste, Efficiency::of(&image).reclaimable_bytes);
    assert_eq!(waste, 18000);
    // The file created and deleted in one RUN never existed; the hard link is no duplicate.
    for x in &f {
        assert!(!x.message.contains("ephemeral"), "{}", x.message);
        assert!(!x.message.contains("hl-b.bin"), "{}", x.message);
    }
    assert!(with_rule(&f, "waste-duplicate").is_empty());
    assert!(f.iter().all(|x| x.category != Category::Secret));
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn packages_image_inventory_caches_and_toolchain() {
    let p = common::real::test_image("packages");
    let (_, f, pk) = load(&p);
    let got: Vec<(&str, &str, &str, u64, Option<usize>)> = pk
        .iter()
        .map(|p| {
            (
                p.manager.as_str(),
                p.name.as_str(),
                p.version.as_str(),
                p.size_bytes,
                p.layer,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("dpkg", "base-files", "12.4+deb12u5", 341 * 1024, Some(1)),
            ("dpkg", "gcc-12", "12.2.0-14", 36532 * 1024, Some(1)),
            ("dpkg", "libc6", "2.36-9+deb12u7", 12985 * 1024, Some(1)),
        ]
    );
    let lists = at(&f, "bloat-cache", "/var/lib/apt/lists");
    assert_eq!((lists.bytes, lists.layer), (Some(250_000), Some(2)));
    let pip = at(&f, "bloat-cache", "/root/.cache/pip");
    assert_eq!((pip.bytes, pip.layer), (Some(80_000), Some(3)));
    // The pip cache is not counted again as a generic user cache.
    assert_eq!(with_rule(&f, "bloat-cache").len(), 2, "{:#?}", summary(&f));
    let tc = with_rule(&f, "bloat-toolchain");
    assert_eq!(tc.len(), 1);
    assert_eq!(tc[0].bytes, Some(36532 * 1024));
    assert!(tc[0].message.contains("gcc-12") && tc[0].message.contains("multi-stage"));
    assert!(with_rule(&f, "bloat-tools").is_empty());
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn clean_image_is_quiet() {
    let p = common::real::test_image("clean");
    let (_, f, pk) = load(&p);
    assert!(pk.is_empty());
    let rules: Vec<&str> = f.iter().map(|x| x.rule.as_str()).collect();
    // Only the provenance labels (the test images carry none) may be reported.
    assert_eq!(rules, ["config-missing-labels"], "{:#?}", summary(&f));
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn mutable_references_of_daemon_images() {
    let (_, f, _) = load(&common::real::test_image("untagged"));
    let t = with_rule(&f, "config-mutable-tag");
    assert_eq!(t.len(), 1);
    assert!(t[0].message.contains("no tag"));
    // Tagged :1 and :latest: a version tag exists.
    let (_, f, _) = load(&common::real::test_image("multi"));
    assert!(with_rule(&f, "config-mutable-tag").is_empty());
}

#[test]
fn latest_tag_is_mutable() {
    let mut spec = ImageSpec::minimal();
    spec.repo_tags = vec!["example/app:latest".into()];
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    assert_eq!(with_rule(&f, "config-mutable-tag").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Fixture images
// ---------------------------------------------------------------------------------------------

#[test]
fn deleted_parent_and_opaque_dir_count_as_removal() {
    let aws = aws_id(1);
    let key = pem(2);
    let spec = ImageSpec::new(vec![
        LayerSpec::new(
            "COPY . /",
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::dir("app/secrets/", 0o755),
                EntrySpec::file(
                    "app/secrets/settings.ini",
                    format!("key_id = {aws}\n"),
                    0o644,
                ),
                EntrySpec::dir("srv/", 0o755),
                EntrySpec::dir("srv/data/", 0o755),
                EntrySpec::file("srv/data/server.key", &key, 0o600),
                EntrySpec::file("app/keep.txt", "nothing to see here\n", 0o644),
            ],
        ),
        LayerSpec::new(
            "RUN rm -rf /app/secrets",
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::whiteout("app/secrets"),
            ],
        ),
        LayerSpec::new(
            "RUN rm -rf /srv/data && mkdir /srv/data && touch /srv/data/new",
            vec![
                EntrySpec::dir("srv/data/", 0o755),
                EntrySpec::opaque("srv/data"),
                EntrySpec::file("srv/data/new", "fresh content, no secret\n", 0o644),
            ],
        ),
    ]);
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    let a = at(&f, "aws-access-key-id", "/app/secrets/settings.ini");
    assert_eq!((a.layer, a.removed_in), (Some(0), Some(1)));
    assert!(
        a.message
            .contains("deleted with its parent directory in layer 1"),
        "{}",
        a.message
    );
    assert!(a.message.contains("still recoverable from layer 0"));
    let k = at(&f, "private-key", "/srv/data/server.key");
    assert_eq!((k.layer, k.removed_in), (Some(0), Some(2)));
    assert!(
        k.message
            .contains("hidden by an opaque directory in layer 2"),
        "{}",
        k.message
    );
    assert!(k.message.contains("still recoverable from layer 0"));
    assert_eq!(
        k.evidence.as_deref(),
        Some("EC PRIVATE KEY (redacted) at /srv/data/server.key:1")
    );
    assert_eq!(
        f.iter().filter(|x| x.category == Category::Secret).count(),
        2,
        "{:#?}",
        summary(&f)
    );
}

#[test]
fn secret_created_and_deleted_in_one_run_never_existed() {
    let mut spec = ImageSpec::new(vec![
        LayerSpec::new("COPY app /app", vec![EntrySpec::file("app/run.sh", "#!/bin/sh\nexec app\n", 0o755)]),
        LayerSpec::new(
            "/bin/sh -c ssh-keygen -q -N '' -f /tmp/id_rsa && use-key /tmp/id_rsa && rm /tmp/id_rsa",
            vec![EntrySpec::dir("tmp/", 0o1777)],
        ),
    ]);
    spec.history = vec![
        HistorySpec::layer("COPY app /app"),
        HistorySpec::empty("/bin/sh -c printf 'k' > /root/.env && rm /root/.env"),
        HistorySpec::layer(
            "/bin/sh -c ssh-keygen -q -N '' -f /tmp/id_rsa && use-key /tmp/id_rsa && rm /tmp/id_rsa",
        ),
    ];
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    assert!(
        f.iter().all(|x| x.category != Category::Secret),
        "no file ever held a secret: {:#?}",
        summary(&f)
    );
}

#[test]
fn user_setting_decides_the_root_finding() {
    for (user, root) in [
        (json!(null), true),
        (json!(""), true),
        (json!("root"), true),
        (json!("0"), true),
        (json!("0:0"), true),
        (json!("app"), false),
        (json!("1000:1000"), false),
    ] {
        let mut spec = ImageSpec::minimal();
        spec.config = if user.is_null() {
            json!({})
        } else {
            json!({ "User": user })
        };
        let (_d, path) = write(&spec);
        let (_, f, _) = load(&path);
        assert_eq!(
            with_rule(&f, "config-root-user").len(),
            usize::from(root),
            "User {user}"
        );
    }
}

#[test]
fn secrets_in_history_are_found_and_redacted() {
    let gh = token("ghp_", 36, 3);
    let npm = token("", 24, 4);
    let pw = token("", 16, 5);
    let run1 = format!("|1 GITHUB_TOKEN={gh} /bin/sh -c make build");
    let run2 = format!("RUN |2 NPM_AUTH_TOKEN={npm} MODE=production /bin/sh -c npm ci # buildkit");
    let run3 =
        format!("/bin/sh -c curl -fsS https://deploy:{pw}@artifacts.example.org/app.tgz | tar xz");
    let mut spec = ImageSpec::new(vec![
        LayerSpec::new(
            &run1,
            vec![EntrySpec::file("out/app", "binary-ish text\n", 0o755)],
        ),
        LayerSpec::new(&run2, vec![EntrySpec::file("out/npm", "done\n", 0o644)]),
        LayerSpec::new(&run3, vec![EntrySpec::file("out/app.tgz.d", "x\n", 0o644)]),
    ]);
    spec.history = vec![
        HistorySpec::layer(&run1),
        HistorySpec::layer(&run2),
        HistorySpec::empty("ARG MODE=dev"),
        HistorySpec::layer(&run3),
    ];
    let aws = aws_id(21);
    let helper = token("ghs_", 36, 22);
    let label = token("", 20, 23);
    spec.config = json!({
        "User": "app",
        "Env": ["PATH=/usr/bin:/bin", format!("AWS_ACCESS_KEY_ID={aws}"), format!("HELPER={helper}"), "MODE=production"],
        "Labels": {"com.example.deploy-token": label, "org.opencontainers.image.authors": "Jane Doe"}
    });
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    // Config: secrets recognised by name or by value, whatever the variable is called.
    let env = with_rule(&f, "env-secret");
    assert_eq!(env.len(), 2, "{:#?}", summary(&f));
    assert!(env
        .iter()
        .any(|x| x.severity == Severity::Critical && x.title.contains("AWS_ACCESS_KEY_ID")));
    assert!(env.iter().any(|x| x.title.contains("HELPER")));
    let lab = with_rule(&f, "label-secret");
    assert_eq!(lab.len(), 1, "authors is not a secret: {:#?}", summary(&f));
    assert!(lab[0].title.contains("deploy-token"));
    let args = with_rule(&f, "history-build-arg-secret");
    assert_eq!(args.len(), 2, "{:#?}", summary(&f));
    assert_eq!(
        args.iter()
            .filter_map(|x| x.layer)
            .collect::<Vec<_>>()
            .len(),
        2
    );
    assert!(args.iter().any(
        |x| x.evidence.as_deref() == Some(&format!("GITHUB_TOKEN={}…(redacted)", &gh[..4])[..])
    ));
    assert!(args.iter().any(|x| x.title.contains("NPM_AUTH_TOKEN")));
    let url = with_rule(&f, "history-secret");
    assert_eq!(url.len(), 1, "{:#?}", summary(&f));
    assert_eq!(url[0].layer, Some(2));
    assert!(f.iter().all(|x| !x.title.contains("MODE")));

    // Nothing raw in any output, history, layers, env and labels included.
    let dir = tempfile::tempdir().expect("tempdir");
    for format in ["json", "text", "sarif", "markdown"] {
        let out = Command::new(STRATA)
            .current_dir(dir.path())
            .args(["report", &path.display().to_string(), "--format", format])
            .output()
            .expect("run");
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        for raw in [&gh, &npm, &pw, &aws, &helper, &label] {
            assert!(!text.contains(raw.as_str()), "{format} leaked {raw}");
        }
        if format == "json" {
            assert!(
                text.contains("MODE=production"),
                "non-secret args stay readable"
            );
        }
    }
}

#[test]
fn file_name_rules_over_all_versions() {
    let spec = ImageSpec::new(vec![
        LayerSpec::new(
            "COPY . /",
            vec![
                EntrySpec::file("app/.env", "A=1\n", 0o644),
                EntrySpec::file("app/.env.example", "A=\n", 0o644),
                EntrySpec::file("etc/ssh/ssh_host_ed25519_key", "not really a key\n", 0o600),
                EntrySpec::file(
                    "etc/ssh/ssh_host_ed25519_key.pub",
                    "ssh-ed25519 AAAA\n",
                    0o644,
                ),
                EntrySpec::file("root/.bash_history", "ls\n", 0o600),
                EntrySpec::file("opt/app/keystore.p12", [0u8, 1, 2, 3], 0o600),
                EntrySpec::file("root/.ssh/id_rsa.pub", "ssh-rsa AAAA\n", 0o644),
            ],
        ),
        LayerSpec::new(
            "RUN rm /root/.bash_history",
            vec![EntrySpec::whiteout("root/.bash_history")],
        ),
    ]);
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    assert_eq!(at(&f, "file-dotenv", "/app/.env").removed_in, None);
    assert_eq!(
        at(&f, "file-ssh-host-key", "/etc/ssh/ssh_host_ed25519_key").severity,
        Severity::High
    );
    let h = at(&f, "file-shell-history", "/root/.bash_history");
    assert_eq!((h.layer, h.removed_in), (Some(0), Some(1)));
    at(&f, "file-keystore", "/opt/app/keystore.p12");
    // Templates and public keys are not secrets.
    assert!(f
        .iter()
        .all(|x| x.path.as_deref() != Some("/app/.env.example")));
    assert!(f
        .iter()
        .all(|x| x.path.as_deref() != Some("/root/.ssh/id_rsa.pub")));
    assert!(f
        .iter()
        .all(|x| x.path.as_deref() != Some("/etc/ssh/ssh_host_ed25519_key.pub")));
}

#[test]
fn duplicates_and_thresholds() {
    let big: Vec<u8> = token("", 70_000, 9).into_bytes();
    let spec = ImageSpec::new(vec![
        LayerSpec::new(
            "COPY assets /srv/a",
            vec![
                EntrySpec::file("srv/a/logo.bin", &big, 0o644),
                EntrySpec::file("srv/a/small", "same\n", 0o644),
            ],
        ),
        LayerSpec::new(
            "COPY assets /srv/b",
            vec![
                EntrySpec::file("srv/b/logo.bin", &big, 0o644),
                EntrySpec::file("srv/b/small", "same\n", 0o644),
            ],
        ),
    ]);
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    let d = with_rule(&f, "waste-duplicate");
    assert_eq!(d.len(), 1, "small files are below the duplicate threshold");
    assert_eq!(d[0].bytes, Some(70_000));
    assert_eq!(d[0].layer, Some(1));
    assert!(d[0].message.contains("/srv/a/logo.bin") && d[0].message.contains("/srv/b/logo.bin"));
}

#[test]
fn apk_python_npm_inventories_with_adding_layers() {
    let apk1 = "P:musl\nV:1.2.4-r2\nI:643072\n\nP:busybox\nV:1.36.1-r5\nI:946176\n\n";
    let apk2 = format!("{apk1}P:curl\nV:8.5.0-r0\nI:290816\n\nP:sudo\nV:1.9.15-r0\nI:1000000\n\nP:vim\nV:9.0-r0\nI:2000000\n\n");
    let dist = "usr/lib/python3.12/site-packages/six-1.16.0.dist-info";
    let spec = ImageSpec::new(vec![
        LayerSpec::new("ADD rootfs /", vec![EntrySpec::file("lib/apk/db/installed", apk1, 0o644)]),
        LayerSpec::new(
            "RUN apk add curl sudo vim",
            vec![EntrySpec::file("lib/apk/db/installed", &apk2, 0o644)],
        ),
        LayerSpec::new(
            "RUN pip install six && npm install -g left-pad@1.3.0",
            vec![
                EntrySpec::file(format!("{dist}/METADATA"), "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n\nSix\n", 0o644),
                EntrySpec::file(
                    format!("{dist}/RECORD"),
                    "six.py,sha256=abc,34549\nsix-1.16.0.dist-info/METADATA,sha256=def,1795\nsix-1.16.0.dist-info/RECORD,,\n",
                    0o644,
                ),
                EntrySpec::file(
                    "usr/lib/node_modules/left-pad/package.json",
                    r#"{"name":"left-pad","version":"1.3.0"}"#,
                    0o644,
                ),
                EntrySpec::file("usr/lib/node_modules/left-pad/index.js", vec![b'x'; 1000], 0o644),
            ],
        ),
    ]);
    let (_d, path) = write(&spec);
    let (_, f, pk) = load(&path);
    let find = |m: &str, n: &str| {
        pk.iter()
            .find(|p| p.manager == m && p.name == n)
            .unwrap_or_else(|| panic!("no {m} {n}: {pk:?}"))
    };
    assert_eq!(pk.len(), 7, "{pk:?}");
    assert_eq!(
        (find("apk", "musl").layer, find("apk", "musl").size_bytes),
        (Some(0), 643072)
    );
    assert_eq!(find("apk", "curl").layer, Some(1));
    assert_eq!(find("apk", "curl").version, "8.5.0-r0");
    let six = find("python", "six");
    assert_eq!(
        (six.version.as_str(), six.size_bytes, six.layer),
        ("1.16.0", 34549 + 1795, Some(2))
    );
    let lp = find("npm", "left-pad");
    assert_eq!(lp.layer, Some(2));
    assert_eq!(
        lp.size_bytes,
        1000 + r#"{"name":"left-pad","version":"1.3.0"}"#.len() as u64
    );
    // Bloat and checks driven by the inventory.
    assert_eq!(with_rule(&f, "config-sudo").len(), 1);
    let tools: Vec<&str> = with_rule(&f, "bloat-tools")
        .iter()
        .map(|x| x.title.as_str())
        .collect();
    assert_eq!(tools.len(), 2, "{tools:?}");
    assert!(tools.iter().any(|t| t.starts_with("Editors")));
    assert!(tools.iter().any(|t| t.starts_with("Network tools")));
    // `apk add curl sudo vim` and `pip install six` are unpinned; left-pad@1.3.0 is pinned.
    let u = with_rule(&f, "config-unpinned-packages");
    assert_eq!(u.len(), 1);
    let e = u[0].evidence.as_deref().unwrap_or("");
    assert!(
        e.contains("apk:curl") && e.contains("pip:six") && !e.contains("left-pad"),
        "{e}"
    );
}

#[test]
fn build_hygiene_from_history() {
    let steps = [
        "/bin/sh -c curl -fsSL https://get.example.com/install.sh | sh",
        "/bin/sh -c apt-get update && apt-get -y dist-upgrade",
        "ADD https://example.com/tool.tgz /opt/ # buildkit",
        "ADD --checksum=sha256:0123 https://example.com/ok.tgz /opt/ # buildkit",
        "/bin/sh -c apt-get install -y nginx=1.22.1-9 && rm -rf /var/lib/apt/lists/*",
    ];
    let mut spec = ImageSpec::new(
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| LayerSpec::new(s, vec![EntrySpec::file(format!("f{i}"), "x\n", 0o644)]))
            .collect(),
    );
    spec.config = json!({
        "User": "app",
        "ExposedPorts": {"2375/tcp": {}, "443/tcp": {}},
        "Healthcheck": {"Test": ["CMD", "/app/health"]},
        "Labels": {
            "org.opencontainers.image.source": "https://example.org/app",
            "org.opencontainers.image.revision": "abc",
            "org.opencontainers.image.created": "2025-12-01T00:00:00Z",
            "org.opencontainers.image.vendor": "Example"
        }
    });
    spec.created = "2025-12-20T00:00:00Z".into();
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    let pipe = with_rule(&f, "config-curl-pipe-shell");
    assert_eq!((pipe.len(), pipe[0].layer), (1, Some(0)));
    assert_eq!(with_rule(&f, "config-os-upgrade")[0].layer, Some(1));
    let add = with_rule(&f, "config-add-url");
    assert_eq!(add.len(), 1, "the ADD with --checksum is fine");
    assert_eq!(add[0].layer, Some(2));
    assert!(
        with_rule(&f, "config-unpinned-packages").is_empty(),
        "nginx is pinned"
    );
    let port = with_rule(&f, "config-sensitive-port");
    assert_eq!((port.len(), port[0].severity), (1, Severity::High));
    for quiet in [
        "config-root-user",
        "config-no-healthcheck",
        "config-missing-labels",
        "config-image-age",
    ] {
        assert!(
            with_rule(&f, quiet).is_empty(),
            "{quiet}: {:#?}",
            summary(&f)
        );
    }
}

#[test]
fn file_modes_world_writable_and_setuid() {
    let spec = ImageSpec::new(vec![LayerSpec::new(
        "COPY . /",
        vec![
            EntrySpec::dir("tmp/", 0o1777),
            EntrySpec::file("tmp/scratch", "x\n", 0o666),
            EntrySpec::dir("shared/", 0o777),
            EntrySpec::file("usr/bin/helper", "x\n", 0o2755),
            EntrySpec::file("usr/bin/plain", "x\n", 0o755),
        ],
    )]);
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    let ww: Vec<&str> = with_rule(&f, "config-world-writable")
        .iter()
        .filter_map(|x| x.path.as_deref())
        .collect();
    assert_eq!(
        ww,
        ["/shared"],
        "a world-writable file in a sticky dir is fine"
    );
    let s = with_rule(&f, "config-setuid");
    assert_eq!(s.len(), 1);
    assert!(s[0].title.starts_with("Setgid"));
}

/// One finding per rule per cause (issue 13, edge 6): the setuid files one step added are one
/// finding naming every path in `items`; a file added by another step is its own finding; the
/// evidence lists the files and the message does not repeat it.
#[test]
fn files_of_one_cause_are_one_finding_with_every_path_in_items() {
    let spec = ImageSpec::new(vec![
        LayerSpec::new(
            "RUN make install",
            vec![
                EntrySpec::dir("opt/", 0o755),
                EntrySpec::file("opt/a", "x\n", 0o4755),
                EntrySpec::file("opt/b", "x\n", 0o2755),
                EntrySpec::file("opt/c", "x\n", 0o4711),
                EntrySpec::file("opt/log1", "x\n", 0o666),
                EntrySpec::file("opt/log2", "x\n", 0o666),
            ],
        ),
        LayerSpec::new(
            "COPY helper /usr/local/bin/",
            vec![EntrySpec::file("usr/local/bin/helper", "x\n", 0o4755)],
        ),
    ]);
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    let s = with_rule(&f, "config-setuid");
    assert_eq!(s.len(), 2, "{:#?}", summary(&f));
    let group = s
        .iter()
        .find(|x| x.layer == Some(0))
        .expect("layer 0 group");
    assert_eq!(group.items, ["/opt/a", "/opt/b", "/opt/c"]);
    assert_eq!(group.path, None);
    assert!(
        group.title.starts_with("3 setuid/setgid files"),
        "{}",
        group.title
    );
    let evidence = group.evidence.as_deref().unwrap_or_default();
    for (p, mode) in [("/opt/a", "4755"), ("/opt/b", "2755"), ("/opt/c", "4711")] {
        assert!(
            evidence.contains(&format!("{p}: mode {mode}")),
            "{evidence}"
        );
        assert!(
            !group.message.contains(p),
            "the message does not repeat the evidence"
        );
    }
    let single = s
        .iter()
        .find(|x| x.layer == Some(1))
        .expect("layer 1 finding");
    assert_eq!(single.path.as_deref(), Some("/usr/local/bin/helper"));
    assert_eq!(single.items, ["/usr/local/bin/helper"]);
    let ww = with_rule(&f, "config-world-writable");
    assert_eq!(ww.len(), 1, "{:#?}", summary(&f));
    assert_eq!(ww[0].items, ["/opt/log1", "/opt/log2"]);
    // The JSON report carries `items`; the text report shows one entry per cause.
    let out = Command::new(STRATA)
        .args(["report", &path.display().to_string(), "--format", "json"])
        .output()
        .expect("run strata");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let json_items: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|x| x["rule"] == "config-setuid")
        .map(|x| &x["items"])
        .collect();
    assert_eq!(
        json_items,
        [
            &json!(["/opt/a", "/opt/b", "/opt/c"]),
            &json!(["/usr/local/bin/helper"])
        ]
    );
    let out = Command::new(STRATA)
        .args(["report", &path.display().to_string(), "--format", "text"])
        .output()
        .expect("run strata");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("(config-setuid)").count(), 2, "{text}");
    assert_eq!(text.matches("(config-world-writable)").count(), 1, "{text}");
}

#[test]
fn image_age_and_disabled_rules_from_config() {
    let mut spec = ImageSpec::minimal();
    spec.created = "2024-06-01T00:00:00Z".into();
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    let age = with_rule(&f, "config-image-age");
    assert_eq!((age.len(), age[0].severity), (1, Severity::Medium));

    let mut cfg = FindingsConfig::from_toml(
        "[ci]\nfail-on = 'high'\n[findings]\ndisable = ['config-image-age', 'config-root-user']\nmax_age_days = 10000\n",
        ".strata.toml",
    )
    .expect("config");
    cfg.now = Some(NOW);
    let (_, f, _) = load_with(&path, &cfg);
    assert!(with_rule(&f, "config-image-age").is_empty());
    assert!(with_rule(&f, "config-root-user").is_empty());
    assert!(FindingsConfig::from_toml("[findings]\nbogus = 1\n", "x").is_err());
}

#[test]
fn user_rules_and_allowlists_from_config() {
    let acme = token("acme_", 24, 11).to_ascii_lowercase();
    let aws = aws_id(12);
    let spec = ImageSpec::new(vec![LayerSpec::new(
        "COPY . /",
        vec![
            EntrySpec::file("app/conf.txt", format!("api = {acme}\n"), 0o644),
            EntrySpec::file("opt/fixtures/aws.txt", format!("id {aws}\n"), 0o644),
        ],
    )]);
    let (_d, path) = write(&spec);
    let (_, f, _) = load(&path);
    assert_eq!(with_rule(&f, "aws-access-key-id").len(), 1);
    assert!(with_rule(&f, "acme-token").is_empty());

    let mut cfg = FindingsConfig::from_toml(
        r#"
[secrets]
allow_paths = ['^opt/fixtures/']
[[secrets.rules]]
id = "acme-token"
title = "ACME token"
severity = "high"
keywords = ["acme_"]
regex = '\bacme_[a-z0-9]{24}\b'
"#,
        ".strata.toml",
    )
    .expect("config");
    cfg.now = Some(NOW);
    let (_, f, _) = load_with(&path, &cfg);
    let a = with_rule(&f, "acme-token");
    assert_eq!(a.len(), 1, "{:#?}", summary(&f));
    assert_eq!(a[0].severity, Severity::High);
    assert!(!a[0].evidence.as_deref().unwrap_or("").contains(&acme));
    assert!(
        with_rule(&f, "aws-access-key-id").is_empty(),
        "allowlisted path"
    );

    // The CLI reads .strata.toml from the working directory.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".strata.toml"),
        "[secrets]\nallow_paths = ['^opt/fixtures/']\n",
    )
    .expect("write config");
    let out = Command::new(STRATA)
        .current_dir(dir.path())
        .args(["report", &path.display().to_string(), "--format", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .all(|x| x["rule"] != "aws-access-key-id"));
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn no_findings_flag_skips_the_pass() {
    let p = common::real::test_image("secrets");
    let out = Command::new(STRATA)
        .args([
            "report",
            &p.display().to_string(),
            "--format",
            "json",
            "--no-findings",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["findings"], json!([]));
    assert_eq!(v["packages"], json!([]));
}
