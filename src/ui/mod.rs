//! The interactive explorer: a ratatui/crossterm UI on tokio.
//!
//! `app` owns the state, composed of one sub-state per concern (`state`: image list, layers,
//! tree, viewer, findings, prompts, mouse), and turns key presses and worker messages (`msg`)
//! into state changes and [`msg::Command`]s; `worker` runs those commands off the render loop
//! (loading, layer views, file contents, highlighting, extraction: `extract`); `layout` places the panes;
//! `panes` draw the state without changing it; `run` ties them to the terminal.

pub mod app;
pub mod extract;
pub mod filetree;
pub mod highlight;
pub mod keymap;
pub mod layout;
pub mod mask;
pub mod msg;
pub mod panes;
pub mod run;
pub mod state;
pub mod terminal;
pub mod text;
pub mod textdiff;
pub mod user_keys;
pub mod worker;

pub use app::{App, Launch};
pub use run::run;
