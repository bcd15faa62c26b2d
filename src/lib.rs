//! strata: what is really inside a container image, layer by layer.
//!
//! The engine (`source` -> `model` -> `analysis` -> `report`) knows nothing of the terminal;
//! the `ui` module renders its state and sends intents.

pub mod analysis;
pub mod ci;
pub mod cli;
pub mod demo;
pub mod error;
pub mod model;
pub mod progress_bar;
pub mod report;
pub mod source;
pub mod ui;

pub use error::{Error, Result};
