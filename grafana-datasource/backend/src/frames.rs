//! Arrow record batches to Grafana frames (grafana-plugin-sdk 0.5 fields, copied: the SDK's arrow
//! bridge does not build against arrow 59). Strings (Utf8View from Parquet) are cast to Utf8,
//! timestamps to nanoseconds without a zone, lists are joined with ", ".

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, concat};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampNanosecondType};
use chrono::{DateTime, Utc};
use grafana_plugin_sdk::data::{DataLink, Field, FieldConfig, Frame, Metadata, Notice, Severity};
use grafana_plugin_sdk::prelude::*;

/// A column Grafana cannot show.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Arrow failed.
    #[error("cannot convert column {column}: {source}")]
    Arrow {
        /// The column.
        column: String,
        /// Why.
        source: arrow::error::ArrowError,
    },
}

fn arrow_err(column: &str) -> impl Fn(arrow::error::ArrowError) -> FrameError + '_ {
    move |source| FrameError::Arrow {
        column: column.to_owned(),
        source,
    }
}

/// One Arrow column as a Grafana field.
pub fn array_to_field(name: &str, arr: &ArrayRef) -> Result<Field, FrameError> {
    use DataType::*;
    let e = arrow_err(name);
    Ok(match arr.data_type() {
        Boolean => arr
            .as_boolean()
            .iter()
            .collect::<Vec<Option<bool>>>()
            .into_opt_field(name),
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 => {
            let a = cast(arr, &Int64).map_err(&e)?;
            a.as_primitive::<Int64Type>()
                .iter()
                .collect::<Vec<_>>()
                .into_opt_field(name)
        }
        UInt64 | Float16 | Float32 | Float64 | Decimal128(..) | Decimal256(..) => {
            let a = cast(arr, &Float64).map_err(&e)?;
            a.as_primitive::<Float64Type>()
                .iter()
                .collect::<Vec<_>>()
                .into_opt_field(name)
        }
        Timestamp(..) | Date32 | Date64 => {
            let a = cast(arr, &Timestamp(TimeUnit::Nanosecond, None)).map_err(&e)?;
            a.as_primitive::<TimestampNanosecondType>()
                .iter()
                .map(|v| v.map(DateTime::<Utc>::from_timestamp_nanos))
                .collect::<Vec<_>>()
                .into_opt_field(name)
        }
        List(_) | LargeList(_) => list_strings(arr, name)?.into_opt_field(name),
        _ => {
            let a = cast(arr, &Utf8).map_err(&e)?;
            a.as_string::<i32>()
                .iter()
                .map(|s| s.map(str::to_owned))
                .collect::<Vec<_>>()
                .into_opt_field(name)
        }
    })
}

/// A list column rendered readably: elements joined with ", " (structs as `path: old -> new`).
fn list_strings(arr: &ArrayRef, name: &str) -> Result<Vec<Option<String>>, FrameError> {
    let e = arrow_err(name);
    let lists = match arr.data_type() {
        DataType::LargeList(f) => {
            let a = cast(arr, &DataType::List(f.clone())).map_err(&e)?;
            a.as_list::<i32>().clone()
        }
        _ => arr.as_list::<i32>().clone(),
    };
    let mut out = Vec::with_capacity(lists.len());
    for i in 0..lists.len() {
        if lists.is_null(i) {
            out.push(None);
            continue;
        }
        let items = lists.value(i);
        let parts: Vec<String> = match items.data_type() {
            DataType::Struct(_) => {
                let s = items.as_struct();
                (0..s.len())
                    .map(|r| {
                        s.columns()
                            .iter()
                            .zip(s.column_names())
                            .filter_map(|(c, n)| {
                                let v = cast(c, &DataType::Utf8).ok()?;
                                let v = v.as_string::<i32>();
                                (!v.is_null(r)).then(|| format!("{n}={}", v.value(r)))
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect()
            }
            _ => {
                let v = cast(&items, &DataType::Utf8).map_err(&e)?;
                v.as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap_or("").to_owned())
                    .collect()
            }
        };
        out.push(Some(parts.join(", ")));
    }
    Ok(out)
}

/// Display name and unit of a known column.
pub fn describe(name: &str) -> (Option<&'static str>, Option<&'static str>) {
    match name {
        "time" => (Some("Time"), None),
        "vendor" => (Some("Vendor"), None),
        "action" => (Some("Action"), None),
        "actor" => (Some("Actor"), None),
        "device" => (Some("Device"), None),
        "target_name" => (Some("Target"), None),
        "risk_level" => (Some("Risk"), None),
        "risk_score" | "max_risk_score" => (Some("Risk score"), Some("none")),
        "risk_tags" => (Some("Risk tags"), None),
        "message" => (Some("Message"), None),
        "outcome" => (Some("Outcome"), None),
        "event_uid" => (Some("Event"), None),
        "episode_id" => (Some("Episode"), None),
        "episode_kind" => (Some("Kind"), None),
        "first_time" => (Some("First"), None),
        "last_time" => (Some("Last"), None),
        "event_count" => (Some("Events"), Some("short")),
        "device_count" => (Some("Devices"), Some("short")),
        _ => (None, None),
    }
}

/// Data links of a timeline column: device and actor dashboards, keeping the time range.
pub fn links(name: &str) -> Vec<DataLink> {
    let (title, uid, var) = match name {
        "device" | "device_id" => ("Device history", "mdm-audit-device", "device"),
        "actor" => ("Admin activity", "mdm-audit-admin", "actor"),
        _ => return Vec::new(),
    };
    let mut l = DataLink::default();
    l.title = Some(title.to_owned());
    l.url = Some(format!(
        "/d/{uid}?var-{var}=${{__value.raw}}&${{__url_time_range}}"
    ));
    vec![l]
}

/// Batches to one frame, every field with its display name, unit and links.
pub fn batches_to_frame(
    name: &str,
    schema: &arrow::datatypes::Schema,
    batches: &[RecordBatch],
) -> Result<Frame, FrameError> {
    let mut frame = Frame::new(name);
    for (i, f) in schema.fields().iter().enumerate() {
        let col: ArrayRef = if batches.is_empty() {
            arrow::array::new_empty_array(f.data_type())
        } else {
            let cols: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
            concat(&cols).map_err(arrow_err(f.name()))?
        };
        let field = array_to_field(f.name(), &col)?;
        let (display, unit) = describe(f.name());
        let links = links(f.name());
        let field = if display.is_some() || unit.is_some() || !links.is_empty() {
            let mut c = FieldConfig::default();
            c.display_name_from_ds = display.map(str::to_owned);
            c.unit = unit.map(str::to_owned);
            c.links = links;
            field.with_config(c)
        } else {
            field
        };
        frame.add_field(field);
    }
    Ok(frame)
}

/// Adds a notice to the frame.
pub fn with_notice(frame: Frame, severity: Severity, text: String) -> Frame {
    let mut meta = frame.meta.clone().unwrap_or_default();
    let mut n = Notice::new(text);
    n.severity = Some(severity);
    meta.notices.get_or_insert_with(Vec::new).push(n);
    frame.with_metadata(meta)
}

/// Sets the executed query string shown in the query inspector.
pub fn with_executed(frame: Frame, sql: &str) -> Frame {
    let mut meta: Metadata = frame.meta.clone().unwrap_or_default();
    meta.executed_query_string = Some(sql.to_owned());
    frame.with_metadata(meta)
}
