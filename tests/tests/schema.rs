//! The events schema is the contract between the write path, the store and the datasource: pinned
//! column by column (name, type, nullable). Changing it is a migration, not an edit.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, TimeUnit};
use mdm_audit_store::batch::events_to_batch;
use mdm_audit_store::schema::{dead_letters_schema, events_schema};

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn strings() -> DataType {
    DataType::List(Arc::new(Field::new("element", DataType::Utf8, false)))
}

#[test]
fn schema_is_stable() {
    use DataType::{Boolean, Int32, Int64, Utf8};
    let changes = DataType::List(Arc::new(Field::new(
        "element",
        DataType::Struct(
            vec![
                Field::new("path", Utf8, false),
                Field::new("old", Utf8, true),
                Field::new("new", Utf8, true),
                Field::new("redacted", Boolean, false),
            ]
            .into(),
        ),
        false,
    )));
    let expected: Vec<(&str, DataType, bool)> = vec![
        ("event_uid", Utf8, false),
        ("time", utc_micros(), false),
        ("ingest_time", utc_micros(), false),
        ("tenant", Utf8, true),
        ("correlation_id", Utf8, true),
        ("vendor", Utf8, false),
        ("product", Utf8, false),
        ("feed", Utf8, false),
        ("native_action", Utf8, false),
        ("ocsf_class_uid", Int32, false),
        ("ocsf_activity_id", Int32, false),
        ("category", Utf8, false),
        ("action", Utf8, false),
        ("outcome", Utf8, false),
        ("actor_kind", Utf8, true),
        ("actor_id", Utf8, true),
        ("actor_name", Utf8, true),
        ("actor_upn", Utf8, true),
        ("actor_ip", Utf8, true),
        ("actor_app", Utf8, true),
        ("actor_is_delegated", Boolean, true),
        ("actor_partner_tenant", Utf8, true),
        ("actor_person", Utf8, true),
        ("actor_department", Utf8, true),
        ("target_type", Utf8, true),
        ("target_id", Utf8, true),
        ("target_name", Utf8, true),
        ("changes", changes, false),
        ("device_id", Utf8, true),
        ("device_serial", Utf8, true),
        ("device_name", Utf8, true),
        ("device_platform", Utf8, true),
        ("device_os", Utf8, true),
        ("device_user", Utf8, true),
        ("asset_tag", Utf8, true),
        ("device_department", Utf8, true),
        ("unresolved", strings(), false),
        ("risk_tags", strings(), false),
        ("risk_score", Int32, false),
        ("risk_level", Utf8, false),
        ("risk_reasons", strings(), false),
        ("controls", strings(), false),
        ("episode_id", Utf8, true),
        ("episode_kind", Utf8, true),
        ("message", Utf8, false),
        ("raw", Utf8, false),
        ("chain_id", Utf8, true),
        ("chain_seq", Int64, true),
        ("prev_hash", Utf8, true),
        ("hash", Utf8, true),
    ];
    let schema = events_schema();
    let actual: Vec<(&str, DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type().clone(), f.is_nullable()))
        .collect();
    assert_eq!(actual.len(), expected.len(), "column count changed");
    for (a, e) in actual.iter().zip(&expected) {
        assert_eq!(a, e, "column differs");
    }

    let dl: Vec<(String, DataType, bool)> = dead_letters_schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    assert_eq!(
        dl,
        vec![
            ("ingest_time".to_owned(), utc_micros(), false),
            ("source".to_owned(), Utf8, false),
            ("reason".to_owned(), Utf8, false),
            ("origin".to_owned(), Utf8, true),
            ("raw".to_owned(), DataType::Binary, false),
        ]
    );
}

#[test]
fn an_empty_batch_has_the_schema() {
    let batch = events_to_batch(&[]).expect("empty batch");
    assert_eq!(batch.num_rows(), 0);
    assert_eq!(batch.schema(), events_schema());
}
