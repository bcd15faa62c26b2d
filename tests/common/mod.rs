//! Helpers shared by the integration tests.
//!
//! Each test crate uses a different subset of these helpers, so unused items are expected.
#![allow(dead_code)]

pub mod fixture;
pub mod real;
pub mod registry;
pub mod twins;
pub mod ui;
