//! `mdm-audit ingest`: normalize files and store them in one go.
//!
//! Each input file is read by its own thread (framing, VRL normalization, a bounded reorder buffer
//! so slightly out-of-order files come out in time order); a merge thread takes the earliest event
//! of all files and hands chunks to the shared [`Pipeline`] (dedupe, the stages: enrichment and
//! correlation, then the store writer), which commits every `commit_events` events. Records that are already normalized events
//! (the NDJSON `mdm-audit normalize` writes) are taken as they are.

use std::collections::{BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::normalize::{Framer, FramingRules, RunStats, SourceChoice};
use crate::pipeline::{Pipeline, Stage};
use crate::{DeadLetter, NormalizeConfig, NormalizedEvent, TransformError};

mod workers;

use mdm_audit_store::{AppendSummary, StoreError, StoreLocation, WriterOptions};
use workers::{Ordered, Outcome, Pool};

/// Events per commit by default. A commit writes one file per day it covers: 20,000 per commit kept
/// a 1M-record ingest under 500 MB (498 MB against 586 MB) but made five times as many, smaller
/// files, and per-hour stats over them 1.5x slower (86 ms against 55 ms p50 at 1M; BENCHMARKS.md,
/// "ingest memory"). Queries are run all day, an ingest once: 50,000 stays the default.
pub const DEFAULT_COMMIT_EVENTS: usize = 50_000;
/// Events each input may be out of time order by (the reorder buffer of each file, held as
/// normalized events: about 2 KB each, for every input file).
pub const DEFAULT_REORDER_WINDOW: usize = 2_000;

/// Normalize workers by default: one per core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What `ingest` is told.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Mappings and time zone.
    pub normalize: NormalizeConfig,
    /// Which program reads raw records.
    pub source: SourceChoice,
    /// The store writer.
    pub writer: WriterOptions,
    /// Events per commit.
    pub commit_events: usize,
    /// Reorder buffer per input, in events.
    pub reorder_window: usize,
    /// Normalize worker threads, shared by all inputs (at least one).
    pub workers: usize,
}

impl IngestConfig {
    /// Defaults for writer `writer_id`.
    pub fn new(writer_id: impl Into<String>) -> Self {
        Self {
            normalize: NormalizeConfig::default(),
            source: SourceChoice::Auto,
            writer: WriterOptions::new(writer_id),
            commit_events: DEFAULT_COMMIT_EVENTS,
            reorder_window: DEFAULT_REORDER_WINDOW,
            workers: default_workers(),
        }
    }
}

/// An input: a file, or `-` for stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Input {
    /// `-` is stdin, anything else a file.
    pub fn parse(arg: &std::ffi::OsStr) -> Self {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(arg))
        }
    }

    fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "stdin".to_owned(),
        }
    }
}

/// What an ingest run did.
#[derive(Debug, Clone, Default)]
pub struct IngestSummary {
    /// Records normalized / dead-lettered per source (`normalized` counts records that arrived as events).
    pub normalize: RunStats,
    /// What the store did.
    pub store: AppendSummary,
    /// Bytes read.
    pub bytes: u64,
}

impl IngestSummary {
    /// One line: `stored 123, duplicates skipped 4, dead-lettered 1 (jamf ok=.. ...), 3 commits`.
    pub fn line(&self) -> String {
        format!(
            "stored {}, duplicates skipped {}, dead-lettered {}{}, episode states {}, {} commits ({})",
            self.store.stored,
            self.store.duplicates,
            self.store.dead_lettered,
            if self.store.dead_letter_duplicates > 0 {
                format!(" (+{} already stored)", self.store.dead_letter_duplicates)
            } else {
                String::new()
            },
            self.store.episodes,
            self.store.commits.len(),
            self.normalize.summary()
        )
    }
}

/// Errors of an ingest run.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading or normalizing.
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// Storing.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One item a reader thread sends.
enum Item {
    Events(Vec<NormalizedEvent>),
    Dead(DeadLetter),
    Stats(RunStats),
    Failed(TransformError),
}

/// Min-heap entry by time (then arrival order, so equal times keep file order).
struct ByTime(NormalizedEvent, u64);

impl PartialEq for ByTime {
    fn eq(&self, o: &Self) -> bool {
        self.0.time == o.0.time && self.1 == o.1
    }
}
impl Eq for ByTime {}
impl PartialOrd for ByTime {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ByTime {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.0.time, o.1).cmp(&(self.0.time, self.1))
    }
}

/// Events per chunk a reader sends to the merge (each input has up to six chunks in flight).
const CHUNK: usize = 256;

/// Reads one input: frames it, has the pool normalize the frames (results come back in file
/// order), reorders within the window, sends chunks in time order.
fn read_input(
    input: Input,
    framing: Arc<FramingRules>,
    mut workers: Ordered,
    reorder_window: usize,
    tx: SyncSender<Item>,
    bytes: Arc<AtomicU64>,
) {
    let reader: Box<dyn BufRead> = match &input {
        Input::Stdin => Box::new(BufReader::new(std::io::stdin())),
        Input::File(p) => match File::open(p) {
            Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                let _ = tx.send(Item::Failed(TransformError::io(
                    format!("opening {}", p.display()),
                    e,
                )));
                return;
            }
        },
    };
    let origin = input.name();
    let mut order = InputOrder {
        stats: RunStats::default(),
        heap: BinaryHeap::with_capacity(reorder_window + 1),
        out: Vec::with_capacity(CHUNK),
        arrival: 0,
        reorder_window,
        tx: &tx,
    };
    let mut framer = Framer::with_rules(reader, framing);
    let mut last_bytes = 0;
    let mut batch = Vec::with_capacity(workers::BATCH);
    let mut read_error = None;
    loop {
        let frame = match framer.next() {
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => {
                read_error = Some(TransformError::io(format!("reading {origin}"), e));
                None
            }
            None => None,
        };
        bytes.fetch_add(framer.bytes_read - last_bytes, Ordering::Relaxed);
        last_bytes = framer.bytes_read;
        let end = frame.is_none();
        if let Some(f) = frame {
            batch.push(f);
        }
        if batch.len() >= workers::BATCH || (end && !batch.is_empty()) {
            let frames = std::mem::replace(&mut batch, Vec::with_capacity(workers::BATCH));
            match workers.submit(frames) {
                Ok(Some(done)) => {
                    if !order.take(done) {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = tx.send(Item::Failed(e));
                    return;
                }
            }
        }
        if end {
            break;
        }
    }
    // The batches still in flight, in order.
    loop {
        match workers.next() {
            Ok(Some(done)) => {
                if !order.take(done) {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Item::Failed(e));
                return;
            }
        }
    }
    if let Some(e) = read_error {
        let _ = tx.send(Item::Failed(e));
        return;
    }
    if !order.finish() {
        return;
    }
    let _ = tx.send(Item::Stats(order.stats));
}

/// One input's outcomes, in file order, through its reorder buffer into time-ordered chunks.
struct InputOrder<'a> {
    stats: RunStats,
    heap: BinaryHeap<ByTime>,
    out: Vec<NormalizedEvent>,
    arrival: u64,
    reorder_window: usize,
    tx: &'a SyncSender<Item>,
}

impl InputOrder<'_> {
    /// Takes a batch's outcomes; `false` when the merge has gone (stop reading).
    fn take(&mut self, outcomes: Vec<Outcome>) -> bool {
        for outcome in outcomes {
            match outcome {
                Outcome::Event(source, event) => {
                    self.stats.per_source.entry(source).or_default().0 += 1;
                    self.heap.push(ByTime(event, self.arrival));
                    self.arrival += 1;
                    if self.heap.len() > self.reorder_window
                        && let Some(ByTime(e, _)) = self.heap.pop()
                    {
                        self.out.push(e);
                        if self.out.len() >= CHUNK && !self.send_chunk() {
                            return false;
                        }
                    }
                }
                Outcome::Dead(source, dead) => {
                    self.stats.per_source.entry(source).or_default().1 += 1;
                    if self.tx.send(Item::Dead(dead)).is_err() {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Empties the reorder buffer.
    fn finish(&mut self) -> bool {
        while let Some(ByTime(e, _)) = self.heap.pop() {
            self.out.push(e);
            if self.out.len() >= CHUNK && !self.send_chunk() {
                return false;
            }
        }
        self.out.is_empty() || self.send_chunk()
    }

    fn send_chunk(&mut self) -> bool {
        let chunk = std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK));
        self.tx.send(Item::Events(chunk)).is_ok()
    }
}

/// Reader thread ends, merged in event-time order.
struct Merge {
    inputs: Vec<(Receiver<Item>, VecDeque<NormalizedEvent>, bool)>,
}

/// Runs the readers and the merge on threads; sends chunks of events in time order (with the dead
/// letters met meanwhile) to `out`, and returns the normalize counts.
fn merge_thread(
    inputs: Vec<Input>,
    config: IngestConfig,
    out: tokio::sync::mpsc::Sender<(Vec<NormalizedEvent>, Vec<DeadLetter>)>,
    bytes: Arc<AtomicU64>,
) -> Result<RunStats, TransformError> {
    let pool = Pool::start(&config.normalize, config.source, config.workers)?;
    let framing = pool.framing();
    let mut merge = Merge { inputs: Vec::new() };
    let mut handles = Vec::new();
    for input in inputs {
        let (tx, rx) = sync_channel(4);
        let ordered = pool.ordered(&input.name());
        let framing = framing.clone();
        let b = bytes.clone();
        let window = config.reorder_window;
        handles.push(std::thread::spawn(move || {
            read_input(input, framing, ordered, window, tx, b)
        }));
        merge.inputs.push((rx, VecDeque::new(), false));
    }
    let mut stats = RunStats::default();
    let mut events = Vec::with_capacity(CHUNK);
    let mut dead = Vec::new();
    let mut failure = None;
    let send = |events: &mut Vec<NormalizedEvent>, dead: &mut Vec<DeadLetter>| {
        out.blocking_send((
            std::mem::replace(events, Vec::with_capacity(CHUNK)),
            std::mem::take(dead),
        ))
        .is_ok()
    };
    loop {
        // Fill every input's queue (or mark it ended).
        for (rx, queue, ended) in &mut merge.inputs {
            while queue.is_empty() && !*ended {
                match rx.recv() {
                    Ok(Item::Events(chunk)) => queue.extend(chunk),
                    Ok(Item::Dead(d)) => dead.push(d),
                    Ok(Item::Stats(s)) => {
                        for (k, (ok, d)) in s.per_source {
                            let c = stats.per_source.entry(k).or_default();
                            c.0 += ok;
                            c.1 += d;
                        }
                    }
                    Ok(Item::Failed(e)) => {
                        failure.get_or_insert(e);
                        *ended = true;
                    }
                    Err(_) => *ended = true,
                }
            }
        }
        if failure.is_some() {
            break;
        }
        let next = merge
            .inputs
            .iter()
            .enumerate()
            .filter_map(|(i, (_, q, _))| q.front().map(|e| (e.time, i)))
            .min();
        let Some((_, i)) = next else { break };
        let Some(e) = merge.inputs[i].1.pop_front() else {
            break;
        };
        events.push(e);
        if events.len() >= CHUNK && !send(&mut events, &mut dead) {
            break;
        }
    }
    drop(merge);
    for h in handles {
        let _ = h.join();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if !events.is_empty() || !dead.is_empty() {
        send(&mut events, &mut dead);
    }
    Ok(stats)
}

/// Adds a step's counts to `summary`; `took` is how long its commit held up the loop (reading and
/// normalizing go on until four chunks wait behind it).
fn absorb(summary: &mut IngestSummary, s: AppendSummary, took: Option<std::time::Duration>) {
    if !s.commits.is_empty() {
        tracing::debug!(
            stored = s.stored,
            millis = took.map(|d| d.as_millis() as u64),
            "Ingest batch committed."
        );
    }
    summary.store.absorb(s);
}

/// Normalizes `inputs` and stores them in `location`. Events already stored are dropped before
/// `stage` sees them (a re-run or a twin record never counts twice in correlation). `progress` gets
/// the bytes read so far.
pub async fn ingest(
    location: &StoreLocation,
    inputs: Vec<Input>,
    config: IngestConfig,
    stage: Box<dyn Stage>,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<IngestSummary, IngestError> {
    let mut pipeline = Pipeline::open(location, config.writer.clone(), stage).await?;
    let bytes = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let b = bytes.clone();
    let commit_events = config.commit_events;
    let merger = std::thread::spawn(move || merge_thread(inputs, config, tx, b));
    let mut summary = IngestSummary::default();
    let mut store_error = None;
    while let Some((chunk, dead)) = rx.recv().await {
        progress(bytes.load(Ordering::Relaxed));
        let mut took = None;
        let step = match pipeline.process(vec![(chunk, dead)]).await {
            Ok(counts) => {
                summary.store.duplicates += counts.iter().map(|c| c.duplicates).sum::<u64>();
                if pipeline.held_events() >= commit_events {
                    let started = std::time::Instant::now();
                    let s = pipeline.commit().await;
                    took = Some(started.elapsed());
                    s
                } else {
                    Ok(AppendSummary::default())
                }
            }
            Err(e) => Err(e),
        };
        match step {
            Ok(s) => absorb(&mut summary, s, took),
            Err(e) => {
                store_error = Some(e);
                break;
            }
        }
    }
    if store_error.is_none() {
        match pipeline.finish().await {
            Ok(s) => absorb(&mut summary, s, None),
            Err(e) => store_error = Some(e),
        }
    }
    drop(rx);
    let stats = tokio::task::spawn_blocking(move || merger.join())
        .await
        .map_err(|e| TransformError::Internal(format!("ingest merge task: {e}")))?
        .map_err(|_| TransformError::Internal("the ingest merge thread panicked".into()))?;
    if let Some(e) = store_error {
        return Err(e.into());
    }
    summary.normalize = stats?;
    summary.bytes = bytes.load(Ordering::Relaxed);
    progress(summary.bytes);
    Ok(summary)
}
