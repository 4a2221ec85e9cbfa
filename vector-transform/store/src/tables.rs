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
    /// Nullable columns added to the table after its first release, the last columns of `schema`
    /// (after the chain columns), oldest first. A table created by an older version lacks some of
    /// them; the writer adds them to it on open (a Delta schema change). A row's hash covers the
    /// columns of the data file it was written in, so rows written before stay verifiable.
    pub added_columns: &'static [&'static str],
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
    added_columns: &[],
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
        added_columns: &[],
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
        added_columns: &[],
    }
});

/// The tables of the contract, declared by this crate: `events` and `dead_letters` (the write path's
/// output) and `episodes` (correlation's output, which the plugin and narratives read).
pub fn core_tables() -> [&'static TableSpec; 3] {
    [&EVENTS, &DEAD_LETTERS, &EPISODES]
}

/// The tables of one store, each declared by the crate that owns it: this crate declares
/// [`core_tables`], the narrative engine declares `narratives` and `reviews`. `verify` checks them in
/// the order they were declared (and any other Delta table it finds), and queries register them.
#[derive(Debug, Clone)]
pub struct TableRegistry {
    tables: Vec<&'static TableSpec>,
}

impl TableRegistry {
    /// A registry of the core tables only.
    pub fn core() -> Self {
        Self {
            tables: core_tables().to_vec(),
        }
    }

    /// Adds an owner's tables; a name declared twice is kept once (the first declaration).
    #[must_use]
    pub fn with(mut self, tables: impl IntoIterator<Item = &'static TableSpec>) -> Self {
        for t in tables {
            if !self.tables.iter().any(|k| k.name == t.name) {
                self.tables.push(t);
            }
        }
        self
    }

    /// The declared tables, in declaration order.
    pub fn tables(&self) -> &[&'static TableSpec] {
        &self.tables
    }

    /// The declared table names, in declaration order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.tables.iter().map(|t| t.name)
    }

    /// The table declared under `name`.
    pub fn get(&self, name: &str) -> Option<&'static TableSpec> {
        self.tables.iter().copied().find(|t| t.name == name)
    }
}
