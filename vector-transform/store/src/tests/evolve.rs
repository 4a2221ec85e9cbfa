//! A table made by an older version gains the columns this version added (`added_columns`) when a
//! writer opens it, the rows written before stay verifiable, and any other difference is refused.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema};

use super::*;
use crate::schema::time_type;

fn base_fields() -> Vec<Field> {
    vec![
        Field::new("note_id", DataType::Utf8, false),
        Field::new("note_time", time_type(), false),
        Field::new("text", DataType::Utf8, true),
    ]
}

fn spec(extra: &[&str], added: &'static [&'static str]) -> TableSpec {
    let mut fields: Vec<Field> = tables::with_chain(base_fields())
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(extra.iter().map(|n| Field::new(*n, DataType::Utf8, true)));
    TableSpec {
        name: "notes",
        schema: Arc::new(Schema::new(fields)),
        partitioning: Partitioning::DayOf("note_time"),
        stats_columns: None,
        added_columns: added,
    }
}

static V1: LazyLock<TableSpec> = LazyLock::new(|| spec(&[], &[]));
static V2: LazyLock<TableSpec> = LazyLock::new(|| spec(&["author"], &["author"]));
static OTHER: LazyLock<TableSpec> = LazyLock::new(|| spec(&["author"], &[]));

/// Rows `first..first + n` of `spec`, an author on each when the spec has that column.
fn rows(spec: &TableSpec, first: i64, n: i64) -> RecordBatch {
    let len = n as usize;
    let ids: Vec<String> = (first..first + n).map(|i| format!("note-{i}")).collect();
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(
            TimestampMicrosecondArray::from(
                (first..first + n)
                    .map(|i| 1_772_438_400_000_000 + i * 3_600_000_000)
                    .collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from(vec![Some("a note"); len])),
    ];
    for _ in 0..4 {
        cols.push(arrow::array::new_null_array(&DataType::Utf8, len));
    }
    cols[4] = arrow::array::new_null_array(&DataType::Int64, len);
    if spec.schema.fields().len() > 7 {
        cols.push(Arc::new(StringArray::from(vec![Some("eve"); len])));
    }
    RecordBatch::try_new(spec.schema.clone(), cols).expect("batch")
}

#[tokio::test]
async fn an_older_table_gains_the_added_columns_and_still_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let mut old = TableWriter::open(&loc, &V1, WriterOptions::new("w1"))
        .await
        .expect("opens");
    old.append(rows(&V1, 0, 3)).await.expect("append");
    drop(old);

    let mut new = TableWriter::open(&loc, &V2, WriterOptions::new("w1"))
        .await
        .expect("the older table is brought up to date");
    new.append(rows(&V2, 3, 2)).await.expect("append");
    drop(new);
    // Opening again changes nothing more.
    let again = TableWriter::open(&loc, &V2, WriterOptions::new("w2"))
        .await
        .expect("opens again");
    drop(again);

    let report = verify_store(&loc, &TableRegistry::core().with([&*V2]), None, &|_, _| {})
        .await
        .expect("verify runs");
    let notes = report
        .tables
        .iter()
        .find(|t| t.table == "notes")
        .expect("notes verified");
    assert_eq!(notes.rows, 5);
    assert!(
        notes.problems.is_empty(),
        "rows before and after the change verify: {:?}",
        notes.problems
    );

    let ctx = SessionContext::new();
    register_tables(&loc, &TableRegistry::core().with([&*V2]), &ctx)
        .await
        .expect("register");
    let batches = ctx
        .sql("SELECT note_id, CAST(author AS VARCHAR) AS author FROM notes ORDER BY note_id")
        .await
        .expect("sql")
        .collect()
        .await
        .expect("collect");
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat");
    assert_eq!(
        strings(&batch, "author"),
        vec![None, None, None, Some("eve".into()), Some("eve".into())]
    );
}

#[tokio::test]
async fn a_difference_that_is_not_an_added_column_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let mut old = TableWriter::open(&loc, &V1, WriterOptions::new("w1"))
        .await
        .expect("opens");
    old.append(rows(&V1, 0, 1)).await.expect("append");
    drop(old);
    let Err(err) = TableWriter::open(&loc, &OTHER, WriterOptions::new("w1")).await else {
        panic!("a column the spec does not list as added must be refused");
    };
    assert!(
        matches!(err, StoreError::Incompatible { .. }),
        "unexpected error: {err}"
    );
    assert!(err.to_string().contains("author"), "{err}");
}
