//! The write path's writer: events (deduplicated by `event_uid`), dead letters (deduplicated by
//! their content, so a retried request does not dead-letter its bad lines twice) and episode states,
//! each table committed on its own chain.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
    new_null_array,
};
use arrow::datatypes::DataType;
use sha2::{Digest, Sha256};

use super::StoreError;
use super::dedupe::{DEFAULT_MAX_KEYS, DedupeIndex, day_of, digest};
use super::episodes::{EpisodeRecord, episodes_to_batch};
use super::location::StoreLocation;
use super::pending::PendingEvents;
use super::tables::{DEAD_LETTERS, EPISODES, EVENTS};
use super::writer::{CommitReceipt, TableWriter, WriterOptions};
use crate::{DeadLetter, NormalizedEvent};

/// What one [`AuditWriter::append`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendSummary {
    /// Events stored.
    pub stored: u64,
    /// Events skipped because their `event_uid` was already stored (or repeated in the batch).
    pub duplicates: u64,
    /// Dead letters stored.
    pub dead_lettered: u64,
    /// Dead letters skipped as already stored.
    pub dead_letter_duplicates: u64,
    /// Episode states stored.
    pub episodes: u64,
    /// The commits made (events, dead letters, episodes; only the non-empty ones).
    pub commits: Vec<(&'static str, CommitReceipt)>,
}

impl AppendSummary {
    /// Adds another summary's counts (commits are appended).
    pub fn absorb(&mut self, other: AppendSummary) {
        self.stored += other.stored;
        self.duplicates += other.duplicates;
        self.dead_lettered += other.dead_lettered;
        self.dead_letter_duplicates += other.dead_letter_duplicates;
        self.episodes += other.episodes;
        self.commits.extend(other.commits);
    }
}

/// Writes events, dead letters and episodes of one writer.
#[derive(Debug)]
pub struct AuditWriter {
    events: TableWriter,
    dead_letters: TableWriter,
    episodes: TableWriter,
    event_keys: DedupeIndex,
    dead_keys: DedupeIndex,
}

/// The key of a dead letter: the SHA-256 of its source and raw bytes.
pub fn dead_letter_uid(d: &DeadLetter) -> String {
    let mut h = Sha256::new();
    h.update(d.source.as_bytes());
    h.update([0]);
    h.update(&d.raw);
    hex::encode(h.finalize())
}

/// Builds a batch of the `dead_letters` schema (chain columns left for the writer).
pub fn dead_letters_to_batch(rows: &[DeadLetter]) -> Result<RecordBatch, StoreError> {
    let n = rows.len();
    let mut uid = StringBuilder::new();
    let mut time = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut source = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut origin = StringBuilder::new();
    let mut raw = BinaryBuilder::new();
    for d in rows {
        uid.append_value(dead_letter_uid(d));
        time.append_value(crate::event::to_micros(d.ingest_time).timestamp_micros());
        source.append_value(&d.source);
        reason.append_value(&d.reason);
        origin.append_option(d.origin.as_deref());
        raw.append_value(&d.raw);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(uid.finish()),
        Arc::new(time.finish()),
        Arc::new(source.finish()),
        Arc::new(reason.finish()),
        Arc::new(origin.finish()),
        Arc::new(raw.finish()),
        new_null_array(&DataType::Utf8, n),
        new_null_array(&DataType::Int64, n),
        new_null_array(&DataType::Utf8, n),
        new_null_array(&DataType::Utf8, n),
    ];
    Ok(RecordBatch::try_new(DEAD_LETTERS.schema.clone(), columns)?)
}

impl AuditWriter {
    /// Opens the three tables of `location` for writer `options.chain_id`.
    pub async fn open(
        location: &StoreLocation,
        options: WriterOptions,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            events: TableWriter::open(location, &EVENTS, options.clone()).await?,
            dead_letters: TableWriter::open(location, &DEAD_LETTERS, options.clone()).await?,
            episodes: TableWriter::open(location, &EPISODES, options).await?,
            event_keys: DedupeIndex::new("event_uid", DEFAULT_MAX_KEYS),
            dead_keys: DedupeIndex::new("dead_letter_uid", DEFAULT_MAX_KEYS / 10),
        })
    }

    /// The events writer (chain head, table snapshot).
    pub fn events(&self) -> &TableWriter {
        &self.events
    }

    /// The ingest credential that admitted the rows of the following commits, in every table
    /// ([`TableWriter::set_admission`]).
    pub fn set_admission(&mut self, credential: Option<String>) {
        self.events.set_admission(credential.clone());
        self.dead_letters.set_admission(credential.clone());
        self.episodes.set_admission(credential);
    }

    /// Keys of events in memory (for metrics).
    pub fn dedupe_keys(&self) -> usize {
        self.event_keys.len()
    }

    /// Stores what is new of `events` and `dead_letters`, and `episodes`, one commit per table.
    /// Returns only once every commit is durable. On error nothing of the failed table is stored
    /// and the call can be retried with the same input.
    pub async fn append(
        &mut self,
        events: Vec<NormalizedEvent>,
        dead_letters: Vec<DeadLetter>,
        episodes: Vec<EpisodeRecord>,
    ) -> Result<AppendSummary, StoreError> {
        let (events, duplicates) = self.dedupe(events).await?;
        let mut summary = self.append_deduped(events, dead_letters, episodes).await?;
        summary.duplicates += duplicates;
        Ok(summary)
    }

    /// Drops the events whose `event_uid` is already stored or repeated among them, and reserves
    /// the keys of the rest (so that stateful stages between this and
    /// [`AuditWriter::append_deduped`] never see a duplicate). Returns the new events in their order
    /// and the number dropped.
    pub async fn dedupe(
        &mut self,
        events: Vec<NormalizedEvent>,
    ) -> Result<(Vec<NormalizedEvent>, u64), StoreError> {
        let mut fresh = Vec::with_capacity(events.len());
        let mut duplicates = 0;
        let mut loaded = None;
        for e in events {
            let day = day_of(e.time);
            if loaded != Some(day) {
                self.event_keys.load_day(self.events.table(), day).await?;
                loaded = Some(day);
            }
            if self.event_keys.insert(day, digest(&e.event_uid)) {
                fresh.push(e);
            } else {
                duplicates += 1;
            }
        }
        Ok((fresh, duplicates))
    }

    /// Like [`AuditWriter::append`] for events that went through [`AuditWriter::dedupe`]: they are
    /// stored as given. If the commit fails their keys are released, so a retry stores them.
    pub async fn append_deduped(
        &mut self,
        events: Vec<NormalizedEvent>,
        dead_letters: Vec<DeadLetter>,
        episodes: Vec<EpisodeRecord>,
    ) -> Result<AppendSummary, StoreError> {
        let events = PendingEvents::from_events(events)?;
        self.append_pending(events, dead_letters, episodes).await
    }

    /// [`AuditWriter::append_deduped`] for events held as batches: one commit per table; if the
    /// events' commit fails, their keys are released.
    pub async fn append_pending(
        &mut self,
        events: PendingEvents,
        dead_letters: Vec<DeadLetter>,
        episodes: Vec<EpisodeRecord>,
    ) -> Result<AppendSummary, StoreError> {
        let mut summary = AppendSummary::default();
        if !events.is_empty() {
            let (batches, keys) = events.into_parts();
            let appended = match batches {
                Ok(batches) => self.events.append_batches(batches).await,
                Err(e) => Err(e),
            };
            match appended {
                Ok(Some(r)) => summary.commits.push(("events", r)),
                Ok(None) => {}
                Err(e) => {
                    for (day, key) in keys {
                        self.event_keys.remove(day, key);
                    }
                    return Err(e);
                }
            }
            summary.stored = keys.len() as u64;
        }

        let mut fresh = Vec::with_capacity(dead_letters.len());
        let mut dead_keys = Vec::new();
        for d in dead_letters {
            let day = day_of(d.ingest_time);
            // Dead letters of a retried request arrive on the same day or the next; both are checked.
            self.dead_keys
                .load_day(self.dead_letters.table(), day)
                .await?;
            self.dead_keys
                .load_day(self.dead_letters.table(), day - 1)
                .await?;
            let k = digest(&dead_letter_uid(&d));
            if self.dead_keys.contains(day - 1, k) || !self.dead_keys.insert(day, k) {
                summary.dead_letter_duplicates += 1;
                continue;
            }
            dead_keys.push((day, k));
            fresh.push(d);
        }
        if !fresh.is_empty() {
            match self
                .dead_letters
                .append(dead_letters_to_batch(&fresh)?)
                .await
            {
                Ok(Some(r)) => summary.commits.push(("dead_letters", r)),
                Ok(None) => {}
                Err(e) => {
                    for (day, k) in dead_keys {
                        self.dead_keys.remove(day, k);
                    }
                    return Err(e);
                }
            }
            summary.dead_lettered = fresh.len() as u64;
        }

        if !episodes.is_empty() {
            if let Some(r) = self.episodes.append(episodes_to_batch(&episodes)?).await? {
                summary.commits.push(("episodes", r));
            }
            summary.episodes = episodes.len() as u64;
        }
        Ok(summary)
    }
}
