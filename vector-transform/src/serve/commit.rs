//! The committer: one task owns the [`Pipeline`] (the store writer and the stages). It takes the
//! first waiting request, gathers the others that arrive within the commit window (or until the
//! group is large enough), has the pipeline dedupe their events, run them through the stages and
//! commit the group once, and only then answers every request of it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::metrics::Metrics;
use crate::pipeline::{Pipeline, Stage};
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
    /// The name of the credential that admitted the request (none: unauthenticated service).
    pub credential: Option<String>,
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
    writer: AuditWriter,
    stage: Box<dyn Stage>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    settings: CommitSettings,
    metrics: Arc<Metrics>,
) -> Result<JobOutcome, StoreError> {
    let mut pipeline = Pipeline::new(writer, stage);
    let mut total = JobOutcome::default();
    let mut stopping = false;
    // A request admitted by another credential than the group's starts the next group, so that
    // each commit records the one credential that admitted all of its rows.
    let mut carry: Option<Job> = None;
    while !stopping || carry.is_some() {
        let first = match carry.take() {
            Some(j) => j,
            None => match rx.recv().await {
                Some(Msg::Job(j)) => j,
                Some(Msg::Shutdown) | None => break,
            },
        };
        let deadline = tokio::time::Instant::from_std(first.received + settings.window);
        let mut size = first.events.len() + first.dead.len();
        let credential = first.credential.clone();
        let mut group = vec![first];
        while size < settings.max_events && !stopping {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Msg::Job(j))) if j.credential != credential => {
                    carry = Some(j);
                    break;
                }
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
        pipeline.set_admission(credential);
        match commit_group(&mut pipeline, &mut group, &metrics).await {
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
                let fresh = reopen(&location, &options).await?;
                pipeline.replace_writer(fresh);
            }
        }
        metrics
            .dedupe_keys
            .store(pipeline.writer().dedupe_keys() as u64, Ordering::Relaxed);
    }
    // Requests still queued (sent just before shutdown) are committed too.
    rx.close();
    let mut rest = Vec::new();
    while let Some(m) = rx.recv().await {
        if let Msg::Job(j) = m {
            rest.push(j);
        }
    }
    // One commit per run of requests admitted by the same credential.
    let mut rest = rest.into_iter().peekable();
    while let Some(first) = rest.next() {
        let credential = first.credential.clone();
        let mut group = vec![first];
        while let Some(j) = rest.next_if(|j| j.credential == credential) {
            group.push(j);
        }
        pipeline.set_admission(credential);
        match commit_group(&mut pipeline, &mut group, &metrics).await {
            Ok(outcomes) => {
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    metrics.pending.fetch_sub(job.weight, Ordering::Relaxed);
                    total.stored += outcome.stored;
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                for job in group.into_iter().chain(rest) {
                    let _ = job.reply.send(Err(e.to_string()));
                }
                return Err(e);
            }
        }
    }
    let s = pipeline.finish().await?;
    total.stored += s.stored;
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

/// Has the pipeline dedupe and stage every job's events, and commit them with the dead letters in
/// one append; returns each job's share. Nothing is answered here.
async fn commit_group(
    pipeline: &mut Pipeline,
    group: &mut [Job],
    metrics: &Metrics,
) -> Result<Vec<JobOutcome>, StoreError> {
    let started = Instant::now();
    let batch = group
        .iter_mut()
        .map(|job| {
            (
                std::mem::take(&mut job.events),
                std::mem::take(&mut job.dead),
            )
        })
        .collect();
    // On a dedupe error keys of earlier jobs are reserved: the caller replaces the writer.
    let counts = pipeline.process(batch).await?;
    let fresh_total: u64 = counts.iter().map(|c| c.fresh).sum();
    let dup_total: u64 = counts.iter().map(|c| c.duplicates).sum();
    let dead_n: u64 = counts.iter().map(|c| c.dead).sum();
    // The stages release what is complete; a request is acknowledged only for what this commit holds.
    let summary = pipeline.flush().await?;
    if summary.stored < fresh_total {
        tracing::warn!(
            held = fresh_total - summary.stored,
            "The pipeline stage held events past its flush; they are stored with a later commit."
        );
    }
    metrics.committed(
        group.len(),
        fresh_total,
        dup_total,
        dead_n,
        started.elapsed(),
    );
    Ok(counts
        .into_iter()
        .map(|c| JobOutcome {
            stored: c.fresh,
            duplicates: c.duplicates,
            dead_lettered: c.dead,
        })
        .collect())
}
