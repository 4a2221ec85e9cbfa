//! The Arrow schema of a normalized event: the single contract between the write path (this crate),
//! the store and the Grafana datasource. `tests/tests/schema.rs` pins it column by column.
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

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    use DataType::{Boolean, Int32, Int64, Utf8};
    let s = |name: &str| Field::new(name, Utf8, true);
    let req = |name: &str| Field::new(name, Utf8, false);
    Arc::new(Schema::new(vec![
        // identity
        req("event_uid"),
        Field::new("time", time_type(), false),
        Field::new("ingest_time", time_type(), false),
        s("tenant"),
        s("correlation_id"),
        // source
        req("vendor"),
        req("product"),
        req("feed"),
        // class
        req("native_action"),
        Field::new("ocsf_class_uid", Int32, false),
        Field::new("ocsf_activity_id", Int32, false),
        req("category"),
        req("action"),
        req("outcome"),
        // actor
        s("actor_kind"),
        s("actor_id"),
        s("actor_name"),
        s("actor_upn"),
        s("actor_ip"),
        s("actor_app"),
        Field::new("actor_is_delegated", Boolean, true),
        s("actor_partner_tenant"),
        s("actor_person"),
        s("actor_department"),
        // target
        s("target_type"),
        s("target_id"),
        s("target_name"),
        Field::new("changes", changes_type(), false),
        // device
        s("device_id"),
        s("device_serial"),
        s("device_name"),
        s("device_platform"),
        s("device_os"),
        s("device_user"),
        s("asset_tag"),
        s("device_department"),
        Field::new("unresolved", string_list_type(), false),
        // risk
        Field::new("risk_tags", string_list_type(), false),
        Field::new("risk_score", Int32, false),
        req("risk_level"),
        Field::new("risk_reasons", string_list_type(), false),
        Field::new("controls", string_list_type(), false),
        // correlation
        s("episode_id"),
        s("episode_kind"),
        // evidence
        req("message"),
        req("raw"),
        s("chain_id"),
        Field::new("chain_seq", Int64, true),
        s("prev_hash"),
        s("hash"),
    ]))
});

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
