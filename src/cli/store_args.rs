//! `--store`, `--signing-key` and `--trusted-keys`, shared by the commands that read or write the
//! store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use mdm_audit_store::{DEFAULT_STORE, HeadSigner, StoreLocation, TrustedKeys};

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

/// A multi-threaded runtime for a command's async work. Blocking work (the local object store's file
/// operations, fsync, parsing request bodies) runs on at most 16 threads: tokio's default of 512
/// let a store with many small commits start over a hundred at once, each with its own allocator
/// heap, for no gain on a machine with a few cores.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))
}

/// The key a writer signs its chain heads with.
#[derive(Debug, Clone, Args)]
pub struct SigningArgs {
    /// Sign every chain head this process records with this Ed25519 private key (PKCS#8 PEM, made
    /// by `mdm-audit keygen`); `verify` given the public key then detects a rewrite made without it.
    #[arg(long, env = "MDM_AUDIT_SIGNING_KEY", value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
}

impl SigningArgs {
    /// The signer, if a key was given.
    pub fn signer(&self) -> Result<Option<Arc<HeadSigner>>, CliError> {
        self.signing_key
            .as_deref()
            .map(|p| HeadSigner::from_file(p).map(Arc::new))
            .transpose()
            .map_err(CliError::from)
    }
}

/// The public keys a reader trusts.
#[derive(Debug, Clone, Args)]
pub struct TrustArgs {
    /// Check every signed chain head against these public keys (a PEM file of one or more
    /// `PUBLIC KEY` blocks, the `.pub` files `mdm-audit keygen` writes). Keep it where the store's
    /// writers cannot change it. Without it, signatures are listed but not checked.
    #[arg(long, env = "MDM_AUDIT_TRUSTED_KEYS", value_name = "FILE")]
    pub trusted_keys: Option<PathBuf>,
}

impl TrustArgs {
    /// The trusted keys, if a file was given.
    pub fn keys(&self) -> Result<Option<TrustedKeys>, CliError> {
        self.trusted_keys
            .as_deref()
            .map(TrustedKeys::from_file)
            .transpose()
            .map_err(CliError::from)
    }
}
