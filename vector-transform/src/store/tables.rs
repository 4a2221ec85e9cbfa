//! The tables of a store and their schemas. Every table carries the chain columns (`chain_id`,
//! `chain_seq`, `prev_hash`, `hash`) and starts with its key column (what `verify` names a row by).

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::schema::{dead_letters_schema, events_schema, string_list_type, time_type};

/// Name of the partition column of day-partitioned tables (`Date32`, the UTC date of a time column).
pub const DAY: &str = "day";

/// How a table is partitioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioning {
    /// Not partitioned.
    None,
    /// By [`DAY`], the UTC date of the named `Timestamp(µs, UTC)` column.
    DayOf(&'static str),
}

/// A table of the store.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// Directory name under the store root, and the name DataFusion registers it under.
    pub name: &'static str,
    /// The stored columns (chain columns included, partition column excluded).
    pub schema: SchemaRef,
    /// Partitioning.
    pub partitioning: Partitioning,
    /// Columns with data-skipping statistics in the Delta log (`None`: Delta's default, the first 32).
    pub stats_columns: Option<&'static str>,
}

impl TableSpec {
    /// The key column (the first one).
    pub fn key_column(&self) -> &str {
        self.schema.field(0).name()
    }

    /// The schema with the partition column appended (what readers see).
    pub fn table_schema(&self) -> SchemaRef {
        match self.partitioning {
            Partitioning::None => self.schema.clone(),
            Partitioning::DayOf(_) => {
                let mut fields: Vec<Field> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                fields.push(Field::new(DAY, DataType::Date32, false));
                Arc::new(Schema::new(fields))
            }
        }
    }
}

/// The chain columns, appended to every table that does not have them yet.
pub fn chain_fields() -> Vec<Field> {
    vec![
        Field::new(super::chain::CHAIN_ID, DataType::Utf8, true),
        Field::new(super::chain::CHAIN_SEQ, DataType::Int64, true),
        Field::new(super::chain::PREV_HASH, DataType::Utf8, true),
        Field::new(super::chain::HASH, DataType::Utf8, true),
    ]
}

/// `schema` followed by the chain columns.
pub fn with_chain(fields: Vec<Field>) -> SchemaRef {
    let mut fields = fields;
    fields.extend(chain_fields());
    Arc::new(Schema::new(fields))
}

/// `events`: normalized events, partitioned by the UTC day of `time`.
pub static EVENTS: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "events",
    schema: events_schema(),
    partitioning: Partitioning::DayOf("time"),
    stats_columns: Some(
        "event_uid,time,ingest_time,vendor,product,feed,category,action,outcome,actor_id,actor_upn,\
         target_id,device_id,device_serial,risk_score,risk_level,episode_id,chain_id,chain_seq",
    ),
});

/// `dead_letters`: records that could not be stored as events, with the reason and the raw bytes;
/// partitioned by the UTC day they arrived.
pub static DEAD_LETTERS: LazyLock<TableSpec> = LazyLock::new(|| {
    let mut fields = vec![Field::new("dead_letter_uid", DataType::Utf8, false)];
    fields.extend(
        dead_letters_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone()),
    );
    TableSpec {
        name: "dead_letters",
        schema: with_chain(fields),
        partitioning: Partitioning::DayOf("ingest_time"),
        stats_columns: Some("dead_letter_uid,ingest_time,source,chain_id,chain_seq"),
    }
});

/// `episodes`: one row per state of a correlated episode; the newest row of an `episode_id`
/// (highest `updated_time`, then `chain_seq`) is its current state.
pub static EPISODES: LazyLock<TableSpec> = LazyLock::new(|| {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let req = |n: &str| Field::new(n, DataType::Utf8, false);
    TableSpec {
        name: "episodes",
        schema: with_chain(vec![
            req("episode_id"),
            req("episode_kind"),
            req("reason"),
            s("actor"),
            s("device"),
            Field::new("first_time", time_type(), false),
            Field::new("last_time", time_type(), false),
            Field::new("event_count", DataType::Int64, false),
            Field::new("device_count", DataType::Int64, false),
            Field::new("event_uids", string_list_type(), false),
            Field::new("devices", string_list_type(), false),
            Field::new("risk_tags", string_list_type(), false),
            Field::new("max_risk_score", DataType::Int32, false),
            Field::new("updated_time", time_type(), false),
        ]),
        partitioning: Partitioning::None,
        stats_columns: Some("episode_id,episode_kind,actor,first_time,last_time,updated_time"),
    }
});

/// `narratives`: the narrative engine's own audit trail, one row per narrative written: who asked,
/// the scope, the evidence and its hash, the prompt, the model and parameters, the output and its
/// hash, the verification result, tokens and latency; partitioned by the UTC day it was written.
pub static NARRATIVES: LazyLock<TableSpec> = LazyLock::new(|| {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let req = |n: &str| Field::new(n, DataType::Utf8, false);
    let int = |n: &str| Field::new(n, DataType::Int64, true);
    TableSpec {
        name: "narratives",
        schema: with_chain(vec![
            req("narrative_id"),
            Field::new("created_time", time_type(), false),
            req("asked_by"),
            s("org"),
            req("kind"),
            req("scope"),
            Field::new("evidence_ids", string_list_type(), false),
            req("evidence_hash"),
            Field::new("cited_event_uids", string_list_type(), false),
            req("prompt_version"),
            s("prompt_hash"),
            req("narrator"),
            s("model"),
            s("params"),
            s("fallback_reason"),
            req("output"),
            req("output_hash"),
            int("sentences"),
            int("dropped"),
            s("dropped_reasons"),
            int("prompt_tokens"),
            int("completion_tokens"),
            int("latency_ms"),
        ]),
        partitioning: Partitioning::DayOf("created_time"),
        stats_columns: Some(
            "narrative_id,created_time,asked_by,kind,evidence_hash,chain_id,chain_seq",
        ),
    }
});

/// `reviews`: human decisions on narratives (approve, edit, reject), append-only: the newest row of a
/// `narrative_id` is its status, and an edit keeps the text it replaced (by hash) and the new text.
pub static REVIEWS: LazyLock<TableSpec> = LazyLock::new(|| {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let req = |n: &str| Field::new(n, DataType::Utf8, false);
    TableSpec {
        name: "reviews",
        schema: with_chain(vec![
            req("review_id"),
            req("narrative_id"),
            Field::new("review_time", time_type(), false),
            req("reviewer"),
            s("org"),
            req("decision"),
            s("comment"),
            req("reviewed_output_hash"),
            s("edited_output"),
            s("edited_output_hash"),
        ]),
        partitioning: Partitioning::DayOf("review_time"),
        stats_columns: Some(
            "review_id,narrative_id,review_time,reviewer,decision,chain_id,chain_seq",
        ),
    }
});

/// The tables `mdm-audit-transform` writes.
pub fn write_path_tables() -> [&'static TableSpec; 3] {
    [&EVENTS, &DEAD_LETTERS, &EPISODES]
}
