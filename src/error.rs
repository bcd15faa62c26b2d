//! Error type of the engine: every variant renders as one line naming the input and the problem.

use std::path::PathBuf;

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a named file.
    #[error("{}: {}", path.display(), clean(source))]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The input is not an image in any layout strata reads, or is damaged.
    #[error("{path}: {}", clean(problem))]
    Invalid {
        /// The archive, directory or member at fault.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A layer or blob did not match the digest the image declares.
    #[error("{path}: {what} digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The archive or blob path.
        path: String,
        /// Which digest (layer diff_id, blob, config).
        what: String,
        /// Declared digest.
        expected: String,
        /// Computed digest.
        actual: String,
    },
    /// The Docker daemon could not be used.
    #[error("{0}")]
    Daemon(String),
    /// An archive or layout holds several images and none was chosen. The explorer offers
    /// `images` as a list; everywhere else this is the one-line error listing them.
    #[error("{}: holds {} images; {}: {}", crate::model::sanitize(label), images.len(), crate::model::summary::HOW_TO_CHOOSE, crate::model::summary::describe(images))]
    SeveralImages {
        /// The archive or layout.
        label: String,
        /// Its images, in `@N` order.
        images: Vec<crate::model::summary::ImageSummary>,
    },
    /// Any other failure, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Builds an [`Error::Invalid`] for `path` with a problem description.
    pub fn invalid(path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Makes an error text safe and short: parser errors can quote raw header bytes, so control
/// characters are escaped (one line, nothing reaches a terminal raw) and the text is capped.
pub fn clean(e: &impl std::fmt::Display) -> String {
    let s = crate::model::sanitize(&e.to_string());
    if s.chars().count() > 300 {
        let cut: String = s.chars().take(300).collect();
        format!("{cut}…")
    } else {
        s
    }
}
