//! Provenance: every narrative written is recorded in the store's `narratives` table (hash-chained
//! like the other tables): who asked, the scope, the evidence ids and hash, the prompt version and
//! hash, the model and parameters, the output and its hash, the verification result, tokens and
//! latency.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int64Builder, ListBuilder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
    new_null_array,
};
use arrow::datatypes::DataType;
use chrono::Utc;
use mdm_audit_store::{StoreError, StoreLocation, TableWriter, WriterOptions};

use super::tables::NARRATIVES;
use super::{Narrative, render};

/// Who asked for a narrative.
#[derive(Debug, Clone)]
pub struct AskedBy {
    /// Grafana user login, or the CLI user.
    pub user: String,
    /// Grafana org id, when asked through Grafana.
    pub org: Option<String>,
}

/// One row of `narratives` for `n` (chain columns left for the writer).
pub fn narrative_batch(
    n: &Narrative,
    who: &AskedBy,
    params: Option<&str>,
) -> Result<(String, RecordBatch), StoreError> {
    let s = |v: &str| {
        let mut b = StringBuilder::new();
        b.append_value(v);
        Arc::new(b.finish()) as ArrayRef
    };
    let o = |v: Option<&str>| {
        let mut b = StringBuilder::new();
        b.append_option(v);
        Arc::new(b.finish()) as ArrayRef
    };
    let i = |v: Option<u64>| {
        let mut b = Int64Builder::new();
        b.append_option(v.map(|x| i64::try_from(x).unwrap_or(i64::MAX)));
        Arc::new(b.finish()) as ArrayRef
    };
    let l = |v: &[String]| {
        let mut b = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(
            arrow::datatypes::Field::new(mdm_audit_store::schema::LIST_ITEM, DataType::Utf8, false),
        ));
        for x in v {
            b.values().append_value(x);
        }
        b.append(true);
        Arc::new(b.finish()) as ArrayRef
    };
    let now = Utc::now();
    let mut t = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    t.append_value(now.timestamp_micros());
    let output = render::markdown(n);
    let output_hash = n.output_hash();
    let id = format!(
        "nar-{}-{}",
        now.format("%Y%m%dT%H%M%S%6f"),
        &output_hash[..12]
    );
    let evidence_ids: Vec<String> = (1..=n.evidence_events).map(|k| format!("E{k}")).collect();
    let scope = serde_json::to_string(&n.scope).unwrap_or_default();
    let reasons =
        serde_json::to_string(&n.dropped.iter().map(|d| &d.reason).collect::<Vec<_>>()).ok();
    let cols: Vec<ArrayRef> = vec![
        s(&id),
        Arc::new(t.finish()),
        s(&who.user),
        o(who.org.as_deref()),
        s(super::kind_str(n.scope.kind)),
        s(&scope),
        l(&evidence_ids),
        s(&n.evidence_hash),
        l(&n.cited_event_uids),
        s(n.narrator.prompt_version),
        o(n.narrator.prompt_hash.as_deref()),
        s(n.narrator.narrator),
        o(n.narrator.model.as_deref()),
        o(params),
        o(n.narrator.fallback_reason.as_deref()),
        s(&output),
        s(&output_hash),
        i(Some(n.sentence_count() as u64)),
        i(Some(n.dropped.len() as u64)),
        o(reasons.as_deref()),
        i(n.narrator.prompt_tokens),
        i(n.narrator.completion_tokens),
        i(Some(n.latency_ms)),
        new_null_array(&DataType::Utf8, 1),
        new_null_array(&DataType::Int64, 1),
        new_null_array(&DataType::Utf8, 1),
        new_null_array(&DataType::Utf8, 1),
    ];
    Ok((id, RecordBatch::try_new(NARRATIVES.schema.clone(), cols)?))
}

/// Appends the provenance row of `n` to `narratives` as `writer` (its id, and its signing key if any).
pub async fn record(
    location: &StoreLocation,
    writer: WriterOptions,
    n: &Narrative,
    who: &AskedBy,
    params: Option<&str>,
) -> Result<String, StoreError> {
    let mut w = TableWriter::open(location, &NARRATIVES, writer).await?;
    let (id, batch) = narrative_batch(n, who, params)?;
    w.append(batch).await?;
    Ok(id)
}
