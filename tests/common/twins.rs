//! Fixture twins of the daemon-built test images `layers`, `clean` and `secrets`
//! (tests/daemon_images/*/Dockerfile), written by the fixture builder, so that tests of the CI
//! gate and the reports need no daemon. Each twin has the same paths, sizes, modes, owners,
//! layer split, history and config as its daemon original (tests/daemon_images/README.md); only
//! the random bytes and the base layer (a small stand-in for busybox) differ.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::fixture::{
    text_blob, write_image, EntrySpec, HistorySpec, ImageSpec, LayerSpec, Layout,
};

/// Deterministic pseudo-random bytes (xorshift), standing in for `head -c N /dev/urandom`.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `n` characters from `alphabet`, pseudo-random from `seed`.
pub fn random_text(seed: u64, n: usize, alphabet: &[u8]) -> String {
    random_bytes(seed, n)
        .into_iter()
        .map(|b| alphabet[b as usize % alphabet.len()] as char)
        .collect()
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn file(path: &str, data: Vec<u8>, mode: u32) -> EntrySpec {
    EntrySpec::file(path, data, mode)
}

fn owned(path: &str, data: Vec<u8>, mode: u32, uid: u64) -> EntrySpec {
    EntrySpec::File {
        path: path.into(),
        data,
        mode,
        uid,
        gid: uid,
    }
}

fn run(cmd: &str) -> String {
    format!("/bin/sh -c {cmd}")
}

fn nop(instr: &str) -> String {
    format!("/bin/sh -c #(nop)  {instr}")
}

/// The base layer: the directories and files of strata-test/base:1, a small `bin/busybox`.
fn base_layer() -> LayerSpec {
    let mut entries = vec![
        EntrySpec::dir("bin/", 0o755),
        // The size of Debian 12's static busybox, so that sizes and ratios match the originals.
        file("bin/busybox", text_blob(7, 1_982_256), 0o755),
    ];
    for applet in ["sh", "ls", "cat", "wget", "httpd"] {
        entries.push(EntrySpec::symlink(format!("bin/{applet}"), "busybox"));
    }
    entries.extend([
        EntrySpec::dir("etc/", 0o755),
        file(
            "etc/group",
            b"root:x:0:\napp:x:1000:\nnogroup:x:65534:\n".to_vec(),
            0o644,
        ),
        file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n\
              nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                .to_vec(),
            0o644,
        ),
        EntrySpec::dir("home/", 0o755),
        EntrySpec::dir("root/", 0o700),
        EntrySpec::dir("tmp/", 0o1777),
    ]);
    LayerSpec::new("", entries)
}

fn base_history() -> HistorySpec {
    HistorySpec {
        created_by: String::new(),
        comment: Some("strata-test base rootfs (static busybox)".into()),
        ..HistorySpec::default()
    }
}

fn labels_history(name: &str) -> [HistorySpec; 2] {
    [
        HistorySpec::empty(&nop(&format!("LABEL org.strata.test.name={name}"))),
        HistorySpec::empty(&nop("LABEL org.strata.test.recipe=fixture")),
    ]
}

fn spec(
    name: &str,
    layers: Vec<LayerSpec>,
    history: Vec<HistorySpec>,
    config: serde_json::Value,
) -> ImageSpec {
    let mut s = ImageSpec::new(layers);
    s.history = history;
    s.config = config;
    s.repo_tags = vec![format!("strata-test/{name}:1")];
    // Built "now", as the daemon images are, so that the image-age check stays quiet.
    s.created = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_default()
        .to_string();
    s
}

const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Twin of strata-test/layers:1: 7 layers, 10 history entries, 44,103 bytes in layers 1-6 and
/// exactly 18,000 reclaimable bytes.
pub fn layers() -> ImageSpec {
    let l1 = run("mkdir -p /data/dir-to-delete/sub /data/opaque  && head -c 10000 /dev/urandom > /data/overwrite.bin …");
    let l2 = run("head -c 20000 /dev/urandom > /data/overwrite.bin");
    let l3 = run("chmod 0755 /data/chmod.bin");
    let l4 = run("rm /data/delete-me.bin && rm -rf /data/dir-to-delete");
    let l5 =
        run("rm -rf /data/opaque && mkdir /data/opaque && printf 'x\\n' > /data/opaque/new.txt");
    let l6 = run("head -c 4096 /dev/urandom > /data/hl-a.bin && ln /data/hl-a.bin /data/hl-b.bin");
    let l7 = run("head -c 50000 /dev/urandom > /ephemeral.bin && rm /ephemeral.bin");
    let layers = vec![
        base_layer(),
        LayerSpec::new(
            &l1,
            vec![
                EntrySpec::dir("data/", 0o755),
                file("data/chmod.bin", random_bytes(11, 2000), 0o644),
                file("data/delete-me.bin", random_bytes(12, 3000), 0o644),
                EntrySpec::dir("data/dir-to-delete/", 0o755),
                file("data/dir-to-delete/a.bin", random_bytes(13, 1000), 0o644),
                EntrySpec::dir("data/dir-to-delete/sub/", 0o755),
                file("data/dir-to-delete/sub/b.bin", random_bytes(14, 500), 0o644),
                file("data/keep.txt", b"keep\n".to_vec(), 0o644),
                EntrySpec::dir("data/opaque/", 0o755),
                file("data/opaque/old1.bin", random_bytes(15, 700), 0o644),
                file("data/opaque/old2.bin", random_bytes(16, 800), 0o644),
                file("data/overwrite.bin", random_bytes(17, 10000), 0o644),
            ],
        ),
        LayerSpec::new(
            &l2,
            vec![
                EntrySpec::dir("data/", 0o755),
                file("data/overwrite.bin", random_bytes(18, 20000), 0o644),
            ],
        ),
        LayerSpec::new(
            &l3,
            vec![
                EntrySpec::dir("data/", 0o755),
                file("data/chmod.bin", random_bytes(11, 2000), 0o755),
            ],
        ),
        LayerSpec::new(
            &l4,
            vec![
                EntrySpec::dir("data/", 0o755),
                EntrySpec::whiteout("data/delete-me.bin"),
                EntrySpec::whiteout("data/dir-to-delete"),
            ],
        ),
        LayerSpec::new(
            &l5,
            vec![
                EntrySpec::dir("data/", 0o755),
                EntrySpec::dir("data/opaque/", 0o755),
                EntrySpec::opaque("data/opaque"),
                file("data/opaque/new.txt", b"x\n".to_vec(), 0o644),
            ],
        ),
        LayerSpec::new(
            &l6,
            vec![
                EntrySpec::dir("data/", 0o755),
                file("data/hl-a.bin", random_bytes(19, 4096), 0o644),
                EntrySpec::hard_link("data/hl-b.bin", "data/hl-a.bin"),
            ],
        ),
    ];
    let mut history = vec![base_history()];
    history.extend(
        [l1, l2, l3, l4, l5, l6]
            .iter()
            .map(|c| HistorySpec::layer(c)),
    );
    history.push(HistorySpec::empty(&l7));
    history.extend(labels_history("layers"));
    spec(
        "layers",
        layers,
        history,
        json!({"Env": [PATH_ENV], "Cmd": ["/bin/sh"],
               "Labels": {"org.strata.test.name": "layers", "org.strata.test.recipe": "fixture"}}),
    )
}

/// Twin of strata-test/clean:1: non-root USER 1000, HEALTHCHECK, 18 bytes in layer 1, nothing
/// deleted, no secret, no setuid or world-writable file.
pub fn clean() -> ImageSpec {
    let l1 = run("mkdir -p /srv/app  && printf 'hello from strata\\n' > /srv/app/index.html  && chown -R 1000:1000 /srv/app");
    let layers = vec![
        base_layer(),
        LayerSpec::new(
            &l1,
            vec![
                EntrySpec::dir("srv/", 0o755),
                EntrySpec::Dir {
                    path: b"srv/app/".to_vec(),
                    mode: 0o755,
                },
                owned(
                    "srv/app/index.html",
                    b"hello from strata\n".to_vec(),
                    0o644,
                    1000,
                ),
            ],
        ),
    ];
    let health = "HEALTHCHECK &{[\"CMD-SHELL\" \"wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1\"] \"30s\" \"5s\" \"0s\" '\\x03'}";
    let mut history = vec![base_history(), HistorySpec::layer(&l1)];
    history.extend(
        [
            nop("EXPOSE 8080"),
            nop(health),
            nop("USER 1000"),
            nop("CMD [\"/bin/httpd\" \"-f\" \"-p\" \"8080\" \"-h\" \"/srv/app\"]"),
        ]
        .iter()
        .map(|c| HistorySpec::empty(c)),
    );
    history.extend(labels_history("clean"));
    spec(
        "clean",
        layers,
        history,
        json!({
            "Env": [PATH_ENV],
            "User": "1000",
            "ExposedPorts": {"8080/tcp": {}},
            "Healthcheck": {
                "Test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
                "Interval": 30_000_000_000_u64, "Timeout": 5_000_000_000_u64, "Retries": 3
            },
            "Cmd": ["/bin/httpd", "-f", "-p", "8080", "-h", "/srv/app"],
            "Labels": {"org.strata.test.name": "clean", "org.strata.test.recipe": "fixture"}
        }),
    )
}

/// A fake PEM private key (random body), as the secrets image's build generates one.
pub fn fake_pem(seed: u64) -> Vec<u8> {
    let kind = "RSA PRIVATE KEY";
    let body = random_text(seed, 1200, BASE64);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out.into_bytes()
}

/// A fake AWS access key id (`AKIA` and 16 random characters).
pub fn fake_aws_key_id(seed: u64) -> String {
    format!("AKIA{}", random_text(seed, 16, UPPER_DIGITS))
}

/// Twin of strata-test/secrets:1: root user, no HEALTHCHECK, EXPOSE 22, a secret-looking ENV,
/// setuid and world-writable files, a private key and AWS credentials deleted in layer 2
/// (still in layer 1) and an AWS key id that stays visible.
pub fn secrets() -> ImageSpec {
    let env = "ENV DB_PASSWORD=strata-fake-db-password APP_MODE=production";
    let l1 = run("mkdir -p /app/keys /app/.aws  && K=\"RSA PRIVATE KEY\"  && { echo \"-----BEGIN $K-----\"; head -c 900 /dev/urandom | base64 -w 64; echo \"-----END $K-----\"; } > /app/keys/id_rsa …");
    let l2 = run("rm -rf /app/keys /app/.aws");
    let l3 = run("mkdir -p /app/config  && printf 'AWS_ACCESS_KEY_ID=AKIA%s\\n' \"$(tr -dc 'A-Z0-9' < /dev/urandom | head -c 16)\" > /app/config/deploy.env");
    let l4 = run("mkdir -p /usr/local/bin  && head -c 1234 /dev/urandom > /usr/local/bin/suid-helper  && chmod 4755 /usr/local/bin/suid-helper  && head -c 64 /dev/urandom > /app/shared.log  && chmod 0666 /app/shared.log");
    let credentials = format!("[default]\naws_access_key_id = {}\n", fake_aws_key_id(21));
    let layers = vec![
        base_layer(),
        LayerSpec::new(
            &l1,
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::dir("app/.aws/", 0o755),
                file("app/.aws/credentials", credentials.into_bytes(), 0o644),
                file("app/app.txt", b"hello\n".to_vec(), 0o644),
                EntrySpec::dir("app/keys/", 0o755),
                file("app/keys/id_rsa", fake_pem(22), 0o600),
            ],
        ),
        LayerSpec::new(
            &l2,
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::whiteout("app/.aws"),
                EntrySpec::whiteout("app/keys"),
            ],
        ),
        LayerSpec::new(
            &l3,
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::dir("app/config/", 0o755),
                file(
                    "app/config/deploy.env",
                    format!("AWS_ACCESS_KEY_ID={}\n", fake_aws_key_id(23)).into_bytes(),
                    0o644,
                ),
            ],
        ),
        LayerSpec::new(
            &l4,
            vec![
                EntrySpec::dir("app/", 0o755),
                file("app/shared.log", random_bytes(24, 64), 0o666),
                EntrySpec::dir("usr/", 0o755),
                EntrySpec::dir("usr/local/", 0o755),
                EntrySpec::dir("usr/local/bin/", 0o755),
                file("usr/local/bin/suid-helper", random_bytes(25, 1234), 0o4755),
            ],
        ),
    ];
    let mut history = vec![base_history(), HistorySpec::empty(&nop(env))];
    history.extend([l1, l2, l3, l4].iter().map(|c| HistorySpec::layer(c)));
    history.extend(
        [nop("EXPOSE 22 8080"), nop("CMD [\"/bin/sh\"]")]
            .iter()
            .map(|c| HistorySpec::empty(c)),
    );
    history.extend(labels_history("secrets"));
    spec(
        "secrets",
        layers,
        history,
        json!({
            "Env": [PATH_ENV, "DB_PASSWORD=strata-fake-db-password", "APP_MODE=production"],
            "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}},
            "Cmd": ["/bin/sh"],
            "Labels": {"org.strata.test.name": "secrets", "org.strata.test.recipe": "fixture"}
        }),
    )
}

/// Writes the twin named `name` (`layers`, `clean` or `secrets`) as a legacy `docker save`
/// archive `<dir>/<name>.tar` (the layout the daemon writes) and returns its path.
pub fn write(name: &str, dir: &Path) -> PathBuf {
    let spec = match name {
        "layers" => layers(),
        "clean" => clean(),
        "secrets" => secrets(),
        other => panic!("no fixture twin named {other}"),
    };
    let dest = dir.join(format!("{name}.tar"));
    write_image(&spec, Layout::DockerLegacy, &dest).expect("write fixture twin");
    dest
}
