//! `narrative` queries: the narrative engine (`mdm_audit_narrative`) over the panel's time range and
//! filters, answered as one frame with a Markdown field (numbered citations, log-derived text
//! escaped) and a citations field (the cited event_uids), for a Table panel with the Markdown cell
//! type.

use grafana_plugin_sdk::data::{Frame, Severity};
use grafana_plugin_sdk::prelude::*;

use crate::engine::{Engine, Range};
use crate::frames::with_notice;
use crate::plugin::Instance;
use crate::query::{MdmQuery, NarrativeKind, NarrativeMode};
use mdm_audit_narrative::{LlmConfig, NarrateOptions, Scope, narrate_cached, render};

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
    frame.add_field(vec![n.citations.len() as i64].into_field("citations"));
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
    Ok(vec![frame, citations_frame(&n)])
}

/// The citations of `n` as rows: number, id, kind, label, event count, and a link to the cited
/// events: the evidence dashboard filtered to exactly the set's `event_uid`s when it holds at most
/// [`MAX_LINKED_UIDS`], else the dashboard of the set's incident, actor or device over its time range
/// (the overview when none). The full event uid lists stay in `mdm-audit narrate --format json` and
/// the evidence pack: a month's routine sets hold thousands of uids, too many for a URL.
pub fn citations_frame(n: &mdm_audit_narrative::Narrative) -> Frame {
    let mut number = Vec::new();
    let mut id = Vec::new();
    let mut kind = Vec::new();
    let mut label = Vec::new();
    let mut count = Vec::new();
    let mut link = Vec::new();
    for c in &n.citations {
        number.push(c.number as i64);
        id.push(c.id.clone());
        kind.push(c.kind.to_owned());
        label.push(c.label.clone());
        count.push(c.count as i64);
        link.push(citation_link(n, c));
    }
    let mut f = Frame::new("citations");
    f.add_field(number.into_field("number"));
    f.add_field(id.into_field("id"));
    f.add_field(kind.into_field("kind"));
    f.add_field(label.into_field("label"));
    f.add_field(count.into_field("events"));
    f.add_field(link.into_field("link"));
    f
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The most event uids a citation link carries (33 characters each in the URL).
pub const MAX_LINKED_UIDS: usize = 100;

/// The dashboard link of one citation.
pub fn citation_link(
    n: &mdm_audit_narrative::Narrative,
    c: &mdm_audit_narrative::Citation,
) -> String {
    let fact = n.facts.iter().find(|f| f.id == c.id);
    let (from, to) = fact.map_or((n.scope.range.from, n.scope.range.to), |f| {
        (f.first, f.last + chrono::Duration::minutes(1))
    });
    let range = format!(
        "from={}&to={}",
        from.timestamp_millis(),
        to.timestamp_millis()
    );
    if !c.event_uids.is_empty() && c.event_uids.len() <= MAX_LINKED_UIDS {
        return format!(
            "/d/mdm-audit-evidence?var-events={}&{range}",
            enc(&c.event_uids.join(","))
        );
    }
    match fact {
        Some(f) if f.episode_id.is_some() => format!(
            "/d/mdm-audit-incident?var-episode={}&{range}",
            enc(f.episode_id.as_deref().unwrap_or_default())
        ),
        Some(f) if f.actors.len() == 1 && f.kind != mdm_audit_narrative::FactKind::Routine => {
            format!(
                "/d/mdm-audit-admin?var-actor={}&{range}",
                enc(f
                    .actors
                    .iter()
                    .next()
                    .map(String::as_str)
                    .unwrap_or_default())
            )
        }
        Some(f) if f.devices.len() == 1 => format!(
            "/d/mdm-audit-device?var-device={}&{range}",
            enc(f
                .devices
                .iter()
                .next()
                .map(String::as_str)
                .unwrap_or_default())
        ),
        _ => format!("/d/mdm-audit-overview?{range}"),
    }
}
