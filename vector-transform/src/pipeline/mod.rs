//! The one write loop that `ingest` and `serve` share: a [`Pipeline`] owns the store writer and the
//! stage chain, and takes batches of inputs (events and dead letters): it dedupes each input's
//! events against the store, runs the fresh ones through the stages in order, and holds what the
//! stages release until the next commit, which appends events, dead letters and episode states in
//! one go. Released events are held as Arrow batches ([`PendingEvents`]), not as structs.
//! Deduplication comes before the stages, so a re-run or a retried request never counts twice in
//! correlation.

mod stage;

pub use stage::{Chain, PassThrough, Stage};

use crate::{DeadLetter, NormalizedEvent};
use mdm_audit_store::{
    AppendSummary, AuditWriter, EpisodeRecord, PendingEvents, StoreError, StoreLocation,
    WriterOptions,
};

/// One input of a batch: its events and its dead letters.
pub type Input = (Vec<NormalizedEvent>, Vec<DeadLetter>);

/// What became of one input of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputCounts {
    /// Its events that were new (passed on to the stages, stored with a commit).
    pub fresh: u64,
    /// Its events skipped as already stored (or repeated).
    pub duplicates: u64,
    /// Its dead letters.
    pub dead: u64,
}

/// The store writer and the stages, with what the stages released since the last commit.
pub struct Pipeline {
    writer: AuditWriter,
    stage: Box<dyn Stage>,
    /// What the stages released from the last call, before it joins `events`.
    released: Vec<NormalizedEvent>,
    events: PendingEvents,
    dead: Vec<DeadLetter>,
    episodes: Vec<EpisodeRecord>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("events", &self.events.len())
            .field("dead", &self.dead.len())
            .field("episodes", &self.episodes.len())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline writing with `writer` through `stage`.
    pub fn new(writer: AuditWriter, stage: Box<dyn Stage>) -> Self {
        Self {
            writer,
            stage,
            released: Vec::new(),
            events: PendingEvents::new(),
            dead: Vec::new(),
            episodes: Vec::new(),
        }
    }

    /// Opens the store at `location` for writer `options` and writes through `stage`.
    pub async fn open(
        location: &StoreLocation,
        options: WriterOptions,
        stage: Box<dyn Stage>,
    ) -> Result<Self, StoreError> {
        Ok(Self::new(
            AuditWriter::open(location, options).await?,
            stage,
        ))
    }

    /// The store writer.
    pub fn writer(&self) -> &AuditWriter {
        &self.writer
    }

    /// Replaces the writer (after a failed commit, with a newly opened one whose dedupe index holds
    /// only what the table holds). Whatever is held for the next commit is dropped with the old one.
    pub fn replace_writer(&mut self, writer: AuditWriter) {
        self.writer = writer;
        self.released.clear();
        self.events = PendingEvents::new();
        self.dead.clear();
        self.episodes.clear();
    }

    /// Events the stages released that wait for the next commit.
    pub fn held_events(&self) -> usize {
        self.events.len()
    }

    /// The ingest credential that admitted what the following commits store
    /// ([`AuditWriter::set_admission`]).
    pub fn set_admission(&mut self, credential: Option<String>) {
        self.writer.set_admission(credential);
    }

    /// Dedupes every input's events (in order), then runs all the fresh ones through the stages;
    /// their output and the inputs' dead letters wait for the next commit. If deduplication fails,
    /// no event reached the stages, nothing is held, and the keys reserved for earlier inputs are
    /// still reserved: replace the writer (likewise if a released event cannot be held).
    pub async fn process(&mut self, batch: Vec<Input>) -> Result<Vec<InputCounts>, StoreError> {
        let mut counts = Vec::with_capacity(batch.len());
        let mut fresh_all = Vec::new();
        let mut dead_all = Vec::new();
        for (events, mut dead) in batch {
            let (fresh, duplicates) = self.writer.dedupe(events).await?;
            counts.push(InputCounts {
                fresh: fresh.len() as u64,
                duplicates,
                dead: dead.len() as u64,
            });
            fresh_all.extend(fresh);
            dead_all.append(&mut dead);
        }
        for e in fresh_all {
            self.stage.push(e, &mut self.released, &mut self.episodes);
            self.hold_released()?;
        }
        self.dead.append(&mut dead_all);
        Ok(counts)
    }

    /// Moves what the stages released into the held batches.
    fn hold_released(&mut self) -> Result<(), StoreError> {
        self.events.extend(self.released.drain(..))
    }

    /// Appends what is held (events, dead letters, episode states) in one go; nothing held, no
    /// commit. On error what was held is dropped and the keys of its events released.
    pub async fn commit(&mut self) -> Result<AppendSummary, StoreError> {
        if self.events.is_empty() && self.dead.is_empty() && self.episodes.is_empty() {
            return Ok(AppendSummary::default());
        }
        self.writer
            .append_pending(
                std::mem::take(&mut self.events),
                std::mem::take(&mut self.dead),
                std::mem::take(&mut self.episodes),
            )
            .await
    }

    /// Lets the stages release what is complete without ending the input ([`Stage::flush`]), then
    /// commits.
    pub async fn flush(&mut self) -> Result<AppendSummary, StoreError> {
        self.stage.flush(&mut self.released, &mut self.episodes);
        self.hold_released()?;
        self.commit().await
    }

    /// Ends the input: the stages release everything ([`Stage::finish`]), then commits.
    pub async fn finish(&mut self) -> Result<AppendSummary, StoreError> {
        self.stage.finish(&mut self.released, &mut self.episodes);
        self.hold_released()?;
        self.commit().await
    }
}
