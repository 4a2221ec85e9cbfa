//! Output formats of `mdm-audit normalize`: NDJSON (the event's serde form), Parquet (the Arrow
//! schema) and OCSF JSON (one OCSF 1.8 event per line, plus a Detection Finding per risk-tagged event).

mod ndjson;
mod ocsf;
mod parquet;

use std::io::Write;
use std::str::FromStr;

pub use ndjson::NdjsonSink;
pub use ocsf::{OCSF_VERSION, OcsfSink, to_ocsf};
pub use parquet::ParquetSink;

use crate::{NormalizedEvent, TransformError};

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, the normalized event.
    Ndjson,
    /// An Apache Parquet file of the events schema.
    Parquet,
    /// One OCSF 1.8 JSON event per line.
    Ocsf,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ndjson" | "json" | "jsonl" => Ok(Format::Ndjson),
            "parquet" => Ok(Format::Parquet),
            "ocsf" => Ok(Format::Ocsf),
            other => Err(format!(
                "unknown format {other:?}: expected ndjson, parquet or ocsf"
            )),
        }
    }
}

/// Where normalized events go.
pub trait EventSink {
    /// Writes one event.
    fn write(&mut self, event: &NormalizedEvent) -> Result<(), TransformError>;
    /// Flushes and closes the output.
    fn finish(self: Box<Self>) -> Result<(), TransformError>;
}

/// A sink of `format` writing to `out`.
pub fn sink(
    format: Format,
    out: Box<dyn Write + Send>,
) -> Result<Box<dyn EventSink>, TransformError> {
    Ok(match format {
        Format::Ndjson => Box::new(NdjsonSink::new(out)),
        Format::Parquet => Box::new(ParquetSink::new(out)?),
        Format::Ocsf => Box::new(OcsfSink::new(out)),
    })
}
