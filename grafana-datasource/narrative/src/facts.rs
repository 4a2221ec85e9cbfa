//! Evidence sets ("facts"): the units a narrative cites. Each is a set of events of the evidence
//! (ids `E..`) with what can be counted from them alone (events, failures, successes, devices,
//! actors, targets, first and last time, highest risk), so a reader holding only the cited rows can
//! recompute every number a sentence states. Facts have ids `F1..Fm` in the order the story tells
//! them; [`super::story`] decides which sets the story needs.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::evidence::{Evidence, EvidenceEvent};

/// What a fact is in the story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// Everything in the scope.
    Scope,
    /// A finding: a bulk-destructive episode, high- or critical-risk activity, a rollout with
    /// failures.
    Finding,
    /// The changes of one policy, profile or other configuration object, and the device results.
    Change,
    /// Routine activity of one kind (check-ins, policy runs, sign-ins, ...).
    Routine,
    /// The events touching one compliance control.
    Control,
    /// The events of one feed.
    Feed,
}

impl FactKind {
    /// The kind as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Scope => "scope",
            FactKind::Finding => "finding",
            FactKind::Change => "change",
            FactKind::Routine => "routine",
            FactKind::Control => "control",
            FactKind::Feed => "feed",
        }
    }
}

/// One evidence set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// `F1`, `F2`, ...
    pub id: String,
    /// What it is in the story.
    pub kind: FactKind,
    /// A short label for citation lists.
    pub label: String,
    /// The episode it is (bulk destructive, policy rollout), if any.
    pub episode_id: Option<String>,
    /// The episode's kind.
    pub episode_kind: Option<String>,
    /// The main actor (the most frequent one), if any.
    pub actor: Option<String>,
    /// The most frequent canonical action.
    pub action: String,
    /// Every action of its events.
    pub actions: BTreeSet<String>,
    /// Target type of the main action's events.
    pub target_type: Option<String>,
    /// The main target (name, else id), if one.
    pub target: Option<String>,
    /// Events.
    pub count: usize,
    /// Failed events.
    pub failures: usize,
    /// Succeeded events.
    pub successes: usize,
    /// High- or critical-risk events.
    pub high: usize,
    /// Device reports of non-compliance.
    pub noncompliant: usize,
    /// Devices (as shown: name, else serial, else id), sorted.
    pub devices: BTreeSet<String>,
    /// Actors (as shown), sorted.
    pub actors: BTreeSet<String>,
    /// Targets other than devices (name, else id), sorted.
    pub targets: BTreeSet<String>,
    /// First event time.
    pub first: DateTime<Utc>,
    /// Last event time.
    pub last: DateTime<Utc>,
    /// Highest risk score.
    pub max_risk_score: i32,
    /// Highest risk level.
    pub risk_level: String,
    /// Union of risk tags.
    pub risk_tags: BTreeSet<String>,
    /// Union of controls.
    pub controls: BTreeSet<String>,
    /// The evidence ids (`E..`) it stands for, in time order (the JSON lists their event uids in
    /// `citations` instead).
    #[serde(skip)]
    pub events: Vec<String>,
}

impl Fact {
    /// High or critical.
    pub fn is_high_risk(&self) -> bool {
        matches!(self.risk_level.as_str(), "high" | "critical")
    }

    /// The set of `events` (in evidence order), with everything counted from them.
    pub fn of(kind: FactKind, label: impl Into<String>, events: &[&EvidenceEvent]) -> Self {
        let mut f = Fact {
            id: String::new(),
            kind,
            label: label.into(),
            episode_id: None,
            episode_kind: None,
            actor: None,
            action: String::new(),
            actions: BTreeSet::new(),
            target_type: None,
            target: None,
            count: 0,
            failures: 0,
            successes: 0,
            high: 0,
            noncompliant: 0,
            devices: BTreeSet::new(),
            actors: BTreeSet::new(),
            targets: BTreeSet::new(),
            first: events.first().map_or_else(Utc::now, |e| e.time),
            last: events.first().map_or_else(Utc::now, |e| e.time),
            max_risk_score: 0,
            risk_level: "none".into(),
            risk_tags: BTreeSet::new(),
            controls: BTreeSet::new(),
            events: Vec::with_capacity(events.len()),
        };
        let mut actions: std::collections::BTreeMap<&str, usize> = Default::default();
        let mut actors: std::collections::BTreeMap<&str, usize> = Default::default();
        for e in events {
            f.count += 1;
            f.failures += usize::from(e.failed());
            f.successes += usize::from(e.succeeded());
            f.high += usize::from(e.is_high_risk());
            f.noncompliant += usize::from(e.noncompliant());
            if let Some(d) = e.device() {
                f.devices.insert(d.to_owned());
            }
            if let Some(a) = e.actor() {
                f.actors.insert(a.to_owned());
                *actors.entry(a).or_default() += 1;
            }
            if let Some(t) = target_of(e) {
                f.targets.insert(t.to_owned());
            }
            f.first = f.first.min(e.time);
            f.last = f.last.max(e.time);
            f.max_risk_score = f.max_risk_score.max(e.risk_score);
            if level_rank(&e.risk_level) > level_rank(&f.risk_level) {
                f.risk_level = e.risk_level.clone();
            }
            f.risk_tags.extend(e.risk_tags.iter().cloned());
            f.controls.extend(e.controls.iter().cloned());
            f.actions.insert(e.action.clone());
            *actions.entry(e.action.as_str()).or_default() += 1;
            f.events.push(e.id.clone());
        }
        let top = |m: &std::collections::BTreeMap<&str, usize>| {
            m.iter()
                .max_by_key(|(k, c)| (**c, std::cmp::Reverse(**k)))
                .map(|(k, _)| (*k).to_owned())
        };
        f.action = top(&actions).unwrap_or_default();
        f.actor = top(&actors);
        let main: Vec<&&EvidenceEvent> = events.iter().filter(|e| e.action == f.action).collect();
        f.target_type = main.iter().find_map(|e| e.target_type.clone());
        let main_targets: BTreeSet<&str> = main.iter().filter_map(|e| target_of(e)).collect();
        if main_targets.len() == 1 {
            f.target = main_targets.into_iter().next().map(str::to_owned);
        }
        f
    }

    /// The events of this set.
    pub fn rows<'a>(&self, ev: &'a Evidence) -> Vec<&'a EvidenceEvent> {
        self.events.iter().filter_map(|id| ev.event(id)).collect()
    }
}

/// The target an event names other than a device (name, else id).
pub fn target_of(e: &EvidenceEvent) -> Option<&str> {
    if e.target_type.as_deref() == Some("device") {
        None
    } else {
        e.target_name.as_deref().or(e.target_id.as_deref())
    }
}

/// Rank of a risk level (higher is riskier).
pub fn level_rank(l: &str) -> u8 {
    match l {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// The evidence sets of `ev`'s story, in the order it tells them (see [`super::story::plan`]).
pub fn compact(ev: &Evidence) -> Vec<Fact> {
    super::story::plan(ev).facts
}
