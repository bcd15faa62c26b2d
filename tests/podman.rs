//! strata against a real Podman API socket given by DOCKER_HOST: the image loaded into Podman
//! from the suite's `docker save` archive reports the same numbers as the archive itself.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STRATA: &str = env!("CARGO_BIN_EXE_strata");

mod common;

/// A `podman system service` on a private socket, stopped on drop.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(socket: &Path) -> Service {
    common::real::tool("podman", "--version", "Debian's podman");
    let child = Command::new("podman")
        .args([
            "system",
            "service",
            "--time=0",
            &format!("unix://{}", socket.display()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start `podman system service`");
    let service = Service(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "podman service did not create {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    service
}

fn report(args: &[&str], host: Option<&str>) -> serde_json::Value {
    let mut cmd = Command::new(STRATA);
    cmd.args(args);
    if let Some(h) = host {
        cmd.env("DOCKER_HOST", h);
    }
    let out = cmd.output().expect("run strata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs podman and the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn podman_socket_reports_the_same_image_as_the_archive() {
    let archive = common::real::test_image("layers");
    let dir = tempfile::tempdir().expect("tmp");
    let socket = dir.path().join("podman.sock");
    let _service = start(&socket);
    let load = Command::new("podman")
        .args(["load", "-i", &archive.display().to_string()])
        .output()
        .expect("podman load");
    assert!(
        load.status.success(),
        "{}",
        String::from_utf8_lossy(&load.stderr)
    );
    let host = format!("unix://{}", socket.display());

    let images = Command::new(STRATA)
        .args(["images", "--format", "json"])
        .env("DOCKER_HOST", &host)
        .output()
        .expect("images");
    assert!(
        images.status.success(),
        "{}",
        String::from_utf8_lossy(&images.stderr)
    );
    let listed = String::from_utf8_lossy(&images.stdout);
    assert!(listed.contains("strata-test/layers"), "{listed}");

    let ours = report(
        &[
            "report",
            "strata-test/layers:1",
            "--format",
            "json",
            "--no-findings",
        ],
        Some(&host),
    );
    let theirs = report(
        &[
            "report",
            &archive.display().to_string(),
            "--format",
            "json",
            "--no-findings",
        ],
        None,
    );
    assert_eq!(ours["image"]["id"], theirs["image"]["id"]);
    assert_eq!(ours["layers"], theirs["layers"]);
    assert_eq!(ours["efficiency"], theirs["efficiency"]);
    assert_eq!(ours["efficiency"]["reclaimable_bytes"], 18000);
}
