//! The pipeline: evidence -> facts -> template or LLM sentences -> verification -> a [`Narrative`].

use std::collections::BTreeMap;
use std::time::Instant;

use datafusion::prelude::SessionContext;

use super::evidence::{Evidence, Scope};
use super::facts::Fact;
use super::llm::{self, LlmConfig, PROMPT_VERSION};
use super::render::label_event;
use super::{Citation, Narrative, NarrativeError, NarratorInfo, Section, story, template, verify};

/// How to narrate.
#[derive(Debug, Clone, Default)]
pub struct NarrateOptions {
    /// Ask this LLM first (else: the template).
    pub llm: Option<LlmConfig>,
}

/// Reads the evidence of `scope` from `ctx` and narrates it.
pub async fn narrate(
    ctx: &SessionContext,
    scope: &Scope,
    options: &NarrateOptions,
) -> Result<Narrative, NarrativeError> {
    let started = Instant::now();
    let ev = super::evidence::load(ctx, scope).await?;
    let mut n = narrate_evidence(&ev, options).await;
    n.latency_ms = started.elapsed().as_millis() as u64;
    Ok(n)
}

/// Narrates evidence already read.
pub async fn narrate_evidence(ev: &Evidence, options: &NarrateOptions) -> Narrative {
    let started = Instant::now();
    let plan = story::plan(ev);
    let templ = template::narrate(ev, &plan);
    let facts = plan.facts;
    let mut info = NarratorInfo {
        narrator: "template",
        model: None,
        fallback_reason: None,
        prompt_tokens: None,
        completion_tokens: None,
        prompt_version: PROMPT_VERSION,
        prompt_hash: None,
        attempts: 0,
    };
    let mut llm_dropped = Vec::new();
    let mut chosen = None;
    if let Some(cfg) = &options.llm {
        if facts.is_empty() {
            info.fallback_reason = Some("no evidence in the scope".into());
        } else {
            let (system, user) = llm::prompt(ev, &facts, &templ);
            info.prompt_hash = Some(llm::prompt_hash(&system, &user));
            match llm::complete(cfg, &system, &user).await {
                Ok(a) => {
                    info.attempts = a.attempts;
                    info.prompt_tokens = a.prompt_tokens.or(Some(
                        llm::estimate_tokens(&user) + llm::estimate_tokens(&system),
                    ));
                    info.completion_tokens = a.completion_tokens;
                    let sections = place(a.sentences, &templ);
                    let (kept, dropped) = verify::verify(sections, ev, &facts);
                    if kept.is_empty() {
                        info.fallback_reason = Some(format!(
                            "no sentence of the LLM's answer survived verification ({} dropped)",
                            dropped.len()
                        ));
                    } else {
                        info.narrator = "llm";
                        info.model = Some(cfg.model.clone());
                        chosen = Some(kept);
                    }
                    llm_dropped = dropped;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LLM narrative failed; using the template");
                    info.fallback_reason = Some(e.to_string());
                }
            }
        }
    }
    let (sections, mut dropped) = match chosen {
        Some(s) => (s, Vec::new()),
        None => verify::verify(templ, ev, &facts),
    };
    dropped.splice(0..0, llm_dropped);
    let mut n = Narrative {
        title: template::title(ev),
        scope: ev.scope.clone(),
        sections,
        dropped,
        narrator: info,
        evidence_events: ev.events.len(),
        facts,
        evidence_hash: ev.hash(),
        truncated: ev.truncated,
        latency_ms: 0,
        cited: Vec::new(),
        citations: Vec::new(),
        events: Vec::new(),
        coverage: ev.coverage.clone(),
        cited_event_uids: Vec::new(),
    };
    fill_citations(&mut n, ev);
    n.latency_ms = started.elapsed().as_millis() as u64;
    n
}

/// Puts each LLM sentence in the template section that cites its first id (else "Narrative").
fn place(sentences: Vec<super::Sentence>, templ: &[Section]) -> Vec<Section> {
    let mut order: Vec<String> = Vec::new();
    let mut by: BTreeMap<String, Vec<super::Sentence>> = BTreeMap::new();
    for s in sentences {
        let title = s
            .citations
            .first()
            .and_then(|c| {
                templ
                    .iter()
                    .find(|sec| sec.sentences.iter().any(|t| t.citations.contains(c)))
            })
            .map_or_else(|| "Narrative".to_owned(), |sec| sec.title.clone());
        if !order.contains(&title) {
            order.push(title.clone());
        }
        by.entry(title).or_default().push(s);
    }
    order
        .into_iter()
        .map(|t| Section {
            sentences: by.remove(&t).unwrap_or_default(),
            title: t,
        })
        .collect()
}

fn fact_of<'a>(facts: &'a [Fact], id: &str) -> Option<&'a Fact> {
    let i: usize = id.strip_prefix('F')?.parse().ok()?;
    facts.get(i.checked_sub(1)?)
}

fn fill_citations(n: &mut Narrative, ev: &Evidence) {
    let mut cited_events = std::collections::BTreeSet::new();
    for s in &n.sections {
        for t in &s.sentences {
            for c in &t.citations {
                if !n.cited.contains(c) {
                    n.cited.push(c.clone());
                }
            }
        }
    }
    for c in &n.cited {
        let (kind, label, ids): (&'static str, String, Vec<String>) =
            if let Some(f) = fact_of(&n.facts, c) {
                (
                    f.kind.as_str(),
                    format!(
                        "{}, {} to {}",
                        f.label,
                        template::fmt_time(f.first),
                        template::fmt_time(f.last)
                    ),
                    f.events.clone(),
                )
            } else if let Some(e) = ev.event(c) {
                ("event", label_event(e), vec![e.id.clone()])
            } else {
                continue;
            };
        let uids: Vec<String> = ids
            .iter()
            .filter_map(|i| ev.event(i))
            .map(|e| e.event_uid.clone())
            .collect();
        for i in &ids {
            if let Some(k) = i.strip_prefix('E').and_then(|k| k.parse::<usize>().ok()) {
                cited_events.insert(k);
            }
        }
        n.citations.push(Citation {
            number: n.citations.len() + 1,
            id: c.clone(),
            kind,
            label,
            count: uids.len(),
            event_uids: uids,
        });
    }
    n.events = cited_events
        .into_iter()
        .filter_map(|k| ev.events.get(k - 1))
        .cloned()
        .collect();
    n.cited_event_uids = n.events.iter().map(|e| e.event_uid.clone()).collect();
}

/// Narratives already written, keyed by what determines them: the evidence hash, the narrative kind,
/// the prompt version and the model (`template` without one). A panel refreshed over the same
/// evidence gets the same narrative without a second LLM call. LLM answers that fell back to the
/// template are not kept, so the next refresh asks the LLM again. Bounded: the oldest entry goes first.
#[derive(Debug)]
pub struct NarrativeCache {
    entries: std::sync::Mutex<(
        std::collections::HashMap<String, Narrative>,
        std::collections::VecDeque<String>,
    )>,
    capacity: usize,
}

impl NarrativeCache {
    /// A cache of at most `capacity` narratives.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: std::sync::Mutex::new(Default::default()),
            capacity: capacity.max(1),
        }
    }

    /// The cache key of `ev` narrated with `options`.
    pub fn key(ev: &Evidence, options: &NarrateOptions) -> String {
        format!(
            "{}|{}|{PROMPT_VERSION}|{}",
            ev.hash(),
            super::kind_str(ev.scope.kind),
            options
                .llm
                .as_ref()
                .map_or("template", |c| c.model.as_str())
        )
    }

    fn get(&self, key: &str) -> Option<Narrative> {
        self.entries.lock().ok()?.0.get(key).cloned()
    }

    fn put(&self, key: String, n: &Narrative) {
        if let Ok(mut g) = self.entries.lock() {
            let (map, order) = &mut *g;
            if map.insert(key.clone(), n.clone()).is_none() {
                order.push_back(key);
            }
            while order.len() > self.capacity {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |g| g.0.len())
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`narrate`] through `cache`: returns the narrative and whether it came from the cache.
pub async fn narrate_cached(
    ctx: &SessionContext,
    scope: &Scope,
    options: &NarrateOptions,
    cache: &NarrativeCache,
) -> Result<(Narrative, bool), NarrativeError> {
    let started = Instant::now();
    let ev = super::evidence::load(ctx, scope).await?;
    Ok(narrate_evidence_cached(&ev, options, cache, started).await)
}

/// [`narrate_evidence`] through `cache`.
pub async fn narrate_evidence_cached(
    ev: &Evidence,
    options: &NarrateOptions,
    cache: &NarrativeCache,
    started: Instant,
) -> (Narrative, bool) {
    let key = NarrativeCache::key(ev, options);
    if let Some(n) = cache.get(&key) {
        return (n, true);
    }
    let mut n = narrate_evidence(ev, options).await;
    n.latency_ms = started.elapsed().as_millis() as u64;
    let fell_back = options.llm.is_some() && n.narrator.fallback_reason.is_some();
    if !fell_back {
        cache.put(key, &n);
    }
    (n, false)
}
