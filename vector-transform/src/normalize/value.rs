//! A VRL result -> the contract's [`NormalizedEvent`]: converted to JSON and validated by the event's
//! serde form, so unknown fields are refused and a mapping cannot invent columns. The error names the
//! offending field, for the dead-letter reason.

use mdm_audit_store::NormalizedEvent;
use mdm_audit_store::event::{format_time, to_micros};
use vrl::value::Value;

/// Validates a VRL result into an event.
pub fn event_from_vrl(value: Value) -> Result<NormalizedEvent, String> {
    let json = vrl_to_json(value)?;
    serde_json::from_value(json).map_err(|e| format!("mapping result is not a valid event: {e}"))
}

/// Converts a VRL value to JSON; timestamps become RFC 3339 strings truncated to microseconds.
pub fn vrl_to_json(value: Value) -> Result<serde_json::Value, String> {
    Ok(match value {
        Value::Timestamp(t) => serde_json::Value::String(format_time(&to_micros(t))),
        Value::Object(map) => serde_json::Value::Object(
            map.into_iter()
                .map(|(k, v)| Ok((k.into(), vrl_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::Array(items) => serde_json::Value::Array(
            items
                .into_iter()
                .map(vrl_to_json)
                .collect::<Result<_, String>>()?,
        ),
        Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(&b).into_owned()),
        Value::Integer(i) => serde_json::Value::from(i),
        Value::Float(f) => serde_json::Number::from_f64(f.into_inner())
            .map(serde_json::Value::Number)
            .ok_or_else(|| "mapping result holds a non-finite number".to_owned())?,
        Value::Boolean(b) => serde_json::Value::Bool(b),
        Value::Null => serde_json::Value::Null,
        Value::Regex(r) => serde_json::Value::String(r.to_string()),
    })
}
