//! Events on their way to a commit, held as Arrow batches.
//!
//! A write loop holds up to a commit's worth of events (50,000 by default). As structs, with a heap
//! allocation per string field, they take several times the memory of the same rows in Arrow
//! columns, and a commit then needed the structs and their batch at once. [`PendingEvents`] turns
//! every [`PendingEvents::CHUNK`] events into a batch as they arrive, and keeps each event's dedupe
//! key, so that a failed commit can release the keys of exactly the rows it did not store.

use arrow::array::RecordBatch;

use super::StoreError;
use super::dedupe::{day_of, digest};
use crate::NormalizedEvent;
use crate::batch::events_to_batch;

/// A dedupe key: the event's day and the digest of its `event_uid`.
pub type Key = (i32, u128);

/// Events waiting for a commit: batches of [`PendingEvents::CHUNK`] rows and the last, open chunk.
#[derive(Debug, Default)]
pub struct PendingEvents {
    batches: Vec<RecordBatch>,
    open: Vec<NormalizedEvent>,
    keys: Vec<Key>,
}

impl PendingEvents {
    /// Events per batch: small enough that the open chunk is a small part of a commit, large
    /// enough that a batch's fixed cost (about 50 column arrays) does not matter.
    pub const CHUNK: usize = 4096;

    /// Nothing held.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `events`, in order.
    pub fn from_events(events: Vec<NormalizedEvent>) -> Result<Self, StoreError> {
        let mut p = Self::new();
        p.extend(events)?;
        Ok(p)
    }

    /// Holds `event` after those held.
    pub fn push(&mut self, event: NormalizedEvent) -> Result<(), StoreError> {
        self.keys
            .push((day_of(event.time), digest(&event.event_uid)));
        self.open.push(event);
        if self.open.len() >= Self::CHUNK {
            self.close_chunk()?;
        }
        Ok(())
    }

    /// Holds `events` after those held, in order.
    pub fn extend(
        &mut self,
        events: impl IntoIterator<Item = NormalizedEvent>,
    ) -> Result<(), StoreError> {
        events.into_iter().try_for_each(|e| self.push(e))
    }

    /// Events held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The dedupe keys (day, digest of `event_uid`) of the events held, in order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Every event held as batches of the `events` schema, in order (chain columns left for the
    /// writer), and their keys; the keys come back even when the last batch cannot be built, so
    /// that a caller can release them.
    pub fn into_parts(mut self) -> (Result<Vec<RecordBatch>, StoreError>, Vec<Key>) {
        let closed = self.close_chunk();
        let keys = std::mem::take(&mut self.keys);
        (closed.map(|()| self.batches), keys)
    }

    fn close_chunk(&mut self) -> Result<(), StoreError> {
        if self.open.is_empty() {
            return Ok(());
        }
        let batch = events_to_batch(&self.open)
            .map_err(|e| StoreError::Internal(format!("building the events batch: {e}")))?;
        self.open.clear();
        self.batches.push(batch);
        Ok(())
    }
}
