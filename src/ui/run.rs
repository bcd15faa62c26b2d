//! The event loop: crossterm's `EventStream`, worker messages and signals under `select!`;
//! everything pending is handled before one draw, and only when something changed.

use std::time::{Duration, Instant};

use crossterm::event::{Event as CtEvent, EventStream};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::mpsc;

use super::app::{App, Command, Event, Launch, LoadState};
use super::{panes, terminal, worker};
use crate::config::FindingsConfig;
use crate::source::LoadOptions;
use crate::{Error, Result};

/// Runs the explorer until the user quits, with `findings` (the `.strata.toml` sections) for
/// the findings pane. `STRATA_FIRST_FRAME=1` prints the time from the process start to the first frame with content
/// (layers shown) on exit, for measurements.
pub fn run(
    launch: Launch,
    opts: LoadOptions,
    findings: FindingsConfig,
    signatures: crate::analysis::signatures::SignatureOptions,
) -> Result<()> {
    // A bad key file stops here, before the terminal is touched: one line, exit 2.
    super::user_keys::install_from_file().map_err(Error::Other)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the runtime: {e}")))?;
    // A panic on this thread must not unwind through the runtime's drop, which would wait
    // for every worker (a read blocked on a pipe or a slow registry) before the process ends.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(main_loop(launch, opts, findings, signatures))
    }));
    terminal::restore();
    // Workers may still be reading a huge image: do not wait for them.
    rt.shutdown_background();
    let (first_frame, loaded) = match r {
        Ok(r) => r?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if std::env::var_os("STRATA_FIRST_FRAME").is_some() {
        eprintln!(
            "strata: first frame with layers after {:.3}s, fully loaded after {:.3}s",
            first_frame.map_or(f64::NAN, |d| d.as_secs_f64()),
            loaded.map_or(f64::NAN, |d| d.as_secs_f64())
        );
    }
    Ok(())
}

fn spawn(cmds: Vec<Command>, tx: &mpsc::UnboundedSender<super::app::Msg>) {
    for c in cmds {
        let tx = tx.clone();
        tokio::task::spawn_blocking(move || worker::execute(c, &tx));
    }
}

type Timings = (Option<Duration>, Option<Duration>);

/// When the process started (set by the binary's `main` through [`mark_process_start`]; the
/// run loop's start otherwise): what `STRATA_FIRST_FRAME` times are measured from.
static PROCESS_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Records now as the process start, for `STRATA_FIRST_FRAME`.
pub fn mark_process_start() {
    let _ = PROCESS_START.set(Instant::now());
}

/// Shortest time between two frames (about 60 per second at most).
const FRAME: Duration = Duration::from_millis(16);

async fn main_loop(
    launch: Launch,
    opts: LoadOptions,
    cfg: FindingsConfig,
    signatures: crate::analysis::signatures::SignatureOptions,
) -> Result<Timings> {
    let io = |e: std::io::Error| Error::Other(format!("terminal: {e}"));
    let (term, _guard) = terminal::init().map_err(io)?;
    // Never dropped: ratatui's drop shows the cursor and, when that fails because the terminal
    // is gone (SIGHUP), prints to the same dead terminal, which panics. `restore` (the guard)
    // shows the cursor instead.
    let mut term = std::mem::ManuallyDrop::new(term);
    let started = *PROCESS_START.get_or_init(Instant::now);
    let mut first_frame = None;
    let mut loaded = None;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::with_findings(opts, std::sync::Arc::new(cfg));
    app.signatures = std::sync::Arc::new(signatures);
    let size = term.size().map_err(io)?;
    app.size = (size.width, size.height);
    spawn(app.start(launch), &tx);
    let mut events = EventStream::new();
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{signal, SignalKind};
        let sig = |k| signal(k).map_err(|e| Error::Other(format!("signal: {e}")));
        (
            sig(SignalKind::terminate())?,
            sig(SignalKind::hangup())?,
            sig(SignalKind::interrupt())?,
        )
    };
    // A loading screen needs a ticking clock; otherwise nothing redraws without input.
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if app.dirty && last_draw.elapsed() >= FRAME {
            term.draw(|f| panes::draw(f, &app)).map_err(io)?;
            last_draw = Instant::now();
            app.dirty = false;
            for drawn in app.after_draw.drain(..) {
                let _ = drawn.send(());
            }
            if first_frame.is_none() && app.image.is_some() {
                first_frame = Some(started.elapsed());
            }
            if loaded.is_none() && app.loaded() {
                loaded = Some(started.elapsed());
            }
        }
        if app.quit {
            break;
        }
        // Coalesce: when something changed within the last frame, draw at the frame deadline.
        let pending_frame = app.dirty.then_some(last_draw + FRAME);
        let redraw = async move {
            if let Some(at) = pending_frame {
                tokio::time::sleep_until(at.into()).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let signal = async {
            tokio::select! {
                _ = signals.0.recv() => {}
                _ = signals.1.recv() => {}
                _ = signals.2.recv() => {}
            }
        };
        #[cfg(not(unix))]
        let signal = tokio::signal::ctrl_c().map(|_| ());
        let mut cmds = Vec::new();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => cmds.extend(handle(&mut app, ev)),
                Some(Err(e)) => return Err(io(e)),
                None => break,
            },
            Some(msg) = rx.recv() => cmds.extend(app.update(Event::Msg(msg))),
            _ = tick.tick() => {
                if matches!(app.load, LoadState::Loading { .. }) {
                    app.dirty = true;
                }
            }
            () = redraw => {}
            () = signal => break,
        }
        // Drain everything already pending, then draw once.
        while let Some(Some(ev)) = events.next().now_or_never() {
            match ev {
                Ok(ev) => cmds.extend(handle(&mut app, ev)),
                Err(e) => return Err(io(e)),
            }
        }
        // Bounded: a worker sending faster than the loop handles must not hold off the draw.
        let drain_until = Instant::now() + FRAME;
        while Instant::now() < drain_until {
            let Ok(msg) = rx.try_recv() else { break };
            cmds.extend(app.update(Event::Msg(msg)));
        }
        spawn(cmds, &tx);
    }
    Ok((first_frame, loaded))
}

fn handle(app: &mut App, ev: CtEvent) -> Vec<Command> {
    match ev {
        CtEvent::Key(k) => app.update(Event::Key(k)),
        CtEvent::Mouse(m) => app.update(Event::Mouse(m)),
        CtEvent::Resize(w, h) => app.update(Event::Resize(w, h)),
        _ => Vec::new(),
    }
}
