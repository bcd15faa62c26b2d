//! The Docker daemon as a source, through bollard.

use std::io::Read;

use crate::{Error, Result};

/// Exports `reference` from the daemon as a blocking reader of the image tar.
pub fn export_blocking(reference: &str) -> Result<Box<dyn Read + Send>> {
    Err(Error::Daemon(format!(
        "{reference}: daemon source not available yet"
    )))
}

/// Loads an image from the daemon.
pub fn load(
    reference: &str,
    _opts: &super::LoadOptions,
    _progress: &super::Progress,
) -> Result<crate::model::Image> {
    Err(Error::Daemon(format!(
        "{reference}: daemon source not available yet"
    )))
}
