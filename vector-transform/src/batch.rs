//! Normalized events -> an Arrow `RecordBatch` of [`crate::schema::events_schema`].

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    StructBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field};
use chrono::Utc;

use crate::event::to_micros;
use crate::schema::{LIST_ITEM, change_fields, events_schema};
use crate::{NormalizedEvent, TransformError};

fn strings<'a>(
    events: &'a [NormalizedEvent],
    f: impl Fn(&'a NormalizedEvent) -> Option<&'a str>,
) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(events.len(), events.len() * 16);
    for e in events {
        b.append_option(f(e));
    }
    Arc::new(b.finish())
}

fn string_lists(events: &[NormalizedEvent], f: impl Fn(&NormalizedEvent) -> &[String]) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
        LIST_ITEM,
        DataType::Utf8,
        false,
    )));
    for e in events {
        for s in f(e) {
            b.values().append_value(s);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

fn times(events: &[NormalizedEvent], f: impl Fn(&NormalizedEvent) -> i64) -> ArrayRef {
    let mut b = TimestampMicrosecondBuilder::with_capacity(events.len()).with_timezone("UTC");
    for e in events {
        b.append_value(f(e));
    }
    Arc::new(b.finish())
}

fn changes(events: &[NormalizedEvent]) -> ArrayRef {
    let fields = change_fields();
    let item = Arc::new(Field::new(
        LIST_ITEM,
        DataType::Struct(fields.clone()),
        false,
    ));
    let mut b = ListBuilder::new(StructBuilder::from_fields(fields, 0)).with_field(item);
    for e in events {
        for c in &e.changes {
            let s = b.values();
            s.field_builder::<StringBuilder>(0)
                .expect("path is Utf8")
                .append_value(&c.path);
            s.field_builder::<StringBuilder>(1)
                .expect("old is Utf8")
                .append_option(c.old.as_deref());
            s.field_builder::<StringBuilder>(2)
                .expect("new is Utf8")
                .append_option(c.new.as_deref());
            s.field_builder::<BooleanBuilder>(3)
                .expect("redacted is Boolean")
                .append_value(c.redacted);
            s.append(true);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// Builds one batch from events. `ingest_time` falls back to now for events that have none.
pub fn events_to_batch(events: &[NormalizedEvent]) -> Result<RecordBatch, TransformError> {
    let now = to_micros(Utc::now()).timestamp_micros();
    let int32 = |f: fn(&NormalizedEvent) -> i32| -> ArrayRef {
        let mut b = Int32Builder::with_capacity(events.len());
        for e in events {
            b.append_value(f(e));
        }
        Arc::new(b.finish())
    };
    let class = int32(|e| e.ocsf_class_uid);
    let activity = int32(|e| e.ocsf_activity_id);
    let score = int32(|e| e.risk_score);
    let mut delegated = BooleanBuilder::with_capacity(events.len());
    let mut seq = Int64Builder::with_capacity(events.len());
    for e in events {
        delegated.append_option(e.actor_is_delegated);
        seq.append_option(e.chain_seq);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(events, |e| Some(&e.event_uid)),
        times(events, |e| e.time.timestamp_micros()),
        times(events, |e| {
            e.ingest_time.map_or(now, |t| t.timestamp_micros())
        }),
        strings(events, |e| e.tenant.as_deref()),
        strings(events, |e| e.correlation_id.as_deref()),
        strings(events, |e| Some(&e.vendor)),
        strings(events, |e| Some(&e.product)),
        strings(events, |e| Some(&e.feed)),
        strings(events, |e| Some(&e.native_action)),
        class,
        activity,
        strings(events, |e| Some(&e.category)),
        strings(events, |e| Some(&e.action)),
        strings(events, |e| Some(&e.outcome)),
        strings(events, |e| e.actor_kind.as_deref()),
        strings(events, |e| e.actor_id.as_deref()),
        strings(events, |e| e.actor_name.as_deref()),
        strings(events, |e| e.actor_upn.as_deref()),
        strings(events, |e| e.actor_ip.as_deref()),
        strings(events, |e| e.actor_app.as_deref()),
        Arc::new(delegated.finish()),
        strings(events, |e| e.actor_partner_tenant.as_deref()),
        strings(events, |e| e.actor_person.as_deref()),
        strings(events, |e| e.actor_department.as_deref()),
        strings(events, |e| e.target_type.as_deref()),
        strings(events, |e| e.target_id.as_deref()),
        strings(events, |e| e.target_name.as_deref()),
        changes(events),
        strings(events, |e| e.device_id.as_deref()),
        strings(events, |e| e.device_serial.as_deref()),
        strings(events, |e| e.device_name.as_deref()),
        strings(events, |e| e.device_platform.as_deref()),
        strings(events, |e| e.device_os.as_deref()),
        strings(events, |e| e.device_user.as_deref()),
        strings(events, |e| e.asset_tag.as_deref()),
        strings(events, |e| e.device_department.as_deref()),
        string_lists(events, |e| &e.unresolved),
        string_lists(events, |e| &e.risk_tags),
        score,
        strings(events, |e| Some(&e.risk_level)),
        string_lists(events, |e| &e.risk_reasons),
        string_lists(events, |e| &e.controls),
        strings(events, |e| e.episode_id.as_deref()),
        strings(events, |e| e.episode_kind.as_deref()),
        strings(events, |e| Some(&e.message)),
        strings(events, |e| Some(&e.raw)),
        strings(events, |e| e.chain_id.as_deref()),
        Arc::new(seq.finish()),
        strings(events, |e| e.prev_hash.as_deref()),
        strings(events, |e| e.hash.as_deref()),
    ];
    Ok(RecordBatch::try_new(events_schema(), columns)?)
}
