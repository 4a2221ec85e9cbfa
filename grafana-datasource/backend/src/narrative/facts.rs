//! Compaction: events become facts (who did what to which target, how often, on how many devices,
//! first and last time), so a period of tens of thousands of events fits one prompt. Events of a
//! correlated episode become one episode fact; the rest are grouped by actor, action, target and
//! outcome. Facts have ids `F1..Fm` and cite the events they stand for.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::evidence::Evidence;

/// Where a fact comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// Events of one correlated episode.
    Episode,
    /// Events grouped by actor, action, target and outcome.
    Group,
}

/// One fact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// `F1`, `F2`, ...
    pub id: String,
    /// Where it comes from.
    pub kind: FactKind,
    /// The episode (episode facts).
    pub episode_id: Option<String>,
    /// The episode's kind (episode facts).
    pub episode_kind: Option<String>,
    /// Who acted (`None`: not named by the logs).
    pub actor: Option<String>,
    /// Canonical action (group facts; the most frequent one for episodes).
    pub action: String,
    /// Actions of the events (episode facts may hold several).
    pub actions: BTreeSet<String>,
    /// Target type.
    pub target_type: Option<String>,
    /// Target name (or id).
    pub target: Option<String>,
    /// Outcome (group facts).
    pub outcome: String,
    /// Events.
    pub count: usize,
    /// Failed events.
    pub failures: usize,
    /// Devices (as shown: name, else serial, else id), sorted.
    pub devices: BTreeSet<String>,
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
    /// The evidence ids (`E..`) it stands for, in time order.
    pub events: Vec<String>,
}

impl Fact {
    /// High or critical.
    pub fn is_high_risk(&self) -> bool {
        matches!(self.risk_level.as_str(), "high" | "critical")
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

/// Compacts the evidence into facts, episode facts first (by first time), then groups (by first
/// time).
pub fn compact(ev: &Evidence) -> Vec<Fact> {
    let uid_episode: HashMap<&str, &str> = ev
        .episodes
        .iter()
        .flat_map(|p| {
            p.event_uids
                .iter()
                .map(move |u| (u.as_str(), p.episode_id.as_str()))
        })
        .collect();
    let episode_of = |e: &super::evidence::EvidenceEvent| -> Option<String> {
        uid_episode
            .get(e.event_uid.as_str())
            .map(|s| (*s).to_owned())
            .or_else(|| {
                e.episode_id
                    .clone()
                    .filter(|id| ev.episodes.iter().any(|p| &p.episode_id == id))
            })
    };
    // Key: (episode) or (actor, action, target_type, target, outcome).
    type Key = (
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        String,
    );
    let mut groups: BTreeMap<Key, Fact> = BTreeMap::new();
    for e in &ev.events {
        let episode = episode_of(e);
        let key: Key = match &episode {
            Some(p) => (
                Some(p.clone()),
                None,
                String::new(),
                None,
                None,
                String::new(),
            ),
            None => (
                None,
                e.actor().map(str::to_owned),
                e.action.clone(),
                e.target_type.clone(),
                group_target(e),
                e.outcome.clone(),
            ),
        };
        let f = groups.entry(key).or_insert_with(|| {
            let p = episode
                .as_ref()
                .and_then(|id| ev.episodes.iter().find(|p| &p.episode_id == id));
            Fact {
                id: String::new(),
                kind: if p.is_some() {
                    FactKind::Episode
                } else {
                    FactKind::Group
                },
                episode_id: p.map(|p| p.episode_id.clone()),
                episode_kind: p.map(|p| p.episode_kind.clone()),
                actor: p
                    .and_then(|p| p.actor.clone())
                    .or_else(|| e.actor().map(str::to_owned)),
                action: e.action.clone(),
                actions: BTreeSet::new(),
                target_type: e.target_type.clone(),
                target: group_target(e),
                outcome: e.outcome.clone(),
                count: 0,
                failures: 0,
                devices: BTreeSet::new(),
                first: e.time,
                last: e.time,
                max_risk_score: 0,
                risk_level: "none".into(),
                risk_tags: BTreeSet::new(),
                controls: BTreeSet::new(),
                events: Vec::new(),
            }
        });
        f.count += 1;
        f.failures += usize::from(e.failed());
        if let Some(d) = e.device() {
            f.devices.insert(d.to_owned());
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
        f.events.push(e.id.clone());
    }
    let mut facts: Vec<Fact> = groups.into_values().collect();
    for f in &mut facts {
        if f.kind == FactKind::Episode {
            // The most frequent action of the episode's events.
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for id in &f.events {
                if let Some(e) = ev.event(id) {
                    *counts.entry(e.action.as_str()).or_default() += 1;
                }
            }
            if let Some((a, _)) = counts
                .iter()
                .max_by_key(|(a, c)| (**c, std::cmp::Reverse(**a)))
            {
                f.action = (*a).to_owned();
            }
            f.target = None;
            f.target_type = None;
        }
    }
    facts.sort_by(|a, b| {
        (a.kind != FactKind::Episode, a.first, &a.events[0]).cmp(&(
            b.kind != FactKind::Episode,
            b.first,
            &b.events[0],
        ))
    });
    for (i, f) in facts.iter_mut().enumerate() {
        f.id = format!("F{}", i + 1);
    }
    facts
}

/// The target a group is keyed by: none for device targets (the devices are listed instead, so a
/// bulk wipe is one fact).
fn group_target(e: &super::evidence::EvidenceEvent) -> Option<String> {
    if e.target_type.as_deref() == Some("device") {
        None
    } else {
        e.target_name.clone().or_else(|| e.target_id.clone())
    }
}
