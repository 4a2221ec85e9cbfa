//! A store read back with DataFusion, as the plugin and the CLI read it.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;
use mdm_audit_narrative::store_tables;
use mdm_audit_store::{StoreLocation, register_tables};

/// A DataFusion context over the store at `store` (every table of the registry: the core tables
/// and the narrative's), and the names of the tables the store has.
pub async fn open_store(store: &Path) -> (SessionContext, Vec<String>) {
    let location =
        StoreLocation::parse(&store.display().to_string(), Default::default()).expect("location");
    let ctx = SessionContext::new();
    let names = register_tables(&location, &store_tables(), &ctx)
        .await
        .expect("register the store's tables");
    (ctx, names)
}

/// The rows of `sql` (which must run).
pub async fn sql(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Column `name` of every batch as text (`None` for null).
pub fn texts(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let col = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        let col = cast(col, &DataType::Utf8).expect("cast to text");
        let s = col.as_string::<i32>();
        out.extend((0..s.len()).map(|i| s.is_valid(i).then(|| s.value(i).to_owned())));
    }
    out
}

/// Column `name` of every batch as text, nulls skipped.
pub fn present_texts(batches: &[RecordBatch], name: &str) -> Vec<String> {
    texts(batches, name).into_iter().flatten().collect()
}

/// How many rows of the `events` table carry each `event_uid`.
pub async fn event_uid_counts(ctx: &SessionContext) -> BTreeMap<String, u64> {
    let batches = sql(
        ctx,
        "SELECT event_uid, count(*) AS n FROM events GROUP BY event_uid",
    )
    .await;
    let mut uids = BTreeMap::new();
    for b in batches {
        let u = cast(b.column(0), &DataType::Utf8).expect("cast");
        let n = cast(b.column(1), &DataType::Int64).expect("cast");
        let n = n.as_primitive::<Int64Type>();
        for (i, u) in u.as_string::<i32>().iter().enumerate() {
            uids.insert(u.expect("uid").to_owned(), n.value(i) as u64);
        }
    }
    uids
}
