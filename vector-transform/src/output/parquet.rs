use std::io::Write;

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::EventSink;
use crate::{NormalizedEvent, TransformError};
use mdm_audit_store::batch::events_to_batch;
use mdm_audit_store::schema::events_schema;

/// Rows per batch / row group written.
const BATCH_ROWS: usize = 8192;

/// Writes events to one Parquet file (zstd), in batches.
pub struct ParquetSink {
    writer: ArrowWriter<Box<dyn Write + Send>>,
    pending: Vec<NormalizedEvent>,
}

impl std::fmt::Debug for ParquetSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetSink")
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl ParquetSink {
    /// Starts a Parquet file on `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Result<Self, TransformError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .build();
        Ok(Self {
            writer: ArrowWriter::try_new(out, events_schema(), Some(props))?,
            pending: Vec::with_capacity(BATCH_ROWS),
        })
    }

    fn flush_pending(&mut self) -> Result<(), TransformError> {
        if !self.pending.is_empty() {
            let batch = events_to_batch(&self.pending)?;
            self.writer.write(&batch)?;
            self.pending.clear();
        }
        Ok(())
    }
}

impl EventSink for ParquetSink {
    fn write(&mut self, event: &NormalizedEvent) -> Result<(), TransformError> {
        self.pending.push(event.clone());
        if self.pending.len() >= BATCH_ROWS {
            self.flush_pending()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), TransformError> {
        self.flush_pending()?;
        self.writer.close()?;
        Ok(())
    }
}
