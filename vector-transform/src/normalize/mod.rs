//! Stateless normalization (Vector's `FunctionTransform` role): one raw record in, one normalized
//! event or one dead letter out, by the VRL programs in `vrl-mappings/`.

mod config;
mod framing;
mod mappings;
mod pipeline;
mod redact;
mod runner;
mod sniff;
mod value;

pub use config::NormalizeConfig;
pub use framing::{Frame, Framer, MAX_RECORD_BYTES};
pub use mappings::{MappingSet, Source};
pub use pipeline::{RunStats, SourceChoice, normalize_reader};
pub use redact::redact_secrets;
pub use runner::{Normalized, Normalizer};
pub use sniff::sniff;
