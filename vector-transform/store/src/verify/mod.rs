//! `mdm-audit verify`: recompute every table's hash chains from what is on disk and name the first
//! broken link. Nothing is taken from the library's snapshot or caches: the commit files are read
//! and parsed here, every live data file is read back, every row's hash is recomputed from its
//! values, and every link, every commit's recorded range and head are checked.
//!
//! What it detects: a changed value (the row's hash no longer matches its content), a deleted row
//! (a gap in `chain_seq`, the next row's `prev_hash` points nowhere), a deleted data file (the log
//! names a file that is gone), rows or commits moved or reordered (a row's position disagrees with
//! its neighbours' hashes, or a commit's range does not follow the previous one), a removed commit
//! in the middle (ranges do not join), a rewritten commit head. What a hash chain cannot detect on
//! its own is a rewrite of everything from some point on (all hashes and commit heads recomputed):
//! for that, keep the heads `verify` prints (or an evidence pack's) somewhere else and compare.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;

mod rows;
mod table;

use rows::*;
pub use table::verify_table;
use table::*;

use super::StoreError;
use super::chain::{
    CHAIN_ID, CHAIN_SEQ, GENESIS, HASH, PREV_HASH, canonical_row, is_unhashed, link_hash,
};
use super::location::StoreLocation;
use super::log::{ChainCommit, LogEntry, list_versions, read_commit};
use super::signing::{SignatureProblem, TrustedKeys, head_message};
use super::tables::TableRegistry;

/// What kind of break was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A commit file is missing between others.
    LogGap,
    /// A commit file is not valid.
    LogUnreadable,
    /// A writer's commits do not follow each other (reordered, removed or rewritten commit).
    CommitOutOfOrder,
    /// A data file the log names is gone.
    FileMissing,
    /// A data file cannot be read.
    FileUnreadable,
    /// A row's values no longer produce its hash.
    RowAltered,
    /// A row sits in a file of a commit whose range does not include it.
    RowMisplaced,
    /// Rows of a chain are missing.
    RowsMissing,
    /// Two rows claim the same chain position.
    RowDuplicated,
    /// A row's `prev_hash` is not its predecessor's hash.
    LinkBroken,
    /// A commit's recorded head is not the hash of its last row.
    HeadMismatch,
    /// A row carries no chain columns.
    Unchained,
    /// Trusted keys were given, and a commit's chain head is not signed.
    HeadUnsigned,
    /// A commit's chain head is signed by a key that is not trusted.
    HeadUntrustedKey,
    /// A commit's signature does not match its chain record.
    HeadSignatureInvalid,
}

/// One break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What broke.
    pub kind: ProblemKind,
    /// The commit (table version) it belongs to.
    pub version: Option<u64>,
    /// The writer's chain.
    pub chain_id: Option<String>,
    /// Chain position.
    pub seq: Option<i64>,
    /// The row's key (`event_uid` for events), where a row can be named.
    pub key: Option<String>,
    /// Data file concerned, if any.
    pub file: Option<String>,
    /// What was found, for a person.
    pub detail: String,
}

/// One writer's chain in a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainSummary {
    /// The writer.
    pub chain_id: String,
    /// Rows on the chain.
    pub rows: u64,
    /// Commits by this writer.
    pub commits: u64,
    /// The head recorded by the writer's last commit.
    pub head: String,
    /// The last commit's version.
    pub last_version: u64,
    /// Commits whose chain head is signed.
    pub signed_commits: u64,
    /// Every signed head: what was signed, by which key, the signature (for checking with OpenSSL
    /// or Python's `cryptography` against the writer's public key).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signed_heads: Vec<SignedHead>,
}

/// One signed chain head, as an auditor checks it: `message` (UTF-8 bytes) signed with Ed25519.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedHead {
    /// The commit (table version).
    pub version: u64,
    /// The signing key's id ([`crate::signing::key_id`]).
    pub key_id: String,
    /// The signature, hex.
    pub signature: String,
    /// The exact text that was signed.
    pub message: String,
}

/// The result for one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableReport {
    /// Table name.
    pub table: String,
    /// Name of the key column rows are named by.
    pub key_column: String,
    /// Newest version.
    pub version: Option<u64>,
    /// Rows read and rehashed.
    pub rows: u64,
    /// Live data files read.
    pub files: u64,
    /// Chains.
    pub chains: Vec<ChainSummary>,
    /// Problems, first broken link first.
    pub problems: Vec<Problem>,
    /// Keys stored by more than one writer (not a break: each copy is a link of its own chain;
    /// queries show one of them). See [`crate::copies`].
    pub copies: Vec<crate::copies::CopiedKey>,
}

impl TableReport {
    /// The first broken link (earliest commit, then earliest position).
    pub fn first_broken(&self) -> Option<&Problem> {
        self.problems.first()
    }
}

/// The result for a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The store.
    pub store: String,
    /// Per table.
    pub tables: Vec<TableReport>,
    /// The trusted public keys every signature was checked against (key id -> SPKI PEM); empty:
    /// signatures were not checked.
    pub trusted_keys: std::collections::BTreeMap<String, String>,
}

impl VerifyReport {
    /// True when nothing is broken.
    pub fn is_intact(&self) -> bool {
        self.tables.iter().all(|t| t.problems.is_empty())
    }

    /// Rows checked in all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Progress of a verification: (table, rows rehashed so far).
pub type Progress<'a> = &'a (dyn Fn(&str, u64) + Send + Sync);

/// Verifies every table of the store: the registry's, in its order, then any other Delta table.
pub async fn verify_store(
    location: &StoreLocation,
    registry: &TableRegistry,
    trusted: Option<&TrustedKeys>,
    progress: Progress<'_>,
) -> Result<VerifyReport, StoreError> {
    let mut tables = Vec::new();
    for name in table_names(location, registry)? {
        let builder = location.table_builder(&name)?;
        let table = builder.build()?;
        let store = table.log_store().object_store(None);
        if list_versions(store.as_ref(), &Path::from(""))
            .await?
            .is_empty()
        {
            continue;
        }
        let mut report = verify_table(&name, store, trusted, progress).await?;
        // Copies are looked for in an intact table only (a broken one may not be readable).
        if let Some(spec) = registry.get(&name)
            && report.problems.is_empty()
        {
            let mut table = table;
            table.load().await?;
            report.copies = crate::copies::find_copies(&table, spec).await?;
        }
        tables.push(report);
    }
    Ok(VerifyReport {
        store: location.display(),
        tables,
        trusted_keys: trusted.map(|t| t.keys.clone()).unwrap_or_default(),
    })
}

/// The declared tables, plus any other directory of a local store that holds a Delta log.
fn table_names(
    location: &StoreLocation,
    registry: &TableRegistry,
) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = registry.names().map(str::to_owned).collect();
    if let Some(root) = location.local_root() {
        if !root.exists() {
            return Err(StoreError::Location {
                location: location.display(),
                reason: "no such directory: nothing has been stored there yet (run `mdm-audit ingest` or `serve` first)".into(),
            });
        }
        let mut extra: Vec<String> = std::fs::read_dir(root)
            .map_err(|e| StoreError::io(format!("listing {}", root.display()), e))?
            .filter_map(Result::ok)
            .filter(|d| d.path().join("_delta_log").is_dir())
            .filter_map(|d| d.file_name().to_str().map(str::to_owned))
            .filter(|n| !names.contains(n))
            .collect();
        extra.sort();
        names.extend(extra);
    }
    Ok(names)
}
