//! Reading a table's Delta log (`_delta_log/<version>.json`) directly: each commit's actions and the
//! chain metadata our writers put into its `commitInfo`. `verify` reads the log this way rather than
//! through the library's snapshot, so that what it checks is what is on disk.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};

use super::StoreError;

/// Key of our metadata in `commitInfo`.
pub const CHAIN_META_KEY: &str = "mdm_chain";

/// What a writer records about its chain in each commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCommit {
    /// The writer.
    pub chain_id: String,
    /// `chain_seq` of the first row of this commit.
    pub first_seq: i64,
    /// `chain_seq` of the last row.
    pub last_seq: i64,
    /// Rows in this commit.
    pub rows: i64,
    /// The chain head before this commit (hex).
    pub prev_head: String,
    /// The chain head after this commit: the hash of its last row (hex).
    pub head: String,
    /// The writer's commit counter (also its Delta application-transaction version).
    pub commit_no: i64,
    /// Id of the Ed25519 key that signed this record ([`crate::signing`]); none: unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The signature of [`crate::signing::head_message`] (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The name of the ingest credential that admitted every row of this commit (`serve` with
    /// credentials); none: written without one (batch `ingest`, or an unauthenticated service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_by: Option<String>,
}

/// A data file added by a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedFile {
    /// Path relative to the table root (URL-decoded).
    pub path: String,
    /// Partition values as the log states them.
    pub partition_values: BTreeMap<String, Option<String>>,
    /// Size in bytes the log records.
    pub size: i64,
}

/// One commit of the log.
#[derive(Debug, Clone, Default)]
pub struct LogEntry {
    /// Table version.
    pub version: u64,
    /// `commitInfo.operation` (`WRITE`, `CREATE TABLE`, `OPTIMIZE`, ...).
    pub operation: Option<String>,
    /// Commit time (`commitInfo.timestamp`, epoch ms).
    pub timestamp_ms: Option<i64>,
    /// Our chain metadata, for commits made by an mdm-audit writer.
    pub chain: Option<ChainCommit>,
    /// Data files added.
    pub adds: Vec<AddedFile>,
    /// Data files removed (paths).
    pub removes: Vec<String>,
}

/// The `_delta_log` directory of a table rooted at `table`.
pub fn log_dir(table: &Path) -> Path {
    table.clone().join("_delta_log")
}

/// The commit file of `version`.
pub fn commit_path(table: &Path, version: u64) -> Path {
    log_dir(table).join(format!("{version:020}.json").as_str())
}

/// Versions of the commit files present, ascending.
pub async fn list_versions(store: &dyn ObjectStore, table: &Path) -> Result<Vec<u64>, StoreError> {
    let dir = log_dir(table);
    let metas: Vec<_> = store.list(Some(&dir)).try_collect().await?;
    let mut versions: Vec<u64> = metas
        .iter()
        .filter_map(|m| {
            let name = m.location.filename()?;
            let stem = name.strip_suffix(".json")?;
            (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
                .then(|| stem.parse().ok())
                .flatten()
        })
        .collect();
    versions.sort_unstable();
    Ok(versions)
}

/// Reads and parses commit `version`.
pub async fn read_commit(
    store: &dyn ObjectStore,
    table: &Path,
    version: u64,
) -> Result<LogEntry, StoreError> {
    let path = commit_path(table, version);
    let bytes = store.get(&path).await?.bytes().await?;
    parse_commit(version, &bytes).map_err(|reason| StoreError::Log {
        path: path.to_string(),
        reason,
    })
}

/// Parses the newline-delimited actions of one commit file.
pub fn parse_commit(version: u64, bytes: &[u8]) -> Result<LogEntry, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut entry = LogEntry {
        version,
        ..LogEntry::default()
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let action: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if let Some(info) = action.get("commitInfo") {
            entry.operation = info
                .get("operation")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            entry.timestamp_ms = info.get("timestamp").and_then(serde_json::Value::as_i64);
            if let Some(meta) = info.get(CHAIN_META_KEY) {
                entry.chain = Some(
                    serde_json::from_value(meta.clone())
                        .map_err(|e| format!("line {}: {CHAIN_META_KEY}: {e}", i + 1))?,
                );
            }
        } else if let Some(add) = action.get("add") {
            let path = add
                .get("path")
                .and_then(|v| v.as_str())
                .ok_or_else(|| format!("line {}: add without path", i + 1))?;
            let partition_values = add
                .get("partitionValues")
                .and_then(|v| v.as_object())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
                        .collect()
                })
                .unwrap_or_default();
            entry.adds.push(AddedFile {
                path: decode_path(path),
                partition_values,
                size: add
                    .get("size")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(-1),
            });
        } else if let Some(p) = action
            .get("remove")
            .and_then(|r| r.get("path"))
            .and_then(|v| v.as_str())
        {
            entry.removes.push(decode_path(p));
        }
    }
    Ok(entry)
}

/// Delta log paths are URL-encoded (`day=2026-03-02/part-...parquet` stays as is; spaces become %20).
fn decode_path(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The newest commit of `chain_id`, scanning the log backwards from the newest version.
pub async fn last_chain_commit(
    store: &dyn ObjectStore,
    table: &Path,
    chain_id: &str,
) -> Result<Option<ChainCommit>, StoreError> {
    let versions = list_versions(store, table).await?;
    for v in versions.into_iter().rev() {
        let entry = read_commit(store, table, v).await?;
        if let Some(c) = entry.chain
            && c.chain_id == chain_id
        {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_file_yields_its_chain_metadata_and_files() {
        let text = concat!(
            r#"{"commitInfo":{"timestamp":1,"operation":"WRITE","mdm_chain":{"chain_id":"w","first_seq":0,"last_seq":1,"rows":2,"prev_head":"00","head":"ab","commit_no":1}}}"#,
            "\n",
            r#"{"add":{"path":"day=2026-03-02/part-1%20x.parquet","partitionValues":{"day":"2026-03-02"},"size":10,"modificationTime":1,"dataChange":true}}"#,
            "\n",
            r#"{"remove":{"path":"day=2026-03-01/old.parquet","dataChange":true}}"#,
        );
        let e = parse_commit(3, text.as_bytes()).expect("parses");
        assert_eq!(e.version, 3);
        assert_eq!(e.operation.as_deref(), Some("WRITE"));
        let c = e.chain.expect("chain metadata");
        assert_eq!((c.first_seq, c.last_seq, c.head.as_str()), (0, 1, "ab"));
        assert_eq!(e.adds[0].path, "day=2026-03-02/part-1 x.parquet");
        assert_eq!(
            e.adds[0].partition_values.get("day"),
            Some(&Some("2026-03-02".to_owned()))
        );
        assert_eq!(e.removes, vec!["day=2026-03-01/old.parquet".to_owned()]);
    }

    #[test]
    fn a_broken_line_is_an_error_naming_it() {
        let e = parse_commit(0, b"{\"commitInfo\":{}}\n{not json").expect_err("broken");
        assert!(e.contains("line 2"), "{e}");
    }
}
