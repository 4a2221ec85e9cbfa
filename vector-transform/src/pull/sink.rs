//! Where a pulled page goes: the store (VRL mappings, then the shared pipeline: dedupe by
//! `event_uid`, stages, one commit per page), or stdout (the vendor records as they came, one JSON
//! per line, for Vector's `exec` source).

use std::io::Write;

use chrono::Utc;

use crate::normalize::redact_secrets;
use crate::pipeline::Pipeline;
use crate::{DeadLetter, Normalizer, Source};

use super::PullError;

/// What became of one page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    /// Records in the page.
    pub records: u64,
    /// Events stored (new).
    pub fresh: u64,
    /// Events already stored.
    pub duplicates: u64,
    /// Records dead-lettered.
    pub dead: u64,
}

/// The destination of pulled records.
pub enum Sink {
    /// Normalize and store.
    Store {
        /// The write loop `ingest` and `serve` use.
        pipeline: Pipeline,
        /// The VRL mappings.
        normalizer: Box<Normalizer>,
        /// Which vendor the records are.
        source: Source,
    },
    /// Vendor records on stdout, one per line.
    Stdout,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Store { pipeline, .. } => f.debug_tuple("Store").field(pipeline).finish(),
            Sink::Stdout => f.write_str("Stdout"),
        }
    }
}

impl Sink {
    /// Takes one page of vendor records (each a JSON text); returns once they are stored (committed)
    /// or written and flushed. `origin` names the page in dead letters.
    pub async fn page(
        &mut self,
        records: &[String],
        origin: &str,
    ) -> Result<PageCounts, PullError> {
        let mut counts = PageCounts {
            records: records.len() as u64,
            ..PageCounts::default()
        };
        match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                for r in records {
                    out.write_all(r.as_bytes()).map_err(PullError::Stdout)?;
                    out.write_all(b"\n").map_err(PullError::Stdout)?;
                }
                out.flush().map_err(PullError::Stdout)?;
            }
            Sink::Store {
                pipeline,
                normalizer,
                source,
            } => {
                let mut events = Vec::with_capacity(records.len());
                let mut dead = Vec::new();
                for (i, r) in records.iter().enumerate() {
                    match normalizer.normalize(*source, r) {
                        Ok(n) => events.push(n.event),
                        Err(reason) => dead.push(DeadLetter {
                            ingest_time: Utc::now(),
                            source: source.name().to_owned(),
                            reason,
                            origin: Some(format!("{origin}#{i}")),
                            raw: redact_secrets(r).into_owned().into_bytes(),
                        }),
                    }
                }
                let processed = pipeline.process(vec![(events, dead)]).await?;
                for c in processed {
                    counts.fresh += c.fresh;
                    counts.duplicates += c.duplicates;
                    counts.dead += c.dead;
                }
                pipeline.flush().await?;
            }
        }
        Ok(counts)
    }

    /// Ends the input (closes open episodes) and commits.
    pub async fn finish(&mut self) -> Result<(), PullError> {
        if let Sink::Store { pipeline, .. } = self {
            pipeline.finish().await?;
        }
        Ok(())
    }
}
