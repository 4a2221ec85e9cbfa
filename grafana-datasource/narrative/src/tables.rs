//! The narrative engine's own tables, declared here (their owner) and added to the store's
//! [`TableRegistry`]: `narratives` (provenance of every narrative written) and `reviews` (human
//! decisions on them). Both carry the chain columns, so `verify` checks them like the core tables.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema};
use mdm_audit_store::schema::{string_list_type, time_type};
use mdm_audit_store::tables::{Partitioning, TableRegistry, TableSpec, with_chain};

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
        added_columns: &[],
    }
});

/// `reviews`: human decisions on narratives (approve, edit, reject), append-only: the newest row of a
/// `narrative_id` is its status, and an edit keeps the text it replaced (by hash) and the new text.
pub static REVIEWS: LazyLock<TableSpec> = LazyLock::new(|| {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let req = |n: &str| Field::new(n, DataType::Utf8, false);
    let mut schema = with_chain(vec![
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
    ]);
    // Added after the table's first release: the reviewer's Grafana name and e-mail, beside the login in `reviewer`.
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend([s("reviewer_name"), s("reviewer_email")]);
    schema = Arc::new(Schema::new(fields));
    TableSpec {
        name: "reviews",
        schema,
        partitioning: Partitioning::DayOf("review_time"),
        stats_columns: Some(
            "review_id,narrative_id,review_time,reviewer,decision,chain_id,chain_seq",
        ),
        added_columns: &["reviewer_name", "reviewer_email"],
    }
});

/// The tables this engine writes.
pub fn narrative_tables() -> [&'static TableSpec; 2] {
    [&NARRATIVES, &REVIEWS]
}

/// Every table of a store: the core tables, then the narrative engine's.
pub fn store_tables() -> TableRegistry {
    TableRegistry::core().with(narrative_tables())
}
