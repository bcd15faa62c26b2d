//! Registry signatures, end to end: keys made with openssl (P-256, ed25519, RSA), cosign
//! simple-signing payloads signed with openssl, signature manifests pushed to a real
//! `docker-registry` on loopback under cosign's tag schema (`sha256-<hex>.sig`), and
//! `strata report` / `strata ci` reading and checking them.
//!
//! Ignored without `STRATA_TEST_REAL=1`; with it, a missing tool fails the test.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use common::fixture::{self, ImageSpec, Layout};
use common::registry::{require_tools, Auth, Registry};
use serde_json::{json, Value};

const STRATA: &str = env!("CARGO_BIN_EXE_strata");
const SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A scratch environment: keys, its own cache, an empty docker config, no daemon.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("docker")).expect("docker config dir");
        Env { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(STRATA)
            .args(args)
            .env("STRATA_CACHE_DIR", self.path("cache"))
            .env("DOCKER_CONFIG", self.path("docker"))
            .env(
                "DOCKER_HOST",
                format!("unix://{}/no-daemon.sock", self.dir.path().display()),
            )
            .env("REGISTRY_AUTH_FILE", self.path("no-auth.json"))
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("CI")
            .output()
            .expect("run strata")
    }

    /// `strata report --format json --quiet REF [extra]`.
    fn report(&self, reference: &str, extra: &[&str]) -> Value {
        let mut args = vec!["report", "--format", "json", "--quiet", reference];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "strata report failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("report JSON")
    }

    /// `strata ci` with the size rules off and `fail-on critical`, as JSON: (exit code, outcome).
    fn ci(&self, reference: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec![
            "ci",
            reference,
            "--quiet",
            "--format",
            "json",
            "--lowest-efficiency",
            "off",
            "--highest-user-reclaimable-percent",
            "off",
            "--fail-on",
            "critical",
        ];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let code = out.status.code().expect("exit code");
        assert!(
            code == 0 || code == 1,
            "strata ci failed to run ({code}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (code, serde_json::from_slice(&out.stdout).expect("ci JSON"))
    }
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Key algorithms the tests sign with.
#[derive(Clone, Copy, Debug)]
enum Alg {
    P256,
    Ed25519,
    Rsa,
}

/// A key pair made with openssl: `NAME.key` (private) and `NAME.pub` (PEM public key).
struct Key {
    private: PathBuf,
    public: PathBuf,
    alg: Alg,
}

impl Key {
    fn new(env: &Env, name: &str, alg: Alg) -> Self {
        let private = env.path(&format!("{name}.key"));
        let public = env.path(&format!("{name}.pub"));
        match alg {
            Alg::P256 => openssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &s(&private),
            ]),
            Alg::Ed25519 => openssl(&["genpkey", "-algorithm", "ed25519", "-out", &s(&private)]),
            Alg::Rsa => openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &s(&private),
            ]),
        }
        openssl(&["pkey", "-in", &s(&private), "-pubout", "-out", &s(&public)]);
        Key {
            private,
            public,
            alg,
        }
    }

    /// Signs `data` as cosign does: ECDSA/RSA over SHA-256 (`openssl dgst -sha256 -sign`),
    /// ed25519 over the raw bytes (`openssl pkeyutl -sign -rawin`).
    fn sign(&self, env: &Env, data: &[u8]) -> Vec<u8> {
        let input = env.path("to-sign");
        let output = env.path("signature");
        std::fs::write(&input, data).expect("write payload");
        match self.alg {
            Alg::P256 | Alg::Rsa => openssl(&[
                "dgst",
                "-sha256",
                "-sign",
                &s(&self.private),
                "-out",
                &s(&output),
                &s(&input),
            ]),
            Alg::Ed25519 => openssl(&[
                "pkeyutl",
                "-sign",
                "-rawin",
                "-inkey",
                &s(&self.private),
                "-in",
                &s(&input),
                "-out",
                &s(&output),
            ]),
        }
        std::fs::read(&output).expect("signature")
    }
}

/// A cosign simple-signing payload for `digest` in `repository`.
fn payload(repository: &str, digest: &str) -> Vec<u8> {
    json!({
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature"
        },
        "optional": null
    })
    .to_string()
    .into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    fixture::digest_of(bytes)
}

/// One HTTP/1.1 request to the registry (plain HTTP, `Connection: close`): status, headers
/// (lower-case names) and body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut c = TcpStream::connect(addr).expect("connect registry");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).expect("send");
    c.write_all(body).expect("send body");
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).expect("read answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP head");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, answer[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

/// Uploads a blob (monolithic upload) and returns its digest.
fn push_blob(reg: &Registry, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let (status, headers, _) = http(
        &reg.addr,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(status, 202, "start upload");
    let location = header(&headers, "location");
    let path = location
        .split_once(&reg.addr)
        .map_or(location, |(_, p)| p)
        .to_owned();
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, _, body) = http(
        &reg.addr,
        "PUT",
        &format!("{path}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    );
    assert_eq!(status, 201, "upload: {}", String::from_utf8_lossy(&body));
    digest
}

/// The manifest digest of `repo:tag` as the registry serves it.
fn manifest_digest(reg: &Registry, repo: &str, tag: &str) -> String {
    let (status, headers, _) = http(
        &reg.addr,
        "GET",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[(
            "Accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        )],
        b"",
    );
    assert_eq!(status, 200, "manifest of {repo}:{tag}");
    header(&headers, "docker-content-digest").to_owned()
}

/// Pushes a cosign signature manifest as cosign lays it out: an OCI manifest whose one layer
/// is the payload, with the signature (and certificate, for keyless) in layer annotations,
/// tagged `sha256-<hex>.sig` for the image digest `subject`.
fn push_signature(
    reg: &Registry,
    repo: &str,
    subject: &str,
    payload: &[u8],
    annotations: Value,
) -> String {
    push_cosign(
        reg,
        repo,
        subject,
        "sig",
        SIMPLESIGNING,
        payload,
        annotations,
    )
}

/// Pushes a one-layer cosign artifact manifest (`layer_type` over `payload`, with layer
/// `annotations`) tagged `sha256-<hex>.SUFFIX` for the image digest `subject`.
fn push_cosign(
    reg: &Registry,
    repo: &str,
    subject: &str,
    suffix: &str,
    layer_type: &str,
    payload: &[u8],
    annotations: Value,
) -> String {
    let payload_digest = push_blob(reg, repo, payload);
    let config = json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [payload_digest]}
    })
    .to_string();
    let config_digest = push_blob(reg, repo, config.as_bytes());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": config_digest
        },
        "layers": [{
            "mediaType": layer_type,
            "size": payload.len(),
            "digest": payload_digest,
            "annotations": annotations
        }]
    })
    .to_string();
    let tag = format!("{}.{suffix}", subject.replace(':', "-"));
    let (status, _, body) = http(
        &reg.addr,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", OCI_MANIFEST)],
        manifest.as_bytes(),
    );
    assert_eq!(
        status,
        201,
        "push {tag}: {}",
        String::from_utf8_lossy(&body)
    );
    tag
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A registry holding the sample image as `repo:1`: the registry, the image digest and the
/// `registry:` reference.
fn image_in(env: &Env, reg: &Registry, repo: &str) -> (String, String) {
    let archive = env.path("sample.tar");
    if !archive.exists() {
        fixture::write_image(&ImageSpec::sample(), Layout::OciArchiveGzip, &archive)
            .expect("fixture");
    }
    reg.push(
        &format!("oci-archive:{}", s(&archive)),
        &format!("{repo}:1"),
        None,
        None,
    );
    let digest = manifest_digest(reg, repo, "1");
    (digest, format!("registry:{}/{repo}:1", reg.addr))
}

fn findings_of<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn rule<'a>(outcome: &'a Value, name: &str) -> &'a Value {
    outcome["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["rule"] == name)
        .unwrap_or_else(|| panic!("no rule {name} in {outcome}"))
}

/// A valid signature with `alg`: verified, no signature finding, the gate passes; without
/// the key it is listed but not checked.
fn valid_signature_passes(alg: Alg, repo: &str) {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let (digest, reference) = image_in(&env, &reg, repo);
    let key = Key::new(&env, "signer", alg);
    let p = payload(&format!("{}/{repo}", reg.addr), &digest);
    let sig = key.sign(&env, &p);
    let tag = push_signature(
        &reg,
        repo,
        &digest,
        &p,
        json!({"dev.cosignproject.cosign/signature": b64(&sig)}),
    );

    let pubkey = s(&key.public);
    let r = env.report(&reference, &["--key", &pubkey]);
    let sigs = r["provenance"]["signatures"]
        .as_array()
        .expect("signatures");
    assert_eq!(sigs.len(), 1, "{sigs:?}");
    let one = &sigs[0];
    assert_eq!(one["kind"], "cosign");
    assert_eq!(one["location"], tag.as_str());
    assert_eq!(one["signed_digest"], digest.as_str());
    assert_eq!(one["verified"], "true", "{one}");
    assert!(
        one["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("signature valid for key {pubkey}")),
        "{one}"
    );
    assert_eq!(one["mismatch"], Value::Null);
    for id in [
        "signature-missing",
        "signature-invalid",
        "signature-identity-mismatch",
    ] {
        assert!(findings_of(&r, id).is_empty(), "{id} fired: {r}");
    }

    let (code, outcome) = env.ci(&reference, &["--require-signature", "--key", &pubkey]);
    assert_eq!(rule(&outcome, "require-signature")["status"], "pass");
    assert_eq!(code, 0, "{outcome}");

    // Without a key: listed, not checked; the gate cannot pass on it.
    let r = env.report(&reference, &[]);
    assert_eq!(r["provenance"]["signatures"][0]["verified"], "unknown");
    assert!(findings_of(&r, "signature-missing").is_empty());
    let text = env.run(&["report", "--quiet", &reference, "--key", &pubkey]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains(&format!("Signature  cosign by key {pubkey}")) && text.contains("verified"),
        "{text}"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn p256_signature_verifies_and_passes_the_gate() {
    valid_signature_passes(Alg::P256, "signed/p256");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn ed25519_signature_verifies_and_passes_the_gate() {
    valid_signature_passes(Alg::Ed25519, "signed/ed25519");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn rsa_signature_verifies_and_passes_the_gate() {
    valid_signature_passes(Alg::Rsa, "signed/rsa");
}

/// What a bad signature must give: verified false with `reason_has`, one critical
/// `signature-invalid`, and a failing gate both through `require-signature` and `fail-on`.
fn assert_invalid(env: &Env, reference: &str, key: &Path, reason_has: &str) {
    let k = s(key);
    let r = env.report(reference, &["--key", &k]);
    let one = &r["provenance"]["signatures"][0];
    assert_eq!(one["verified"], "false", "{one}");
    assert!(
        one["reason"].as_str().unwrap().contains(reason_has),
        "reason {:?} lacks {reason_has:?}",
        one["reason"]
    );
    let invalid = findings_of(&r, "signature-invalid");
    assert_eq!(invalid.len(), 1, "{r}");
    assert_eq!(invalid[0]["severity"], "critical");
    assert!(findings_of(&r, "signature-missing").is_empty());

    let (code, outcome) = env.ci(reference, &["--require-signature", "--key", &k]);
    assert_eq!(code, 1, "{outcome}");
    assert_eq!(rule(&outcome, "require-signature")["status"], "fail");
    // Without require-signature the critical finding alone fails the gate.
    let (code, outcome) = env.ci(reference, &["--key", &k]);
    assert_eq!(code, 1, "{outcome}");
    assert_eq!(rule(&outcome, "fail-on")["status"], "fail");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn signature_for_another_digest_is_invalid() {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let (digest, reference) = image_in(&env, &reg, "other/digest");
    for alg in [Alg::P256, Alg::Ed25519] {
        let key = Key::new(&env, "signer", alg);
        let elsewhere = format!("sha256:{}", "ab".repeat(32));
        let p = payload(&format!("{}/other/digest", reg.addr), &elsewhere);
        let sig = key.sign(&env, &p);
        push_signature(
            &reg,
            "other/digest",
            &digest,
            &p,
            json!({"dev.cosignproject.cosign/signature": b64(&sig)}),
        );
        assert_invalid(
            &env,
            &reference,
            &key.public,
            &format!("signed for {elsewhere}, not for this image's {digest}"),
        );
        let r = env.report(&reference, &["--key", &s(&key.public)]);
        assert_eq!(
            r["provenance"]["signatures"][0]["signed_digest"],
            elsewhere.as_str()
        );
    }
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn tampered_payload_is_invalid() {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let (digest, reference) = image_in(&env, &reg, "tampered/app");
    for alg in [Alg::P256, Alg::Ed25519] {
        let key = Key::new(&env, "signer", alg);
        let signed = payload(&format!("{}/tampered/app", reg.addr), &digest);
        let sig = key.sign(&env, &signed);
        // The same claims, one byte more: the digest still matches, the signature does not.
        let mut tampered = signed.clone();
        tampered.push(b' ');
        push_signature(
            &reg,
            "tampered/app",
            &digest,
            &tampered,
            json!({"dev.cosignproject.cosign/signature": b64(&sig)}),
        );
        assert_invalid(
            &env,
            &reference,
            &key.public,
            "the signature does not verify with key",
        );
    }
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn wrong_key_is_invalid() {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let (digest, reference) = image_in(&env, &reg, "wrong/key");
    for alg in [Alg::P256, Alg::Ed25519] {
        let signer = Key::new(&env, "signer", alg);
        let other = Key::new(&env, "other", alg);
        let p = payload(&format!("{}/wrong/key", reg.addr), &digest);
        let sig = signer.sign(&env, &p);
        push_signature(
            &reg,
            "wrong/key",
            &digest,
            &p,
            json!({"dev.cosignproject.cosign/signature": b64(&sig)}),
        );
        assert_invalid(
            &env,
            &reference,
            &other.public,
            &format!("does not verify with key {}", s(&other.public)),
        );
        // The right key still verifies the same signature.
        let r = env.report(&reference, &["--key", &s(&signer.public)]);
        assert_eq!(r["provenance"]["signatures"][0]["verified"], "true");
    }
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn another_repository_in_the_payload_is_an_identity_mismatch() {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let (digest, reference) = image_in(&env, &reg, "moved/app");
    let key = Key::new(&env, "signer", Alg::P256);
    let p = payload("ghcr.io/someone/else", &digest);
    let sig = key.sign(&env, &p);
    push_signature(
        &reg,
        "moved/app",
        &digest,
        &p,
        json!({"dev.cosignproject.cosign/signature": b64(&sig)}),
    );
    let k = s(&key.public);
    let r = env.report(&reference, &["--key", &k]);
    let one = &r["provenance"]["signatures"][0];
    // Cryptographically valid for this digest, but it names another repository.
    assert_eq!(one["verified"], "true");
    assert_eq!(
        one["mismatch"],
        format!(
            "the payload names repository ghcr.io/someone/else, the image is {}/moved/app",
            reg.addr
        )
        .as_str()
    );
    let m = findings_of(&r, "signature-identity-mismatch");
    assert_eq!(m.len(), 1, "{r}");
    assert_eq!(m[0]["severity"], "high");
    assert!(findings_of(&r, "signature-invalid").is_empty());
    let (code, outcome) = env.ci(&reference, &["--require-signature", "--key", &k]);
    assert_eq!(code, 1, "{outcome}");
    assert_eq!(rule(&outcome, "require-signature")["status"], "fail");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn unsigned_image_is_reported_and_fails_require_signature() {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let (digest, reference) = image_in(&env, &reg, "plain/app");
    let key = Key::new(&env, "signer", Alg::P256);
    let k = s(&key.public);
    let r = env.report(&reference, &["--key", &k]);
    assert_eq!(r["provenance"]["signatures"], json!([]));
    let missing = findings_of(&r, "signature-missing");
    assert_eq!(missing.len(), 1, "{r}");
    assert_eq!(missing[0]["severity"], "info");
    assert!(
        missing[0]["message"].as_str().unwrap().contains(&digest),
        "{}",
        missing[0]
    );
    // The registry was asked: the referrers API (404 on distribution 2.8, then the
    // sha256-<hex> index tag) and cosign's tags.
    let hex = digest.strip_prefix("sha256:").unwrap();
    assert!(reg.access_lines("GET", &format!("/referrers/{digest}")) >= 1);
    assert!(reg.access_lines("GET", &format!("/manifests/sha256-{hex}.sig")) >= 1);

    let (code, outcome) = env.ci(&reference, &["--require-signature", "--key", &k]);
    assert_eq!(code, 1, "{outcome}");
    let rs = rule(&outcome, "require-signature");
    assert_eq!(rs["status"], "fail");
    assert_eq!(rs["measured"], "no signature in the registry");
    // Info only: without require-signature the gate passes; forbidding the rule fails it.
    assert_eq!(env.ci(&reference, &[]).0, 0);
    assert_eq!(
        env.ci(&reference, &["--forbid-rules", "signature-missing"])
            .0,
        1
    );
}

/// A cosign attestation (`sha256-<hex>.att`: a DSSE envelope around an in-toto SLSA v1
/// statement, as `cosign attest` pushes it) is listed with the image's attestations and read
/// as its provenance; a statement about another digest is a subject mismatch.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry and skopeo: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn cosign_attestation_is_listed_and_read_as_provenance() {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let attest = |repo: &str, about: &str, subject: &str| -> String {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": format!("{}/{repo}", reg.addr), "digest": {"sha256": about.trim_start_matches("sha256:")}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": "https://example.org/cosign-attested@v1",
                    "externalParameters": {"source": "git+https://example.org/app@refs/heads/main"}
                },
                "runDetails": {"builder": {"id": "https://example.org/builders/attested"}}
            }
        })
        .to_string();
        let envelope = json!({
            "payloadType": "application/vnd.in-toto+json",
            "payload": b64(statement.as_bytes()),
            "signatures": [{"keyid": "", "sig": b64(b"not checked")}]
        })
        .to_string();
        push_cosign(
            &reg,
            repo,
            subject,
            "att",
            "application/vnd.dsse.envelope.v1+json",
            envelope.as_bytes(),
            json!({"predicateType": "https://slsa.dev/provenance/v1"}),
        )
    };

    let (digest, reference) = image_in(&env, &reg, "attested/app");
    attest("attested/app", &digest, &digest);
    let r = env.report(&reference, &[]);
    let atts = r["provenance"]["attestations"]
        .as_array()
        .expect("attestations");
    assert_eq!(atts.len(), 1, "{atts:?}");
    assert_eq!(
        atts[0]["media_type"],
        "application/vnd.dsse.envelope.v1+json"
    );
    assert_eq!(atts[0]["predicate_type"], "https://slsa.dev/provenance/v1");
    assert_eq!(atts[0]["subject_matches"], true, "{}", atts[0]);
    let slsa = &r["provenance"]["slsa"];
    assert_eq!(slsa["builder_id"], "https://example.org/builders/attested");
    assert_eq!(slsa["build_type"], "https://example.org/cosign-attested@v1");
    assert!(findings_of(&r, "provenance-missing").is_empty(), "{r}");
    assert!(
        findings_of(&r, "provenance-subject-mismatch").is_empty(),
        "{r}"
    );
    // The `.att` is an attestation, not a signature: the image is still unsigned.
    assert_eq!(findings_of(&r, "signature-missing").len(), 1, "{r}");

    // A statement about another digest, attached to this image.
    let (digest, reference) = image_in(&env, &reg, "misattested/app");
    attest(
        "misattested/app",
        &format!("sha256:{}", "0".repeat(64)),
        &digest,
    );
    let r = env.report(&reference, &[]);
    assert_eq!(r["provenance"]["attestations"][0]["subject_matches"], false);
    assert_eq!(
        findings_of(&r, "provenance-subject-mismatch").len(),
        1,
        "{r}"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn archives_have_no_registry_to_ask() {
    require_tools();
    let env = Env::new();
    let archive = env.path("sample.tar");
    fixture::write_image(&ImageSpec::sample(), Layout::OciArchiveGzip, &archive).expect("fixture");
    let key = Key::new(&env, "signer", Alg::Ed25519);
    let k = s(&key.public);
    let r = env.report(&s(&archive), &["--key", &k]);
    assert_eq!(r["provenance"]["signatures"], json!([]));
    assert!(findings_of(&r, "signature-missing").is_empty(), "{r}");
    let (code, outcome) = env.ci(&s(&archive), &["--require-signature", "--key", &k]);
    assert_eq!(code, 1);
    let rs = rule(&outcome, "require-signature");
    assert_eq!(rs["status"], "fail");
    assert!(
        rs["measured"]
            .as_str()
            .unwrap()
            .starts_with("no registry to ask"),
        "{rs}"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn bad_key_files_and_policies_are_one_line_errors() {
    common::real::tool("openssl", "version", "openssl");
    let env = Env::new();
    let archive = env.path("sample.tar");
    fixture::write_image(&ImageSpec::sample(), Layout::OciArchiveGzip, &archive).expect("fixture");
    let one_line = |out: &Output| {
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        err
    };
    let garbage = env.path("garbage.pub");
    std::fs::write(&garbage, "not a key\n").unwrap();
    let err = one_line(&env.run(&["report", &s(&archive), "--key", &s(&garbage)]));
    assert!(
        err.contains(&s(&garbage)) && err.contains("not a PEM public key"),
        "{err}"
    );
    let missing = env.path("missing.pub");
    let err = one_line(&env.run(&["ci", &s(&archive), "--key", &s(&missing)]));
    assert!(err.contains(&s(&missing)), "{err}");
    // A private key is not a public key.
    let key = Key::new(&env, "signer", Alg::P256);
    let err = one_line(&env.run(&["report", &s(&archive), "--key", &s(&key.private)]));
    assert!(err.contains(&s(&key.private)), "{err}");
    // An unsupported curve is named.
    let p384 = env.path("p384.key");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-521",
        "-out",
        &s(&p384),
    ]);
    let p384_pub = env.path("p521.pub");
    openssl(&["pkey", "-in", &s(&p384), "-pubout", "-out", &s(&p384_pub)]);
    let err = one_line(&env.run(&["report", &s(&archive), "--key", &s(&p384_pub)]));
    assert!(err.contains("supported: P-256, P-384"), "{err}");
    // require-signature needs something to check against.
    let err = one_line(&env.run(&["ci", &s(&archive), "--require-signature"]));
    assert!(err.contains("require-signature needs key"), "{err}");
    let err = one_line(&env.run(&[
        "ci",
        &s(&archive),
        "--require-signature",
        "--certificate-identity",
        "dev@example.com",
    ]));
    assert!(err.contains("needs trusted-root"), "{err}");
    // The policy file's key is found next to the policy.
    let dir = env.path("policy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".strata.toml"),
        "[ci]\nrequire-signature = true\nkey = \"nope.pub\"\n",
    )
    .unwrap();
    let err = one_line(&env.run(&[
        "ci",
        &s(&archive),
        "--config",
        &s(&dir.join(".strata.toml")),
    ]));
    assert!(err.contains(&s(&dir.join("nope.pub"))), "{err}");
}

/// A certificate authority and a Fulcio-shaped code-signing certificate it issues (SAN email,
/// OIDC issuer in extensions 1.3.6.1.4.1.57264.1.1 and .1.8), all made with openssl.
struct Fulcio {
    ca_pem: String,
    ca_der: Vec<u8>,
    leaf_pem: String,
    leaf_key: PathBuf,
}

impl Fulcio {
    fn new(env: &Env, name: &str, email: &str, issuer: &str) -> Self {
        let p = |f: &str| env.path(&format!("{name}-{f}"));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/O={name}/CN=test fulcio root"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &s(&p("ca.key")),
            "-out",
            &s(&p("ca.crt")),
        ]);
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &s(&p("leaf.key")),
        ]);
        openssl(&[
            "req",
            "-new",
            "-key",
            &s(&p("leaf.key")),
            "-subj",
            "/O=sigstore.dev",
            "-out",
            &s(&p("leaf.csr")),
        ]);
        let raw_issuer: String = issuer.bytes().map(|b| format!("{b:02X}")).collect();
        std::fs::write(
            p("ext.cnf"),
            format!(
                "subjectAltName=critical,email:{email}\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=codeSigning\n1.3.6.1.4.1.57264.1.1=DER:{raw_issuer}\n\
                 1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:{issuer}\n"
            ),
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-days",
            "1",
            "-set_serial",
            "7",
            "-in",
            &s(&p("leaf.csr")),
            "-CA",
            &s(&p("ca.crt")),
            "-CAkey",
            &s(&p("ca.key")),
            "-extfile",
            &s(&p("ext.cnf")),
            "-out",
            &s(&p("leaf.crt")),
        ]);
        openssl(&[
            "x509",
            "-in",
            &s(&p("ca.crt")),
            "-outform",
            "DER",
            "-out",
            &s(&p("ca.der")),
        ]);
        Fulcio {
            ca_pem: std::fs::read_to_string(p("ca.crt")).unwrap(),
            ca_der: std::fs::read(p("ca.der")).unwrap(),
            leaf_pem: std::fs::read_to_string(p("leaf.crt")).unwrap(),
            leaf_key: p("leaf.key"),
        }
    }

    /// A Sigstore trusted-root JSON naming this CA as its one certificate authority.
    fn trusted_root(&self, env: &Env, name: &str) -> PathBuf {
        let file = env.path(&format!("{name}-trusted_root.json"));
        let doc = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [],
            "certificateAuthorities": [{
                "subject": {"organization": name, "commonName": "test fulcio root"},
                "uri": "https://fulcio.example.com",
                "certChain": {"certificates": [{"rawBytes": b64(&self.ca_der)}]},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }],
            "ctlogs": [],
            "timestampAuthorities": []
        });
        std::fs::write(&file, doc.to_string()).unwrap();
        file
    }
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn keyless_signature_shows_identity_and_is_checked_only_with_a_trusted_root() {
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let repo = "keyless/app";
    let (digest, reference) = image_in(&env, &reg, repo);
    let (email, issuer) = ("dev@example.com", "https://issuer.example.com");
    let fulcio = Fulcio::new(&env, "fulcio", email, issuer);
    let leaf = Key {
        private: fulcio.leaf_key.clone(),
        public: PathBuf::new(),
        alg: Alg::P256,
    };
    let p = payload(&format!("{}/{repo}", reg.addr), &digest);
    let sig = leaf.sign(&env, &p);
    push_signature(
        &reg,
        repo,
        &digest,
        &p,
        json!({
            "dev.cosignproject.cosign/signature": b64(&sig),
            "dev.sigstore.cosign/certificate": fulcio.leaf_pem,
            "dev.sigstore.cosign/chain": fulcio.ca_pem,
        }),
    );

    // No trusted root: identity and issuer shown, not verified, no judging finding.
    let r = env.report(&reference, &[]);
    let one = &r["provenance"]["signatures"][0];
    assert_eq!(one["kind"], "cosign-keyless");
    assert_eq!(one["identity"], email);
    assert_eq!(one["issuer"], issuer);
    assert_eq!(one["verified"], "unknown");
    assert!(
        one["reason"]
            .as_str()
            .unwrap()
            .contains("the certificate is not verified offline"),
        "{one}"
    );
    for id in [
        "signature-missing",
        "signature-invalid",
        "signature-identity-mismatch",
    ] {
        assert!(findings_of(&r, id).is_empty(), "{id} fired: {r}");
    }
    let text = env.run(&["report", "--quiet", &reference]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "Signature  cosign keyless by {email} (issuer {issuer})"
        )) && text.contains("not verified"),
        "{text}"
    );

    // Another required identity: a mismatch (high), not an invalid signature.
    let r = env.report(
        &reference,
        &["--certificate-identity", "someone@else.example"],
    );
    let one = &r["provenance"]["signatures"][0];
    assert_eq!(one["verified"], "false");
    assert_eq!(
        one["mismatch"],
        format!("the certificate identity is {email}, not the required someone@else.example")
            .as_str()
    );
    assert_eq!(findings_of(&r, "signature-identity-mismatch").len(), 1);
    assert!(findings_of(&r, "signature-invalid").is_empty());

    // With the trusted root and the right identity and issuer: verified; the gate passes.
    let root = fulcio.trusted_root(&env, "good");
    let good = [
        "--trusted-root",
        &s(&root),
        "--certificate-identity",
        email,
        "--certificate-oidc-issuer",
        issuer,
    ];
    let r = env.report(&reference, &good);
    let one = &r["provenance"]["signatures"][0];
    assert_eq!(one["verified"], "true", "{one}");
    assert!(
        one["reason"]
            .as_str()
            .unwrap()
            .contains("chains to a certificate authority"),
        "{one}"
    );
    let mut args = vec!["--require-signature"];
    args.extend_from_slice(&good);
    let (code, outcome) = env.ci(&reference, &args);
    assert_eq!(code, 0, "{outcome}");

    // A trusted root of another authority: the chain fails, the signature is invalid.
    let stranger = Fulcio::new(&env, "stranger", email, issuer);
    let other_root = stranger.trusted_root(&env, "stranger");
    let r = env.report(
        &reference,
        &[
            "--trusted-root",
            &s(&other_root),
            "--certificate-identity",
            email,
        ],
    );
    let one = &r["provenance"]["signatures"][0];
    assert_eq!(one["verified"], "false", "{one}");
    assert!(
        one["reason"].as_str().unwrap().contains("does not chain"),
        "{one}"
    );
    assert_eq!(findings_of(&r, "signature-invalid").len(), 1);
    let mut args = vec!["--require-signature", "--trusted-root"];
    let other = s(&other_root);
    args.extend_from_slice(&[&other, "--certificate-identity", email]);
    assert_eq!(env.ci(&reference, &args).0, 1);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs docker-registry, skopeo, openssl: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn notation_and_sigstore_bundle_signatures_in_the_referrers_fallback_index_are_listed_not_verified()
{
    require_tools();
    let env = Env::new();
    let reg = Registry::start(&Auth::None, None);
    let repo = "notation/app";
    let (digest, reference) = image_in(&env, &reg, repo);
    let (_, _, manifest) = http(
        &reg.addr,
        "GET",
        &format!("/v2/{repo}/manifests/{digest}"),
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    let subject = json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len()});
    let empty_digest = push_blob(&reg, repo, b"{}");
    // Pushes an artifact manifest with one layer and a subject; returns (digest, size).
    let push_artifact = |artifact_type: &str, layer_type: &str, layer: &[u8]| {
        let layer_digest = push_blob(&reg, repo, layer);
        let artifact = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest, "size": 2},
            "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer.len()}],
            "subject": subject,
        })
        .to_string();
        let artifact_digest = sha256(artifact.as_bytes());
        let (status, _, body) = http(
            &reg.addr,
            "PUT",
            &format!("/v2/{repo}/manifests/{artifact_digest}"),
            &[("Content-Type", OCI_MANIFEST)],
            artifact.as_bytes(),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        json!({
            "mediaType": OCI_MANIFEST,
            "digest": artifact_digest,
            "size": artifact.len(),
            "artifactType": artifact_type
        })
    };
    // A Notation signature as `notation sign` pushes it: an artifact manifest with a subject.
    let envelope = br#"{"payload":"e30","protected":"e30","header":{},"signature":"AAAA"}"#;
    let notation = push_artifact(
        "application/vnd.cncf.notary.signature",
        "application/jose+json",
        envelope,
    );
    let artifact_digest = notation["digest"].as_str().unwrap().to_owned();
    // Sigstore bundles as cosign 3 pushes them: one signing the image (cosign's signing
    // predicate, keyless certificate), one carrying another attestation (not a signature).
    let fulcio = Fulcio::new(&env, "bundle", "ci@example.com", "https://ci.example.com");
    let leaf_der = base64::engine::general_purpose::STANDARD
        .decode(
            fulcio
                .leaf_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let bundle_of = |predicate: &str| {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": repo, "digest": {"sha256": hex}}],
            "predicateType": predicate,
            "predicate": {}
        });
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"certificate": {"rawBytes": b64(&leaf_der)}, "tlogEntries": []},
            "dsseEnvelope": {
                "payload": b64(statement.to_string().as_bytes()),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": "AAAA"}]
            }
        })
        .to_string()
    };
    let bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let signing_bundle = push_artifact(
        bundle_type,
        bundle_type,
        bundle_of("https://sigstore.dev/cosign/sign/v1").as_bytes(),
    );
    let provenance_bundle = push_artifact(
        bundle_type,
        bundle_type,
        bundle_of("https://slsa.dev/provenance/v1").as_bytes(),
    );
    // distribution 2.8 has no referrers API: the client keeps the referrers index under the
    // fallback tag sha256-<hex>, as the OCI distribution spec says.
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [notation, signing_bundle, provenance_bundle]
    })
    .to_string();
    let (status, _, body) = http(
        &reg.addr,
        "PUT",
        &format!("/v2/{repo}/manifests/{}", digest.replace(':', "-")),
        &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
        index.as_bytes(),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));

    let r = env.report(&reference, &[]);
    let sigs = r["provenance"]["signatures"]
        .as_array()
        .expect("signatures");
    assert_eq!(sigs.len(), 2, "{r}");
    let bundle = &sigs[1];
    assert_eq!(bundle["kind"], "cosign-keyless");
    assert_eq!(
        bundle["location"],
        format!("referrer {}", signing_bundle["digest"].as_str().unwrap()).as_str()
    );
    assert_eq!(bundle["identity"], "ci@example.com");
    assert_eq!(bundle["issuer"], "https://ci.example.com");
    assert_eq!(bundle["signed_digest"], digest.as_str());
    assert_eq!(bundle["verified"], "unknown");
    assert_eq!(sigs[0]["kind"], "notation");
    assert_eq!(
        sigs[0]["location"],
        format!("referrer {artifact_digest}").as_str()
    );
    assert_eq!(sigs[0]["verified"], "unknown");
    assert!(
        sigs[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no offline Notation verifier"),
        "{}",
        sigs[0]
    );
    assert!(findings_of(&r, "signature-missing").is_empty(), "{r}");
    assert!(findings_of(&r, "signature-invalid").is_empty(), "{r}");
    // Listed is not verified: the gate does not pass on it.
    let key = Key::new(&env, "signer", Alg::P256);
    let (code, _) = env.ci(
        &reference,
        &["--require-signature", "--key", &s(&key.public)],
    );
    assert_eq!(code, 1);
}
