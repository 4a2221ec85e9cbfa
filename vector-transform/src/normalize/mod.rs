//! Stateless normalization (Vector's `FunctionTransform` role): one raw record in, one normalized
//! event or one dead letter out, by the VRL programs in `vrl-mappings/`. Each vendor is a folder
//! `vrl-mappings/sources/<folder>/` with its descriptor `vendor.toml` ([`VendorRegistry`]).

mod compile;
mod config;
mod framing;
mod framing_rules;
mod mappings;
mod pipeline;
mod redact;
mod registry;
mod runner;
mod sniff;
mod value;
mod vendor;

pub use compile::{Compiled, compile_sources};
pub use config::NormalizeConfig;
pub use framing::{Frame, Framer, MAX_RECORD_BYTES};
pub use framing_rules::FramingRules;
pub use mappings::MappingSet;
pub use pipeline::{RunStats, SourceChoice, normalize_reader};
pub use redact::redact_secrets;
pub use registry::VendorRegistry;
pub use runner::{Normalized, Normalizer};
pub use sniff::sniff;
pub use vendor::{DESCRIPTOR_FILE, Framing, Recognize, Source};
