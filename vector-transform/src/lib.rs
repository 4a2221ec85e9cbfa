//! The write path of mdm-audit: raw MDM records are normalized by the VRL mappings in
//! `vrl-mappings/` (the same files Vector runs), validated into [`NormalizedEvent`]s (the contract, defined in
//! `mdm-audit-store`), enriched, correlated and stored, or written as NDJSON, Parquet or OCSF.

pub mod correlate;
pub mod enrich;
pub mod error;
pub mod ingest;
pub mod internal_events;
pub mod normalize;
pub mod output;
pub mod pipeline;
pub mod pull;
pub mod risk;
pub mod serve;

pub use error::TransformError;
/// The event and dead-letter types this stage produces, from the contract crate.
pub use mdm_audit_store::{Change, DeadLetter, NormalizedEvent};
pub use normalize::{Framer, MappingSet, NormalizeConfig, Normalizer, Source};
