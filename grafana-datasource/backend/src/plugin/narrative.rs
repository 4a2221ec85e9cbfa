//! `narrative` queries: the narrative engine (`crate::narrative`) over the panel's time range and
//! filters, answered as one frame with a Markdown field (numbered citations, log-derived text
//! escaped) and a citations field (the cited event_uids), for a Table panel with the Markdown cell
//! type.

use grafana_plugin_sdk::data::{Frame, Severity};
use grafana_plugin_sdk::prelude::*;

use crate::engine::{Engine, Range};
use crate::frames::with_notice;
use crate::narrative::{LlmConfig, NarrateOptions, Scope, narrate_cached, render};
use crate::plugin::Instance;
use crate::query::{MdmQuery, NarrativeKind, NarrativeMode};

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

/// The scope of a query: the kind's subject is a device (device lifecycle), an actor (admin
/// activity), a policy or profile (change review); for an incident timeline an episode id
/// (`ep-...`), an actor (contains `@`) or else a device. An incident ends at the range's end.
pub fn scope_of(query: &MdmQuery, range: Range) -> Scope {
    let n = query.narrative.clone().unwrap_or_default();
    let mut s = Scope::new(n.kind, range.from, range.to);
    s.filters = query.filters();
    let subject = n.subject.filter(|x| !x.trim().is_empty());
    match n.kind {
        NarrativeKind::DeviceLifecycle => s.device = subject,
        NarrativeKind::AdminActivity => s.actor = subject,
        NarrativeKind::ChangeReview => s.policy = subject,
        NarrativeKind::IncidentTimeline => match subject {
            Some(x) if x.starts_with("ep-") => s.episode = Some(x),
            Some(x) if x.contains('@') => s.actor = Some(x),
            other => s.device = other,
        },
        NarrativeKind::PeriodSummary => {}
    }
    s
}

/// Answers one `narrative` query with its frames, or a message for the analyst (the caller adds
/// the refId).
pub async fn narrative(
    engine: &Engine,
    request: &NarrativeRequest<'_>,
) -> Result<Vec<Frame>, String> {
    engine.tables().await.map_err(|e| e.to_string())?;
    let scope = scope_of(request.query, request.range);
    let settings = &request.instance.settings;
    let llm = match (settings.narrative_mode, &settings.llm_endpoint) {
        (Some(NarrativeMode::Llm), Some(url)) if !url.trim().is_empty() => {
            let mut c = LlmConfig::new(url.clone(), settings.llm_model.clone().unwrap_or_default());
            c.timeout = settings.llm_timeout();
            c.api_key = request.instance.secure.llm_api_key.clone();
            Some(c)
        }
        _ => None,
    };
    let (n, cached) = narrate_cached(
        engine.context(),
        &scope,
        &NarrateOptions { llm },
        engine.narrative_cache(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let md = render::markdown(&n);
    let mut frame = Frame::new("narrative");
    frame.add_field(vec![md].into_field("markdown"));
    frame.add_field(vec![n.cited_event_uids.join(", ")].into_field("citations"));
    frame.add_field(vec![n.narrator.narrator.to_owned()].into_field("narrator"));
    frame.add_field(vec![n.dropped.len() as i64].into_field("dropped"));
    frame.add_field(vec![n.evidence_hash.clone()].into_field("evidence_hash"));
    let mut frame = frame;
    if let Some(r) = &n.narrator.fallback_reason {
        frame = with_notice(
            frame,
            Severity::Warning,
            format!("LLM not used, template shown: {r}"),
        );
    }
    if cached {
        frame = with_notice(
            frame,
            Severity::Info,
            format!(
                "the same evidence (hash {}) was narrated before: shown from the cache",
                &n.evidence_hash[..n.evidence_hash.len().min(12)]
            ),
        );
    }
    if n.truncated {
        frame = with_notice(
            frame,
            Severity::Info,
            format!(
                "the evidence was capped at {} events: narrow the time range",
                scope.cap
            ),
        );
    }
    Ok(vec![frame])
}
