//! Which keys a table already holds, so that re-sent rows (Vector retrying a batch, Event Hub
//! redelivering an Intune record, a file ingested twice) are not stored again, across restarts.
//!
//! A row's key always falls on the same day partition (the key is derived from the vendor record,
//! whose time decides the day), so the index is kept per day and a day's keys are loaded from the
//! table the first time that day is seen. Keys are held as 128-bit digests; days not used for a while
//! are dropped from memory when the index grows past its budget (and reloaded when needed).

use std::collections::{HashMap, HashSet, VecDeque};

use arrow::array::AsArray;
use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::prelude::{SessionContext, ident, lit};
use deltalake::DeltaTable;
use sha2::{Digest, Sha256};

use super::StoreError;
use super::tables::DAY;

/// Default budget: keys held in memory (16 bytes each, 20 to 40 with the hash set's slack, so at
/// most about 80 MB). Two million keys are two weeks of a 4-million-event month; older days are
/// reloaded from the table when a late or re-sent record needs them.
pub const DEFAULT_MAX_KEYS: usize = 2_000_000;

/// The 128-bit digest of a key.
pub fn digest(key: &str) -> u128 {
    let d = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_be_bytes(b)
}

/// Keys per day, loaded on demand.
#[derive(Debug)]
pub struct DedupeIndex {
    key_column: String,
    days: HashMap<i32, HashSet<u128>>,
    recent: VecDeque<i32>,
    keys: usize,
    max_keys: usize,
    /// Day loads from the table (for metrics and tests).
    pub loads: u64,
}

impl DedupeIndex {
    /// An empty index over `key_column` holding at most `max_keys` keys in memory.
    pub fn new(key_column: impl Into<String>, max_keys: usize) -> Self {
        Self {
            key_column: key_column.into(),
            days: HashMap::new(),
            recent: VecDeque::new(),
            keys: 0,
            max_keys,
            loads: 0,
        }
    }

    /// Makes sure `day` is loaded from `table`.
    pub async fn load_day(&mut self, table: &DeltaTable, day: i32) -> Result<(), StoreError> {
        if self.days.contains_key(&day) {
            self.touch(day);
            return Ok(());
        }
        let keys = read_day_keys(table, &self.key_column, day).await?;
        self.keys += keys.len();
        self.days.insert(day, keys);
        self.recent.push_back(day);
        self.loads += 1;
        self.evict();
        Ok(())
    }

    fn touch(&mut self, day: i32) {
        if self.recent.back() != Some(&day) {
            self.recent.retain(|d| *d != day);
            self.recent.push_back(day);
        }
    }

    fn evict(&mut self) {
        while self.keys > self.max_keys && self.recent.len() > 1 {
            if let Some(old) = self.recent.pop_front()
                && let Some(set) = self.days.remove(&old)
            {
                self.keys -= set.len();
            }
        }
    }

    /// True when `key` of `day` is known (the day must have been loaded).
    pub fn contains(&self, day: i32, key: u128) -> bool {
        self.days.get(&day).is_some_and(|s| s.contains(&key))
    }

    /// Records `key` of `day` (after its row was committed, or to catch a repeat within one batch).
    pub fn insert(&mut self, day: i32, key: u128) -> bool {
        let set = self.days.entry(day).or_default();
        let new = set.insert(key);
        if new {
            self.keys += 1;
        }
        new
    }

    /// Forgets `key` of `day` (a commit that would have stored it failed).
    pub fn remove(&mut self, day: i32, key: u128) {
        if let Some(set) = self.days.get_mut(&day)
            && set.remove(&key)
        {
            self.keys -= 1;
        }
    }

    /// Keys in memory.
    pub fn len(&self) -> usize {
        self.keys
    }

    /// True when no key is in memory.
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }
}

/// Reads the digests of `key_column` of one day partition.
async fn read_day_keys(
    table: &DeltaTable,
    key_column: &str,
    day: i32,
) -> Result<HashSet<u128>, StoreError> {
    let mut set = HashSet::new();
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state())?;
    let batches = ctx
        .read_table(table.table_provider().await?)?
        .filter(ident(DAY).eq(lit(ScalarValue::Date32(Some(day)))))?
        .select(vec![ident(key_column)])?
        .collect()
        .await?;
    for b in batches {
        let col = b.column(0);
        let col = arrow::compute::cast(col, &DataType::Utf8)?;
        for v in col.as_string::<i32>().iter().flatten() {
            set.insert(digest(v));
        }
    }
    Ok(set)
}

/// The day partition (days since 1970-01-01, UTC) of a time.
pub fn day_of(t: chrono::DateTime<chrono::Utc>) -> i32 {
    t.timestamp_micros().div_euclid(86_400_000_000) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_keeps_the_most_recent_day_and_the_budget() {
        let mut idx = DedupeIndex::new("k", 3);
        for (day, n) in [(1, 2), (2, 2), (3, 1)] {
            idx.days.insert(
                day,
                (0..n)
                    .map(|i| u128::from(i as u32 + day as u32 * 100))
                    .collect(),
            );
            idx.keys += n;
            idx.recent.push_back(day);
            idx.evict();
        }
        assert!(idx.len() <= 3, "{}", idx.len());
        assert!(idx.days.contains_key(&3));
        assert!(!idx.days.contains_key(&1), "the oldest day goes first");
    }

    #[test]
    fn day_of_counts_utc_days_since_the_epoch() {
        let t = chrono::DateTime::parse_from_rfc3339("1970-01-02T00:00:00Z").expect("time");
        assert_eq!(day_of(t.with_timezone(&chrono::Utc)), 1);
        let t = chrono::DateTime::parse_from_rfc3339("1969-12-31T23:59:59Z").expect("time");
        assert_eq!(day_of(t.with_timezone(&chrono::Utc)), -1);
    }
}
