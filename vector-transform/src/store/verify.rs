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

use super::StoreError;
use super::chain::{
    CHAIN_ID, CHAIN_SEQ, GENESIS, HASH, PREV_HASH, canonical_row, is_unhashed, link_hash,
};
use super::location::StoreLocation;
use super::log::{ChainCommit, LogEntry, list_versions, read_commit};

/// Tables `verify` looks for under the store root, in report order.
pub const KNOWN_TABLES: [&str; 5] = [
    "events",
    "dead_letters",
    "episodes",
    "narratives",
    "reviews",
];

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

/// Verifies every table of the store.
pub async fn verify_store(
    location: &StoreLocation,
    progress: Progress<'_>,
) -> Result<VerifyReport, StoreError> {
    let mut tables = Vec::new();
    for name in table_names(location)? {
        let builder = location.table_builder(&name)?;
        let table = builder.build()?;
        let store = table.log_store().object_store(None);
        if list_versions(store.as_ref(), &Path::from(""))
            .await?
            .is_empty()
        {
            continue;
        }
        tables.push(verify_table(&name, store, progress).await?);
    }
    Ok(VerifyReport {
        store: location.display(),
        tables,
    })
}

/// The known tables, plus any other directory of a local store that holds a Delta log.
fn table_names(location: &StoreLocation) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = KNOWN_TABLES.iter().map(|s| (*s).to_owned()).collect();
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

/// A row's place in a chain, as far as linking needs it (hashes truncated to 128 bits; the full
/// hash of every row is checked against its content while reading).
#[derive(Debug, Clone, Copy)]
struct Link {
    chain: u16,
    seq: i64,
    prev: [u8; 16],
    hash: [u8; 16],
    version: u32,
}

fn short(hex_str: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut full = [0u8; 32];
    if hex::decode_to_slice(hex_str, &mut full).is_ok() {
        out.copy_from_slice(&full[..16]);
    } else {
        // Not a hash at all: a digest of the text, so it will not match a real one.
        let d = <sha2::Sha256 as sha2::Digest>::digest(hex_str.as_bytes());
        out.copy_from_slice(&d[..16]);
        out[0] ^= 0xff;
    }
    out
}

struct FileResult {
    links: Vec<Link>,
    problems: Vec<Problem>,
    rows: u64,
}

/// Verifies one table whose root is `store`.
pub async fn verify_table(
    name: &str,
    store: Arc<dyn ObjectStore>,
    progress: Progress<'_>,
) -> Result<TableReport, StoreError> {
    let root = Path::from("");
    let versions = list_versions(store.as_ref(), &root).await?;
    let mut problems = Vec::new();
    let mut entries: Vec<LogEntry> = Vec::with_capacity(versions.len());
    let mut expected = 0u64;
    for &v in &versions {
        if v != expected {
            problems.push(Problem {
                kind: ProblemKind::LogGap,
                version: Some(expected),
                chain_id: None,
                seq: None,
                key: None,
                file: None,
                detail: format!(
                    "commit files {expected}..{} are missing from the Delta log",
                    v - 1
                ),
            });
        }
        expected = v + 1;
        match read_commit(store.as_ref(), &root, v).await {
            Ok(e) => entries.push(e),
            Err(e) => problems.push(Problem {
                kind: ProblemKind::LogUnreadable,
                version: Some(v),
                chain_id: None,
                seq: None,
                key: None,
                file: None,
                detail: e.to_string(),
            }),
        }
    }

    // Chains, as the commits record them.
    let mut chain_ids: Vec<String> = Vec::new();
    let mut chain_index: HashMap<String, u16> = HashMap::new();
    let mut commits_by_chain: Vec<Vec<(u64, ChainCommit)>> = Vec::new();
    for e in &entries {
        if let Some(c) = &e.chain {
            let idx = *chain_index.entry(c.chain_id.clone()).or_insert_with(|| {
                chain_ids.push(c.chain_id.clone());
                commits_by_chain.push(Vec::new());
                (chain_ids.len() - 1) as u16
            });
            commits_by_chain[idx as usize].push((e.version, c.clone()));
        }
    }
    for (idx, commits) in commits_by_chain.iter().enumerate() {
        let mut next = 0i64;
        let mut head = GENESIS.to_owned();
        for (v, c) in commits {
            if c.first_seq != next || c.prev_head != head || c.last_seq - c.first_seq + 1 != c.rows
            {
                problems.push(Problem {
                    kind: ProblemKind::CommitOutOfOrder,
                    version: Some(*v),
                    chain_id: Some(chain_ids[idx].clone()),
                    seq: Some(c.first_seq),
                    key: None,
                    file: None,
                    detail: format!(
                        "commit {v} records rows {}..{} after head {}, but the writer's previous \
                         commit ended at row {} with head {}: a commit was removed, reordered or rewritten",
                        c.first_seq,
                        c.last_seq,
                        abbrev(&c.prev_head),
                        next - 1,
                        abbrev(&head)
                    ),
                });
            }
            next = c.last_seq + 1;
            head = c.head.clone();
        }
    }

    // Live files and the commit that added each.
    let mut live: BTreeMap<String, (u64, Option<ChainCommit>, i64)> = BTreeMap::new();
    for e in &entries {
        for r in &e.removes {
            live.remove(r);
        }
        for a in &e.adds {
            live.insert(a.path.clone(), (e.version, e.chain.clone(), a.size));
        }
    }
    let mut files: Vec<(String, u64, Option<ChainCommit>)> =
        live.into_iter().map(|(p, (v, c, _))| (p, v, c)).collect();
    files.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));

    let key_column = std::sync::Mutex::new(None::<String>);
    let rows_done = std::sync::atomic::AtomicU64::new(0);
    let chain_index = Arc::new(chain_index);
    let results: Vec<FileResult> = futures::stream::iter(files.iter().cloned())
        .map(|(path, version, commit)| {
            let store = store.clone();
            let chain_index = chain_index.clone();
            let key_column = &key_column;
            let rows_done = &rows_done;
            async move {
                let r = check_file(
                    store,
                    &path,
                    version,
                    commit.as_ref(),
                    &chain_index,
                    key_column,
                )
                .await;
                let n = rows_done.fetch_add(r.rows, std::sync::atomic::Ordering::Relaxed) + r.rows;
                progress(name, n);
                r
            }
        })
        .buffer_unordered(2)
        .collect()
        .await;
    let key_column = key_column
        .into_inner()
        .ok()
        .flatten()
        .unwrap_or_else(|| "key".to_owned());

    let mut rows = 0u64;
    let mut links: Vec<Link> = Vec::new();
    for r in results {
        rows += r.rows;
        links.extend(r.links);
        problems.extend(r.problems);
    }
    links.sort_unstable_by_key(|l| (l.chain, l.seq));

    // Walk each chain.
    let mut need_key: HashSet<(u16, i64)> = HashSet::new();
    let mut chain_problems: Vec<(Problem, u16, i64)> = Vec::new();
    let mut i = 0;
    for (idx, commits) in commits_by_chain.iter().enumerate() {
        let idx = idx as u16;
        let version_of = |seq: i64| -> Option<u64> {
            let p = commits.partition_point(|(_, c)| c.last_seq < seq);
            commits
                .get(p)
                .filter(|(_, c)| c.first_seq <= seq)
                .map(|(v, _)| *v)
        };
        let heads: HashMap<i64, (u64, [u8; 16])> = commits
            .iter()
            .map(|(v, c)| (c.last_seq, (*v, short(&c.head))))
            .collect();
        let recorded_last = commits.last().map_or(-1, |(_, c)| c.last_seq);
        let mut expect_seq = 0i64;
        let mut prev_hash: [u8; 16] = short(GENESIS);
        let mut prev_seq: Option<i64> = None;
        while i < links.len() && links[i].chain < idx {
            i += 1;
        }
        let mut push = |kind, seq: i64, key_seq: i64, detail: String| {
            chain_problems.push((
                Problem {
                    kind,
                    version: version_of(seq),
                    chain_id: Some(chain_ids[idx as usize].clone()),
                    seq: Some(seq),
                    key: None,
                    file: None,
                    detail,
                },
                idx,
                key_seq,
            ));
        };
        while i < links.len() && links[i].chain == idx {
            let l = links[i];
            i += 1;
            if Some(l.seq) == prev_seq {
                push(
                    ProblemKind::RowDuplicated,
                    l.seq,
                    l.seq,
                    format!("two rows claim position {} of the chain", l.seq),
                );
                continue;
            }
            if l.seq > expect_seq {
                push(
                    ProblemKind::RowsMissing,
                    expect_seq,
                    l.seq,
                    if l.seq - expect_seq == 1 {
                        format!(
                            "the row at position {expect_seq} is missing (deleted); the next row points to it"
                        )
                    } else {
                        format!(
                            "rows at positions {expect_seq}..{} are missing (deleted); the next row points to them",
                            l.seq - 1
                        )
                    },
                );
            } else if l.prev != prev_hash {
                push(
                    ProblemKind::LinkBroken,
                    l.seq,
                    l.seq,
                    format!(
                        "the row's prev_hash is not the hash of the row before it (position {}): rows were reordered or replaced",
                        l.seq - 1
                    ),
                );
            }
            if let Some((v, head)) = heads.get(&l.seq)
                && *head != l.hash
            {
                push(
                    ProblemKind::HeadMismatch,
                    l.seq,
                    l.seq,
                    format!(
                        "commit {v} recorded a different chain head than the hash of its last row"
                    ),
                );
            }
            let _ = l.version;
            prev_hash = l.hash;
            prev_seq = Some(l.seq);
            expect_seq = l.seq + 1;
        }
        if expect_seq <= recorded_last {
            let last_present = prev_seq.unwrap_or(-1);
            push(
                ProblemKind::RowsMissing,
                expect_seq,
                last_present,
                format!(
                    "rows at positions {expect_seq}..{recorded_last} are missing (deleted) after the last row present{}",
                    if last_present >= 0 {
                        ""
                    } else {
                        " (there is none)"
                    }
                ),
            );
        }
    }
    for (_, idx, seq) in &chain_problems {
        if *seq >= 0 {
            need_key.insert((*idx, *seq));
        }
    }
    let keys = if need_key.is_empty() {
        HashMap::new()
    } else {
        resolve_keys(store.clone(), &files, &key_column, &chain_index, &need_key).await
    };
    for (mut p, idx, seq) in chain_problems {
        p.key = keys.get(&(idx, seq)).cloned();
        problems.push(p);
    }
    problems.sort_by(|a, b| {
        a.version
            .unwrap_or(u64::MAX)
            .cmp(&b.version.unwrap_or(u64::MAX))
            .then(a.seq.unwrap_or(i64::MAX).cmp(&b.seq.unwrap_or(i64::MAX)))
            .then(a.kind.cmp(&b.kind))
    });

    let chains = commits_by_chain
        .iter()
        .enumerate()
        .filter_map(|(idx, commits)| {
            let (v, last) = commits.last()?;
            Some(ChainSummary {
                chain_id: chain_ids[idx].clone(),
                rows: (last.last_seq + 1) as u64,
                commits: commits.len() as u64,
                head: last.head.clone(),
                last_version: *v,
            })
        })
        .collect();
    Ok(TableReport {
        table: name.to_owned(),
        key_column,
        version: versions.last().copied(),
        rows,
        files: files.len() as u64,
        chains,
        problems,
    })
}

fn abbrev(h: &str) -> String {
    h.chars().take(12).collect()
}

/// Reads a whole data file (a commit's file is bounded by the group-commit size).
async fn fetch(store: &dyn ObjectStore, path: &str) -> Result<Bytes, StoreError> {
    Ok(store.get(&Path::from(path)).await?.bytes().await?)
}

async fn check_file(
    store: Arc<dyn ObjectStore>,
    path: &str,
    version: u64,
    commit: Option<&ChainCommit>,
    chain_index: &Arc<HashMap<String, u16>>,
    key_column: &std::sync::Mutex<Option<String>>,
) -> FileResult {
    let problem = |kind, detail: String| Problem {
        kind,
        version: Some(version),
        chain_id: commit.map(|c| c.chain_id.clone()),
        seq: None,
        key: None,
        file: Some(path.to_owned()),
        detail,
    };
    let failed = |p: Problem| FileResult {
        links: Vec::new(),
        problems: vec![p],
        rows: 0,
    };
    let bytes = match fetch(store.as_ref(), path).await {
        Ok(b) => b,
        Err(StoreError::ObjectStore(object_store::Error::NotFound { .. })) => {
            return failed(problem(
                ProblemKind::FileMissing,
                match commit {
                    Some(c) => format!(
                        "data file {path} of commit {version} is gone (it held rows of {}'s chain between positions {} and {})",
                        c.chain_id, c.first_seq, c.last_seq
                    ),
                    None => format!("data file {path} of commit {version} is gone"),
                },
            ));
        }
        Err(e) => {
            return failed(problem(
                ProblemKind::FileUnreadable,
                format!("data file {path}: {e}"),
            ));
        }
    };
    let chain_index = chain_index.clone();
    let commit_owned = commit.cloned();
    let path_owned = path.to_owned();
    let checked = tokio::task::spawn_blocking(move || {
        let mut out = FileResult {
            links: Vec::new(),
            problems: Vec::new(),
            rows: 0,
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.with_batch_size(8192).build());
        let reader = match reader {
            Ok(r) => r,
            Err(e) => return Err(format!("data file {path_owned}: {e}")),
        };
        let mut key = None;
        for batch in reader {
            let batch = batch.map_err(|e| format!("data file {path_owned}: {e}"))?;
            key.get_or_insert_with(|| batch.schema().field(0).name().clone());
            let r = check_batch(
                &batch,
                &path_owned,
                version,
                commit_owned.as_ref(),
                &chain_index,
            );
            out.rows += r.rows;
            out.links.extend(r.links);
            out.problems.extend(r.problems);
        }
        Ok((out, key))
    })
    .await;
    match checked {
        Ok(Ok((out, key))) => {
            if let (Some(key), Ok(mut k)) = (key, key_column.lock())
                && k.is_none()
            {
                *k = Some(key);
            }
            out
        }
        Ok(Err(reason)) => failed(problem(ProblemKind::FileUnreadable, reason)),
        Err(e) => failed(problem(
            ProblemKind::FileUnreadable,
            format!("checking {path} failed: {e}"),
        )),
    }
}

fn string_at(col: &dyn Array, row: usize) -> Option<String> {
    if col.is_null(row) {
        return None;
    }
    match col.data_type() {
        DataType::Utf8 => Some(col.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Some(col.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Some(col.as_string_view().value(row).to_owned()),
        _ => None,
    }
}

fn check_batch(
    batch: &RecordBatch,
    path: &str,
    version: u64,
    commit: Option<&ChainCommit>,
    chain_index: &HashMap<String, u16>,
) -> FileResult {
    let mut out = FileResult {
        links: Vec::with_capacity(batch.num_rows()),
        problems: Vec::new(),
        rows: batch.num_rows() as u64,
    };
    let schema = batch.schema();
    let col = |n: &str| batch.column_by_name(n);
    let (Some(ids), Some(seqs), Some(prevs), Some(hashes)) =
        (col(CHAIN_ID), col(CHAIN_SEQ), col(PREV_HASH), col(HASH))
    else {
        out.problems.push(Problem {
            kind: ProblemKind::Unchained,
            version: Some(version),
            chain_id: None,
            seq: None,
            key: None,
            file: Some(path.to_owned()),
            detail: format!("data file {path} has no chain columns"),
        });
        return out;
    };
    let Some(seqs) = seqs.as_primitive_opt::<Int64Type>() else {
        out.problems.push(Problem {
            kind: ProblemKind::Unchained,
            version: Some(version),
            chain_id: None,
            seq: None,
            key: None,
            file: Some(path.to_owned()),
            detail: format!("data file {path}: chain_seq is not Int64"),
        });
        return out;
    };
    let (names, cols): (Vec<&str>, Vec<&arrow::array::ArrayRef>) = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !is_unhashed(f.name()))
        .map(|(f, c)| (f.name().as_str(), c))
        .unzip();
    let key_col = batch.column(0);
    let mut buf = Vec::with_capacity(4096);
    for row in 0..batch.num_rows() {
        let key = || string_at(key_col.as_ref(), row);
        let (Some(chain_id), false, Some(prev), Some(hash)) = (
            string_at(ids.as_ref(), row),
            seqs.is_null(row),
            string_at(prevs.as_ref(), row),
            string_at(hashes.as_ref(), row),
        ) else {
            out.problems.push(Problem {
                kind: ProblemKind::Unchained,
                version: Some(version),
                chain_id: None,
                seq: None,
                key: key(),
                file: Some(path.to_owned()),
                detail: "the row has no chain values (chain_id, chain_seq, prev_hash, hash)".into(),
            });
            continue;
        };
        let seq = seqs.value(row);
        let problem = |kind, detail: String| Problem {
            kind,
            version: Some(version),
            chain_id: Some(chain_id.clone()),
            seq: Some(seq),
            key: key(),
            file: Some(path.to_owned()),
            detail,
        };
        buf.clear();
        match canonical_row(&names, &cols, row, &mut buf) {
            Ok(()) => {
                if link_hash(&prev, &buf) != hash {
                    out.problems.push(problem(
                        ProblemKind::RowAltered,
                        "the row's values do not produce its hash: a value was changed after it was written".into(),
                    ));
                }
            }
            Err(e) => out
                .problems
                .push(problem(ProblemKind::FileUnreadable, e.to_string())),
        }
        if let Some(c) = commit
            && (c.chain_id != chain_id || seq < c.first_seq || seq > c.last_seq)
        {
            out.problems.push(problem(
                ProblemKind::RowMisplaced,
                format!(
                    "the row claims position {seq} of {chain_id}'s chain, but its file belongs to commit {version} ({}'s rows {}..{})",
                    c.chain_id, c.first_seq, c.last_seq
                ),
            ));
        }
        match chain_index.get(&chain_id) {
            Some(&chain) => out.links.push(Link {
                chain,
                seq,
                prev: short(&prev),
                hash: short(&hash),
                version: version as u32,
            }),
            None => out.problems.push(problem(
                ProblemKind::RowMisplaced,
                format!("no commit of the log belongs to writer {chain_id:?}"),
            )),
        }
    }
    out
}

/// Looks up the key of rows by (chain, seq), reading only the key and chain columns.
async fn resolve_keys(
    store: Arc<dyn ObjectStore>,
    files: &[(String, u64, Option<ChainCommit>)],
    key_column: &str,
    chain_index: &HashMap<String, u16>,
    wanted: &HashSet<(u16, i64)>,
) -> HashMap<(u16, i64), String> {
    let mut found = HashMap::new();
    for (path, _, _) in files {
        let Ok(bytes) = fetch(store.as_ref(), path).await else {
            continue;
        };
        let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(bytes) else {
            continue;
        };
        let schema = builder.parquet_schema();
        let indices: Vec<usize> = [key_column, CHAIN_ID, CHAIN_SEQ]
            .iter()
            .filter_map(|n| {
                schema
                    .columns()
                    .iter()
                    .position(|c| c.path().parts().first().map(String::as_str) == Some(*n))
            })
            .collect();
        if indices.len() != 3 {
            continue;
        }
        let mask = ProjectionMask::leaves(schema, indices);
        let Ok(reader) = builder.with_projection(mask).build() else {
            continue;
        };
        for b in reader.flatten() {
            let (Some(k), Some(c), Some(s)) = (
                b.column_by_name(key_column),
                b.column_by_name(CHAIN_ID),
                b.column_by_name(CHAIN_SEQ)
                    .and_then(|s| s.as_primitive_opt::<Int64Type>().cloned()),
            ) else {
                continue;
            };
            for row in 0..b.num_rows() {
                let Some(chain) =
                    string_at(c.as_ref(), row).and_then(|id| chain_index.get(&id).copied())
                else {
                    continue;
                };
                if s.is_null(row) {
                    continue;
                }
                let at = (chain, s.value(row));
                if wanted.contains(&at)
                    && let Some(key) = string_at(k.as_ref(), row)
                {
                    found.insert(at, key);
                }
            }
        }
        if found.len() == wanted.len() {
            break;
        }
    }
    found
}
