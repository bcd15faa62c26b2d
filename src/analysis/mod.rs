//! Analyses over the image model: size accounting and findings (secrets, waste, package bloat,
//! adoption checks) with the package inventory.

pub mod anatomy;
pub mod base;
pub mod bloat;
pub mod checks;
pub mod context;
pub mod diff;
pub mod dockerfile;
pub mod efficiency;
pub use crate::model::finding;
pub mod findings;
pub mod inspector;
pub mod packages;
pub mod pipeline;
pub mod provenance;
pub mod secrets;
pub mod signatures;
pub mod version;
pub mod waste;
