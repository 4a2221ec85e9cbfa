//! The Arrow schema of a normalized event: the single contract between the write path, the store and
//! the Grafana datasource. The `events` columns follow from the event definition in [`crate::event`];
//! `tests/tests/schema.rs` pins them column by column.
//!
//! List element fields are named `element`, as the Delta Lake kernel's Arrow schema names them.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Name of list element fields.
pub const LIST_ITEM: &str = "element";

/// `Timestamp(Microsecond, "UTC")`.
pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// `List<Utf8>` with non-null elements.
pub fn string_list_type() -> DataType {
    DataType::List(Arc::new(Field::new(LIST_ITEM, DataType::Utf8, false)))
}

/// The fields of one `changes` element.
pub fn change_fields() -> Fields {
    Fields::from(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("old", DataType::Utf8, true),
        Field::new("new", DataType::Utf8, true),
        Field::new("redacted", DataType::Boolean, false),
    ])
}

/// `List<Struct{path, old, new, redacted}>`.
pub fn changes_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        LIST_ITEM,
        DataType::Struct(change_fields()),
        false,
    )))
}

static SCHEMA: LazyLock<SchemaRef> =
    LazyLock::new(|| Arc::new(Schema::new(crate::event::event_fields())));

/// The `events` schema.
pub fn events_schema() -> SchemaRef {
    Arc::clone(&SCHEMA)
}

/// The `dead_letters` schema: a record no mapping could normalize, kept with its raw bytes.
pub fn dead_letters_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("ingest_time", time_type(), false),
        Field::new("source", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("origin", DataType::Utf8, true),
        Field::new("raw", DataType::Binary, false),
    ]))
}
