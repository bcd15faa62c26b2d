//! The explorer's provenance pane on a buildx-shaped archive (SLSA v0.2 and SPDX attestations):
//! snapshot of the pane, cell checks (URLs styled as links, the selected attestation, masked
//! build arguments), the raw statement on Enter (redacted, highlighted as JSON) and back, the
//! key in the help overlay, and "no provenance attestation" for an image without any.

mod common;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use strata::source::LoadOptions;
use strata::ui::app::{App, Launch, Pane};
use strata::ui::layout::{regions, Body};
use strata::ui::{highlight, worker};

use common::fixture::{
    slsa_v02_predicate, spdx_predicate, write_attested, write_image, AttestedLayout, EntrySpec,
    ImageSpec, LayerSpec, Layout, StatementSpec,
};
use common::ui::{draw, find, keys, press};

const SECRET: &str = "ghp_R4nd0mT0k3nV4lu3AbCdEfGh1234567890";

fn spec() -> ImageSpec {
    let mut s = ImageSpec::new(vec![LayerSpec::new(
        "ADD rootfs.tar / # buildkit",
        vec![
            EntrySpec::dir("lib/", 0o755),
            EntrySpec::dir("lib/apk/", 0o755),
            EntrySpec::dir("lib/apk/db/", 0o755),
            EntrySpec::file(
                "lib/apk/db/installed",
                "P:musl\nV:1.2.5-r0\nI:4096\n\n",
                0o644,
            ),
        ],
    )]);
    s.repo_tags = vec!["example/attested:1.0".into()];
    s
}

fn app_for(path: &std::path::Path) -> App {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Image(path.display().to_string()));
    worker::settle(&mut app, cmds);
    draw(&mut app);
    assert!(app.loaded(), "{:?}", app.load);
    app
}

fn attested(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("attested.tar");
    write_attested(
        &spec(),
        &[
            StatementSpec::new(
                "https://slsa.dev/provenance/v0.2",
                slsa_v02_predicate(
                    (
                        "pkg:docker/alpine@3.20?platform=linux%2Famd64",
                        &format!("sha256:{}", "b".repeat(64)),
                    ),
                    &[("API_TOKEN", SECRET), ("VERSION", "1.2.3")],
                    (
                        "https://github.com/example/app",
                        "0123456789abcdef0123456789abcdef01234567",
                    ),
                ),
            ),
            StatementSpec::new(
                "https://spdx.dev/Document",
                spdx_predicate(&[("musl", "1.2.5-r0")]),
            ),
        ],
        AttestedLayout::OciArchive,
        &path,
    )
    .expect("fixture");
    path
}

/// The right half of the screen (the pane with its frame) as text.
fn right_region(app: &mut App) -> (String, Buffer, Rect) {
    let t = draw(app);
    let buf = t.backend().buffer().clone();
    let Body::Explorer { right, .. } = regions(app, Rect::new(0, 0, 120, 40)).body else {
        panic!("not the explorer");
    };
    let mut out = String::new();
    for y in right.y..right.y + right.height {
        for x in right.x..right.x + right.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    (out, buf, right)
}

#[test]
fn provenance_pane_shows_who_made_the_image_and_the_raw_statement() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut app = app_for(&attested(dir.path()));
    keys(&mut app, "V");
    assert_eq!(app.focus, Pane::Provenance);
    let (region, buf, right) = right_region(&mut app);
    // The fixture is deterministic (digests included), so the whole pane is a stable snapshot.
    insta::assert_snapshot!("provenance_pane", region);
    assert!(
        !region.contains(SECRET),
        "raw build arg on screen:\n{region}"
    );
    for needle in [
        "Provenance   SLSA v0.2 (subject matches this image)",
        "Builder      https://github.com/example/app/actions/runs/42",
        "Source       https://github.com/example/app",
        "Commit       0123456789abcdef0123456789abcdef01234567",
        // Clipped at the pane's edge on a 120-column terminal.
        "https://github.com/example/app/commit/0123456789abcdef",
        "Dockerfile   docker/Dockerfile.release",
        "Base image   alpine:3.20@sha256:bbbb",
        "Build args   API_TOKEN=ghp_",
        "VERSION=1.2.3",
        "Started      2024-05-01T10:00:00.5Z",
        "SBOM         spdx (1 packages): agrees with the image's packages",
        "Attestations (2)",
        "SLSA provenance v0.2",
        "SPDX SBOM",
        "subject matches",
        "Signatures none found",
    ] {
        assert!(region.contains(needle), "{needle:?} not in\n{region}");
    }
    // The source repository and the commit page are links: blue and underlined.
    for url in [
        "https://github.com/example/app/actions/runs/42",
        "https://github.com/example/app/commit/",
    ] {
        let (x, y) = find(&buf, url).unwrap_or_else(|| panic!("{url} not on screen"));
        assert!(x >= right.x);
        let cell = &buf[(x, y)];
        assert_eq!(cell.fg, Color::Blue, "{url}");
        assert!(cell.modifier.contains(Modifier::UNDERLINED), "{url}");
    }
    // The first attestation is selected (reversed: the pane has the focus).
    let (x, y) = find(&buf, "> SLSA provenance v0.2").expect("selected row");
    assert!(buf[(x + 2, y)].modifier.contains(Modifier::REVERSED));
    // Down selects the SPDX statement; Enter shows it.
    press(&mut app, KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(app.provenance.selected, 1);
    press(&mut app, KeyCode::Up, KeyModifiers::NONE);
    keys(&mut app, "\n");
    let view = app.provenance.statement.clone().expect("statement view");
    assert_eq!(view.attestation, 0);
    let (region, buf, _) = right_region(&mut app);
    assert!(
        region.contains("Statement SLSA provenance v0.2"),
        "{region}"
    );
    assert!(region.contains("\"predicate\": {"), "{region}");
    assert!(region.contains("\"_type\""), "{region}");
    // Masked in the statement too (the key looks secret); the harmless argument stays.
    assert!(!region.contains(SECRET), "{region}");
    assert!(
        view.lines
            .iter()
            .any(|l| l.contains("\"build-arg:API_TOKEN\": \"ghp_") && l.contains("redacted")),
        "{:?}",
        view.lines
    );
    assert!(view
        .lines
        .iter()
        .any(|l| l.contains("\"build-arg:VERSION\": \"1.2.3\"")));
    // Highlighted: a key and a string value are drawn in different colours.
    let (kx, ky) = find(&buf, "\"_type\"").expect("key");
    let (vx, vy) = find(&buf, "\"https://in-toto.io/Statement/v0.1\"").expect("value");
    assert_ne!(
        buf[(kx + 1, ky)].fg,
        buf[(vx + 1, vy)].fg,
        "not highlighted"
    );
    // Scrolling moves through the statement; Esc goes back to the summary, V closes the pane.
    press(&mut app, KeyCode::PageDown, KeyModifiers::NONE);
    assert!(app
        .provenance
        .statement
        .as_ref()
        .is_some_and(|v| v.scroll > 0));
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.provenance.statement.is_none());
    assert_eq!(app.focus, Pane::Provenance);
    keys(&mut app, "V");
    assert!(!app.provenance.open);
    assert_eq!(app.focus, Pane::Tree);
    // The key is in the help overlay.
    keys(&mut app, "?");
    let t = draw(&mut app);
    let screen = t.backend().to_string();
    assert!(screen.contains("who made the image"), "{screen}");
    assert!(strata::ui::keymap::help()
        .iter()
        .any(|(scope, keys, _)| { scope.title() == "Provenance pane" && keys == "Enter" }));
}

#[test]
fn provenance_pane_without_attestations_says_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("plain.tar");
    write_image(&spec(), Layout::OciArchiveGzip, &path).expect("fixture");
    let mut app = app_for(&path);
    keys(&mut app, "V");
    let (region, _, _) = right_region(&mut app);
    assert!(
        region.contains("Provenance   no provenance attestation"),
        "{region}"
    );
    assert!(region.contains("Attestations (0)"), "{region}");
    // Enter with nothing to show: a notice, no statement.
    keys(&mut app, "\n");
    assert!(app.provenance.statement.is_none());
    assert_eq!(
        app.notice.as_ref().map(|n| n.0.as_str()),
        Some("no attestation to show")
    );
}
