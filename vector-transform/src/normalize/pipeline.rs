//! The normalize loop shared by `mdm-audit normalize` and (later) `ingest`: frames in, events to a
//! sink, dead letters to their own sink, per-source counts. A bad record never stops the run.

use std::collections::BTreeMap;
use std::io::BufRead;

use chrono::Utc;

use super::{Framer, Normalizer, Source, redact_secrets};
use crate::output::EventSink;
use crate::{DeadLetter, TransformError};

/// Counts per source name (a vendor's name such as `jamf`, or `unknown`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunStats {
    /// (ok, dead-lettered) per source.
    pub per_source: BTreeMap<String, (u64, u64)>,
}

impl RunStats {
    /// Events written.
    pub fn ok(&self) -> u64 {
        self.per_source.values().map(|(ok, _)| ok).sum()
    }

    /// Records dead-lettered.
    pub fn dead_lettered(&self) -> u64 {
        self.per_source.values().map(|(_, d)| d).sum()
    }

    /// `jamf ok=3 dead_lettered=0, intune ok=...; total ok=.. dead_lettered=..`
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .per_source
            .iter()
            .map(|(s, (ok, d))| format!("{s} ok={ok} dead_lettered={d}"))
            .collect();
        format!(
            "{}{}total ok={} dead_lettered={}",
            parts.join(", "),
            if parts.is_empty() { "" } else { "; " },
            self.ok(),
            self.dead_lettered()
        )
    }
}

/// Which program reads the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceChoice {
    /// Recognize each record by its shape.
    Auto,
    /// Always this source.
    Fixed(Source),
}

/// Normalizes every record of `reader`. `origin` names the input in dead letters (`file.json`).
/// `progress` is called with the bytes read so far after each record.
#[allow(clippy::too_many_arguments)]
pub fn normalize_reader<R: BufRead>(
    normalizer: &mut Normalizer,
    choice: SourceChoice,
    reader: R,
    origin: &str,
    sink: &mut dyn EventSink,
    dead_letters: &mut dyn FnMut(DeadLetter) -> Result<(), TransformError>,
    stats: &mut RunStats,
    progress: &mut dyn FnMut(u64),
) -> Result<(), TransformError> {
    let mut framer = Framer::with_rules(reader, normalizer.vendors().framing());
    while let Some(frame) = framer.next() {
        let frame = frame.map_err(|e| TransformError::io(format!("reading {origin}"), e))?;
        let source = match choice {
            SourceChoice::Fixed(s) => Some(s),
            SourceChoice::Auto => normalizer.vendors().sniff(&frame.text),
        };
        let source_name = source.map_or("unknown", Source::name).to_owned();
        let result = match (&frame.error, source) {
            (Some(reason), _) => Err(reason.clone()),
            (None, None) => Err(normalizer
                .vendors()
                .unrecognized("", "use --source to force one")),
            (None, Some(source)) => normalizer.normalize(source, &frame.text).map(|n| n.event),
        };
        let counts = stats.per_source.entry(source_name.clone()).or_default();
        match result {
            Ok(event) => {
                sink.write(&event)?;
                counts.0 += 1;
            }
            Err(reason) => {
                counts.1 += 1;
                dead_letters(DeadLetter {
                    ingest_time: Utc::now(),
                    source: source_name,
                    reason,
                    origin: Some(format!("{origin}:{}", frame.line)),
                    raw: match frame.bytes {
                        // Not UTF-8: kept byte for byte (text redaction cannot apply).
                        Some(bytes) => bytes,
                        None => redact_secrets(&frame.text).into_owned().into_bytes(),
                    },
                })?;
            }
        }
        progress(framer.bytes_read);
    }
    Ok(())
}
