//! Event selection: filter values are literals, whatever characters they hold.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, Utc};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::dedupe::day_of;
use crate::select::{Filters, Range, events_expr};

const NASTY: &str = "o'brien'); DROP TABLE events; --";
/// One value per row, in every string column the filters read.
const VALUES: [&str; 8] = [
    NASTY,
    "o'brien",
    "100%",
    "100x",
    "a_b",
    "axb",
    "back\\slash",
    "backslash",
];

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

async fn events() -> SessionContext {
    let time = t("2026-03-02T10:00:00Z");
    let text = || Arc::new(StringArray::from(VALUES.to_vec())) as ArrayRef;
    let columns = [
        "vendor",
        "actor_upn",
        "actor_name",
        "actor_id",
        "device_id",
        "device_serial",
        "device_name",
        "action",
        "risk_level",
        "event_uid",
        "message",
        "target_name",
    ];
    let mut fields = vec![
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("day", DataType::Date32, false),
        Field::new(
            "risk_tags",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
    ];
    fields.extend(columns.iter().map(|c| Field::new(*c, DataType::Utf8, true)));
    let mut tags = ListBuilder::new(StringBuilder::new());
    for v in VALUES {
        tags.values().append_value(v);
        tags.append(true);
    }
    let n = VALUES.len();
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(vec![time.timestamp_micros(); n]).with_timezone("UTC"),
        ),
        Arc::new(Date32Array::from(vec![day_of(time); n])),
        Arc::new(tags.finish()),
    ];
    arrays.extend(columns.iter().map(|_| text()));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).expect("batch");
    let ctx = SessionContext::new();
    let table = MemTable::try_new(schema, vec![vec![batch]]).expect("table");
    ctx.register_table("events", Arc::new(table))
        .expect("register");
    ctx
}

/// The `event_uid`s (= the row's value) the filters select.
async fn selected(ctx: &SessionContext, f: &Filters) -> Vec<String> {
    let range = Range {
        from: t("2026-03-02T00:00:00Z"),
        to: t("2026-03-03T00:00:00Z"),
    };
    let batches = ctx
        .table("events")
        .await
        .expect("events")
        .filter(events_expr(&range, f))
        .expect("filter")
        .collect()
        .await
        .expect("query");
    let mut out: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name("event_uid").expect("event_uid");
            let c = c.as_any().downcast_ref::<StringArray>().expect("strings");
            c.iter().flatten().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn filter_values_with_quotes_and_sql_metacharacters_match_only_themselves() {
    let ctx = events().await;
    let one = |v: &str| Some(vec![v.to_owned()]);
    for v in VALUES {
        let exact = [
            Filters {
                vendors: one(v),
                ..Filters::default()
            },
            Filters {
                actors: one(v),
                ..Filters::default()
            },
            Filters {
                devices: one(v),
                ..Filters::default()
            },
            Filters {
                actions: one(v),
                ..Filters::default()
            },
            Filters {
                event_uids: one(v).filter(|_| !v.contains(' ')),
                ..Filters::default()
            },
            Filters {
                risk_tags: one(v),
                ..Filters::default()
            },
        ];
        for f in exact {
            if f == Filters::default() {
                continue;
            }
            assert_eq!(selected(&ctx, &f).await, vec![v.to_owned()], "{f:?}");
        }
    }
    // `text` is a case-insensitive substring; `%`, `_` and `\` are not wildcards or escapes.
    let text = |t: &str| Filters {
        text: Some(t.to_owned()),
        ..Filters::default()
    };
    let sorted = |mut v: Vec<&str>| {
        v.sort_unstable();
        v.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(
        selected(&ctx, &text("O'BRIEN'); drop")).await,
        sorted(vec![NASTY])
    );
    assert_eq!(
        selected(&ctx, &text("o'brien")).await,
        sorted(vec![NASTY, "o'brien"])
    );
    assert_eq!(selected(&ctx, &text("%")).await, sorted(vec!["100%"]));
    assert_eq!(selected(&ctx, &text("0%")).await, sorted(vec!["100%"]));
    assert_eq!(selected(&ctx, &text("_")).await, sorted(vec!["a_b"]));
    assert_eq!(selected(&ctx, &text("a_b")).await, sorted(vec!["a_b"]));
    assert_eq!(
        selected(&ctx, &text("\\")).await,
        sorted(vec!["back\\slash"])
    );
    assert_eq!(
        selected(&ctx, &text("k\\s")).await,
        sorted(vec!["back\\slash"])
    );
    assert_eq!(selected(&ctx, &text("--")).await, sorted(vec![NASTY]));
    // Nothing was dropped: every row is still there.
    assert_eq!(
        selected(&ctx, &Filters::default()).await.len(),
        VALUES.len()
    );
}
