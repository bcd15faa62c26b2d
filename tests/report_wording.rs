//! Wording of the reports (issue 13, rough edges 6 and 8): plurals, the "Where" of a finding
//! without a path, and a layer without a recorded command, on fixture images.

mod common;

use std::process::Command;

use common::fixture::*;

fn strata(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An image whose first layer has no recorded command and writes a world-writable file.
fn image(layers: usize, dir: &std::path::Path) -> String {
    let mut specs = vec![LayerSpec::new(
        "",
        vec![
            EntrySpec::dir("srv", 0o755),
            EntrySpec::file("srv/open.txt", b"anyone may write\n", 0o666),
        ],
    )];
    for i in 1..layers {
        specs.push(LayerSpec::new(
            &format!("RUN echo {i} > /srv/{i}"),
            vec![EntrySpec::file(format!("srv/{i}"), format!("{i}\n"), 0o644)],
        ));
    }
    let path = dir.join(format!("img-{layers}.tar"));
    write_image(&ImageSpec::new(specs), Layout::DockerLegacy, &path).expect("write");
    path.display().to_string()
}

#[test]
fn one_layer_is_singular_and_two_are_plural() {
    let dir = tempfile::tempdir().unwrap();
    let one = strata(&["report", &image(1, dir.path()), "--format", "text"]);
    assert!(one.contains(" in 1 layer\n"), "{one}");
    let two = strata(&["report", &image(2, dir.path()), "--format", "text"]);
    assert!(two.contains(" in 2 layers\n"), "{two}");
}

#[test]
fn a_layer_without_a_command_is_named_as_such_not_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let json = strata(&["report", &image(2, dir.path()), "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "config-world-writable")
        .expect("world-writable finding");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("by base layer (no recorded command)"), "{msg}");
    assert!(!msg.contains('`'), "{msg}");
}

#[test]
fn markdown_says_image_config_for_findings_without_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let md = strata(&["report", &image(2, dir.path()), "--format", "markdown"]);
    // The fixture sets no USER: the root-user finding has no path.
    let row = md
        .lines()
        .find(|l| l.starts_with('|') && l.contains("config-root-user"))
        .unwrap_or_else(|| panic!("a root-user row:\n{md}"));
    assert!(row.contains("| image config |"), "{row}");
}
