//! Evidence: the events (and correlated episodes) in a narrative's scope, read from the store through
//! DataFusion, ordered by time and capped, each with a stable id `E1..En`.

use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, Duration, Utc};
use datafusion::prelude::SessionContext;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::NarrativeError;
use crate::engine::{Range, filter_sql, lit};
use crate::query::{Filters, NarrativeKind};

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

    /// The `WHERE` clause over `events`.
    pub fn where_sql(&self) -> String {
        let mut c = vec![self.effective_range().sql("")];
        c.extend(filter_sql(&self.filters));
        if let Some(d) = &self.device {
            let l = lit(d);
            c.push(format!(
                "(device_id = {l} OR device_serial = {l} OR device_name = {l})"
            ));
        }
        if let Some(a) = &self.actor {
            let l = lit(a);
            c.push(format!(
                "(actor_upn = {l} OR actor_name = {l} OR actor_id = {l})"
            ));
        }
        if let Some(e) = &self.episode {
            c.push(format!("episode_id = {}", lit(e)));
        }
        match &self.policy {
            Some(p) => {
                let l = lit(p);
                c.push(format!("(target_id = {l} OR target_name = {l})"));
            }
            None if self.kind == NarrativeKind::ChangeReview => {
                c.push("category IN ('policy', 'profile')".into());
            }
            None => {}
        }
        c.join(" AND ")
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
    /// `actor_upn`.
    pub actor_upn: Option<String>,
    /// `actor_name`.
    pub actor_name: Option<String>,
    /// `actor_id`.
    pub actor_id: Option<String>,
    /// Canonical action.
    pub action: String,
    /// Category.
    pub category: String,
    /// Outcome (`success`, `failure`, ...).
    pub outcome: String,
    /// Target type.
    pub target_type: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Target name.
    pub target_name: Option<String>,
    /// Changes.
    pub changes: Vec<Change>,
    /// Device id.
    pub device_id: Option<String>,
    /// Device name.
    pub device_name: Option<String>,
    /// Device serial.
    pub device_serial: Option<String>,
    /// Risk score 0-100.
    pub risk_score: i32,
    /// Risk level.
    pub risk_level: String,
    /// Risk tags.
    pub risk_tags: Vec<String>,
    /// Compliance controls.
    pub controls: Vec<String>,
    /// Episode.
    pub episode_id: Option<String>,
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

/// Reads the evidence of `scope` from the tables registered in `ctx` (`events`, and `episodes` when
/// the store has it).
pub async fn load(ctx: &SessionContext, scope: &Scope) -> Result<Evidence, NarrativeError> {
    scope.validate()?;
    if !ctx.table_exist("events")? {
        return Err(NarrativeError::Scope(
            "the store has no `events` table yet: ingest events first (mdm-audit ingest)".into(),
        ));
    }
    let sql = format!(
        "SELECT event_uid, time, vendor, actor_upn, actor_name, actor_id, action, category, outcome, \
         target_type, target_id, target_name, changes, device_id, device_name, device_serial, \
         risk_score, risk_level, risk_tags, controls, episode_id \
         FROM events WHERE {} ORDER BY time, event_uid LIMIT {}",
        scope.where_sql(),
        scope.cap + 1
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut events = Vec::new();
    for b in &batches {
        read_events(b, &mut events)?;
    }
    let truncated = events.len() > scope.cap;
    events.truncate(scope.cap);
    let episodes = if ctx.table_exist("episodes")? {
        load_episodes(ctx, scope, &events).await?
    } else {
        Vec::new()
    };
    let mut ev = Evidence::from_events(scope.clone(), events, episodes);
    ev.truncated = truncated;
    Ok(ev)
}

async fn load_episodes(
    ctx: &SessionContext,
    scope: &Scope,
    events: &[EvidenceEvent],
) -> Result<Vec<EvidenceEpisode>, NarrativeError> {
    let r = scope.effective_range();
    let sql = format!(
        "SELECT episode_id, episode_kind, reason, actor, first_time, last_time, event_count, \
         device_count, event_uids, risk_tags, max_risk_score, updated_time, chain_seq FROM episodes \
         WHERE first_time <= {} AND last_time >= {} ORDER BY episode_id, updated_time, chain_seq",
        crate::engine::ts_literal(r.to),
        crate::engine::ts_literal(r.from)
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    // The newest row of an episode is its state (rows are ordered by updated_time).
    let mut latest: BTreeMap<String, EvidenceEpisode> = BTreeMap::new();
    for b in &batches {
        let id = strings(b, "episode_id")?;
        let kind = strings(b, "episode_kind")?;
        let reason = strings(b, "reason")?;
        let actor = strings(b, "actor")?;
        let first = times(b, "first_time")?;
        let last = times(b, "last_time")?;
        let count = ints(b, "event_count")?;
        let dcount = ints(b, "device_count")?;
        let uids = lists(b, "event_uids")?;
        let tags = lists(b, "risk_tags")?;
        let score = ints(b, "max_risk_score")?;
        for i in 0..b.num_rows() {
            let Some(eid) = id[i].clone() else { continue };
            latest.insert(
                eid.clone(),
                EvidenceEpisode {
                    episode_id: eid,
                    episode_kind: kind[i].clone().unwrap_or_default(),
                    reason: reason[i].clone().unwrap_or_default(),
                    actor: actor[i].clone(),
                    first_time: first[i],
                    last_time: last[i],
                    event_count: count[i],
                    device_count: dcount[i],
                    event_uids: uids[i].clone(),
                    risk_tags: tags[i].clone(),
                    max_risk_score: i32::try_from(score[i]).unwrap_or(i32::MAX),
                },
            );
        }
    }
    // Only episodes that hold an event of the evidence.
    let uids: std::collections::HashSet<&str> =
        events.iter().map(|e| e.event_uid.as_str()).collect();
    let by_episode: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|e| e.episode_id.as_deref())
        .collect();
    Ok(latest
        .into_values()
        .filter(|p| {
            by_episode.contains(p.episode_id.as_str())
                || p.event_uids.iter().any(|u| uids.contains(u.as_str()))
        })
        .collect())
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, NarrativeError> {
    b.column_by_name(name)
        .ok_or_else(|| NarrativeError::Internal(format!("evidence query lost column {name}")))
}

/// A column as optional strings.
pub(crate) fn strings(b: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, NarrativeError> {
    let c = cast(column(b, name)?, &DataType::Utf8)?;
    Ok(c.as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect())
}

fn times(b: &RecordBatch, name: &str) -> Result<Vec<DateTime<Utc>>, NarrativeError> {
    let c = cast(
        column(b, name)?,
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )?;
    Ok(c.as_primitive::<TimestampMicrosecondType>()
        .iter()
        .map(|v| DateTime::from_timestamp_micros(v.unwrap_or(0)).unwrap_or_default())
        .collect())
}

fn ints(b: &RecordBatch, name: &str) -> Result<Vec<i64>, NarrativeError> {
    let c = cast(column(b, name)?, &DataType::Int64)?;
    Ok(c.as_primitive::<arrow::datatypes::Int64Type>()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

fn list_array(arr: &ArrayRef) -> Result<arrow::array::ListArray, NarrativeError> {
    Ok(match arr.data_type() {
        DataType::LargeList(f) | DataType::ListView(f) | DataType::LargeListView(f) => {
            cast(arr, &DataType::List(f.clone()))?
                .as_list::<i32>()
                .clone()
        }
        _ => arr.as_list::<i32>().clone(),
    })
}

fn lists(b: &RecordBatch, name: &str) -> Result<Vec<Vec<String>>, NarrativeError> {
    let l = list_array(column(b, name)?)?;
    let mut out = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        if l.is_null(i) {
            out.push(Vec::new());
            continue;
        }
        let v = cast(&l.value(i), &DataType::Utf8)?;
        out.push(
            v.as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_owned)
                .collect(),
        );
    }
    Ok(out)
}

fn changes(b: &RecordBatch) -> Result<Vec<Vec<Change>>, NarrativeError> {
    let l = list_array(column(b, "changes")?)?;
    let mut out = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        if l.is_null(i) {
            out.push(Vec::new());
            continue;
        }
        let items = l.value(i);
        let s = items.as_struct();
        let col = |n: &str| -> Result<Vec<Option<String>>, NarrativeError> {
            match s.column_by_name(n) {
                Some(c) => Ok(cast(c, &DataType::Utf8)?
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect()),
                None => Ok(vec![None; s.len()]),
            }
        };
        let (path, old, new, red) = (col("path")?, col("old")?, col("new")?, col("redacted")?);
        out.push(
            (0..s.len())
                .map(|r| {
                    let redacted = red[r].as_deref() == Some("true");
                    Change {
                        path: path[r].clone().unwrap_or_default(),
                        old: if redacted { None } else { old[r].clone() },
                        new: if redacted { None } else { new[r].clone() },
                        redacted,
                    }
                })
                .collect(),
        );
    }
    Ok(out)
}

fn read_events(b: &RecordBatch, out: &mut Vec<EvidenceEvent>) -> Result<(), NarrativeError> {
    let s = |n: &str| strings(b, n);
    let (uid, vendor, upn, name, aid) = (
        s("event_uid")?,
        s("vendor")?,
        s("actor_upn")?,
        s("actor_name")?,
        s("actor_id")?,
    );
    let (action, category, outcome) = (s("action")?, s("category")?, s("outcome")?);
    let (ttype, tid, tname) = (s("target_type")?, s("target_id")?, s("target_name")?);
    let (did, dname, dserial) = (s("device_id")?, s("device_name")?, s("device_serial")?);
    let (level, episode) = (s("risk_level")?, s("episode_id")?);
    let time = times(b, "time")?;
    let score = ints(b, "risk_score")?;
    let tags = lists(b, "risk_tags")?;
    let controls = lists(b, "controls")?;
    let ch = changes(b)?;
    for i in 0..b.num_rows() {
        out.push(EvidenceEvent {
            id: String::new(),
            event_uid: uid[i].clone().unwrap_or_default(),
            time: time[i],
            vendor: vendor[i].clone().unwrap_or_default(),
            actor_upn: upn[i].clone(),
            actor_name: name[i].clone(),
            actor_id: aid[i].clone(),
            action: action[i].clone().unwrap_or_default(),
            category: category[i].clone().unwrap_or_default(),
            outcome: outcome[i].clone().unwrap_or_default(),
            target_type: ttype[i].clone(),
            target_id: tid[i].clone(),
            target_name: tname[i].clone(),
            changes: ch[i].clone(),
            device_id: did[i].clone(),
            device_name: dname[i].clone(),
            device_serial: dserial[i].clone(),
            risk_score: i32::try_from(score[i]).unwrap_or(0),
            risk_level: level[i].clone().unwrap_or_default(),
            risk_tags: tags[i].clone(),
            controls: controls[i].clone(),
            episode_id: episode[i].clone(),
        });
    }
    Ok(())
}
