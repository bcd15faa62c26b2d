//! The interactive explorer: a ratatui/crossterm UI on tokio.
//!
//! `app` owns the state and turns key presses and worker messages into state changes and
//! [`app::Command`]s; `worker` runs those commands off the render loop (loading, file contents,
//! highlighting, extraction); `panes` draw the state; `run` ties them to the terminal.

pub mod app;
pub mod filetree;
pub mod highlight;
pub mod keymap;
pub mod panes;
pub mod run;
pub mod terminal;
pub mod text;
pub mod worker;

pub use app::{App, Launch};
pub use run::run;
