//! Episodes: the kinds, one open episode's state, the one-line reason that explains its grouping,
//! and the `episodes` row it is stored as.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::CorrelateConfig;
use super::classify::{actor_label, device_label};
use crate::NormalizedEvent;
use mdm_audit_store::EpisodeRecord;

/// The kinds of episode, least specific first (an event's `episode_id` names its most specific one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Kind {
    AdminSession,
    DeviceLifecycle,
    PolicyRollout,
    BulkDestructive,
}

impl Kind {
    /// The stored `episode_kind`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::AdminSession => "admin_session",
            Kind::DeviceLifecycle => "device_lifecycle",
            Kind::PolicyRollout => "policy_rollout",
            Kind::BulkDestructive => "bulk_destructive",
        }
    }
}

/// One open episode and what it has gathered.
#[derive(Debug)]
pub(super) struct Episode {
    pub(super) id: String,
    pub(super) kind: Kind,
    pub(super) actor: Option<String>,
    pub(super) device: Option<String>,
    pub(super) first: DateTime<Utc>,
    pub(super) last: DateTime<Utc>,
    /// Last event that keeps it open (the last change of a rollout).
    pub(super) anchor: DateTime<Utc>,
    pub(super) uids: Vec<String>,
    pub(super) devices: BTreeSet<String>,
    pub(super) tags: BTreeSet<String>,
    pub(super) targets: BTreeSet<String>,
    pub(super) actions: BTreeSet<String>,
    pub(super) max_score: i32,
    pub(super) end_action: Option<String>,
    pub(super) results: u64,
    /// A rollout counts once something was assigned or a device reported one of its settings.
    pub(super) confirmed: bool,
    /// Verbs of the changes (`created`, `changed`, `assigned`).
    pub(super) verbs: BTreeSet<&'static str>,
    /// Input positions of the members (rollouts: re-labelled while held when confirmed).
    pub(super) seqs: Vec<u64>,
    pub(super) counted: bool,
    pub(super) dirty: bool,
}

impl Episode {
    pub(super) fn new(kind: Kind, key: &str, e: &NormalizedEvent) -> Self {
        let mut h = Sha256::new();
        h.update(kind.name());
        h.update([0]);
        h.update(key);
        h.update([0]);
        h.update(&e.event_uid);
        let id = format!("ep-{}", &hex::encode(h.finalize())[..20]);
        Self {
            id,
            kind,
            actor: if kind == Kind::DeviceLifecycle {
                None
            } else {
                actor_label(e)
            },
            device: if kind == Kind::DeviceLifecycle {
                device_label(e)
            } else {
                None
            },
            first: e.time,
            last: e.time,
            anchor: e.time,
            uids: Vec::new(),
            devices: BTreeSet::new(),
            tags: BTreeSet::new(),
            targets: BTreeSet::new(),
            actions: BTreeSet::new(),
            max_score: 0,
            end_action: None,
            results: 0,
            confirmed: kind != Kind::PolicyRollout,
            verbs: BTreeSet::new(),
            seqs: Vec::new(),
            counted: false,
            dirty: true,
        }
    }

    pub(super) fn add(&mut self, e: &NormalizedEvent) {
        self.last = self.last.max(e.time);
        self.uids.push(e.event_uid.clone());
        if let Some(d) = device_label(e)
            && self.devices.len() < 500
        {
            self.devices.insert(d);
        }
        self.tags.extend(e.risk_tags.iter().cloned());
        self.actions.insert(e.action.clone());
        self.max_score = self.max_score.max(e.risk_score);
        self.dirty = true;
    }

    pub(super) fn reason(&self, config: &CorrelateConfig) -> String {
        let who = self.actor.as_deref().unwrap_or("unknown actor");
        let n = self.uids.len();
        let span = |a: DateTime<Utc>, b: DateTime<Utc>| {
            format!(
                "{} to {} UTC",
                a.format("%Y-%m-%d %H:%M"),
                if a.date_naive() == b.date_naive() {
                    b.format("%H:%M").to_string()
                } else {
                    b.format("%Y-%m-%d %H:%M").to_string()
                }
            )
        };
        match self.kind {
            Kind::AdminSession => format!(
                "{who}: {n} events from {}, no gap over {} min",
                span(self.first, self.last),
                config.idle.num_minutes()
            ),
            Kind::BulkDestructive => format!(
                "{who}: {n} wipe, retire or delete events on {} devices from {} (threshold {} within {} min)",
                self.devices.len(),
                span(self.first, self.last),
                config.bulk_count,
                config.bulk_window.num_minutes()
            ),
            Kind::PolicyRollout => format!(
                "{who} {} {} from {}; {} device results reported their settings within {} h",
                self.verbs.iter().copied().collect::<Vec<_>>().join(" and "),
                self.targets
                    .iter()
                    .take(4)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                span(self.first, self.anchor),
                self.results,
                config.rollout_window.num_hours()
            ),
            Kind::DeviceLifecycle => format!(
                "{}: enrolled {}, {n} events until {}",
                self.device.as_deref().unwrap_or("unknown device"),
                self.first.format("%Y-%m-%d %H:%M UTC"),
                match &self.end_action {
                    Some(a) => format!("{a} {}", self.last.format("%Y-%m-%d %H:%M UTC")),
                    None => format!("{} (still managed)", self.last.format("%Y-%m-%d %H:%M UTC")),
                }
            ),
        }
    }

    pub(super) fn record(&mut self, config: &CorrelateConfig, now: DateTime<Utc>) -> EpisodeRecord {
        self.dirty = false;
        EpisodeRecord {
            episode_id: self.id.clone(),
            episode_kind: self.kind.name().to_owned(),
            reason: self.reason(config),
            actor: self.actor.clone(),
            device: self.device.clone(),
            first_time: self.first,
            last_time: self.last,
            event_count: i64::try_from(self.uids.len()).unwrap_or(i64::MAX),
            device_count: i64::try_from(self.devices.len()).unwrap_or(i64::MAX),
            event_uids: self.uids.clone(),
            devices: self.devices.iter().cloned().collect(),
            risk_tags: self.tags.iter().cloned().collect(),
            max_risk_score: self.max_score,
            updated_time: now,
        }
    }
}

/// The kind of a stored `episode_kind`.
pub(super) fn rank(kind: &str) -> Kind {
    match kind {
        "bulk_destructive" => Kind::BulkDestructive,
        "policy_rollout" => Kind::PolicyRollout,
        "device_lifecycle" => Kind::DeviceLifecycle,
        _ => Kind::AdminSession,
    }
}
