//! The seam of the narrative engine (issue 6). `QueryData` sends every `narrative` query here and
//! nowhere else; the narrative engine replaces the body of [`narrative`].

use grafana_plugin_sdk::data::Frame;

use crate::engine::{Engine, Range};
use crate::plugin::Instance;
use crate::query::MdmQuery;

/// One `narrative` query with everything it may need.
#[derive(Debug)]
pub struct NarrativeRequest<'a> {
    /// The query's refId.
    pub ref_id: &'a str,
    /// The query (`narrative`, `filters`, `limit`).
    pub query: &'a MdmQuery,
    /// The panel's time range.
    pub range: Range,
    /// Datasource settings (`narrativeMode`, LLM endpoint, model, timeout, key).
    pub instance: &'a Instance,
}

/// Answers one `narrative` query with its frames, or a message for the analyst (the caller adds
/// the refId).
pub async fn narrative(
    _engine: &Engine,
    request: &NarrativeRequest<'_>,
) -> Result<Vec<Frame>, String> {
    let kind = request
        .query
        .narrative
        .as_ref()
        .map(|n| format!("{:?}", n.kind))
        .unwrap_or_else(|| "PeriodSummary".to_owned());
    Err(format!(
        "narrative queries ({kind}) are not available in this build: the narrative engine is not installed yet"
    ))
}
