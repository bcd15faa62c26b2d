//! The registry source against real registries on loopback (Debian's `docker-registry`,
//! images pushed with `skopeo`): anonymous plain HTTP, TLS + htpasswd basic auth with
//! credentials from `auths` and from a credential helper, bearer-token auth with a JWT issuer,
//! faults injected by a proxy, the blob cache, errors, and reports equal to the archive's.
//!
//! Ignored without `STRATA_TEST_REAL=1`; with it, a missing tool fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::fixture::{self, multi_platform, Comp, ImageSpec, Layout, Missing};
use common::registry::{
    auths, docker_config, require_tools, Auth, Certs, Fault, FaultProxy, Registry, TokenIssuer,
};
use serde_json::Value;

const STRATA: &str = env!("CARGO_BIN_EXE_strata");

/// A scratch environment: its own cache, an empty docker config, no daemon, no Podman auth.
struct Env {
    dir: tempfile::TempDir,
    docker_config: PathBuf,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let docker_config = dir.path().join("docker");
        std::fs::create_dir_all(&docker_config).expect("docker config dir");
        Env { dir, docker_config }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(STRATA);
        c.args(args)
            .env("STRATA_CACHE_DIR", self.cache())
            .env("DOCKER_CONFIG", &self.docker_config)
            .env(
                "DOCKER_HOST",
                format!("unix://{}/no-daemon.sock", self.dir.path().display()),
            )
            .env("REGISTRY_AUTH_FILE", self.dir.path().join("no-auth.json"))
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("CI");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run strata")
    }
}

fn report_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "strata failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failure: exit 2, nothing on stdout, one line on stderr.
fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(out));
    assert!(
        out.stdout.is_empty(),
        "a report was printed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    err
}

/// The report with what names the image (reference, tags, registry digests) and the findings
/// that judge the reference and its registry taken out: the rest must equal the archive's report.
fn comparable(mut v: Value) -> Value {
    let image = v.get_mut("image").expect("image");
    for k in ["reference", "repo_tags", "repo_digests"] {
        image[k] = Value::Null;
    }
    if let Some(f) = v.get_mut("findings").and_then(Value::as_array_mut) {
        // An archive has no registry to ask for signatures (tests/signatures.rs).
        f.retain(|f| f["rule"] != "config-mutable-tag" && f["rule"] != "signature-missing");
    }
    v
}

/// The tools, a scratch environment, the sample image, and an anonymous plain-HTTP registry
/// holding that image as `repo`.
fn anonymous_registry_with(repo: &str) -> (Env, fixture::Written, Registry) {
    require_tools();
    let env = Env::new();
    let written = sample_archive(env.dir.path());
    let reg = Registry::start(&Auth::None, None);
    push_archive(&reg, &written, repo);
    (env, written, reg)
}

/// Pushes a written OCI archive to an anonymous registry as `repo`.
fn push_archive(reg: &Registry, written: &fixture::Written, repo: &str) {
    reg.push(
        &format!("oci-archive:{}", arg(&written.path)),
        repo,
        None,
        None,
    );
}

fn sample_archive(dir: &Path) -> fixture::Written {
    fixture::write_image(
        &ImageSpec::sample(),
        Layout::OciArchiveGzip,
        &dir.join("sample.tar"),
    )
    .expect("fixture")
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn anonymous_plain_http_report_equals_the_archive_and_the_cache_serves_the_second_run() {
    let (env, written, reg) = anonymous_registry_with("team/app:1");
    let reference = format!("registry:{}/team/app:1", reg.addr);

    let from_archive = report_json(&env.run(&["report", "--format", "json", &arg(&written.path)]));
    let before = reg.blob_gets();
    let first = report_json(&env.run(&["report", "--format", "json", &reference]));
    let fetched = reg.blob_gets() - before;
    let distinct_layers: std::collections::HashSet<&String> =
        written.layer_digests.iter().collect();
    // Every distinct layer once, plus the config.
    assert_eq!(
        fetched,
        distinct_layers.len() + 1,
        "blob GETs on the first run"
    );

    assert_eq!(comparable(first.clone()), comparable(from_archive.clone()));
    assert_eq!(
        first["image"]["reference"],
        format!("{}/team/app:1", reg.addr)
    );
    assert_eq!(
        first["image"]["repo_tags"][0],
        format!("{}/team/app:1", reg.addr)
    );
    assert_eq!(
        first["image"]["manifest_digest"].as_str(),
        written.manifest_digest.as_deref()
    );
    let layers = first["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), written.layer_digests.len());
    for (l, d) in layers.iter().zip(&written.layer_digests) {
        assert_eq!(l["blob_digest"].as_str(), Some(d.as_str()));
    }

    // Second run: manifests only, no blob request.
    let before = reg.blob_gets();
    let manifests_before = reg.access_lines("GET", "/manifests/");
    let second = report_json(&env.run(&["report", "--format", "json", &reference]));
    assert_eq!(reg.blob_gets(), before, "the cached run asked for blobs");
    assert!(
        reg.access_lines("GET", "/manifests/") > manifests_before,
        "no manifest check"
    );
    assert_eq!(second, first);

    // A corrupted cache entry (same size, other bytes) is detected, dropped and fetched again.
    let victim = written.layer_digests[0]
        .strip_prefix("sha256:")
        .expect("digest");
    let path = env.cache().join("blobs/sha256").join(victim);
    let len = std::fs::metadata(&path).expect("cached blob").len();
    std::fs::write(&path, vec![0x1f; len as usize]).expect("corrupt");
    let before = reg.blob_gets();
    let third = report_json(&env.run(&["report", "--format", "json", &reference]));
    assert_eq!(
        reg.blob_gets(),
        before + 1,
        "exactly the damaged blob is fetched again"
    );
    assert_eq!(third, first);
    assert_eq!(
        fixture::digest_of(&std::fs::read(&path).expect("re-cached")),
        written.layer_digests[0]
    );

    // `strata cache` shows the size; `--prune` empties it.
    let shown = env.run(&["cache"]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(
        shown.status.success() && text.contains(&arg(&env.cache())),
        "{text}"
    );
    let blobs = distinct_layers.len() + 1;
    assert!(text.contains(&format!("in {blobs} blobs")), "{text}");
    let pruned = env.run(&["cache", "--prune"]);
    assert!(String::from_utf8_lossy(&pruned.stdout).contains("in 0 blobs"));
    let before = reg.blob_gets();
    report_json(&env.run(&["report", "--format", "json", "--no-cache", &reference]));
    assert_eq!(
        reg.blob_gets() - before,
        blobs,
        "--no-cache fetched everything"
    );
    assert!(
        String::from_utf8_lossy(&env.run(&["cache"]).stdout).contains("in 0 blobs"),
        "--no-cache filled the cache"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn bare_reference_without_a_daemon_reads_the_registry_and_says_so() {
    let (env, _written, reg) = anonymous_registry_with("app:2");
    let bare = format!("{}/app:2", reg.addr);
    let out = env.run(&["report", "--format", "json", &bare]);
    let v = report_json(&out);
    assert_eq!(v["image"]["reference"], bare);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&bare)
            && err.contains("reading it from the registry")
            && err.contains("nothing is stored in the daemon"),
        "{err}"
    );
    // --source daemon forbids it; --quiet drops the note.
    let out = env.run(&["report", "--source", "daemon", &bare]);
    let e = one_line_error(&out);
    assert!(e.to_lowercase().contains("daemon"), "{e}");
    let out = env.run(&["report", "--quiet", "--format", "json", &bare]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn multi_platform_index_picks_the_platform_and_counts_attestations() {
    require_tools();
    let env = Env::new();
    let mut arm = ImageSpec::minimal();
    arm.architecture = "arm64".into();
    arm.variant = Some("v8".into());
    arm.layers.push(fixture::LayerSpec::new(
        "COPY arm /srv/arm-only",
        vec![fixture::EntrySpec::file("srv/arm-only", "arm\n", 0o644)],
    ));
    let path = env.dir.path().join("multi.tar");
    let multi = multi_platform(
        &[ImageSpec::minimal(), arm],
        &path,
        Comp::Gzip,
        Missing::Nothing,
    )
    .expect("multi");
    let reg = Registry::start(&Auth::None, None);
    reg.push(
        &format!("oci-archive:{}", arg(&path)),
        "multi:1",
        None,
        None,
    );
    let r = format!("registry:{}/multi:1", reg.addr);
    // The attestation manifest was pushed too.
    assert!(reg.access_lines("PUT", &format!("/manifests/{}", multi.attestation_digest)) == 1);

    let amd = report_json(&env.run(&[
        "report",
        "--format",
        "json",
        "--platform",
        "linux/amd64",
        &r,
    ]));
    assert_eq!(amd["image"]["architecture"], "amd64");
    assert_eq!(
        amd["image"]["manifest_digest"].as_str(),
        multi.images[0].manifest_digest.as_deref()
    );
    let arm = report_json(&env.run(&[
        "report",
        "--format",
        "json",
        "--platform",
        "linux/arm64/v8",
        &r,
    ]));
    assert_eq!(arm["image"]["architecture"], "arm64");
    assert_eq!(arm["layers"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        arm["image"]["repo_digests"][0],
        format!("{}/multi@{}", reg.addr, multi.index_digest)
    );

    let e = one_line_error(&env.run(&["report", "--platform", "linux/s390x", &r]));
    assert!(
        e.contains("linux/amd64, linux/arm64/v8")
            && e.contains("1 attestation manifest")
            && e.contains("--platform"),
        "{e}"
    );
    assert!(!e.contains("unknown/unknown"), "{e}");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn tls_with_basic_auth_from_auths_and_from_a_credential_helper() {
    require_tools();
    let env = Env::new();
    let written = sample_archive(env.dir.path());
    let certs = Certs::new();
    let reg = Registry::start(
        &Auth::Basic("strata".into(), "s3cret-pw".into()),
        Some(&certs),
    );
    reg.push(
        &format!("oci-archive:{}", arg(&written.path)),
        "private/app:1",
        Some(("strata", "s3cret-pw")),
        Some(&certs),
    );
    let r = format!("registry:{}/private/app:1", reg.addr);
    let certs_d = certs.certs_d(&reg.addr);
    let from_archive = comparable(report_json(&env.run(&[
        "report",
        "--format",
        "json",
        &arg(&written.path),
    ])));

    // No credentials: unauthorized, naming `docker login HOST`.
    let out = env
        .cmd(&["report", &r])
        .env("STRATA_REGISTRY_CERTS_DIR", &certs_d)
        .output()
        .expect("run");
    let e = one_line_error(&out);
    assert!(
        e.contains("unauthorized") && e.contains(&format!("docker login {}", reg.addr)),
        "{e}"
    );

    // Credentials from `auths`.
    let cfg = docker_config(&auths(&reg.addr, "strata", "s3cret-pw"));
    let out = env
        .cmd(&["report", "--format", "json", "--no-cache", &r])
        .env("STRATA_REGISTRY_CERTS_DIR", &certs_d)
        .env("DOCKER_CONFIG", cfg.path())
        .output()
        .expect("run");
    assert_eq!(comparable(report_json(&out)), from_archive);
    // The password never reaches the output.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cret-pw"));

    // Wrong stored password: refused, log in again.
    let bad = docker_config(&auths(&reg.addr, "strata", "wrong"));
    let out = env
        .cmd(&["report", &r])
        .env("STRATA_REGISTRY_CERTS_DIR", &certs_d)
        .env("DOCKER_CONFIG", bad.path())
        .output()
        .expect("run");
    let e = one_line_error(&out);
    assert!(
        e.contains("unauthorized") && e.contains("docker login"),
        "{e}"
    );

    // A credential helper on PATH (`credHelpers`).
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let helper = bin.join("docker-credential-strata-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\necho \"$server\" >> {}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"strata\",\"Secret\":\"s3cret-pw\"}}' \"$server\"\n",
            env.dir.path().join("helper-calls").display()
        ),
    )
    .expect("helper");
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let cfg = docker_config(&serde_json::json!({"credHelpers": {reg.addr.clone(): "strata-test"}}));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A fresh report trusting the CA through the override; each credential source below
    // must give the archive's report.
    let trusting = || {
        let mut c = env.cmd(&["report", "--format", "json", "--no-cache", &r]);
        c.env("STRATA_REGISTRY_CERTS_DIR", &certs_d);
        c
    };
    let same_as_archive = |c: &mut Command| {
        assert_eq!(
            comparable(report_json(&c.output().expect("run"))),
            from_archive
        );
    };
    same_as_archive(
        trusting()
            .env("DOCKER_CONFIG", cfg.path())
            .env("PATH", &path),
    );
    let calls =
        std::fs::read_to_string(env.dir.path().join("helper-calls")).expect("helper was called");
    assert_eq!(calls.trim(), reg.addr);

    // The same helper as the default store (`credsStore`).
    let cfg = docker_config(&serde_json::json!({"credsStore": "strata-test"}));
    same_as_archive(
        trusting()
            .env("DOCKER_CONFIG", cfg.path())
            .env("PATH", &path),
    );
    let calls = std::fs::read_to_string(env.dir.path().join("helper-calls")).expect("calls");
    assert_eq!(calls.lines().collect::<Vec<_>>(), [&reg.addr, &reg.addr]);

    // Podman's auth.json, when the docker config has nothing: `$REGISTRY_AUTH_FILE`, then
    // `$XDG_RUNTIME_DIR/containers/auth.json`.
    let podman = env.dir.path().join("podman-auth.json");
    std::fs::write(&podman, auths(&reg.addr, "strata", "s3cret-pw").to_string()).expect("auth");
    same_as_archive(trusting().env("REGISTRY_AUTH_FILE", &podman));
    let runtime = env.dir.path().join("run");
    std::fs::create_dir_all(runtime.join("containers")).expect("runtime dir");
    std::fs::copy(&podman, runtime.join("containers/auth.json")).expect("auth.json");
    same_as_archive(
        trusting()
            .env_remove("REGISTRY_AUTH_FILE")
            .env("XDG_RUNTIME_DIR", &runtime),
    );

    // The CA in `/etc/docker/certs.d/HOST/ca.crt` itself, where the docker CLI looks (no
    // override): the suite runs as root, as CI does; the directory is removed afterwards.
    struct RemoveOnDrop(PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let system = PathBuf::from("/etc/docker/certs.d").join(&reg.addr);
    std::fs::create_dir_all(&system)
        .unwrap_or_else(|e| panic!("{}: {e} (the registry tests run as root)", system.display()));
    let _cleanup = RemoveOnDrop(system.clone());
    std::fs::copy(
        certs_d.join(&reg.addr).join("ca.crt"),
        system.join("ca.crt"),
    )
    .expect("ca");
    let cfg = docker_config(&auths(&reg.addr, "strata", "s3cret-pw"));
    let out = env
        .cmd(&["report", "--format", "json", "--no-cache", &r])
        .env_remove("STRATA_REGISTRY_CERTS_DIR")
        .env("DOCKER_CONFIG", cfg.path())
        .output()
        .expect("run");
    assert_eq!(comparable(report_json(&out)), from_archive);
    drop(_cleanup);

    // Without the CA: a TLS failure naming the host and both ways out.
    let cfg = docker_config(&auths(&reg.addr, "strata", "s3cret-pw"));
    let out = env
        .cmd(&["report", &r])
        .env("DOCKER_CONFIG", cfg.path())
        .output()
        .expect("run");
    let e = one_line_error(&out);
    assert!(
        e.contains(&reg.addr)
            && e.contains("TLS")
            && e.contains("ca.crt")
            && e.contains("--tls-verify=false"),
        "{e}"
    );
    // --tls-verify=false trusts it.
    let out = env
        .cmd(&[
            "report",
            "--format",
            "json",
            "--tls-verify=false",
            "--no-cache",
            &r,
        ])
        .env("DOCKER_CONFIG", cfg.path())
        .output()
        .expect("run");
    assert_eq!(comparable(report_json(&out)), from_archive);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn bearer_token_handshake_with_a_jwt_issuer() {
    require_tools();
    let env = Env::new();
    let written = sample_archive(env.dir.path());
    let issuer = TokenIssuer::start(Some(("tok-user", "tok-pass")));
    let reg = Registry::start(&Auth::Token(issuer.clone()), None);
    reg.push(
        &format!("oci-archive:{}", arg(&written.path)),
        "tok/app:1",
        Some(("tok-user", "tok-pass")),
        None,
    );
    let r = format!("registry:{}/tok/app:1", reg.addr);
    let from_archive = comparable(report_json(&env.run(&[
        "report",
        "--format",
        "json",
        &arg(&written.path),
    ])));

    let refused = issuer.refused.load(std::sync::atomic::Ordering::Relaxed);
    let e = one_line_error(&env.run(&["report", &r]));
    assert!(
        e.contains("unauthorized") && e.contains(&format!("docker login {}", reg.addr)),
        "{e}"
    );
    assert!(
        issuer.refused.load(std::sync::atomic::Ordering::Relaxed) > refused,
        "the issuer was not asked"
    );

    let issued = issuer.issued.load(std::sync::atomic::Ordering::Relaxed);
    let cfg = docker_config(&auths(&reg.addr, "tok-user", "tok-pass"));
    let out = env
        .cmd(&["report", "--format", "json", &r])
        .env("DOCKER_CONFIG", cfg.path())
        .output()
        .expect("run");
    assert_eq!(comparable(report_json(&out)), from_archive);
    assert!(
        issuer.issued.load(std::sync::atomic::Ordering::Relaxed) > issued,
        "no token was issued"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn transient_faults_are_retried_and_a_blob_cut_every_time_is_an_error() {
    let (env, written, reg) = anonymous_registry_with("faulty/app:1");
    let from_archive = comparable(report_json(&env.run(&[
        "report",
        "--format",
        "json",
        &arg(&written.path),
    ])));
    // The largest layer blob.
    let target = written
        .layer_digests
        .iter()
        .max_by_key(|d| {
            let hex = d.strip_prefix("sha256:").unwrap_or(d);
            std::fs::metadata(reg.dir.path().join(format!(
                "data/docker/registry/v2/blobs/sha256/{}/{hex}/data",
                &hex[..2]
            )))
            .map_or(0, |m| m.len())
        })
        .expect("layers")
        .clone();
    let proxy = FaultProxy::start(
        &reg.addr,
        &target,
        vec![Fault::CutOnce, Fault::ServerErrorOnce, Fault::RateLimitOnce],
    );
    let r = format!("registry:{}/faulty/app:1", proxy.addr);
    let out = env.run(&["report", "--format", "json", "--no-cache", &r]);
    assert_eq!(comparable(report_json(&out)), from_archive);
    assert_eq!(
        *proxy.injected.lock().expect("faults"),
        vec![Fault::CutOnce, Fault::ServerErrorOnce, Fault::RateLimitOnce]
    );
    assert_eq!(
        proxy.target_gets.load(std::sync::atomic::Ordering::Relaxed),
        4,
        "one success after three faults"
    );

    let always = FaultProxy::start(&reg.addr, &target, vec![Fault::CutAlways]);
    let r = format!("registry:{}/faulty/app:1", always.addr);
    let e = one_line_error(&env.run(&["report", "--format", "json", &r]));
    assert!(e.contains(&target) && e.contains("attempts"), "{e}");
    assert!(
        !env.cache()
            .join("blobs/sha256")
            .join(target.trim_start_matches("sha256:"))
            .exists(),
        "a cut blob was cached"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn not_found_and_network_errors_are_named() {
    let (env, _written, reg) = anonymous_registry_with("present/app:1");
    let e = one_line_error(&env.run(&["report", &format!("registry:{}/absent/app:1", reg.addr)]));
    assert!(e.contains("repository not found"), "{e}");
    let e = one_line_error(&env.run(&["report", &format!("registry:{}/present/app:2", reg.addr)]));
    assert!(e.contains("tag 2 not found"), "{e}");
    let missing = format!("sha256:{}", "0".repeat(64));
    let e = one_line_error(&env.run(&[
        "report",
        &format!("registry:{}/present/app@{missing}", reg.addr),
    ]));
    assert!(e.contains(&format!("digest {missing} not found")), "{e}");

    let closed = common::registry::free_port();
    let e = one_line_error(&env.run(&["report", &format!("registry:127.0.0.1:{closed}/app:1")]));
    assert!(
        e.contains("connection refused") && e.contains(&format!("127.0.0.1:{closed}")),
        "{e}"
    );

    let e = one_line_error(&env.run(&["report", "registry:no-such-host.invalid/app:1"]));
    assert!(
        e.contains("no-such-host.invalid") && e.contains("DNS"),
        "{e}"
    );

    // A listener that never answers: the timeout is named (shortened for the test).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    let out = env
        .cmd(&["report", &format!("registry:{addr}/app:1")])
        .env("STRATA_REGISTRY_TIMEOUT_SECS", "2")
        .output()
        .expect("run");
    let e = one_line_error(&out);
    assert!(e.contains("timed out") && e.contains(&addr), "{e}");
    drop(silent);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn metadata_comes_before_any_layer_byte_and_layers_report_their_bytes() {
    use std::sync::{Arc, Mutex};
    use strata::source::{LoadOptions, Progress, ProgressEvent};
    let (env, written, reg) = anonymous_registry_with("events/app:1");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let progress = Progress::new(move |e| sink.lock().expect("events").push(e));
    let mut opts = LoadOptions::default();
    opts.registry.use_cache = false;
    let image =
        strata::source::registry::load(&format!("{}/events/app:1", reg.addr), &opts, &progress)
            .expect("load from the registry");
    let events = events.lock().expect("events");
    let first_byte = events
        .iter()
        .position(|e| {
            matches!(
                e,
                ProgressEvent::Bytes(_) | ProgressEvent::LayerBytes { .. }
            )
        })
        .expect("byte progress");
    let meta = events
        .iter()
        .position(|e| matches!(e, ProgressEvent::Metadata(_)))
        .expect("metadata event");
    assert!(meta < first_byte, "metadata after the first layer byte");
    let ProgressEvent::Metadata(preview) = &events[meta] else {
        unreachable!()
    };
    assert_eq!(preview.layers.len(), written.layer_digests.len());
    assert!(!preview.history.is_empty());
    // Per layer: the last count equals the blob's size from the manifest.
    for (i, layer) in image.layers.iter().enumerate() {
        let last = events.iter().rev().find_map(|e| match e {
            ProgressEvent::LayerBytes {
                index,
                received,
                total,
            } if *index == i => Some((*received, *total)),
            _ => None,
        });
        if let Some((received, total)) = last {
            assert_eq!(
                (received, total),
                (layer.blob_bytes, layer.blob_bytes),
                "layer {i}"
            );
        }
    }
    let distinct: std::collections::HashSet<&String> = written.layer_digests.iter().collect();
    let reported = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::LayerBytes {
                index,
                received,
                total,
            } if received == total => Some(*index),
            _ => None,
        })
        .collect::<std::collections::HashSet<_>>();
    assert_eq!(
        reported.len(),
        distinct.len(),
        "every distinct blob reports its bytes"
    );

    // Without the cache, the file viewer downloads the layer again and reads the file back.
    let before = reg.blob_gets();
    let id = image.fs.lookup(b"app/main.py").expect("app/main.py");
    let v = image.fs.final_version(id).expect("version");
    let bytes = strata::source::content::read_content(&image, v, 1 << 20).expect("read back");
    assert_eq!(bytes, b"print('v2')\n");
    assert_eq!(reg.blob_gets(), before + 1);

    // With the cache, it reads the layer back from the cache: no blob request.
    std::env::set_var("STRATA_CACHE_DIR", env.cache());
    opts.registry.use_cache = true;
    let cached = strata::source::registry::load(
        &format!("{}/events/app:1", reg.addr),
        &opts,
        &Progress::default(),
    )
    .expect("load into the cache");
    let before = reg.blob_gets();
    let id = cached.fs.lookup(b"etc/os-release").expect("etc/os-release");
    let v = cached.fs.final_version(id).expect("version");
    let bytes = strata::source::content::read_content(&cached, v, 1 << 20).expect("read back");
    assert_eq!(bytes, b"ID=fixture\nVERSION_ID=1\n");
    assert_eq!(
        reg.blob_gets(),
        before,
        "the viewer asked the registry instead of the cache"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn the_explorer_open_prompt_reads_a_registry_reference() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use strata::source::LoadOptions;
    use strata::ui::app::{App, Event, Launch, LoadState};
    use strata::ui::worker;
    let (_env, written, reg) = anonymous_registry_with("explore/app:1");
    let mut opts = LoadOptions::default();
    opts.registry.use_cache = false;
    let mut app = App::new(opts);
    let cmds = app.start(Launch::Demo);
    worker::settle(&mut app, cmds);
    let press = |app: &mut App, code: KeyCode| {
        let cmds = app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        worker::settle(app, cmds);
    };
    press(&mut app, KeyCode::Char('o'));
    let before = reg.blob_gets();
    for c in format!("registry:{}/explore/app:1", reg.addr).chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.load, LoadState::Done, "{:?}", app.load);
    let image = app.image.as_ref().expect("image");
    assert_eq!(image.reference, format!("{}/explore/app:1", reg.addr));
    assert_eq!(image.layers.len(), written.layer_digests.len());
    for (l, d) in image.layers.iter().zip(&written.layer_digests) {
        assert_eq!(&l.blob_digest, d);
    }
    assert!(image.fs.lookup(b"app/main.py").is_some());
    assert!(
        reg.blob_gets() > before,
        "the layers came from the registry"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd, docker-registry, skopeo: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn bare_reference_the_daemon_lacks_reads_the_registry_and_says_so() {
    require_tools();
    common::real::daemon();
    let env = Env::new();
    let written = sample_archive(env.dir.path());
    let reg = Registry::start(&Auth::None, None);
    reg.push(
        &format!("oci-archive:{}", arg(&written.path)),
        "only-in-registry/app:3",
        None,
        None,
    );
    let bare = format!("{}/only-in-registry/app:3", reg.addr);
    // The real daemon answers (the caller's DOCKER_HOST or the default socket) and lacks it.
    let mut cmd = env.cmd(&["report", "--format", "json", &bare]);
    match std::env::var_os("DOCKER_HOST") {
        Some(h) => cmd.env("DOCKER_HOST", h),
        None => cmd.env_remove("DOCKER_HOST"),
    };
    let out = cmd.output().expect("run");
    let v = report_json(&out);
    assert_eq!(v["image"]["reference"], bare);
    let err = stderr(&out);
    assert!(
        err.contains(&bare)
            && err.contains("not on the Docker daemon")
            && err.contains("nothing is stored in the daemon"),
        "{err}"
    );
    // And nothing was stored in it.
    let inspect = Command::new("docker")
        .args(["image", "inspect", &bare])
        .output()
        .expect("docker");
    assert!(!inspect.status.success(), "the image landed in the daemon");
}

/// `strata diff` with a registry image on either side reads a layer both images hold once: an
/// archive against the same image in the registry asks for no layer blob, and two tags sharing
/// a base fetch each base blob once. The answers are those of the archives.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl, htpasswd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn diff_with_registry_images_reads_shared_layers_once() {
    let (env, written, reg) = anonymous_registry_with("team/app:1");
    let mut next = ImageSpec::sample();
    next.layers.push(fixture::LayerSpec::new(
        "RUN echo 2 > /etc/two",
        vec![fixture::EntrySpec::file("etc/two", "2\n", 0o644)],
    ));
    next.history.clear();
    let written2 = fixture::write_image(
        &next,
        Layout::OciArchiveGzip,
        &env.dir.path().join("two.tar"),
    )
    .expect("fixture");
    push_archive(&reg, &written2, "team/app:2");
    let one = format!("registry:{}/team/app:1", reg.addr);
    let two = format!("registry:{}/team/app:2", reg.addr);
    let gets = |d: &str| reg.access_lines("GET", &format!("/blobs/{d}"));
    let manifest_gets = |tag: &str| reg.access_lines("GET", &format!("/team/app/manifests/{tag} "));
    let config_gets = |w: &fixture::Written| gets(&w.config_digest);
    let shared: std::collections::HashSet<&String> = written.layer_digests.iter().collect();
    let own = written2.layer_digests.last().expect("a layer");
    assert!(!shared.contains(own));

    let diff = |a: &str, b: &str| -> Value {
        let out = env.run(&["diff", "--no-cache", "--format", "json", a, b]);
        assert!(out.status.success(), "diff {a} {b}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("diff JSON")
    };
    let files = |d: &Value| -> Vec<(String, String)> {
        d["files"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                (
                    e["path"].as_str().unwrap_or("").to_owned(),
                    e["change"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };

    // The archive against the same image in the registry: no layer blob is asked for, and
    // the manifest and config fetched to learn B's layer list are not fetched again.
    let same = diff(&arg(&written.path), &one);
    for d in &shared {
        assert_eq!(gets(d), 0, "layer {d} fetched although the archive read it");
    }
    assert_eq!(manifest_gets("1"), 1, "B's manifest");
    assert_eq!(config_gets(&written), 1, "B's config");
    assert_eq!(files(&same), Vec::<(String, String)>::new());
    assert_eq!(
        same["layers"]["shared"].as_array().map(Vec::len),
        Some(written.layer_digests.len())
    );

    // Two tags sharing the base: each base blob once, the new layer once.
    let upgrade = diff(&one, &two);
    // Each read of B: every base blob still fetched once in all (by the first diff's A), B's
    // own layer and its manifest once more (`reads` in all).
    let read_b_once_more = |reads: usize, by: &str| {
        for d in &shared {
            assert_eq!(gets(d), 1, "base layer {d} fetched again for {by}");
        }
        assert_eq!(gets(own), reads, "B's own layer, read by {by}");
        assert_eq!(manifest_gets("2"), reads, "B's manifest, read by {by}");
    };
    read_b_once_more(1, "the upgrade diff");
    assert_eq!(config_gets(&written2), 1, "B's config");
    let from_archives = diff(&arg(&written.path), &arg(&written2.path));
    assert_eq!(
        files(&upgrade),
        vec![("/etc/two".to_owned(), "added".to_owned())]
    );
    assert_eq!(files(&upgrade), files(&from_archives));
    assert_eq!(upgrade["layers"], from_archives["layers"]);
    assert_eq!(upgrade["size"], from_archives["size"]);

    // A bare reference the daemon does not hold is read from the registry: it shares too.
    let bare = diff(&arg(&written.path), &format!("{}/team/app:2", reg.addr));
    read_b_once_more(2, "the bare reference");
    assert_eq!(files(&bare), files(&from_archives));

    // The explorer's compare (`D`) with the archive open: B's shared layers are rebuilt from
    // the open image's model, and B's manifest, fetched to learn its layer list, once.
    use strata::source::{Input, LoadOptions, Progress};
    let mut load = LoadOptions::default();
    load.registry.use_cache = false;
    let settings = strata::Settings::new(load, strata::config::FindingsConfig::default());
    let open = strata::analyse(
        &Input::parse(&arg(&written.path)),
        &settings,
        &Progress::default(),
    )
    .expect("A");
    let (compared, cache) = common::load_against_open(&open.image, &Input::parse(&two), settings);
    assert_eq!(cache.reused(), shared.len(), "the base layers");
    read_b_once_more(3, "the explorer's compare");
    let diff = strata::analysis::diff::compare(&open, &compared);
    let paths: Vec<String> = diff.files.entries.iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, vec!["/etc/two".to_owned()]);
}
