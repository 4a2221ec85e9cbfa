//! The write path of mdm-audit: raw MDM records are normalized by the VRL mappings in
//! `vrl-mappings/` (the same files Vector runs), validated into [`NormalizedEvent`]s and turned into
//! Arrow record batches of the one schema in [`schema`], or written as NDJSON, Parquet or OCSF.

pub mod batch;
pub mod correlate;
pub mod dead_letter;
pub mod enrich;
pub mod error;
pub mod event;
pub mod ingest;
pub mod internal_events;
pub mod normalize;
pub mod output;
pub mod risk;
pub mod schema;
pub mod serve;
pub mod store;

pub use dead_letter::DeadLetter;
pub use error::TransformError;
pub use event::{Change, NormalizedEvent};
pub use normalize::{Framer, MappingSet, NormalizeConfig, Normalizer, Source};
