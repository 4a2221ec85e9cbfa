//! Errors of the store, by cause.

use std::path::PathBuf;

/// What can go wrong reading or writing a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `--store` names something that cannot be a store.
    #[error("store location {location:?}: {reason}")]
    Location {
        /// What was given.
        location: String,
        /// Why it does not work and what to give instead.
        reason: String,
    },
    /// Another process writes the same chain of this store.
    #[error(
        "another process is writing chain {chain_id:?} of {table} (lock file {}); stop it, or give \
         this writer its own --writer-id",
        lock.display()
    )]
    Locked {
        /// The table.
        table: String,
        /// The writer.
        chain_id: String,
        /// The lock file.
        lock: PathBuf,
    },
    /// The table holds something this version cannot write to (schema from another version, ...).
    #[error("table {table}: {reason}")]
    Incompatible {
        /// The table.
        table: String,
        /// What differs, and what to do.
        reason: String,
    },
    /// The Delta Lake library failed.
    #[error("Delta Lake: {0}")]
    Delta(#[from] deltalake::DeltaTableError),
    /// The object store failed.
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// Reading or writing Parquet failed.
    #[error("Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow failed.
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A query over the store failed.
    #[error("query: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The Delta log holds something that is not JSON of the expected shape.
    #[error("Delta log {path}: {reason}")]
    Log {
        /// The commit file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A key file cannot be used.
    #[error("key file {path}: {reason}")]
    Key {
        /// The file.
        path: String,
        /// What is wrong with it (never its content).
        reason: String,
    },
    /// An invariant of this crate did not hold: this is a bug, please report it.
    #[error("internal error (a bug in mdm-audit, please report it): {0}")]
    Internal(String),
}

impl StoreError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
