//! `--store` and `--writer-id`, shared by every command that reads or writes the store.

use std::collections::HashMap;

use clap::Args;
use mdm_audit_store::{DEFAULT_STORE, StoreLocation};

use super::CliError;

/// Where the store is.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// The store: a directory (created when first written) or an object-store URL such as
    /// s3://bucket/audit (credentials from the environment, as object_store reads them).
    #[arg(long, env = "MDM_AUDIT_STORE", default_value = DEFAULT_STORE, value_name = "PATH|URL")]
    pub store: String,
}

impl StoreArgs {
    /// Parses the location.
    pub fn location(&self) -> Result<StoreLocation, CliError> {
        Ok(StoreLocation::parse(&self.store, HashMap::new())?)
    }
}

/// A multi-threaded runtime for a command's async work.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))
}
