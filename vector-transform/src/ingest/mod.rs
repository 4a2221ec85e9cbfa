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

use chrono::Utc;

use crate::normalize::{Framer, RunStats, SourceChoice, redact_secrets};
use crate::pipeline::{Pipeline, Stage};
use crate::{DeadLetter, NormalizeConfig, NormalizedEvent, Normalizer, Source, TransformError};
use mdm_audit_store::{AppendSummary, StoreError, StoreLocation, WriterOptions};

/// Events per commit by default.
pub const DEFAULT_COMMIT_EVENTS: usize = 50_000;
/// Events each input may be out of time order by (the reorder buffer of each file).
pub const DEFAULT_REORDER_WINDOW: usize = 10_000;

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

const CHUNK: usize = 1024;

/// Reads one input: frames, normalizes, reorders within the window, sends chunks in time order.
fn read_input(input: Input, config: IngestConfig, tx: SyncSender<Item>, bytes: Arc<AtomicU64>) {
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
    let mut normalizer = match Normalizer::from_config(&config.normalize) {
        Ok(n) => n,
        Err(e) => {
            let _ = tx.send(Item::Failed(e));
            return;
        }
    };
    let origin = input.name();
    let mut stats = RunStats::default();
    let mut heap: BinaryHeap<ByTime> = BinaryHeap::with_capacity(config.reorder_window + 1);
    let mut out: Vec<NormalizedEvent> = Vec::with_capacity(CHUNK);
    let mut arrival = 0u64;
    let mut framer = Framer::with_rules(reader, normalizer.vendors().framing());
    let mut last_bytes = 0;
    let send_chunk = |out: &mut Vec<NormalizedEvent>| -> bool {
        tx.send(Item::Events(std::mem::replace(
            out,
            Vec::with_capacity(CHUNK),
        )))
        .is_ok()
    };
    while let Some(frame) = framer.next() {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.send(Item::Failed(TransformError::io(
                    format!("reading {origin}"),
                    e,
                )));
                return;
            }
        };
        bytes.fetch_add(framer.bytes_read - last_bytes, Ordering::Relaxed);
        last_bytes = framer.bytes_read;
        let (source_name, result) = match (&frame.error, as_normalized(&frame.text)) {
            (Some(reason), _) => ("unknown".to_owned(), Err(reason.clone())),
            (None, Some(parsed)) => ("normalized".to_owned(), parsed),
            (None, None) => {
                let source = match config.source {
                    SourceChoice::Fixed(s) => Some(s),
                    SourceChoice::Auto => normalizer.vendors().sniff(&frame.text),
                };
                (
                    source.map_or("unknown", Source::name).to_owned(),
                    match source {
                        Some(s) => normalizer.normalize(s, &frame.text).map(|n| n.event),
                        None => Err(normalizer
                            .vendors()
                            .unrecognized(", nor a normalized event", "use --source to force one")),
                    },
                )
            }
        };
        let counts = stats.per_source.entry(source_name.clone()).or_default();
        match result {
            Ok(event) => {
                counts.0 += 1;
                heap.push(ByTime(event, arrival));
                arrival += 1;
                if heap.len() > config.reorder_window
                    && let Some(ByTime(e, _)) = heap.pop()
                {
                    out.push(e);
                    if out.len() >= CHUNK && !send_chunk(&mut out) {
                        return;
                    }
                }
            }
            Err(reason) => {
                counts.1 += 1;
                let dead = DeadLetter {
                    ingest_time: Utc::now(),
                    source: source_name,
                    reason,
                    origin: Some(format!("{origin}:{}", frame.line)),
                    raw: match frame.bytes {
                        Some(b) => b,
                        None => redact_secrets(&frame.text).into_owned().into_bytes(),
                    },
                };
                if tx.send(Item::Dead(dead)).is_err() {
                    return;
                }
            }
        }
    }
    while let Some(ByTime(e, _)) = heap.pop() {
        out.push(e);
        if out.len() >= CHUNK && !send_chunk(&mut out) {
            return;
        }
    }
    if !out.is_empty() && !send_chunk(&mut out) {
        return;
    }
    let _ = tx.send(Item::Stats(stats));
}

/// A record that is an already normalized event (has the event's required keys) parses as one.
fn as_normalized(text: &str) -> Option<Result<NormalizedEvent, String>> {
    let t = text.trim_start();
    if !t.starts_with('{') || !t.contains("\"event_uid\"") || !t.contains("\"native_action\"") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let o = v.as_object()?;
    if !(o.contains_key("event_uid") && o.contains_key("native_action") && o.contains_key("feed")) {
        return None;
    }
    Some(serde_json::from_value(v).map_err(|e| format!("not a valid normalized event: {e}")))
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
    let mut merge = Merge { inputs: Vec::new() };
    let mut handles = Vec::new();
    for input in inputs {
        let (tx, rx) = sync_channel(4);
        let cfg = config.clone();
        let b = bytes.clone();
        handles.push(std::thread::spawn(move || read_input(input, cfg, tx, b)));
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

fn absorb(summary: &mut IngestSummary, s: AppendSummary) {
    if !s.commits.is_empty() {
        tracing::debug!(stored = s.stored, "Ingest batch committed.");
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
        let step = match pipeline.process(vec![(chunk, dead)]).await {
            Ok(counts) => {
                summary.store.duplicates += counts.iter().map(|c| c.duplicates).sum::<u64>();
                if pipeline.held_events() >= commit_events {
                    pipeline.commit().await
                } else {
                    Ok(AppendSummary::default())
                }
            }
            Err(e) => Err(e),
        };
        match step {
            Ok(s) => absorb(&mut summary, s),
            Err(e) => {
                store_error = Some(e);
                break;
            }
        }
    }
    if store_error.is_none() {
        match pipeline.finish().await {
            Ok(s) => absorb(&mut summary, s),
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
