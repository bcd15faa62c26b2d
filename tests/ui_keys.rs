//! The user's key file (issue 13, edge 10): a remapped action answers to the user's keys, the
//! help overlay and key bar show them, and a bad file stops `strata` with one line naming the
//! file and line, exit 2. The table is process-wide, so these tests live in their own binary.

mod common;

use std::process::Command;

use crossterm::event::{KeyCode, KeyModifiers};
use strata::source::LoadOptions;
use strata::ui::app::{App, Launch};
use strata::ui::{highlight, keymap, user_keys, worker};

use common::ui::{draw, keys, press};

const STRATA: &str = env!("CARGO_BIN_EXE_strata");

#[test]
fn remapped_keys_drive_the_explorer_and_show_in_help_and_key_bar() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("keys.toml");
    std::fs::write(
        &file,
        "# mine\nfilter = [\"f2\"]\nhelp = \"h\"\n\"tree.sort\" = \"o\"\n",
    )
    .expect("write");
    let table = user_keys::parse(&std::fs::read_to_string(&file).expect("read"), &file)
        .expect("valid key file");
    keymap::install(table);

    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Demo);
    worker::settle(&mut app, cmds);
    // The key bar names the user's keys: `h` for help, `o` for sort in the tree.
    keys(&mut app, "\t");
    let screen = draw(&mut app).backend().to_string();
    let bar = screen
        .lines()
        .rev()
        .find(|l| l.contains("Sort"))
        .unwrap_or_else(|| panic!("key bar: {screen}"));
    assert!(
        bar.contains(" h Help ") && bar.contains(" o Sort "),
        "{bar}"
    );
    assert!(
        !bar.contains("? Help") && !bar.contains("Ctrl+O Sort"),
        "{bar}"
    );
    // F2 opens the filter prompt; `/` does nothing now.
    press(&mut app, KeyCode::F(2), KeyModifiers::NONE);
    let screen = draw(&mut app).backend().to_string();
    assert!(screen.to_lowercase().contains("filter"), "{screen}");
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    // `h` is help now (it was "previous pane" in the tree); the overlay lists the user's keys.
    keys(&mut app, "h");
    let help = draw(&mut app).backend().to_string();
    let sort = help
        .lines()
        .find(|l| l.contains("sort by name / size"))
        .expect("sort line");
    assert!(sort.contains(" o "), "{sort}");
    let filter = help
        .lines()
        .find(|l| l.contains("filter paths by regular expression"))
        .expect("filter line");
    assert!(filter.contains("F2"), "{filter}");
}

#[test]
fn a_bad_key_file_is_one_line_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("keys.toml");
    std::fs::write(&file, "quit = \"q\"\nfliter = \"/\"\n").expect("write");
    let out = Command::new(STRATA)
        .arg("--demo")
        .env("STRATA_KEYS", &file)
        .output()
        .expect("run strata");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "{} line 2: unknown action \"fliter\"",
            file.display()
        )),
        "{err}"
    );
}
