//! strata: what is really inside a container image, layer by layer.
//!
//! One entry point: [`analyse`] (or [`analysis::pipeline::open`] then
//! [`Opened::analyse`](analysis::pipeline::Opened::analyse)) turns an [`Input`](source::Input)
//! into an [`Analysed`] image: the image model, its size accounting, findings, package
//! inventory and the configured [`Redactor`](redact::Redactor) that every output goes through.
//!
//! Imports go one way, each module using only those before it (checked by
//! `tests/architecture.rs`):
//!
//! ```text
//! model, error -> text -> redact -> config -> source -> analysis -> policy -> report  (engine)
//!                                                                     cli, ui        (on top)
//! ```
//!
//! The engine knows nothing of the terminal: it builds without the `tui`, `cli` and `daemon`
//! features (`cargo build --lib --no-default-features`).

pub mod analysis;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod error;
pub mod model;
pub mod policy;
pub mod redact;
pub mod report;
pub mod source;
pub mod text;
#[cfg(feature = "tui")]
pub mod ui;

pub use analysis::pipeline::{analyse, Analysed, Settings};
pub use error::{Error, Result};
