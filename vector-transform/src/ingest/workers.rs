//! The normalize workers of an ingest run: a fixed pool of threads, each with its own VRL runtime
//! and the process's one compilation of the programs, shared by every input file.
//!
//! A reader hands the pool batches of frames in file order and takes the results back in the same
//! order ([`Ordered`]), so the event-time reorder buffer, the hash chain and correlation see what a
//! single thread would have produced, whatever the number of workers.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use chrono::Utc;

use crate::normalize::{Frame, FramingRules, MappingSet, SourceChoice, redact_secrets};
use crate::{DeadLetter, NormalizeConfig, NormalizedEvent, Normalizer, Source, TransformError};

/// Frames per batch handed to a worker: large enough that the channel hop is noise next to the VRL
/// work (tens of microseconds per record), small enough to keep every worker busy.
pub const BATCH: usize = 256;

/// What became of one frame.
pub enum Outcome {
    /// Normalized (or an already normalized event), with the source name it counts under.
    Event(String, NormalizedEvent),
    /// Dead-lettered, with the source name it counts under.
    Dead(String, DeadLetter),
}

struct Task {
    frames: Vec<Frame>,
    origin: Arc<str>,
    reply: SyncSender<Vec<Outcome>>,
}

/// The worker threads; dropped, they finish the queued batches and exit.
pub struct Pool {
    tx: Option<SyncSender<Task>>,
    handles: Vec<JoinHandle<()>>,
    workers: usize,
    framing: Arc<FramingRules>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// Starts `workers` threads (at least one). The programs `choice` needs are compiled once,
    /// before any thread starts, so a mapping error is returned here.
    pub fn start(
        config: &NormalizeConfig,
        choice: SourceChoice,
        workers: usize,
    ) -> Result<Self, TransformError> {
        let workers = workers.max(1);
        // The mappings are read once; the first normalizer compiles the programs, the others reuse
        // that compilation (the process's compile cache) and get their own runtime.
        let mappings = MappingSet::load(config)?;
        let framing = mappings.vendors().framing();
        let (tx, rx) = sync_channel::<Task>(workers * 2);
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers {
            let normalizer = Normalizer::for_choice(&mappings, config, choice)?;
            let rx = rx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("normalize-{i}"))
                .spawn(move || work(normalizer, choice, &rx))
                .map_err(|e| TransformError::io("starting a normalize worker", e))?;
            handles.push(handle);
        }
        Ok(Self {
            tx: Some(tx),
            handles,
            workers,
            framing,
        })
    }

    /// How records of the pool's vendors span lines.
    pub fn framing(&self) -> Arc<FramingRules> {
        self.framing.clone()
    }

    /// A reader's handle: submits batches and returns their outcomes in submission order.
    pub fn ordered(&self, origin: &str) -> Ordered {
        Ordered {
            tx: self.tx.clone(),
            origin: Arc::from(origin),
            pending: VecDeque::new(),
            max_in_flight: self.workers * 2,
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.tx = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// One input's batches in flight, answered in the order they were submitted.
pub struct Ordered {
    tx: Option<SyncSender<Task>>,
    origin: Arc<str>,
    pending: VecDeque<Receiver<Vec<Outcome>>>,
    max_in_flight: usize,
}

impl Ordered {
    /// Submits a batch. When too many are in flight, first waits for the oldest and returns its
    /// outcomes (so memory stays bounded); otherwise returns nothing yet.
    pub fn submit(&mut self, frames: Vec<Frame>) -> Result<Option<Vec<Outcome>>, TransformError> {
        let ready = if self.pending.len() >= self.max_in_flight {
            self.next()?
        } else {
            None
        };
        let (reply, rx) = sync_channel(1);
        let task = Task {
            frames,
            origin: self.origin.clone(),
            reply,
        };
        self.tx
            .as_ref()
            .ok_or_else(stopped)?
            .send(task)
            .map_err(|_| stopped())?;
        self.pending.push_back(rx);
        Ok(ready)
    }

    /// The outcomes of the oldest batch in flight (waiting for it), or `None` when none is.
    pub fn next(&mut self) -> Result<Option<Vec<Outcome>>, TransformError> {
        match self.pending.pop_front() {
            None => Ok(None),
            Some(rx) => rx.recv().map(Some).map_err(|_| stopped()),
        }
    }
}

fn stopped() -> TransformError {
    TransformError::Internal("a normalize worker stopped".into())
}

fn work(mut normalizer: Normalizer, choice: SourceChoice, rx: &Mutex<Receiver<Task>>) {
    loop {
        let task = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(task) = task else { return };
        let outcomes = task
            .frames
            .into_iter()
            .map(|frame| outcome(&mut normalizer, choice, &task.origin, frame))
            .collect();
        // The reader may have stopped (an error elsewhere); nothing to answer then.
        let _ = task.reply.send(outcomes);
    }
}

/// Normalizes one frame: an already normalized event is taken as it is; a raw record goes to the
/// program of its source (`choice`, or recognized by its shape).
fn outcome(
    normalizer: &mut Normalizer,
    choice: SourceChoice,
    origin: &str,
    frame: Frame,
) -> Outcome {
    let (source_name, result) = match (&frame.error, as_normalized(&frame.text)) {
        (Some(reason), _) => ("unknown".to_owned(), Err(reason.clone())),
        (None, Some(parsed)) => ("normalized".to_owned(), parsed),
        (None, None) => {
            let source = match choice {
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
    match result {
        Ok(event) => Outcome::Event(source_name, event),
        Err(reason) => Outcome::Dead(
            source_name.clone(),
            DeadLetter {
                ingest_time: Utc::now(),
                source: source_name,
                reason,
                origin: Some(format!("{origin}:{}", frame.line)),
                raw: match frame.bytes {
                    Some(b) => b,
                    None => redact_secrets(&frame.text).into_owned().into_bytes(),
                },
            },
        ),
    }
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
