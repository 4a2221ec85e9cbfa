//! The normalized event: one row of the `events` table, as Rust sees it, defined once.
//!
//! The [`event_columns!`] table below is the single definition of the event: from it follow the
//! Rust struct [`NormalizedEvent`] (and its serde form, which is the NDJSON shape Vector sends to
//! `mdm-audit serve` and `normalize` prints), the Arrow fields of [`crate::schema::events_schema`]
//! (each field's type and nullability from its Rust type, see [`crate::columns`]) and the column
//! builders of [`crate::batch::events_to_batch`]. `tests/tests/schema.rs` pins the result.
//! The write path validates a VRL result into this struct (unknown fields are refused, so a mapping
//! cannot invent columns).

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// One old -> new value pair of a change. Secret values are replaced by `[REDACTED]` and flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Property path as the vendor names it (`Settings.passwordRequired`, `Target.GroupId`).
    pub path: String,
    /// Value before the change, as a string; null when the vendor gives none.
    pub old: Option<String>,
    /// Value after the change, as a string; null when the vendor gives none.
    pub new: Option<String>,
    /// True when the values were removed because the property holds a secret.
    #[serde(default)]
    pub redacted: bool,
}

/// Declares the event struct and, in the same order, its Arrow fields and column arrays.
macro_rules! event_columns {
    (
        $(#[$smeta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$smeta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        /// The `events` columns, in table order.
        pub const EVENT_COLUMNS: &[&str] = &[$(stringify!($field)),*];

        /// The Arrow fields of the `events` table, in column order.
        pub(crate) fn event_fields() -> Vec<arrow::datatypes::Field> {
            vec![$( <$ty as $crate::columns::Column>::field(stringify!($field)) ),*]
        }

        /// One Arrow array per column, in column order.
        pub(crate) fn event_arrays(
            events: &[$name],
            ctx: &$crate::columns::BuildContext,
        ) -> Vec<arrow::array::ArrayRef> {
            vec![$( <$ty as $crate::columns::Column>::array(events.iter().map(|e| &e.$field), ctx) ),*]
        }
    };
}

event_columns! {
/// A normalized, risk-tagged MDM event (see `vrl-mappings/README.md` for each field's vocabulary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NormalizedEvent {
    pub event_uid: String,
    #[serde(with = "micros")]
    pub time: DateTime<Utc>,
    #[serde(default, with = "opt_micros", skip_serializing_if = "Option::is_none")]
    pub ingest_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    pub vendor: String,
    pub product: String,
    pub feed: String,
    pub native_action: String,
    pub ocsf_class_uid: i32,
    pub ocsf_activity_id: i32,
    pub category: String,
    pub action: String,
    pub outcome: String,
    #[serde(default)]
    pub actor_kind: Option<String>,
    #[serde(default)]
    pub actor_id: Option<String>,
    #[serde(default)]
    pub actor_name: Option<String>,
    #[serde(default)]
    pub actor_upn: Option<String>,
    #[serde(default)]
    pub actor_ip: Option<String>,
    #[serde(default)]
    pub actor_app: Option<String>,
    #[serde(default)]
    pub actor_is_delegated: Option<bool>,
    #[serde(default)]
    pub actor_partner_tenant: Option<String>,
    #[serde(default)]
    pub actor_person: Option<String>,
    #[serde(default)]
    pub actor_department: Option<String>,
    #[serde(default)]
    pub target_type: Option<String>,
    #[serde(default)]
    pub target_id: Option<String>,
    #[serde(default)]
    pub target_name: Option<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub device_serial: Option<String>,
    #[serde(default)]
    pub device_name: Option<String>,
    #[serde(default)]
    pub device_platform: Option<String>,
    #[serde(default)]
    pub device_os: Option<String>,
    #[serde(default)]
    pub device_user: Option<String>,
    #[serde(default)]
    pub asset_tag: Option<String>,
    #[serde(default)]
    pub device_department: Option<String>,
    /// What entity resolution looked up and did not find (`actor`, `device`); empty when found or
    /// when no directory is configured.
    #[serde(default)]
    pub unresolved: Vec<String>,
    #[serde(default)]
    pub risk_tags: Vec<String>,
    #[serde(default)]
    pub risk_score: i32,
    #[serde(default = "default_risk_level")]
    pub risk_level: String,
    #[serde(default)]
    pub risk_reasons: Vec<String>,
    #[serde(default)]
    pub controls: Vec<String>,
    #[serde(default)]
    pub episode_id: Option<String>,
    #[serde(default)]
    pub episode_kind: Option<String>,
    pub message: String,
    pub raw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    #[serde(default)]
    pub chain_seq: Option<i64>,
    #[serde(default)]
    pub prev_hash: Option<String>,
    #[serde(default)]
    pub hash: Option<String>,
}
}

fn default_risk_level() -> String {
    "none".to_owned()
}

/// Truncates to microseconds, the precision of the `time` column.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// Formats a time as the NDJSON output shows it: RFC 3339, UTC `Z`, 0/3/6 fraction digits.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

mod micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| super::to_micros(t.with_timezone(&Utc)))
            .map_err(|e| serde::de::Error::custom(format!("invalid RFC 3339 time {s:?}: {e}")))
    }
}

mod opt_micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format_time(t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| super::to_micros(t.with_timezone(&Utc)))
                .map_err(|e| serde::de::Error::custom(format!("invalid RFC 3339 time {s:?}: {e}")))
        })
        .transpose()
    }
}
