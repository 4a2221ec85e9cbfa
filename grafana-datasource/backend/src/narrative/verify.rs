//! Verification: a sentence survives only if it cites ids of this evidence and everything it states
//! (names, device ids, numbers, dates, times, actions) appears in the events and facts it cites.
//! Values are matched against structured columns; an action word counts only if a cited event has
//! that canonical `action`, so words inside log-derived text (a target name saying "all devices were
//! wiped") never make a claim true.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::evidence::{Evidence, EvidenceEvent};
use super::facts::Fact;
use super::{Section, Sentence};

/// A sentence verification removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// The sentence.
    pub text: String,
    /// Its citations.
    pub citations: Vec<String>,
    /// Why it was removed.
    pub reason: String,
}

/// Words that may appear in a sentence without evidence (sentence glue, template wording).
const VOCABULARY: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "at",
    "by",
    "for",
    "from",
    "with",
    "as",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "their",
    "they",
    "them",
    "he",
    "she",
    "his",
    "her",
    "which",
    "who",
    "what",
    "when",
    "where",
    "between",
    "during",
    "after",
    "before",
    "then",
    "also",
    "same",
    "one",
    "each",
    "every",
    "all",
    "some",
    "no",
    "not",
    "times",
    "time",
    "event",
    "events",
    "device",
    "devices",
    "target",
    "targets",
    "actor",
    "actors",
    "admin",
    "administrator",
    "user",
    "account",
    "scope",
    "holds",
    "hold",
    "of",
    "them",
    "risk",
    "high",
    "critical",
    "medium",
    "low",
    "none",
    "correlated",
    "episode",
    "further",
    "groups",
    "group",
    "lower",
    "lower-risk",
    "activity",
    "including",
    "failed",
    "failure",
    "failures",
    "succeeded",
    "success",
    "unset",
    "redacted",
    "logs",
    "do",
    "does",
    "name",
    "named",
    "unnamed",
    "policy",
    "profile",
    "configuration",
    "compliance",
    "app",
    "script",
    "role",
    "passcode",
    "performed",
    "utc",
    "period",
    "summary",
    "changes",
    "change",
    "overview",
    "control",
    "first",
    "last",
    "total",
    "there",
    "within",
    "over",
    "into",
    "out",
    "sign",
    "signed",
    "lock",
    "activation",
    "multiple",
    "several",
    "other",
    "another",
    "only",
    "more",
    "than",
    "up",
    "via",
    "using",
    "s",
    "soc",
    "hipaa",
    "nist",
    "microsoft",
    "intune",
    "jamf",
    "omnissa",
    "workspace",
    "pro",
    "while",
    "however",
    "notably",
    "additionally",
    "period's",
    "subsequently",
    "later",
    "earlier",
    "next",
];

/// Words stating an action, and the canonical actions they may stand for.
const ACTION_WORDS: &[(&str, &[&str])] = &[
    ("wiped", &["wipe"]),
    ("wipe", &["wipe"]),
    ("wipes", &["wipe"]),
    ("wiping", &["wipe"]),
    ("erased", &["wipe"]),
    ("retired", &["retire"]),
    ("retire", &["retire"]),
    ("deleted", &["delete"]),
    ("delete", &["delete"]),
    ("deletes", &["delete"]),
    (
        "removed",
        &["delete", "remove_profile", "unenroll", "unassign"],
    ),
    ("locked", &["lock"]),
    ("enrolled", &["enroll"]),
    ("unenrolled", &["unenroll"]),
    ("created", &["create", "token_create"]),
    ("added", &["create", "assign"]),
    (
        "updated",
        &[
            "update",
            "patch",
            "membership_change",
            "compliance_change",
            "status_change",
            "mdm_capability_changed",
        ],
    ),
    ("modified", &["update", "patch"]),
    (
        "changed",
        &[
            "update",
            "patch",
            "membership_change",
            "compliance_change",
            "status_change",
        ],
    ),
    ("assigned", &["assign"]),
    ("unassigned", &["unassign"]),
    ("cleared", &["clear_passcode"]),
    ("reset", &["reset_passcode"]),
    ("restarted", &["restart"]),
    ("pushed", &["push"]),
    ("ran", &["run"]),
    ("bypassed", &["bypass_activation_lock"]),
    ("disabled", &["update", "patch"]),
];

/// What the cited evidence supports.
#[derive(Debug, Default)]
struct Support {
    values: Vec<String>,
    words: HashSet<String>,
    numbers: HashSet<u64>,
    dates: HashSet<String>,
    clock: HashSet<String>,
    actions: HashSet<String>,
}

impl Support {
    fn value(&mut self, v: Option<&str>) {
        let Some(v) = v.map(str::trim).filter(|v| v.chars().count() >= 2) else {
            return;
        };
        for w in words(v) {
            self.words.insert(w.to_lowercase());
        }
        self.values.push(v.to_owned());
    }

    fn time(&mut self, t: chrono::DateTime<chrono::Utc>) {
        self.dates.insert(t.format("%Y-%m-%d").to_string());
        self.clock.insert(t.format("%H:%M").to_string());
    }

    fn event(&mut self, e: &EvidenceEvent) {
        for v in [
            e.actor_upn.as_deref(),
            e.actor_name.as_deref(),
            e.actor_id.as_deref(),
            e.target_name.as_deref(),
            e.target_id.as_deref(),
            e.device_id.as_deref(),
            e.device_name.as_deref(),
            e.device_serial.as_deref(),
            e.episode_id.as_deref(),
            Some(e.vendor.as_str()),
            Some(e.category.as_str()),
            Some(e.outcome.as_str()),
            Some(e.risk_level.as_str()),
        ] {
            self.value(v);
        }
        if let Some(t) = &e.target_type {
            self.value(Some(&t.replace('_', " ")));
            self.value(Some(t));
        }
        for c in &e.changes {
            self.value(Some(&c.path));
            self.value(c.old.as_deref());
            self.value(c.new.as_deref());
            for n in [&c.old, &c.new].into_iter().flatten() {
                self.numbers.extend(digit_runs(n));
            }
        }
        for t in e.risk_tags.iter().chain(&e.controls) {
            self.value(Some(t));
        }
        self.numbers
            .insert(u64::try_from(e.risk_score).unwrap_or(0));
        self.actions.insert(e.action.clone());
        // The canonical action as a word (the template's "performed <action> on"), never as a
        // value to remove before the action check.
        self.words.insert(e.action.to_lowercase());
        self.time(e.time);
    }

    fn fact(&mut self, f: &Fact) {
        self.value(f.actor.as_deref());
        self.value(f.episode_id.as_deref());
        self.value(f.episode_kind.as_deref());
        self.numbers.extend([
            f.count as u64,
            f.failures as u64,
            f.devices.len() as u64,
            u64::try_from(f.max_risk_score).unwrap_or(0),
        ]);
        self.time(f.first);
        self.time(f.last);
    }
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| {
        !(c.is_alphanumeric()
            || c == '_'
            || c == '@'
            || c == '-'
            || c == '.'
            || c == '\''
            || c == ':')
    })
    .map(|w| w.trim_matches(|c: char| c == '.' || c == '-' || c == '\'' || c == ':'))
    .filter(|w| !w.is_empty())
}

fn digit_runs(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|d| !d.is_empty() && d.len() <= 18)
        .filter_map(|d| d.parse().ok())
        .collect()
}

/// Removes citation markers (`[E1]`, `[F2, E3]`, `(E4)`) from `text` and returns the ids found.
pub fn strip_markers(text: &str) -> (String, Vec<String>) {
    let mut ids = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['[', '(']) {
        let close = if rest[i..].starts_with('[') { ']' } else { ')' };
        let Some(j) = rest[i..].find(close) else {
            break;
        };
        let inner = &rest[i + 1..i + j];
        let parts: Vec<&str> = inner
            .split([',', ' ', ';'])
            .filter(|p| !p.is_empty())
            .collect();
        if !parts.is_empty() && parts.iter().all(|p| is_id(p)) {
            out.push_str(&rest[..i]);
            ids.extend(parts.iter().map(|p| (*p).to_owned()));
        } else {
            out.push_str(&rest[..=i + j]);
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    (
        out.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(" .", "."),
        ids,
    )
}

/// `E<n>` or `F<n>`.
pub fn is_id(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some('E' | 'F')) && s.len() > 1 && c.all(|c| c.is_ascii_digit())
}

/// Checks one sentence; `Err(reason)` when it must be dropped.
pub fn check(s: &Sentence, ev: &Evidence, facts: &[Fact]) -> Result<(), String> {
    if s.citations.is_empty() {
        return Err("cites no evidence".into());
    }
    let fact = |id: &str| -> Option<&Fact> {
        let n: usize = id.strip_prefix('F')?.parse().ok()?;
        facts.get(n.checked_sub(1)?).filter(|f| f.id == id)
    };
    let mut sup = Support::default();
    let mut cited_events: BTreeSet<usize> = BTreeSet::new();
    let mut unknown = Vec::new();
    for id in &s.citations {
        if let Some(f) = fact(id) {
            sup.fact(f);
            for e in &f.events {
                if let Some(n) = e.strip_prefix('E').and_then(|n| n.parse::<usize>().ok()) {
                    cited_events.insert(n);
                }
            }
        } else if ev.event(id).is_some() {
            cited_events.insert(id[1..].parse().unwrap_or(0));
        } else {
            unknown.push(id.as_str());
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "cites ids not in the evidence: {}",
            unknown.join(", ")
        ));
    }
    let events: Vec<&EvidenceEvent> = cited_events
        .iter()
        .filter_map(|n| ev.events.get(n - 1))
        .collect();
    for e in &events {
        sup.event(e);
    }
    // Aggregates over the cited evidence.
    let cited_facts: Vec<&Fact> = s.citations.iter().filter_map(|id| fact(id)).collect();
    let mut actors: HashSet<&str> = events.iter().filter_map(|e| e.actor()).collect();
    actors.extend(cited_facts.iter().filter_map(|f| f.actor.as_deref()));
    let devices: HashSet<&str> = events.iter().filter_map(|e| e.device()).collect();
    sup.numbers.extend([
        events.len() as u64,
        s.citations.len() as u64,
        actors.len() as u64,
        devices.len() as u64,
        events.iter().filter(|e| e.is_high_risk()).count() as u64,
        events.iter().filter(|e| e.failed()).count() as u64,
        cited_facts.iter().map(|f| f.count as u64).sum(),
        cited_facts.iter().map(|f| f.failures as u64).sum(),
    ]);

    // Stated values (longest first) are replaced by a neutral placeholder.
    let mut text = strip_markers(&s.text).0;
    let mut values = sup.values.clone();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in &values {
        text = replace_word(&text, v);
    }
    let lower = text.to_lowercase();
    let toks: Vec<&str> = words(&lower).collect();
    for t in &toks {
        if let Some((_, acts)) = ACTION_WORDS.iter().find(|(w, _)| w == t)
            && !acts.iter().any(|a| sup.actions.contains(*a))
        {
            return Err(format!(
                "states the action \"{t}\", which no cited event has"
            ));
        }
    }
    let orig: Vec<&str> = words(&text).collect();
    for t in orig {
        if t == "VALUE" {
            continue;
        }
        if is_date(t) {
            if !sup.dates.contains(t) {
                return Err(format!("states the date {t}, which no cited event has"));
            }
            continue;
        }
        if let Some(hm) = clock(t) {
            if !sup.clock.contains(&hm) {
                return Err(format!("states the time {t}, which no cited event has"));
            }
            continue;
        }
        let all_digits = t.chars().all(|c| c.is_ascii_digit() || c == ',');
        if all_digits {
            let n: u64 = t.replace(',', "").parse().unwrap_or(u64::MAX);
            if !sup.numbers.contains(&n) {
                return Err(format!(
                    "states the number {t}, which the cited evidence does not"
                ));
            }
            continue;
        }
        let l = t.to_lowercase();
        let has_digit = t.chars().any(|c| c.is_ascii_digit());
        let identifier = t.contains('@') || has_digit || t.contains('_');
        let capital = t.chars().next().is_some_and(char::is_uppercase);
        let known = VOCABULARY.contains(&l.as_str())
            || ACTION_WORDS.iter().any(|(w, _)| *w == l)
            || sup.words.contains(&l);
        if (identifier || capital) && !known {
            return Err(format!("names \"{t}\", which the cited evidence does not"));
        }
    }
    Ok(())
}

fn is_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn clock(t: &str) -> Option<String> {
    let parts: Vec<&str> = t.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let h: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    Some(format!("{h:02}:{m:02}"))
}

/// Replaces whole-word, case-insensitive occurrences of `v` in `text` with ` VALUE `.
fn replace_word(text: &str, v: &str) -> String {
    let lt = text.to_lowercase();
    let lv = v.to_lowercase();
    if lt.len() != text.len() || lv.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(i) = lt[from..].find(&lv) {
        let s = from + i;
        let e = s + lv.len();
        let before = lt[..s]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = lt[e..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if before && after && text.is_char_boundary(s) && text.is_char_boundary(e) {
            out.push_str(&text[last..s]);
            out.push_str(" VALUE ");
            last = e;
        }
        from = e.max(s + 1);
        while from < lt.len() && !lt.is_char_boundary(from) {
            from += 1;
        }
        if from >= lt.len() {
            break;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Keeps the sentences that pass [`check`]; returns the kept sections (empty ones removed) and the
/// dropped sentences with reasons.
pub fn verify(
    sections: Vec<Section>,
    ev: &Evidence,
    facts: &[Fact],
) -> (Vec<Section>, Vec<Dropped>) {
    let mut dropped = Vec::new();
    let mut out = Vec::new();
    for mut sec in sections {
        sec.sentences.retain(|s| match check(s, ev, facts) {
            Ok(()) => true,
            Err(reason) => {
                tracing::debug!(%reason, "narrative sentence dropped");
                dropped.push(Dropped {
                    text: s.text.clone(),
                    citations: s.citations.clone(),
                    reason,
                });
                false
            }
        });
        if !sec.sentences.is_empty() {
            out.push(sec);
        }
    }
    (out, dropped)
}
