//! Cross-writer copies: one row stored by two writers. Each writer skips keys its table already holds
//! (`dedupe.rs`), but two `serve` nodes on one shared table can both take the same event (a Vector
//! retry that lands on the other node) before either sees the other's commit. Both rows stay: each
//! is a link of its writer's hash chain, and deleting one would break that chain. Instead every
//! reader hides all but one copy, the same one everywhere (the copy whose `(chain_id, chain_seq)`
//! sorts first), and `verify` lists the copies as duplicates, not as breaks.
//!
//! This holds for the day-partitioned tables (`events`, `dead_letters`), whose key is unique per
//! day by design: a row's key always falls on the same day, and writers dedupe per day. Copies can
//! only exist in a day partition with files of two or more writers, which the Delta log's per-file
//! statistics of `chain_id` tell without reading any data; each such day is searched once and the
//! result kept per table and day until the day's files change, so a store with one writer pays
//! nothing, and a busy shared table re-reads only the days that were written to.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::count::count;
use datafusion::logical_expr::{Expr, col, ident, lit};
use datafusion::prelude::{DataFrame, SessionContext};
use deltalake::DeltaTable;
use serde::Serialize;

use super::StoreError;
use super::chain::{CHAIN_ID, CHAIN_SEQ};
use super::tables::{DAY, Partitioning, TableSpec};

/// One key stored by more than one writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopiedKey {
    /// The row's key (`event_uid` for events).
    pub key: String,
    /// The day partition (days since 1970-01-01).
    pub day: i32,
    /// The copy readers show: `(chain_id, chain_seq)`.
    pub kept: (String, i64),
    /// The copies readers hide, each still a link of its own chain.
    pub hidden: Vec<(String, i64)>,
}

/// What one day's files are: their paths (to see whether the day changed) and writers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct DayFiles {
    paths: BTreeSet<String>,
    chains: BTreeSet<String>,
}

/// Per table URL, per day: the files the day had when it was searched, and what was found.
type Cache = HashMap<String, BTreeMap<i32, (DayFiles, Vec<CopiedKey>)>>;

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The cross-writer copies of `table` (of `spec`) at its loaded version, oldest day first. Empty
/// for a table that is not day-partitioned or was written by one writer per day.
pub async fn find_copies(
    table: &DeltaTable,
    spec: &TableSpec,
) -> Result<Vec<CopiedKey>, StoreError> {
    if !matches!(spec.partitioning, Partitioning::DayOf(_)) {
        return Ok(Vec::new());
    }
    let days = day_files(table)?;
    let url = table.table_url().to_string();
    let cached = CACHE
        .lock()
        .map_err(|_| StoreError::Internal("copies cache poisoned".into()))?
        .get(&url)
        .cloned()
        .unwrap_or_default();
    let mut found: BTreeMap<i32, (DayFiles, Vec<CopiedKey>)> = BTreeMap::new();
    let mut df: Option<DataFrame> = None;
    for (day, files) in days {
        if files.chains.len() < 2 {
            continue;
        }
        if let Some((was, copies)) = cached.get(&day)
            && *was == files
        {
            found.insert(day, (files, copies.clone()));
            continue;
        }
        if df.is_none() {
            let ctx = SessionContext::new();
            table.update_datafusion_session(&ctx.state())?;
            df = Some(ctx.read_table(table.table_provider().await?)?);
        }
        let copies = search_day(df.clone().expect("set above"), spec.key_column(), day).await?;
        found.insert(day, (files, copies));
    }
    let all = found.values().flat_map(|(_, c)| c.clone()).collect();
    CACHE
        .lock()
        .map_err(|_| StoreError::Internal("copies cache poisoned".into()))?
        .insert(url, found);
    Ok(all)
}

/// The table as readers see it: `provider` with every hidden copy filtered out (`provider` itself
/// when there is none).
pub fn without_copies(
    ctx: &SessionContext,
    provider: Arc<dyn TableProvider>,
    copies: &[CopiedKey],
) -> Result<Arc<dyn TableProvider>, StoreError> {
    let Some(hide) = hidden_rows(copies) else {
        return Ok(provider);
    };
    Ok(ctx
        .read_table(provider)?
        .filter(hide.is_not_true())?
        .into_view())
}

/// True for a hidden copy: `(chain_id = c AND chain_seq IN (...)) OR ...`.
fn hidden_rows(copies: &[CopiedKey]) -> Option<Expr> {
    let mut by_chain: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for c in copies {
        for (chain, seq) in &c.hidden {
            by_chain.entry(chain.as_str()).or_default().push(*seq);
        }
    }
    by_chain
        .into_iter()
        .map(|(chain, seqs)| {
            ident(CHAIN_ID)
                .eq(lit(chain))
                .and(ident(CHAIN_SEQ).in_list(seqs.into_iter().map(lit).collect(), false))
        })
        .reduce(Expr::or)
}

/// The files and writers of each day partition, from the Delta log's add actions and their
/// `chain_id` statistics (a file holds one writer's rows).
fn day_files(table: &DeltaTable) -> Result<BTreeMap<i32, DayFiles>, StoreError> {
    let actions = table.snapshot()?.add_actions_table(true)?;
    let mut out: BTreeMap<i32, DayFiles> = BTreeMap::new();
    let column = |name: &str, to: &DataType| -> Result<Option<Arc<dyn Array>>, StoreError> {
        match actions.column_by_name(name) {
            Some(c) => Ok(Some(cast(c, to)?)),
            None => Ok(None),
        }
    };
    let (Some(paths), Some(days)) = (
        column("path", &DataType::Utf8)?,
        column(&format!("partition.{DAY}"), &DataType::Date32)?,
    ) else {
        return Ok(out);
    };
    let min = column(&format!("min.{CHAIN_ID}"), &DataType::Utf8)?;
    let max = column(&format!("max.{CHAIN_ID}"), &DataType::Utf8)?;
    let (paths, days) = (paths.as_string::<i32>(), days.as_primitive::<Date32Type>());
    for i in 0..actions.num_rows() {
        if days.is_null(i) {
            continue;
        }
        let entry = out.entry(days.value(i)).or_default();
        entry.paths.insert(paths.value(i).to_owned());
        for bound in [&min, &max] {
            match bound {
                Some(b) if b.is_valid(i) => {
                    entry
                        .chains
                        .insert(b.as_string::<i32>().value(i).to_owned());
                }
                // No statistics for this file: assume another writer, so the day is searched.
                _ => {
                    entry.chains.insert(format!("?{i}"));
                }
            }
        }
    }
    Ok(out)
}

/// The keys of day `day` stored more than once, and which copy readers keep.
async fn search_day(df: DataFrame, key: &str, day: i32) -> Result<Vec<CopiedKey>, StoreError> {
    let day_rows = df.filter(col(DAY).eq(lit(ScalarValue::Date32(Some(day)))))?;
    let repeated = day_rows
        .clone()
        .aggregate(vec![ident(key)], vec![count(lit(1)).alias("copies")])?
        .filter(col("copies").gt(lit(1i64)))?
        .select(vec![ident(key)])?
        .collect()
        .await?;
    let mut keys: Vec<Expr> = Vec::new();
    for b in &repeated {
        keys.extend(strings(b.column(0))?.into_iter().map(lit));
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = day_rows
        .filter(ident(key).in_list(keys, false))?
        .select(vec![ident(key), ident(CHAIN_ID), ident(CHAIN_SEQ)])?
        .collect()
        .await?;
    let mut by_key: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for b in &rows {
        let (k, c) = (strings(b.column(0))?, strings(b.column(1))?);
        let s = cast(b.column(2), &DataType::Int64)?;
        let s = s.as_primitive::<Int64Type>();
        for (i, (k, c)) in k.into_iter().zip(c).enumerate() {
            by_key.entry(k).or_default().push((c, s.value(i)));
        }
    }
    Ok(by_key
        .into_iter()
        .map(|(key, mut copies)| {
            copies.sort();
            let kept = copies.remove(0);
            CopiedKey {
                key,
                day,
                kept,
                hidden: copies,
            }
        })
        .collect())
}

/// A column as strings (nulls as empty).
fn strings(column: &ArrayRef) -> Result<Vec<String>, StoreError> {
    let c = cast(column, &DataType::Utf8)?;
    let c = c.as_string::<i32>();
    Ok((0..c.len())
        .map(|j| if c.is_valid(j) { c.value(j) } else { "" }.to_owned())
        .collect())
}
