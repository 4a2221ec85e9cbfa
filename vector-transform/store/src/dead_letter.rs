//! Records that could not be normalized. Nothing is lost: the raw bytes travel with the reason.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A record that failed normalization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When the record was processed.
    pub ingest_time: DateTime<Utc>,
    /// The source program it was given to (`jamf`, `intune`, `ws1`) or `unknown` when auto-detection failed.
    pub source: String,
    /// Why it failed, phrased for an operator (VRL abort message, parse error, ...).
    pub reason: String,
    /// Where it came from (`file:line`), when known.
    pub origin: Option<String>,
    /// The record as received, byte for byte, except that values of secret keys (passwords, bypass
    /// codes, recovery keys, tokens, API keys) are replaced by `[REDACTED]`, as the VRL prelude does.
    #[serde(with = "lossless_bytes")]
    pub raw: Vec<u8>,
}

/// Bytes that are valid UTF-8 serialize as a string, others as base64 under `{"base64": ...}`.
mod lossless_bytes {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Binary { hex: String },
    }

    pub(super) fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(b) {
            Ok(t) => Repr::Text(t.to_owned()).serialize(s),
            Err(_) => Repr::Binary {
                hex: hex::encode(b),
            }
            .serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Text(t) => Ok(t.into_bytes()),
            Repr::Binary { hex } => hex::decode(hex).map_err(serde::de::Error::custom),
        }
    }
}
