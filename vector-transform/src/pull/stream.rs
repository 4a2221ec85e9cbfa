//! Steps every puller's streams share: storing a page through the [`Sink`] with its progress line,
//! the checkpoint row of a stream, and whether a snapshot stream is due.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Checkpoint, CheckpointStore, Progress, PullError, Sink};

/// Stores one page through the sink, counts it (`pages`, `records`) and shows it.
pub(crate) async fn store_page(
    sink: &mut Sink,
    progress: &Progress,
    what: &str,
    page: &[String],
    pages: &mut u64,
    records: &mut u64,
) -> Result<(), PullError> {
    let counts = sink
        .page(page, &format!("{what} page {}", *pages + 1))
        .await?;
    *pages += 1;
    *records += page.len() as u64;
    progress.page(what, *pages, &counts);
    Ok(())
}

/// `Some(now)` when the last complete snapshot of (`source`, `tenant`, `stream`) is older than
/// `every` (or there is none).
pub(crate) async fn snapshot_due(
    checkpoints: &CheckpointStore,
    source: &str,
    tenant: &str,
    stream: &str,
    every: Duration,
) -> Result<Option<DateTime<Utc>>, PullError> {
    let last = checkpoints
        .load(source, tenant, stream)
        .await?
        .and_then(|c| c.watermark);
    let now = Utc::now();
    let every = chrono::Duration::from_std(every).unwrap_or_default();
    Ok(last.is_none_or(|l| now - l >= every).then_some(now))
}

/// The checkpoint row of a stream, written now.
pub(crate) fn checkpoint(
    source: &str,
    tenant: &str,
    stream: &str,
    watermark: Option<DateTime<Utc>>,
    pages: u64,
    records: u64,
    complete: bool,
) -> Checkpoint {
    Checkpoint {
        source: source.into(),
        tenant: tenant.into(),
        stream: stream.into(),
        watermark,
        pages: pages as i64,
        records: records as i64,
        complete,
        updated_time: Utc::now(),
    }
}
