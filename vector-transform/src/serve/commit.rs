//! The committer: one task owns the store writer and the pipeline stage. It takes the first waiting
//! request, gathers the others that arrive within the commit window (or until the group is large
//! enough), dedupes their events, runs them through the stage, commits the group once and only then
//! answers every request of it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::metrics::Metrics;
use crate::ingest::Stage;
use crate::{DeadLetter, NormalizedEvent};
use mdm_audit_store::{AuditWriter, StoreError, StoreLocation, WriterOptions};

/// What a request's share of a group commit was.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobOutcome {
    /// Its events stored by this commit.
    pub stored: u64,
    /// Its events skipped as already stored (or repeated).
    pub duplicates: u64,
    /// Its lines dead-lettered (a dead letter already stored by an earlier try is not stored again).
    pub dead_lettered: u64,
}

/// One request's parsed content, waiting for its commit.
pub(crate) struct Job {
    pub events: Vec<NormalizedEvent>,
    pub dead: Vec<DeadLetter>,
    pub received: Instant,
    /// Events and dead letters counted in `pending`.
    pub weight: u64,
    pub reply: oneshot::Sender<Result<JobOutcome, String>>,
}

/// What the committer is sent.
pub(crate) enum Msg {
    Job(Job),
    /// Commit what is queued, finish the stage, stop.
    Shutdown,
}

/// Settings of the committer.
#[derive(Debug, Clone)]
pub(crate) struct CommitSettings {
    pub window: Duration,
    pub max_events: usize,
}

/// Runs until `Msg::Shutdown` (or every sender is gone). Returns the writer's totals.
pub(crate) async fn run_committer(
    location: StoreLocation,
    options: WriterOptions,
    mut writer: AuditWriter,
    mut stage: Box<dyn Stage>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    settings: CommitSettings,
    metrics: Arc<Metrics>,
) -> Result<JobOutcome, StoreError> {
    let mut total = JobOutcome::default();
    let mut stopping = false;
    while !stopping {
        let first = match rx.recv().await {
            Some(Msg::Job(j)) => j,
            Some(Msg::Shutdown) | None => break,
        };
        let deadline = tokio::time::Instant::from_std(first.received + settings.window);
        let mut size = first.events.len() + first.dead.len();
        let mut group = vec![first];
        while size < settings.max_events {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Msg::Job(j))) => {
                    size += j.events.len() + j.dead.len();
                    group.push(j);
                }
                Ok(Some(Msg::Shutdown)) | Ok(None) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let n = group.len();
        match commit_group(&mut writer, stage.as_mut(), &mut group, &metrics).await {
            Ok(outcomes) => {
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    metrics.pending.fetch_sub(job.weight, Ordering::Relaxed);
                    total.stored += outcome.stored;
                    total.duplicates += outcome.duplicates;
                    total.dead_lettered += outcome.dead_lettered;
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                metrics.commit_failed(n, &msg);
                for job in group {
                    metrics.pending.fetch_sub(job.weight, Ordering::Relaxed);
                    let _ = job.reply.send(Err(format!(
                        "the store commit failed ({msg}); nothing of this request is acknowledged, retry it"
                    )));
                }
                // The dedupe index may hold keys of events that were never stored: start over from
                // what the table holds.
                drop(writer);
                writer = reopen(&location, &options).await?;
            }
        }
        metrics
            .dedupe_keys
            .store(writer.dedupe_keys() as u64, Ordering::Relaxed);
    }
    // Requests still queued (sent just before shutdown) are committed too.
    rx.close();
    let mut rest = Vec::new();
    while let Some(m) = rx.recv().await {
        if let Msg::Job(j) = m {
            rest.push(j);
        }
    }
    if !rest.is_empty() {
        let outcomes = commit_group(&mut writer, stage.as_mut(), &mut rest, &metrics).await;
        match outcomes {
            Ok(outcomes) => {
                for (job, outcome) in rest.into_iter().zip(outcomes) {
                    metrics.pending.fetch_sub(job.weight, Ordering::Relaxed);
                    total.stored += outcome.stored;
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                for job in rest {
                    let _ = job.reply.send(Err(e.to_string()));
                }
                return Err(e);
            }
        }
    }
    let mut events = Vec::new();
    let mut episodes = Vec::new();
    stage.finish(&mut events, &mut episodes);
    if !events.is_empty() || !episodes.is_empty() {
        let s = writer.append_deduped(events, Vec::new(), episodes).await?;
        total.stored += s.stored;
    }
    Ok(total)
}

async fn reopen(
    location: &StoreLocation,
    options: &WriterOptions,
) -> Result<AuditWriter, StoreError> {
    let mut wait = Duration::from_millis(100);
    loop {
        match AuditWriter::open(location, options.clone()).await {
            Ok(w) => return Ok(w),
            Err(e @ StoreError::Locked { .. }) => return Err(e),
            Err(e) => {
                tracing::error!(error = %e, "Reopening the store failed; retrying.");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Dedupes and stages every job's events, commits them with the dead letters in one append, and
/// returns each job's share. Nothing is answered here.
async fn commit_group(
    writer: &mut AuditWriter,
    stage: &mut dyn Stage,
    group: &mut [Job],
    metrics: &Metrics,
) -> Result<Vec<JobOutcome>, StoreError> {
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(group.len());
    let mut events = Vec::new();
    let mut episodes = Vec::new();
    let mut dead = Vec::new();
    let mut fresh_total = 0u64;
    let mut dup_total = 0u64;
    let mut reserved: Vec<NormalizedEvent> = Vec::new();
    for job in group.iter_mut() {
        let (fresh, dups) = match writer.dedupe(std::mem::take(&mut job.events)).await {
            Ok(r) => r,
            Err(e) => {
                // Keys of earlier jobs were reserved: the caller reopens the writer.
                drop(reserved);
                return Err(e);
            }
        };
        fresh_total += fresh.len() as u64;
        dup_total += dups;
        outcomes.push(JobOutcome {
            stored: fresh.len() as u64,
            duplicates: dups,
            dead_lettered: job.dead.len() as u64,
        });
        reserved.extend(fresh);
        dead.append(&mut job.dead);
    }
    for e in reserved {
        stage.push(e, &mut events, &mut episodes);
    }
    // The stage releases what is complete; a request is acknowledged only for what this commit holds.
    stage.flush(&mut events, &mut episodes);
    if (events.len() as u64) < fresh_total {
        tracing::warn!(
            held = fresh_total - events.len() as u64,
            "The pipeline stage held events past its flush; they are stored with a later commit."
        );
    }
    let dead_n = dead.len() as u64;
    writer.append_deduped(events, dead, episodes).await?;
    metrics.committed(
        group.len(),
        fresh_total,
        dup_total,
        dead_n,
        started.elapsed(),
    );
    Ok(outcomes)
}
