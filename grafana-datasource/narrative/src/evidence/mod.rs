//! Evidence: the events (and correlated episodes) in a narrative's scope, read from the store through
//! DataFusion, ordered by time and capped, each with a stable id `E1..En`.

use chrono::{DateTime, Duration, Utc};
use datafusion::prelude::{Expr, col, lit};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::NarrativeError;
use crate::NarrativeKind;
use mdm_audit_store::select::{Filters, Range, events_expr};

mod load;

pub use load::load;

/// The most events one narrative reads (the rest is reported as truncated).
pub const MAX_EVIDENCE: usize = 50_000;
/// The window of an incident timeline before its time.
pub const INCIDENT_WINDOW_HOURS: i64 = 72;

/// What a narrative is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    /// The kind.
    #[serde(serialize_with = "ser_kind")]
    pub kind: NarrativeKind,
    /// The time range (for an incident: `to` is the incident's time; `from` is moved 72 h before it).
    pub range: Range2,
    /// A device (id, serial or name).
    pub device: Option<String>,
    /// An actor (UPN, name or id).
    pub actor: Option<String>,
    /// A policy or profile (target id or name).
    pub policy: Option<String>,
    /// An episode id (incident timelines).
    pub episode: Option<String>,
    /// Further filters of the query.
    #[serde(skip)]
    pub filters: Filters,
    /// The evidence cap.
    pub cap: usize,
}

/// A serializable time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range2 {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
}

fn ser_kind<S: serde::Serializer>(k: &NarrativeKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind_str(*k))
}

/// The kind as written in the query model.
pub fn kind_str(k: NarrativeKind) -> &'static str {
    match k {
        NarrativeKind::PeriodSummary => "period_summary",
        NarrativeKind::IncidentTimeline => "incident_timeline",
        NarrativeKind::ChangeReview => "change_review",
        NarrativeKind::DeviceLifecycle => "device_lifecycle",
        NarrativeKind::AdminActivity => "admin_activity",
    }
}

impl Scope {
    /// A scope of `kind` over `range`, no subject, the default cap.
    pub fn new(kind: NarrativeKind, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            kind,
            range: Range2 { from, to },
            device: None,
            actor: None,
            policy: None,
            episode: None,
            filters: Filters::default(),
            cap: MAX_EVIDENCE,
        }
    }

    /// The range events are read from (an incident: the 72 hours before `to`).
    pub fn effective_range(&self) -> Range {
        let from = if self.kind == NarrativeKind::IncidentTimeline {
            self.range.to - Duration::hours(INCIDENT_WINDOW_HOURS)
        } else {
            self.range.from
        };
        Range {
            from,
            to: self.range.to,
        }
    }

    /// Checks that the kind has the subject it needs.
    pub fn validate(&self) -> Result<(), NarrativeError> {
        let need = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(NarrativeError::Scope(format!(
                    "a {} narrative needs {what}",
                    kind_str(self.kind)
                )))
            }
        };
        match self.kind {
            NarrativeKind::DeviceLifecycle => need(self.device.is_some(), "a device (--device)"),
            NarrativeKind::AdminActivity => need(self.actor.is_some(), "an actor (--actor)"),
            NarrativeKind::IncidentTimeline => need(
                self.device.is_some() || self.actor.is_some() || self.episode.is_some(),
                "a device or an actor (--device or --actor)",
            ),
            _ => Ok(()),
        }?;
        if self.range.from > self.range.to && self.kind != NarrativeKind::IncidentTimeline {
            return Err(NarrativeError::Scope(
                "the range ends before it starts: --from must be before --to".into(),
            ));
        }
        Ok(())
    }

    /// The condition over `events`.
    pub fn expr(&self) -> Expr {
        let any = |cols: &[&str], v: &str| {
            cols.iter()
                .map(|c| col(*c).eq(lit(v)))
                .reduce(Expr::or)
                .unwrap_or_else(|| lit(false))
        };
        let mut e = events_expr(&self.effective_range(), &self.filters);
        if let Some(d) = &self.device {
            e = e.and(any(&["device_id", "device_serial", "device_name"], d));
        }
        if let Some(a) = &self.actor {
            e = e.and(any(&["actor_upn", "actor_name", "actor_id"], a));
        }
        if let Some(ep) = &self.episode {
            e = e.and(col("episode_id").eq(lit(ep.as_str())));
        }
        match &self.policy {
            Some(p) => e.and(any(&["target_id", "target_name"], p)),
            None if self.kind == NarrativeKind::ChangeReview => {
                e.and(col("category").in_list(vec![lit("policy"), lit("profile")], false))
            }
            None => e,
        }
    }
}

/// One `changes` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The changed setting.
    pub path: String,
    /// Before (`None` when redacted or absent).
    pub old: Option<String>,
    /// After (`None` when redacted or absent).
    pub new: Option<String>,
    /// The values were secrets and are not stored.
    pub redacted: bool,
}

/// One event of the evidence (the columns a narrative may state; never `raw`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceEvent {
    /// `E1`, `E2`, ... in time order.
    pub id: String,
    /// The stored `event_uid`.
    pub event_uid: String,
    /// Event time.
    pub time: DateTime<Utc>,
    /// Vendor.
    pub vendor: String,
    /// Feed (`webhook`, `graph`, `syslog`, ...).
    pub feed: String,
    /// `actor_kind` (`user`, `app`, `api_client`, `partner`, `device`, `system`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_kind: Option<String>,
    /// The person the directory resolved the actor to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_person: Option<String>,
    /// The actor's department (directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_department: Option<String>,
    /// A delegated (partner) admin acted.
    pub actor_is_delegated: bool,
    /// The partner tenant of a delegated admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_partner_tenant: Option<String>,
    /// `actor_upn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_upn: Option<String>,
    /// `actor_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// `actor_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// Canonical action.
    pub action: String,
    /// Category.
    pub category: String,
    /// Outcome (`success`, `failure`, ...).
    pub outcome: String,
    /// Target type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// Target id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// Target name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// Changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Device name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// Device serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_serial: Option<String>,
    /// Device platform (`macOS`, `Windows`, `iOS`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_platform: Option<String>,
    /// Risk score 0-100.
    pub risk_score: i32,
    /// Risk level.
    pub risk_level: String,
    /// Risk tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risk_tags: Vec<String>,
    /// Why the risk tags were given, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risk_reasons: Vec<String>,
    /// Compliance controls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// Episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_id: Option<String>,
    /// The episode's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_kind: Option<String>,
    /// The writer chain of the row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    /// Position in its chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_seq: Option<i64>,
    /// The row's hash in its chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The actor's time zone as the trail states it (the zone an off-hours reason of this actor
    /// names), so narratives can give local times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_zone: Option<String>,
}

impl EvidenceEvent {
    /// Who acted, as shown.
    pub fn actor(&self) -> Option<&str> {
        self.actor_upn
            .as_deref()
            .or(self.actor_name.as_deref())
            .or(self.actor_id.as_deref())
    }

    /// The device, as shown.
    pub fn device(&self) -> Option<&str> {
        self.device_name
            .as_deref()
            .or(self.device_serial.as_deref())
            .or(self.device_id.as_deref())
    }

    /// High or critical risk.
    pub fn is_high_risk(&self) -> bool {
        matches!(self.risk_level.as_str(), "high" | "critical")
    }

    /// The outcome is a failure.
    pub fn failed(&self) -> bool {
        matches!(self.outcome.as_str(), "failure" | "failed" | "error")
    }

    /// A device report of non-compliance: a `complianceState` change to `noncompliant`, `error` or
    /// `conflict` (a rollout's failed device result).
    pub fn noncompliant(&self) -> bool {
        self.changes.iter().any(|c| {
            c.path
                .rsplit('.')
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case("compliancestate"))
                && c.new.as_deref().is_some_and(|v| {
                    matches!(
                        v.to_lowercase().as_str(),
                        "noncompliant" | "error" | "conflict"
                    )
                })
        })
    }

    /// The outcome is a success.
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome.as_str(), "success" | "succeeded")
    }

    /// A device reporting on itself (check-in, inventory, compliance result, acknowledgement),
    /// not administration.
    pub fn device_originated(&self) -> bool {
        match self.actor_kind.as_deref() {
            Some("device") => true,
            Some("user" | "app" | "api_client" | "partner") => false,
            _ => matches!(
                self.action.as_str(),
                "check_in"
                    | "inventory"
                    | "compliance_change"
                    | "command_completed"
                    | "mdm_capability_changed"
                    | "status_change"
            ),
        }
    }

    /// Administration: a person, app, API client or partner acting.
    pub fn administrative(&self) -> bool {
        self.actor().is_some()
            && self.actor_kind.as_deref() != Some("system")
            && !self.device_originated()
    }

    /// The event time in the actor's zone, as `HH:MM` with the zone, when the trail names it.
    pub fn local_clock(&self) -> Option<(String, String)> {
        let tz: chrono_tz::Tz = self.local_zone.as_deref()?.parse().ok()?;
        let t = self.time.with_timezone(&tz);
        Some((
            t.format("%Y-%m-%d").to_string(),
            t.format("%H:%M").to_string(),
        ))
    }
}

/// The zone an off-hours reason names: "... local time (Europe/Berlin), outside ...".
pub fn zone_of_reason(reason: &str) -> Option<&str> {
    let i = reason.find("local time (")? + "local time (".len();
    let j = reason[i..].find(')')?;
    Some(&reason[i..i + j])
}

/// The current state of a correlated episode touching the scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceEpisode {
    /// Episode id.
    pub episode_id: String,
    /// Kind (`bulk_destructive`, ...).
    pub episode_kind: String,
    /// Why correlation opened it.
    pub reason: String,
    /// Actor.
    pub actor: Option<String>,
    /// First event time.
    pub first_time: DateTime<Utc>,
    /// Last event time.
    pub last_time: DateTime<Utc>,
    /// Events of the episode.
    pub event_count: i64,
    /// Devices of the episode.
    pub device_count: i64,
    /// Its event uids.
    pub event_uids: Vec<String>,
    /// Tags.
    pub risk_tags: Vec<String>,
    /// Highest risk score.
    pub max_risk_score: i32,
}

/// The evidence of one narrative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The scope it was read for.
    pub scope: Scope,
    /// Events in time order, ids `E1..En`.
    pub events: Vec<EvidenceEvent>,
    /// Episodes touching the events.
    pub episodes: Vec<EvidenceEpisode>,
    /// More events matched than the cap.
    pub truncated: bool,
    /// What the store says of its own completeness and integrity.
    pub coverage: Coverage,
}

/// One writer chain's newest row in the `events` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainHead {
    /// The chain (writer).
    pub chain_id: String,
    /// Its last position.
    pub seq: i64,
    /// The row hash there.
    pub hash: String,
}

/// The store's completeness and integrity, beside the evidence (not cited: it is no event).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Dead letters in the store (`None`: it has no dead-letter table).
    pub dead_letters: Option<u64>,
    /// The head of each writer chain of `events`.
    pub chains: Vec<ChainHead>,
    /// `verify`'s verdict when the caller ran it (`None`: not run for this narrative).
    pub verified: Option<bool>,
}

impl Evidence {
    /// Evidence from events already in memory (ids are reassigned `E1..` in the given order).
    pub fn from_events(
        scope: Scope,
        mut events: Vec<EvidenceEvent>,
        episodes: Vec<EvidenceEpisode>,
    ) -> Self {
        for (i, e) in events.iter_mut().enumerate() {
            e.id = format!("E{}", i + 1);
        }
        Self {
            scope,
            events,
            episodes,
            truncated: false,
            coverage: Coverage::default(),
        }
    }

    /// SHA-256 over the event uids, their row hashes' stand-in (uid + time) and the episode ids, in
    /// order: the same evidence gives the same hash.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for e in &self.events {
            h.update(e.id.as_bytes());
            h.update([0]);
            h.update(e.event_uid.as_bytes());
            h.update([0]);
            h.update(e.time.timestamp_micros().to_le_bytes());
        }
        for p in &self.episodes {
            h.update(p.episode_id.as_bytes());
            h.update([1]);
        }
        hex::encode(h.finalize())
    }

    /// The event with id `id`.
    pub fn event(&self, id: &str) -> Option<&EvidenceEvent> {
        let n: usize = id.strip_prefix('E')?.parse().ok()?;
        self.events.get(n.checked_sub(1)?).filter(|e| e.id == id)
    }
}

/// Gives every event of an actor the zone any off-hours reason of that actor names.
pub fn set_local_zones(events: &mut [EvidenceEvent]) {
    let mut zones: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for e in events.iter() {
        if let Some(z) = e.risk_reasons.iter().find_map(|r| zone_of_reason(r))
            && let Some(a) = e.actor()
        {
            zones.entry(a.to_owned()).or_insert_with(|| z.to_owned());
        }
    }
    for e in events.iter_mut() {
        if e.local_zone.is_none() {
            e.local_zone = e.actor().and_then(|a| zones.get(a).cloned());
        }
    }
}
