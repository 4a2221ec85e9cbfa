//! Reports built from a store: the evidence pack of `mdm-audit report` ([`pack`]: the period
//! narrative, counts, high-risk events, reviews and chain heads as Markdown, HTML or JSON) and the
//! demo's self-contained HTML report ([`demo`]). The CLI only wires flags to these and prints.

pub mod demo;
pub mod pack;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use mdm_audit_store::StoreError;

use crate::NarrativeError;

pub use pack::EvidencePack;

/// What can go wrong building a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A report query failed.
    #[error("report query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// Formatting a result failed.
    #[error("formatting a report value failed: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Reading or verifying the store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The narrative could not be written.
    #[error("narrative: {0}")]
    Narrative(#[from] NarrativeError),
    /// The store has no events yet.
    #[error("the store has no `events` table yet: ingest events first (mdm-audit ingest)")]
    NoEvents,
}

/// A result as display strings, one `Vec` per row, with the column names.
pub async fn display_rows(df: DataFrame) -> Result<(Vec<String>, Vec<Vec<String>>), ReportError> {
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let batches: Vec<RecordBatch> = df.collect().await?;
    let opts = FormatOptions::default();
    let mut out = Vec::new();
    for b in &batches {
        let cols: Vec<ArrayFormatter<'_>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<_, _>>()?;
        for row in 0..b.num_rows() {
            out.push(cols.iter().map(|c| c.value(row).to_string()).collect());
        }
    }
    Ok((names, out))
}

/// A fixed query (no values of the user's in it) as display strings.
pub async fn sql_rows(
    ctx: &SessionContext,
    sql: &str,
) -> Result<(Vec<String>, Vec<Vec<String>>), ReportError> {
    display_rows(ctx.sql(sql).await?).await
}
