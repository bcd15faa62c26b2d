//! Real components for the tests that need them, decided in one place.
//!
//! `STRATA_TEST_REAL=1` (set by `scripts/test.sh` after it installs and starts everything) is
//! the one variable: it compiles the tests with the `strata_real` cfg (see build.rs). Each test
//! that needs a real component carries
//! `#[cfg_attr(not(strata_real), ignore = "needs …; STRATA_TEST_REAL=1 (scripts/test.sh)")]`,
//! so without the variable it shows as ignored with its reason. When such a test runs, the
//! functions here return the component or fail the test with what is missing and how to get
//! it: a test never passes without the component it exists to exercise.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder holding the daemon-built test images (`<name>.tar`, `images.json`), built by
/// `scripts/build-test-images.sh`; `STRATA_TEST_IMAGES_DIR` overrides the default.
pub fn images_dir() -> PathBuf {
    std::env::var_os("STRATA_TEST_IMAGES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/strata-test-images"),
        PathBuf::from,
    )
}

/// The `docker save` archive of test image `name`; fails the test when it was not built.
#[track_caller]
pub fn test_image(name: &str) -> PathBuf {
    let p = images_dir().join(format!("{name}.tar"));
    assert!(
        p.is_file(),
        "test image archive missing: {} (run `bash scripts/dockerd-up.sh` then \
         `bash scripts/build-test-images.sh`, or `bash scripts/test.sh`)",
        p.display()
    );
    p
}

/// Fails the test unless the Docker daemon answers.
#[track_caller]
pub fn daemon() {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    let ok = out.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "no Docker daemon answers ({}); start one with `bash scripts/dockerd-up.sh`",
        match &out {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        }
    );
}

/// Fails the test unless the Docker daemon answers and the test images were built.
#[track_caller]
pub fn daemon_with_images() {
    daemon();
    test_image("layers");
    assert!(
        images_dir().join("images.json").is_file(),
        "{} missing: run `bash scripts/build-test-images.sh`",
        images_dir().join("images.json").display()
    );
}

/// Fails the test unless `tool` runs (`tool arg` exits 0); `package` names what installs it.
#[track_caller]
pub fn tool(tool: &str, arg: &str, package: &str) {
    tool_with_args(tool, &[arg], package);
}

/// Fails the test unless `tool args…` exits 0; `package` names what installs it.
#[track_caller]
pub fn tool_with_args(tool: &str, args: &[&str], package: &str) {
    let ok = Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`{tool}` is required and does not run: install {package} (scripts/ensure-deps.sh does)"
    );
}

/// A schema of `../shared/schemas/` beside the repository (`STRATA_SCHEMAS_DIR` overrides the
/// folder); fails the test when it is absent.
#[track_caller]
pub fn shared_schema(relative: &str) -> PathBuf {
    let dir = std::env::var_os("STRATA_SCHEMAS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas"),
        PathBuf::from,
    );
    let p = dir.join(relative);
    assert!(p.is_file(), "schema missing: {}", p.display());
    p
}

/// The JSON-schema validator command: `check-jsonschema`, else `python3 -m check_jsonschema`;
/// fails the test when neither runs (scripts/ensure-deps.sh installs it from PyPI).
#[track_caller]
pub fn json_schema_validator() -> Vec<String> {
    let works = |cmd: &[&str]| {
        Command::new(cmd[0])
            .args(&cmd[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    for cmd in [
        &["check-jsonschema"][..],
        &["python3", "-m", "check_jsonschema"][..],
    ] {
        if works(cmd) {
            return cmd.iter().map(|s| (*s).to_owned()).collect();
        }
    }
    panic!(
        "no JSON-schema validator: `pip install check-jsonschema` (scripts/ensure-deps.sh does)"
    );
}
