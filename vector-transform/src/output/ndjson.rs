use std::io::{BufWriter, Write};

use super::EventSink;
use crate::{NormalizedEvent, TransformError};

/// Writes events as NDJSON.
pub struct NdjsonSink {
    out: BufWriter<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for NdjsonSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NdjsonSink")
    }
}

impl NdjsonSink {
    /// Wraps a writer.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: BufWriter::with_capacity(1 << 16, out),
        }
    }
}

impl EventSink for NdjsonSink {
    fn write(&mut self, event: &NormalizedEvent) -> Result<(), TransformError> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out
            .write_all(b"\n")
            .map_err(|e| TransformError::io("writing NDJSON", e))
    }

    fn finish(mut self: Box<Self>) -> Result<(), TransformError> {
        self.out
            .flush()
            .map_err(|e| TransformError::io("writing NDJSON", e))
    }
}
