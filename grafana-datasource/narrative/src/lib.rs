//! The narrative engine: scope -> evidence (DataFusion over the store) -> facts (compaction) ->
//! sentences (template narrator, or an OpenAI-compatible LLM with the template as fallback) ->
//! verification (every sentence cites evidence that states what it says) -> Markdown / JSON / HTML.
//! Shared by the Grafana plugin (`narrative` queries) and the CLI (`mdm-audit narrate`, `report`).
//! Its input is its own [`Scope`] (a kind, a time range, a subject, the store's event filters), not
//! the plugin's query model; it declares its own tables (`narratives`, `reviews`) in [`tables`].

pub mod changes;
pub mod chart;
pub mod columns;
pub mod evidence;
pub mod facts;
mod glue;
pub mod llm;
pub mod provenance;
pub mod render;
pub mod report;
pub mod review;
pub mod run;
pub mod story;
pub mod tables;
pub mod template;
pub mod verify;
pub mod vocab;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

/// What the narrative tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NarrativeKind {
    /// The period.
    #[default]
    PeriodSummary,
    /// An episode (or every high-risk one).
    IncidentTimeline,
    /// A policy or profile.
    ChangeReview,
    /// A device (subject required).
    DeviceLifecycle,
    /// An actor (subject required).
    AdminActivity,
}

pub use evidence::{Evidence, EvidenceEpisode, EvidenceEvent, Scope, kind_str, load};
pub use facts::{Fact, FactKind, compact};
pub use llm::{LlmConfig, PROMPT_VERSION};
pub use run::{
    NarrateOptions, NarrativeCache, narrate, narrate_cached, narrate_evidence,
    narrate_evidence_cached,
};
pub use tables::{NARRATIVES, REVIEWS, narrative_tables, store_tables};
pub use verify::{Dropped, verify};

/// A narrative failure the caller cannot fall back from (the LLM's failures fall back to the
/// template and are recorded, not returned).
#[derive(Debug, thiserror::Error)]
pub enum NarrativeError {
    /// The scope is not usable (missing subject, empty store, ...).
    #[error("{0}")]
    Scope(String),
    /// Reading the evidence failed.
    #[error("reading the evidence failed: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Arrow failed on the evidence.
    #[error("reading the evidence failed: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A bug.
    #[error("internal error (a bug): {0}")]
    Internal(String),
}

/// Who wrote a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The deterministic template.
    Template,
    /// The LLM (verified).
    Llm,
}

/// One sentence with the evidence it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sentence {
    /// The text (plain, log-derived parts unescaped; renderers escape).
    pub text: String,
    /// Evidence ids (`E..`) and fact ids (`F..`).
    pub citations: Vec<String>,
    /// Who wrote it.
    pub origin: Origin,
}

/// A titled group of sentences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Title (may contain log-derived text; renderers escape).
    pub title: String,
    /// Sentences.
    pub sentences: Vec<Sentence>,
}

/// Which narrator produced the narrative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NarratorInfo {
    /// `template` or `llm`.
    pub narrator: &'static str,
    /// The model (LLM).
    pub model: Option<String>,
    /// Why the LLM was not used, when it was asked for.
    pub fallback_reason: Option<String>,
    /// Prompt tokens (as the server counted them; else estimated).
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    pub completion_tokens: Option<u64>,
    /// Prompt version.
    pub prompt_version: &'static str,
    /// SHA-256 of the prompt sent (LLM).
    pub prompt_hash: Option<String>,
    /// LLM attempts made (retries included).
    pub attempts: u32,
}

/// A finished, verified narrative.
#[derive(Debug, Clone, Serialize)]
pub struct Narrative {
    /// Title.
    pub title: String,
    /// Scope.
    pub scope: Scope,
    /// Sections with verified sentences.
    pub sections: Vec<Section>,
    /// Sentences verification removed, with reasons.
    pub dropped: Vec<Dropped>,
    /// Narrator.
    pub narrator: NarratorInfo,
    /// Events in the evidence.
    pub evidence_events: usize,
    /// Facts.
    pub facts: Vec<Fact>,
    /// SHA-256 of the evidence.
    pub evidence_hash: String,
    /// The evidence was capped.
    pub truncated: bool,
    /// Milliseconds from scope to verified narrative.
    pub latency_ms: u64,
    /// Cited ids in order of first citation (the numbered citations).
    pub cited: Vec<String>,
    /// Every cited id with the full list of event uids it stands for, numbered as rendered.
    pub citations: Vec<Citation>,
    /// The row of every cited event (time, actor, action, target, device, outcome, risk, chain
    /// position and hash), in evidence order: what a reader needs to check each sentence.
    pub events: Vec<EvidenceEvent>,
    /// The store's coverage and integrity beside the evidence.
    pub coverage: evidence::Coverage,
    /// The event uids cited (facts expanded), in evidence order (the `events` rows' uids).
    #[serde(skip)]
    pub cited_event_uids: Vec<String>,
}

/// One citation: what `[n]` stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The number shown (`[n]`), in order of first citation.
    pub number: usize,
    /// The cited id (`F..`, or `E..` for a single event).
    pub id: String,
    /// `finding`, `change`, `routine`, `control`, `feed`, `scope` or `event`.
    pub kind: &'static str,
    /// A short label.
    pub label: String,
    /// Events it stands for.
    pub count: usize,
    /// Every event uid it stands for, in evidence order (never truncated).
    pub event_uids: Vec<String>,
}

impl Narrative {
    /// Verified sentences.
    pub fn sentence_count(&self) -> usize {
        self.sections.iter().map(|s| s.sentences.len()).sum()
    }

    /// SHA-256 of the rendered output's content (sections and sentences with citations).
    pub fn output_hash(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for s in &self.sections {
            h.update(s.title.as_bytes());
            h.update([0]);
            for t in &s.sentences {
                h.update(t.text.as_bytes());
                h.update([1]);
                h.update(t.citations.join(",").as_bytes());
                h.update([2]);
            }
        }
        hex::encode(h.finalize())
    }
}
