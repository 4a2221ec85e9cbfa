//! Errors at the crate boundary, by cause.

use std::path::PathBuf;

/// Everything that can go wrong in the write path that is not a bad record (bad records become
/// [`crate::DeadLetter`]s and never stop a run).
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// A VRL program did not compile; the message is VRL's own diagnostic with the source excerpt.
    #[error("the VRL program for {source_name} does not compile:\n{diagnostics}")]
    VrlCompile {
        /// Which source program (jamf, intune, ws1).
        source_name: String,
        /// Formatted VRL diagnostics.
        diagnostics: String,
    },
    /// A mappings directory is missing files the program list needs.
    #[error("mapping directory {dir}: {reason}")]
    Mappings {
        /// The directory given with --mappings.
        dir: PathBuf,
        /// What is missing, phrased for the user.
        reason: String,
    },
    /// A vendor descriptor (`sources/<folder>/vendor.toml`) that cannot be used.
    #[error("vendor descriptor {file}: key {key}: {reason}")]
    Vendor {
        /// The descriptor file.
        file: String,
        /// The offending key (`-` when the file does not parse; TOML's message then names it).
        key: String,
        /// What is wrong, phrased for the user.
        reason: String,
    },
    /// A time zone name that the TZ database does not know.
    #[error("unknown time zone {0:?}: use a TZ database name such as UTC or Europe/Berlin")]
    TimeZone(String),
    /// Reading input or writing output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being read or written.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An option value that cannot work; the message names the option and what to use instead.
    #[error("{0}")]
    InvalidOption(String),
    /// Arrow could not build a batch.
    #[error("building an Arrow batch: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Parquet output failed.
    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// JSON output failed.
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// An invariant of this crate did not hold: this is a bug, please report it.
    #[error("internal error (a bug in mdm-audit, please report it): {0}")]
    Internal(String),
}

impl TransformError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
