//! End-to-end tests of the real `strata` binary in a real terminal (tmux on a private socket):
//! open the demo archive, see the layers, move to a file, open its content, quit, and check
//! the terminal was restored (also after Ctrl+C and SIGTERM). Plus `docker load` of the
//! written demo archive when a daemon is reachable.
//!
//! They need tmux (and dockerd for the last one): with `STRATA_TEST_REAL=1` (scripts/test.sh)
//! a missing one fails them; without it they are ignored (tests/common/real.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_strata");
const TIMEOUT: Duration = Duration::from_secs(30);

mod common;

/// A tmux server on a private socket, killed on drop (also when the test fails).
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, shell_cmd: &str) -> Self {
        let t = Tmux {
            socket: format!("strata-e2e-{}-{name}", std::process::id()),
        };
        let out = t.run(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            "e2e",
            shell_cmd,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}: {out:?}");
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    fn format(&self, f: &str) -> String {
        String::from_utf8_lossy(&self.run(&["display-message", "-p", "-t", "e2e", f]).stdout)
            .trim()
            .to_string()
    }

    /// Polls the screen until every needle is on it.
    fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.capture();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needles:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// A shell command running strata with `args`, its pid written to `pidfile` first.
fn launched(args: &str, pidfile: &Path) -> String {
    format!(
        "sh -c \"echo \\$\\$ > {pid}; exec {bin} {args}\"",
        pid = quote(pidfile),
        bin = quote(Path::new(BIN)),
    )
}

/// A shell command running strata, then reporting its exit status and the tty modes.
fn wrapped(args: &str, pidfile: &Path) -> String {
    format!(
        "{}; echo STRATA-EXITED $?; \
         stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; \
         echo; echo TTY-CHECKED; sleep 600",
        launched(args, pidfile),
    )
}

fn assert_restored(t: &Tmux) {
    let screen = t.wait_for(&["STRATA-EXITED 0", "TTY-CHECKED"]);
    assert!(
        screen.contains("icanon echo") && !screen.contains("-icanon"),
        "raw mode left on:\n{screen}"
    );
    assert_eq!(t.format("#{alternate_on}"), "0", "alternate screen left on");
    assert_eq!(t.format("#{cursor_flag}"), "1", "cursor left hidden");
    assert_eq!(t.format("#{mouse_any_flag}"), "0", "mouse capture left on");
    assert!(
        !screen.contains("Layers ("),
        "explorer left on screen:\n{screen}"
    );
}

fn demo_archive(dir: &Path) -> PathBuf {
    let archive = dir.join("demo.tar");
    let out = Command::new(BIN)
        .args(["demo", "--write"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "strata demo --write: {out:?}");
    archive
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs tmux: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn explore_the_demo_archive_open_a_file_and_quit() {
    common::real::tool("tmux", "-V", "Debian's tmux");
    let dir = tempfile::tempdir().unwrap();
    let archive = demo_archive(dir.path());
    let pidfile = dir.path().join("pid");
    let t = Tmux::start("archive", &wrapped(&quote(&archive), &pidfile));
    // The layers, with their history, and the file tree.
    let screen = t.wait_for(&[
        "Layers (6)",
        "RUN apt-get update",
        "USER www-data",
        "busybox",
    ]);
    assert!(screen.contains("Filesystem at layer 0"), "{screen}");
    // Layer 2 (the application), then the tree, filter to main.py, open it.
    t.send(&["j", "j"]);
    t.wait_for(&["Layer 2 of 6"]);
    t.send(&["Tab"]);
    t.wait_for(&["Filesystem at layer 2", "main.py"]);
    t.send(&["/", "main", ".", "py", "Enter", "G", "Enter"]);
    let screen = t.wait_for(&[
        "/app/main.py · layer 2",
        "def load_config(path: str) -> dict:",
    ]);
    assert!(screen.contains("1 │ #!/usr/bin/env python3"), "{screen}");
    // Page through and back, then close the viewer and quit.
    t.send(&["PageDown"]);
    t.wait_for(&["if __name__ == \"__main__\":"]);
    t.send(&["q"]);
    t.wait_for(&["Filesystem at layer 2"]);
    t.send(&["q"]);
    assert_restored(&t);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs tmux: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn findings_pane_jumps_to_the_squashed_key_and_reveals_only_on_request() {
    common::real::tool("tmux", "-V", "Debian's tmux");
    let dir = tempfile::tempdir().unwrap();
    let archive = demo_archive(dir.path());
    let pidfile = dir.path().join("pid");
    let t = Tmux::start("findings", &wrapped(&quote(&archive), &pidfile));
    // Findings are computed after the load and badge the layer that holds the key.
    t.wait_for(&["Layers (6)", "2 CRIT", "findings (F)"]);
    t.send(&["F"]);
    let screen = t.wait_for(&[
        "Findings (",
        "CRITICAL",
        "/root/.ssh/id_rsa",
        "Press v to reveal",
    ]);
    assert!(
        !screen.contains("-----BEGIN RSA") && !screen.contains("Raw value"),
        "no raw key before the reveal key:\n{screen}"
    );
    // v asks first; y shows the raw value of this one finding.
    t.send(&["v"]);
    t.wait_for(&["Show the raw secret on screen"]);
    t.send(&["y"]);
    t.wait_for(&[
        "Raw value (on screen only",
        "-----BEGIN RSA PRIVATE KEY-----",
    ]);
    // Moving away hides it; Enter on the key jumps to it in layer 3 of the tree.
    t.send(&["j", "k"]);
    let screen = t.wait_for(&["Press v to reveal"]);
    assert!(!screen.contains("Raw value"), "{screen}");
    t.send(&["Enter"]);
    t.wait_for(&["Filesystem at layer 3", "id_rsa  !CRIT"]);
    // …and Enter opens it, the key masked until the same deliberate reveal (issue 9).
    t.send(&["Enter"]);
    let screen = t.wait_for(&["/root/.ssh/id_rsa · layer 3", "secrets masked: v reveals"]);
    assert!(!screen.contains("-----BEGIN RSA"), "{screen}");
    t.send(&["v"]);
    t.wait_for(&["Show the masked secrets of this file"]);
    t.send(&["y"]);
    t.wait_for(&[
        "/root/.ssh/id_rsa · layer 3",
        "-----BEGIN RSA PRIVATE KEY-----",
    ]);
    t.send(&["q", "q"]);
    assert_restored(&t);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs tmux: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn anatomy_view_explains_the_whiteout_that_deletes_the_key() {
    common::real::tool("tmux", "-V", "Debian's tmux");
    let dir = tempfile::tempdir().unwrap();
    let archive = demo_archive(dir.path());
    let pidfile = dir.path().join("pid");
    let t = Tmux::start("anatomy", &wrapped(&quote(&archive), &pidfile));
    t.wait_for(&["Layers (6)", "RUN apt-get update"]);
    // T opens the anatomy view on the chain of documents; i explains it.
    t.send(&["T"]);
    let screen = t.wait_for(&[
        "Anatomy",
        "1 Documents",
        "manifest.json",
        "rootfs.diff_ids[4]",
    ]);
    assert!(
        !screen.contains("An image is a few JSON documents"),
        "explanations are off by default"
    );
    t.send(&["i"]);
    t.wait_for(&["An image is a few JSON documents"]);
    // 2 lists layer 0's raw entries; → goes to layer 4, the one deleting the key.
    t.send(&["2"]);
    t.wait_for(&["layer 0 · ", " entries as stored, in archive order"]);
    t.send(&["l", "l", "l", "l"]);
    // The explanation wraps in the pane: read it as one line.
    let screen = t.wait_for(&["root/.wh..ssh", "↳ whiteout: this entry is how layer 4"]);
    let pane: Vec<&str> = screen
        .lines()
        .filter_map(|l| l.split('┃').nth(1))
        .map(str::trim)
        .collect();
    assert!(
        pane.join(" ").contains(
            "↳ whiteout: this entry is how layer 4 deletes /root/.ssh: the directory's bytes stay in layer 3"
        ),
        "{screen}"
    );
    assert!(
        screen.contains("Layer 4 of 6"),
        "the layers pane follows:\n{screen}"
    );
    t.send(&["q", "q"]);
    assert_restored(&t);
}

/// A read that never ends (a named pipe nobody writes) does not keep strata alive: `q` restores
/// the terminal and exits, and closing the terminal (SIGHUP, its output gone) ends the process.
#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs tmux: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn quitting_or_closing_the_terminal_while_a_read_blocks_ends_strata() {
    common::real::tool("tmux", "-V", "Debian's tmux");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("never-written.tar");
    let out = Command::new("mkfifo").arg(&fifo).output().expect("mkfifo");
    assert!(out.status.success(), "mkfifo: {out:?}");

    let pidfile = dir.path().join("pid");
    let t = Tmux::start("blocked-q", &wrapped(&quote(&fifo), &pidfile));
    t.wait_for(&["waiting for the image"]);
    t.send(&["q"]);
    assert_restored(&t);
    drop(t);

    // Strata's own stdout and stderr are the terminal, which goes away with the session.
    let pidfile = dir.path().join("pid2");
    let t = Tmux::start("blocked-hup", &launched(&quote(&fifo), &pidfile));
    t.wait_for(&["waiting for the image"]);
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    let proc_dir = PathBuf::from("/proc").join(&pid);
    assert!(proc_dir.exists(), "strata is not running");
    let _ = t.run(&["kill-session", "-t", "e2e"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    // A zombie (not yet reaped) has ended too.
    let alive = || {
        std::fs::read_to_string(proc_dir.join("stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(),
        "strata {pid} still runs 10 s after its terminal closed"
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs tmux: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn ctrl_c_and_sigterm_restore_the_terminal() {
    common::real::tool("tmux", "-V", "Debian's tmux");
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let t = Tmux::start("ctrlc", &wrapped("--demo", &pidfile));
    t.wait_for(&["Layers (6)", "busybox"]);
    // Ctrl+C inside the viewer.
    t.send(&["Tab", "Enter"]);
    t.send(&["C-c"]);
    assert_restored(&t);
    drop(t);

    let pidfile = dir.path().join("pid2");
    let t = Tmux::start("term", &wrapped("--demo", &pidfile));
    t.wait_for(&["Layers (6)", "busybox"]);
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let out = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_restored(&t);
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn demo_archive_loads_into_docker() {
    common::real::daemon();
    let dir = tempfile::tempdir().unwrap();
    let archive = demo_archive(dir.path());
    let out = Command::new("docker")
        .args(["load", "-i"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "docker load: {out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(strata::source::demo::TAG), "{stdout}");
    let img = strata::source::demo::load(&Default::default(), &Default::default()).unwrap();
    let out = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{len .RootFS.Layers}}",
        ])
        .arg(strata::source::demo::TAG)
        .output()
        .unwrap();
    assert!(out.status.success(), "docker image inspect: {out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{} {}", img.id, img.layers.len())
    );
}
