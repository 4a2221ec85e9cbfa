//! Normalized events -> an Arrow `RecordBatch` of [`crate::schema::events_schema`]. The columns and
//! their builders follow from the one event definition in [`crate::event`].

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use chrono::Utc;

use crate::NormalizedEvent;
use crate::columns::BuildContext;
use crate::event::{event_arrays, to_micros};
use crate::schema::events_schema;

/// Builds one batch from events. `ingest_time` falls back to now for events that have none.
pub fn events_to_batch(events: &[NormalizedEvent]) -> Result<RecordBatch, ArrowError> {
    let ctx = BuildContext {
        now_micros: to_micros(Utc::now()).timestamp_micros(),
    };
    RecordBatch::try_new(events_schema(), event_arrays(events, &ctx))
}
