//! The progress bar `strata report` and `strata ci` draw on stderr while an image loads (only
//! on a terminal, never with `--quiet`): bytes of the known total for registry downloads,
//! layers read otherwise.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::source::{LoadOptions, Progress, ProgressEvent};

/// A progress bar fed by [`ProgressEvent`]s.
#[derive(Debug, Clone)]
pub struct Bar {
    bar: ProgressBar,
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Bar {
    /// A spinner on stderr until the image's size is known.
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message("reading the image");
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar }
    }

    /// A [`Progress`] that drives this bar.
    pub fn progress(&self) -> Progress {
        let bar = self.bar.clone();
        Progress::new(move |e| match e {
            ProgressEvent::Metadata(img) => {
                let total: u64 = img.layers.iter().map(|l| l.location.blob_bytes).sum();
                if total > 0 {
                    bar.set_length(total);
                    bar.set_style(bytes_style());
                }
                bar.set_message(format!("{} layers", img.layers.len()));
            }
            ProgressEvent::Phase(p) => bar.set_message(crate::model::sanitize(&p)),
            ProgressEvent::Bytes(n) => bar.set_position(n),
            ProgressEvent::LayerDone { done, total } => {
                bar.set_message(format!("{done}/{total} layers read"));
            }
            ProgressEvent::Notice(n) => {
                bar.println(format!("strata: {}", crate::model::sanitize(&n)));
            }
            ProgressEvent::LayerStarted(_) | ProgressEvent::LayerBytes { .. } => {}
        })
    }

    /// The progress to load with: a bar when `opts.progress_bar` and stderr is a terminal,
    /// else silent (notes then go straight to stderr).
    pub fn for_load(opts: &LoadOptions) -> (Progress, Option<Bar>) {
        use std::io::IsTerminal;
        if opts.progress_bar && std::io::stderr().is_terminal() {
            let bar = Bar::new();
            (bar.progress(), Some(bar))
        } else {
            (Progress::default(), None)
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
