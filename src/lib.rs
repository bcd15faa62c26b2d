//! strata: what is really inside a container image, layer by layer.
//!
//! The engine (`source` -> `model` -> `analysis` -> `report`) knows nothing of the terminal;
//! the `ui` module renders its state and sends intents.

pub mod analysis;
pub mod cli;
pub mod error;
pub mod model;
pub mod report;
pub mod source;

pub use error::{Error, Result};
