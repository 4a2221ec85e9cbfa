//! Verification: a sentence survives only if it cites ids of this evidence and everything it states
//! (names, device ids, numbers, dates, times, actions) appears in the events and facts it cites.
//! Values are matched against structured columns; an action word counts only if a cited event has
//! that canonical `action`, so words inside log-derived text (a target name saying "all devices were
//! wiped") never make a claim true.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::evidence::{Evidence, EvidenceEvent};
use super::facts::Fact;
use super::glue::{ACTION_WORDS, VOCABULARY};
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

/// What the cited evidence supports.
#[derive(Debug, Default)]
struct Support {
    values: Vec<String>,
    /// Values already taken (a month's events repeat the same few hundred values).
    seen: HashSet<String>,
    /// Minutes already taken.
    minutes: HashSet<i64>,
    /// Minutes already taken in a local zone.
    local_minutes: HashSet<(i64, String)>,
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
        if self.seen.contains(v) {
            return;
        }
        self.seen.insert(v.to_owned());
        for w in words(v) {
            self.words.insert(w.to_lowercase());
        }
        self.values.push(v.to_owned());
    }

    fn time(&mut self, t: chrono::DateTime<chrono::Utc>) {
        if !self.minutes.insert(t.timestamp().div_euclid(60)) {
            return;
        }
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
            e.actor_person.as_deref(),
            e.actor_department.as_deref(),
            e.actor_partner_tenant.as_deref(),
            e.device_platform.as_deref(),
            e.local_zone.as_deref(),
            Some(e.feed.as_str()),
            Some(e.vendor.as_str()),
            Some(e.category.as_str()),
            Some(e.outcome.as_str()),
            Some(e.risk_level.as_str()),
        ] {
            self.value(v);
        }
        if let Some(t) = &e.target_type
            && !self.seen.contains(t.as_str())
        {
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
        for t in e.risk_tags.iter().chain(&e.controls).chain(&e.risk_reasons) {
            self.value(Some(t));
        }
        if let Some(z) = e.local_zone.as_deref() {
            let key = (e.time.timestamp().div_euclid(60), z.to_owned());
            if !self.local_minutes.contains(&key)
                && let Some((d, hm)) = e.local_clock()
            {
                self.local_minutes.insert(key);
                self.dates.insert(d);
                self.clock.insert(hm);
            }
        }
        self.numbers
            .insert(u64::try_from(e.risk_score).unwrap_or(0));
        if !self.actions.contains(&e.action) {
            self.actions.insert(e.action.clone());
            // The canonical action as a word (the template's "performed <action> on"), never as a
            // value to remove before the action check.
            self.words.insert(e.action.to_lowercase());
        }
        self.time(e.time);
    }

    fn fact(&mut self, f: &Fact) {
        self.value(f.actor.as_deref());
        self.value(f.episode_id.as_deref());
        self.value(f.episode_kind.as_deref());
        self.time(f.first);
        self.time(f.last);
    }
}

/// The numbers a set of rows supports: rows, failures, successes, high-risk rows, and the
/// distinct devices, actors, administrators, targets, vendors, feeds and actions (the same
/// counts the evidence pack's checker recomputes from the rows alone).
pub fn aggregates(rows: &[&EvidenceEvent]) -> Vec<u64> {
    let d = |f: &dyn Fn(&EvidenceEvent) -> Option<&str>| -> u64 {
        rows.iter()
            .filter_map(|e| f(e))
            .collect::<HashSet<_>>()
            .len() as u64
    };
    vec![
        rows.len() as u64,
        rows.iter().filter(|e| e.failed()).count() as u64,
        rows.iter().filter(|e| e.succeeded()).count() as u64,
        rows.iter().filter(|e| e.is_high_risk()).count() as u64,
        d(&|e| e.device()),
        d(&|e| e.actor()),
        d(&|e| e.administrative().then(|| e.actor()).flatten()),
        d(&|e| super::facts::target_of(e)),
        d(&|e| Some(e.vendor.as_str())),
        d(&|e| Some(e.feed.as_str())),
        d(&|e| Some(e.action.as_str())),
        rows.iter().filter(|e| e.noncompliant()).count() as u64,
        d(&|e| e.failed().then(|| e.device()).flatten()),
        d(&|e| e.noncompliant().then(|| e.device()).flatten()),
    ]
}

/// `19,801` -> `19801` (thousands separators between digits), so numbers read whole.
fn join_thousands(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, c) in b.iter().enumerate() {
        if *c == ','
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.len() > i + 3
            && b[i + 1..i + 4].iter().all(char::is_ascii_digit)
            && b.get(i + 4).is_none_or(|n| !n.is_ascii_digit())
        {
            continue;
        }
        out.push(*c);
    }
    out
}

/// The vocabulary table's words, and its verbs with the actions they stand for.
type TableWords = (HashSet<String>, Vec<(String, Vec<String>)>);

/// Words the vocabulary table uses, and its verbs with the actions they stand for.
fn table_words() -> &'static TableWords {
    static W: std::sync::OnceLock<TableWords> = std::sync::OnceLock::new();
    W.get_or_init(|| {
        let v = super::vocab::vocabulary();
        (
            v.words().into_iter().collect(),
            v.verbs()
                .into_iter()
                .map(|(k, a)| (k, a.into_iter().collect()))
                .collect(),
        )
    })
}

/// The action words of a sentence: the built-in list and the vocabulary's verbs.
fn action_of(word: &str) -> Option<Vec<String>> {
    if VOCABULARY.contains(&word) {
        return None;
    }
    let mut acts: Vec<String> = ACTION_WORDS
        .iter()
        .filter(|(w, _)| *w == word)
        .flat_map(|(_, a)| a.iter().map(|s| (*s).to_owned()))
        .collect();
    if let Some((_, a)) = table_words().1.iter().find(|(w, _)| w == word) {
        acts.extend(a.iter().cloned());
    }
    (!acts.is_empty()).then_some(acts)
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
    // Aggregates over all the cited rows, over each cited set, and over the citations.
    sup.numbers.extend(aggregates(&events));
    let cited_facts: Vec<&Fact> = s.citations.iter().filter_map(|id| fact(id)).collect();
    let mut per_level: std::collections::HashMap<&str, u64> = Default::default();
    let mut sum = 0u64;
    for f in &cited_facts {
        let rows = f.rows(ev);
        sup.numbers.extend(aggregates(&rows));
        *per_level.entry(max_level(&rows)).or_default() += 1;
        sum += rows.len() as u64;
    }
    sup.numbers.extend(per_level.values().copied());
    sup.numbers.extend([s.citations.len() as u64, sum]);

    // Stated values (longest first) are replaced by a neutral placeholder.
    let mut text = join_thousands(&strip_markers(&s.text).0);
    // Only the distinct values the sentence contains at all (a sentence citing a month of events
    // has hundreds of thousands of values, a few of which it states).
    let lower_text = text.to_lowercase();
    let mut values: Vec<&String> = sup
        .values
        .iter()
        .filter(|v| lower_text.contains(&v.to_lowercase()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    for v in values {
        text = replace_word(&text, v);
    }
    let lower = text.to_lowercase();
    let toks: Vec<&str> = words(&lower).collect();
    for t in &toks {
        if let Some(acts) = action_of(t)
            && !acts.iter().any(|a| sup.actions.contains(a))
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
        let singular = l
            .strip_suffix("ies")
            .map(|x| format!("{x}y"))
            .or_else(|| l.strip_suffix('s').map(str::to_owned));
        let known_word = |w: &str| {
            VOCABULARY.contains(&w)
                || ACTION_WORDS.iter().any(|(x, _)| *x == w)
                || table_words().0.contains(w)
                || sup.words.contains(w)
        };
        let known = known_word(&l) || singular.as_deref().is_some_and(known_word);
        if (identifier || capital) && !known {
            return Err(format!("names \"{t}\", which the cited evidence does not"));
        }
    }
    Ok(())
}

/// The highest risk level of `rows`, as written.
pub fn max_level(rows: &[&EvidenceEvent]) -> &'static str {
    let r = rows
        .iter()
        .map(|e| super::facts::level_rank(&e.risk_level))
        .max()
        .unwrap_or(0);
    ["none", "low", "medium", "high", "critical"][usize::from(r.min(4))]
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
