//! Correlation: a stateful, synchronous [`Stage`] that groups events (in event-time order) into
//! episodes and adds the risk tags only state can give.
//!
//! Episode kinds, each with a one-line reason that explains the grouping:
//! - `admin_session`: one administrator's events (a person, app, API client or partner; never a
//!   device reporting on itself, see [`is_device_originated`]) with no gap over the idle time
//!   (default 30 min);
//! - `bulk_destructive`: at least N wipes, retires or deletions of devices by one actor within a
//!   window (default 5 per hour); its events are tagged `bulk_destructive`;
//! - `policy_rollout`: one actor creating or changing policies or profiles and assigning them (gaps
//!   under the idle time), and the device results that name those policies within the rollout
//!   window (default 24 h);
//! - `device_lifecycle`: one device from its enrollment to its retirement, wipe, deletion or
//!   unenrollment (at most the lifecycle window, default 30 days).
//!
//! An event belongs to every episode it is a member of (a wipe is in its admin's session and in the
//! bulk-destructive episode); its `episode_id` column names the most specific one (bulk destructive,
//! then policy rollout, then device lifecycle, then admin session).
//!
//! Stateful risk tags: `off_hours` (a person acting outside their business hours, in their time zone
//! from the directory or the configured default, or on a weekend), `rare_action_for_actor` (an action
//! this actor never did in a history of at least `rare_min_history` events), `new_actor` (an actor
//! never seen before, once the learning period after the first event of the store has passed; the
//! events of its first session), `bulk_destructive`.
//!
//! Events are held for the bulk window (in event time) so that the first wipes of a burst are tagged
//! too; [`Stage::flush`] (a service about to commit) releases everything held, with the tags known
//! by then. The clock is the events' own time; [`CorrelateStage::with_clock`] sets the time recorded
//! as `updated_time` of the episode states (tests inject it).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::NormalizedEvent;
use crate::enrich::{DirectoryError, DirectoryWatcher};
use crate::ingest::Stage;
use crate::store::{EpisodeRecord, StoreError, StoreLocation};

/// What correlation is told.
#[derive(Debug, Clone)]
pub struct CorrelateConfig {
    /// Directory files for entity resolution (`people.csv`, `devices.csv`); none: no resolution.
    pub directory: Option<PathBuf>,
    /// Longest gap inside an admin session.
    pub idle: Duration,
    /// Destructive actions by one actor within `bulk_window` that make a bulk-destructive episode.
    pub bulk_count: usize,
    /// The bulk-destructive window.
    pub bulk_window: Duration,
    /// Business hours (local start hour, end hour) for people the directory gives none for.
    pub business_hours: (u32, u32),
    /// Time zone for people the directory gives none for.
    pub time_zone: Tz,
    /// How long after the last change device results still join a policy rollout.
    pub rollout_window: Duration,
    /// Longest device lifecycle episode.
    pub lifecycle_window: Duration,
    /// Events an actor must have done before an action they never did counts as rare.
    pub rare_min_history: u64,
    /// After the store's first event, how long every actor is learned rather than flagged new.
    pub learning: Duration,
}

impl Default for CorrelateConfig {
    fn default() -> Self {
        Self {
            directory: None,
            idle: Duration::minutes(30),
            bulk_count: 5,
            bulk_window: Duration::hours(1),
            business_hours: (8, 18),
            time_zone: Tz::UTC,
            rollout_window: Duration::hours(24),
            lifecycle_window: Duration::days(30),
            rare_min_history: 20,
            learning: Duration::days(7),
        }
    }
}

/// What is known of one actor before this input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorHistory {
    /// Events done.
    pub events: u64,
    /// Actions done.
    pub actions: HashSet<String>,
}

/// History from the store, so a second ingest does not call every actor new.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Per actor key (see [`actor_key`]).
    pub actors: HashMap<String, ActorHistory>,
    /// Time of the store's first event.
    pub since: Option<DateTime<Utc>>,
}

/// The actor key SQL: the same as [`actor_key`].
const ACTOR_KEY_SQL: &str = "lower(coalesce(actor_upn, actor_id, actor_name, actor_app))";

impl Baseline {
    /// Reads every actor's history from the `events` table; an empty store gives an empty baseline.
    pub async fn from_store(location: &StoreLocation) -> Result<Self, StoreError> {
        let ctx = datafusion::prelude::SessionContext::new();
        let names = crate::store::register_tables(location, &ctx).await?;
        let mut b = Baseline::default();
        if !names.iter().any(|n| n == "events") {
            return Ok(b);
        }
        let sql = format!(
            "SELECT {ACTOR_KEY_SQL} AS actor, action, CAST(count(*) AS BIGINT) AS n, \
             CAST(min(time) AS BIGINT) AS first FROM events GROUP BY 1, 2"
        );
        let batches = ctx.sql(&sql).await?.collect().await?;
        use arrow::array::{Array, AsArray};
        use arrow::datatypes::{DataType, Int64Type};
        let column = |batch: &arrow::array::RecordBatch, i: usize, to: &DataType| {
            arrow::compute::cast(batch.column(i), to)
        };
        for batch in batches {
            let actor = column(&batch, 0, &DataType::Utf8)?;
            let action = column(&batch, 1, &DataType::Utf8)?;
            let n = column(&batch, 2, &DataType::Int64)?;
            let first = column(&batch, 3, &DataType::Int64)?;
            let (actor, action) = (actor.as_string::<i32>(), action.as_string::<i32>());
            let (n, first) = (
                n.as_primitive::<Int64Type>(),
                first.as_primitive::<Int64Type>(),
            );
            for i in 0..batch.num_rows() {
                if !first.is_null(i)
                    && let Some(t) = Utc.timestamp_micros(first.value(i)).single()
                {
                    b.since = Some(b.since.map_or(t, |s| s.min(t)));
                }
                if actor.is_null(i) {
                    continue;
                }
                let h = b.actors.entry(actor.value(i).to_owned()).or_default();
                h.events += u64::try_from(n.value(i)).unwrap_or(0);
                if !action.is_null(i) {
                    h.actions.insert(action.value(i).to_owned());
                }
            }
        }
        Ok(b)
    }
}

/// The key correlation knows an actor by: UPN, else id, else name, else app, lower-cased.
pub fn actor_key(e: &NormalizedEvent) -> Option<String> {
    [&e.actor_upn, &e.actor_id, &e.actor_name, &e.actor_app]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_lowercase())
}

fn device_key(e: &NormalizedEvent) -> Option<String> {
    [&e.device_serial, &e.device_id, &e.device_name]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_lowercase())
}

fn device_label(e: &NormalizedEvent) -> Option<String> {
    e.device_name
        .clone()
        .or_else(|| e.device_serial.clone())
        .or_else(|| e.device_id.clone())
}

fn actor_label(e: &NormalizedEvent) -> Option<String> {
    e.actor_upn
        .clone()
        .or_else(|| e.actor_name.clone())
        .or_else(|| e.actor_app.clone())
        .or_else(|| {
            // A bare id reads better with the name the directory gives it.
            let id = e.actor_id.as_deref()?;
            Some(match &e.actor_person {
                Some(p) => format!("{p} ({id})"),
                None => id.to_owned(),
            })
        })
}

/// A person at a keyboard (not a device, an app or an API client).
fn is_person(e: &NormalizedEvent) -> bool {
    matches!(e.actor_kind.as_deref(), Some("user" | "partner"))
}

/// Actions a device reports about itself (check-ins, inventory, compliance results, command
/// acknowledgements): never administration, whoever the feed names as the actor.
const DEVICE_REPORTS: [&str; 6] = [
    "check_in",
    "inventory",
    "compliance_change",
    "command_completed",
    "mdm_capability_changed",
    "status_change",
];

/// An event the device itself originated: `actor_kind` `device`, or a device report with no
/// administrative actor kind. Such events join the device's own activity and the rollout or
/// lifecycle episodes they report on, never an admin session, and they never make an actor "new"
/// or an action "rare".
pub fn is_device_originated(e: &NormalizedEvent) -> bool {
    match e.actor_kind.as_deref() {
        Some("device") => true,
        Some("user" | "app" | "api_client" | "partner") => false,
        _ => DEVICE_REPORTS.contains(&e.action.as_str()),
    }
}

/// Administration: a person, app, API client or partner acting (not a device reporting, not the
/// MDM server's own system events).
fn is_administrative(e: &NormalizedEvent) -> bool {
    e.actor_kind.as_deref() != Some("system") && !is_device_originated(e)
}

/// A wipe, retire or deletion of a device.
pub fn is_destructive(e: &NormalizedEvent) -> bool {
    e.outcome != "failure"
        && (matches!(e.action.as_str(), "wipe" | "retire")
            || (e
                .risk_tags
                .iter()
                .any(|t| t == "remote_wipe" || t == "mdm_removed")
                && matches!(e.action.as_str(), "delete" | "unenroll")))
}

fn is_policy_change(e: &NormalizedEvent) -> bool {
    let policy_like = e
        .target_type
        .as_deref()
        .is_some_and(|t| t.contains("policy") || t.contains("profile"));
    policy_like && matches!(e.action.as_str(), "create" | "update" | "patch" | "assign")
}

/// The setting a change path names (its last segment, lower case), unless it is a generic property
/// every policy has (name, description, assignment target, ...).
fn setting_key(path: &str) -> Option<String> {
    let last = path.rsplit('.').next()?.trim();
    let last = last.split('[').next()?.to_lowercase();
    const GENERIC: [&str; 16] = [
        "name",
        "displayname",
        "description",
        "platforms",
        "technologies",
        "id",
        "groupid",
        "type",
        "value",
        "settingdefinitionid",
        "version",
        "rolescopetagids",
        "assignments",
        "target",
        "compliancestate",
        "lastmodifieddatetime",
    ];
    (last.len() > 3 && !GENERIC.contains(&last.as_str())).then_some(last)
}

fn ends_lifecycle(e: &NormalizedEvent) -> bool {
    matches!(e.action.as_str(), "unenroll" | "retire" | "wipe" | "delete")
        || e.risk_tags.iter().any(|t| t == "mdm_removed")
}

/// Weight of each stateful tag in the risk score (the same rule as `risk/90_score.vrl`: the highest
/// weight, plus 5 for each further tag).
fn weight(tag: &str) -> i32 {
    match tag {
        "bulk_destructive" => 85,
        "new_actor" => 40,
        "rare_action_for_actor" => 35,
        "off_hours" => 25,
        _ => 10,
    }
}

fn controls(tag: &str) -> &'static [&'static str] {
    match tag {
        "bulk_destructive" => &[
            "SOC2-CC7.2",
            "SOC2-CC6.5",
            "NIST-SI-4",
            "HIPAA-164.308(a)(1)(ii)(D)",
        ],
        "new_actor" => &["SOC2-CC6.2", "NIST-AC-2", "HIPAA-164.308(a)(3)(ii)(B)"],
        "rare_action_for_actor" | "off_hours" => {
            &["SOC2-CC7.2", "NIST-AC-2(12)", "HIPAA-164.312(b)"]
        }
        _ => &[],
    }
}

fn level(score: i32) -> &'static str {
    match score {
        85.. => "critical",
        60..=84 => "high",
        30..=59 => "medium",
        1..=29 => "low",
        _ => "none",
    }
}

/// Adds a stateful tag with its reason, controls and score; a tag already there is left alone.
fn add_tag(e: &mut NormalizedEvent, tag: &str, reason: String) {
    if e.risk_tags.iter().any(|t| t == tag) {
        return;
    }
    let n_old = i32::try_from(e.risk_tags.len()).unwrap_or(i32::MAX);
    let max_old = if n_old == 0 {
        0
    } else {
        e.risk_score - 5 * (n_old - 1)
    };
    let score = max_old.max(weight(tag)) + 5 * n_old;
    e.risk_tags.push(tag.to_owned());
    e.risk_reasons.push(reason);
    for c in controls(tag) {
        if !e.controls.iter().any(|x| x == c) {
            e.controls.push((*c).to_owned());
        }
    }
    e.risk_score = score.clamp(e.risk_score, 100);
    e.risk_level = level(e.risk_score).to_owned();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    AdminSession,
    DeviceLifecycle,
    PolicyRollout,
    BulkDestructive,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::AdminSession => "admin_session",
            Kind::DeviceLifecycle => "device_lifecycle",
            Kind::PolicyRollout => "policy_rollout",
            Kind::BulkDestructive => "bulk_destructive",
        }
    }
}

#[derive(Debug)]
struct Episode {
    id: String,
    kind: Kind,
    actor: Option<String>,
    device: Option<String>,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    /// Last event that keeps it open (the last change of a rollout).
    anchor: DateTime<Utc>,
    uids: Vec<String>,
    devices: BTreeSet<String>,
    tags: BTreeSet<String>,
    targets: BTreeSet<String>,
    actions: BTreeSet<String>,
    max_score: i32,
    end_action: Option<String>,
    results: u64,
    /// A rollout counts once something was assigned or a device reported one of its settings.
    confirmed: bool,
    /// Verbs of the changes (`created`, `changed`, `assigned`).
    verbs: BTreeSet<&'static str>,
    /// Input positions of the members (rollouts: re-labelled while held when confirmed).
    seqs: Vec<u64>,
    counted: bool,
    dirty: bool,
}

impl Episode {
    fn new(kind: Kind, key: &str, e: &NormalizedEvent) -> Self {
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

    fn add(&mut self, e: &NormalizedEvent) {
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

    fn reason(&self, config: &CorrelateConfig) -> String {
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

    fn record(&mut self, config: &CorrelateConfig, now: DateTime<Utc>) -> EpisodeRecord {
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

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Counters of what correlation did, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorrelateStats {
    /// Episodes per kind, closed or open.
    pub episodes: HashMap<&'static str, u64>,
    /// Stateful tags added, per tag.
    pub tags: HashMap<String, u64>,
    /// Events whose actor or device the directory did not know.
    pub unresolved: u64,
}

/// The correlation stage.
pub struct CorrelateStage {
    config: CorrelateConfig,
    directory: Option<DirectoryWatcher>,
    baseline: Baseline,
    clock: Clock,
    episodes: HashMap<u64, Episode>,
    next_episode: u64,
    sessions: HashMap<String, u64>,
    bulk: HashMap<String, u64>,
    rollouts: HashMap<String, u64>,
    rollout_targets: HashMap<String, u64>,
    /// Settings the open rollouts set (last path segment, lower case) -> rollout.
    rollout_settings: HashMap<String, u64>,
    lifecycles: HashMap<String, u64>,
    /// Recent destructive events per actor: (time, seq).
    destructive: HashMap<String, VecDeque<(DateTime<Utc>, u64)>>,
    /// Actors seen first in this input, while their first session lasts.
    new_actors: HashSet<String>,
    held: VecDeque<(u64, NormalizedEvent)>,
    next_seq: u64,
    watermark: Option<DateTime<Utc>>,
    last_sweep: Option<DateTime<Utc>>,
    stats: CorrelateStats,
}

impl std::fmt::Debug for CorrelateStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrelateStage")
            .field("config", &self.config)
            .field("open_episodes", &self.episodes.len())
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

impl CorrelateStage {
    /// A stage with `config`, knowing `baseline`; fails if the directory cannot be loaded.
    pub fn new(config: CorrelateConfig, baseline: Baseline) -> Result<Self, DirectoryError> {
        let directory = match &config.directory {
            Some(d) => Some(DirectoryWatcher::open(d)?),
            None => None,
        };
        Ok(Self {
            config,
            directory,
            baseline,
            clock: Arc::new(Utc::now),
            episodes: HashMap::new(),
            next_episode: 0,
            sessions: HashMap::new(),
            bulk: HashMap::new(),
            rollouts: HashMap::new(),
            rollout_targets: HashMap::new(),
            rollout_settings: HashMap::new(),
            lifecycles: HashMap::new(),
            destructive: HashMap::new(),
            new_actors: HashSet::new(),
            held: VecDeque::new(),
            next_seq: 0,
            watermark: None,
            last_sweep: None,
            stats: CorrelateStats::default(),
        })
    }

    /// Sets the clock that stamps `updated_time` of episode states.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// What correlation did so far.
    pub fn stats(&self) -> &CorrelateStats {
        &self.stats
    }

    fn open(&mut self, kind: Kind, key: &str, e: &NormalizedEvent) -> u64 {
        let n = self.next_episode;
        self.next_episode += 1;
        self.episodes.insert(n, Episode::new(kind, key, e));
        n
    }

    fn emit(&mut self, ep: &mut Episode, now: DateTime<Utc>, episodes: &mut Vec<EpisodeRecord>) {
        if !ep.counted {
            ep.counted = true;
            *self.stats.episodes.entry(ep.kind.name()).or_default() += 1;
        }
        episodes.push(ep.record(&self.config, now));
    }

    fn close(&mut self, n: u64, episodes: &mut Vec<EpisodeRecord>) {
        if let Some(mut ep) = self.episodes.remove(&n) {
            let now = (self.clock)();
            // A change nothing was assigned to and no device reported on is no rollout: its events
            // keep their session.
            if ep.confirmed {
                self.emit(&mut ep, now, episodes);
            }
            match ep.kind {
                Kind::AdminSession => {
                    if let Some(a) = self
                        .sessions
                        .iter()
                        .find(|(_, v)| **v == n)
                        .map(|(k, _)| k.clone())
                    {
                        self.sessions.remove(&a);
                        self.new_actors.remove(&a);
                    }
                }
                Kind::BulkDestructive => self.bulk.retain(|_, v| *v != n),
                Kind::PolicyRollout => {
                    self.rollouts.retain(|_, v| *v != n);
                    self.rollout_targets.retain(|_, v| *v != n);
                    self.rollout_settings.retain(|_, v| *v != n);
                }
                Kind::DeviceLifecycle => self.lifecycles.retain(|_, v| *v != n),
            }
        }
    }

    /// Closes episodes that can no longer grow at event time `now`.
    fn sweep(&mut self, now: DateTime<Utc>, episodes: &mut Vec<EpisodeRecord>) {
        let c = &self.config;
        let done: Vec<u64> = self
            .episodes
            .iter()
            .filter(|(_, ep)| match ep.kind {
                Kind::AdminSession => now - ep.last > c.idle,
                Kind::BulkDestructive => now - ep.last > c.bulk_window,
                Kind::PolicyRollout => now - ep.anchor > c.rollout_window,
                Kind::DeviceLifecycle => {
                    ep.end_action.is_some() || now - ep.first > c.lifecycle_window
                }
            })
            .map(|(n, _)| *n)
            .collect();
        for n in done {
            self.close(n, episodes);
        }
    }

    /// The held event at input position `seq` (positions of held events are contiguous).
    fn held_mut(&mut self, seq: u64) -> Option<&mut NormalizedEvent> {
        let front = self.held.front()?.0;
        let i = usize::try_from(seq.checked_sub(front)?).ok()?;
        match self.held.get_mut(i) {
            Some((s, e)) if *s == seq => Some(e),
            _ => None,
        }
    }

    fn tag_held(&mut self, seq: u64, tag: &str, reason: &str) -> bool {
        match self.held_mut(seq) {
            Some(e) => {
                add_tag(e, tag, reason.to_owned());
                true
            }
            None => false,
        }
    }

    fn set_episode_held(&mut self, seq: u64, kind: Kind, id: &str) {
        if let Some(e) = self.held_mut(seq)
            && e.episode_kind.as_deref().is_none_or(|k| rank(k) <= kind)
        {
            e.episode_id = Some(id.to_owned());
            e.episode_kind = Some(kind.name().to_owned());
        }
    }

    fn release(&mut self, upto: Option<DateTime<Utc>>, events: &mut Vec<NormalizedEvent>) {
        while let Some((_, e)) = self.held.front() {
            if upto.is_some_and(|t| e.time > t) {
                break;
            }
            if let Some((_, e)) = self.held.pop_front() {
                events.push(e);
            }
        }
    }

    fn local_hours(&self, e: &NormalizedEvent, tz: Option<Tz>, hours: Option<(u32, u32)>) -> bool {
        let tz = tz.unwrap_or(self.config.time_zone);
        let (start, end) = hours.unwrap_or(self.config.business_hours);
        if (start, end) == (0, 24) {
            // Around the clock (service accounts): never off hours.
            return false;
        }
        let local = e.time.with_timezone(&tz);
        let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        let h = local.hour();
        weekend || h < start || h >= end
    }
}

fn rank(kind: &str) -> Kind {
    match kind {
        "bulk_destructive" => Kind::BulkDestructive,
        "policy_rollout" => Kind::PolicyRollout,
        "device_lifecycle" => Kind::DeviceLifecycle,
        _ => Kind::AdminSession,
    }
}

impl Stage for CorrelateStage {
    fn push(
        &mut self,
        mut e: NormalizedEvent,
        events: &mut Vec<NormalizedEvent>,
        episodes: &mut Vec<EpisodeRecord>,
    ) {
        let t = e.time;
        let now = self.watermark.map_or(t, |w| w.max(t));
        self.watermark = Some(now);
        if self
            .last_sweep
            .is_none_or(|s| now - s >= Duration::minutes(1))
        {
            self.last_sweep = Some(now);
            self.sweep(now, episodes);
        }
        let seq = self.next_seq;
        self.next_seq += 1;

        // Entity resolution.
        let (tz, hours) = match self.directory.as_mut() {
            Some(w) => {
                let r = w.get().enrich(&mut e);
                if !e.unresolved.is_empty() {
                    self.stats.unresolved += 1;
                }
                (
                    r.person.and_then(|p| p.time_zone),
                    r.person.and_then(|p| p.business_hours),
                )
            }
            None => (None, None),
        };

        let actor = actor_key(&e);
        let administrative = is_administrative(&e);
        let mut new_tags: Vec<(&'static str, String)> = Vec::new();
        if let Some(a) = actor.as_ref().filter(|_| administrative) {
            let who = actor_label(&e).unwrap_or_else(|| a.clone());
            let since = *self.baseline.since.get_or_insert(t);
            let known = self.baseline.actors.contains_key(a);
            // A new actor stays new for its first session only.
            if let Some(n) = self.sessions.get(a)
                && self
                    .episodes
                    .get(n)
                    .is_some_and(|ep| t - ep.last > self.config.idle)
            {
                self.new_actors.remove(a);
            }
            if !known && t - since >= self.config.learning {
                self.new_actors.insert(a.clone());
            }
            if self.new_actors.contains(a) {
                new_tags.push((
                    "new_actor",
                    format!("{who} was never seen before this session"),
                ));
            }
            let h = self.baseline.actors.entry(a.clone()).or_default();
            if h.events >= self.config.rare_min_history && !h.actions.contains(&e.action) {
                new_tags.push((
                    "rare_action_for_actor",
                    format!(
                        "{who} never did {} before in {} earlier events",
                        e.action, h.events
                    ),
                ));
            }
            h.events += 1;
            h.actions.insert(e.action.clone());
            if is_person(&e) && self.local_hours(&e, tz, hours) {
                let tz = tz.unwrap_or(self.config.time_zone);
                let (s, end) = hours.unwrap_or(self.config.business_hours);
                new_tags.push((
                    "off_hours",
                    format!(
                        "{who} acted at {} local time ({tz}), outside business hours {s:02}-{end:02} Mon-Fri",
                        e.time.with_timezone(&tz).format("%a %H:%M")
                    ),
                ));
            }
        }
        for (tag, reason) in new_tags {
            add_tag(&mut e, tag, reason);
            *self.stats.tags.entry(tag.to_owned()).or_default() += 1;
        }

        let mut member_of: Vec<(Kind, u64)> = Vec::new();
        let mut confirm: Option<u64> = None;

        // Bulk destructive.
        if let Some(a) = actor.clone().filter(|_| is_destructive(&e)) {
            let window = self.config.bulk_window;
            let q = self.destructive.entry(a.clone()).or_default();
            q.push_back((t, seq));
            while q.front().is_some_and(|(ft, _)| t - *ft > window) {
                q.pop_front();
            }
            let burst: Vec<u64> = q.iter().map(|(_, s)| *s).collect();
            let open = self.bulk.get(&a).copied();
            if let Some(n) = open {
                member_of.push((Kind::BulkDestructive, n));
            } else if burst.len() >= self.config.bulk_count {
                let n = self.open(Kind::BulkDestructive, &a, &e);
                self.bulk.insert(a.clone(), n);
                let reason = format!(
                    "{} destructive actions by {} within {} min",
                    burst.len(),
                    actor_label(&e).unwrap_or_default(),
                    window.num_minutes()
                );
                // The earlier members of the burst, still held: tag them and move them over.
                let id = self.episodes[&n].id.clone();
                for s in burst.iter().copied().filter(|s| *s != seq) {
                    if self.tag_held(s, "bulk_destructive", &reason) {
                        *self
                            .stats
                            .tags
                            .entry("bulk_destructive".to_owned())
                            .or_default() += 1;
                    }
                    self.set_episode_held(s, Kind::BulkDestructive, &id);
                    let held = self.held_mut(s).map(|ev| ev.clone());
                    if let (Some(ev), Some(ep)) = (held, self.episodes.get_mut(&n)) {
                        ep.first = ep.first.min(ev.time);
                        ep.add(&ev);
                    }
                }
                member_of.push((Kind::BulkDestructive, n));
            }
            if let Some((_, n)) = member_of.iter().find(|(k, _)| *k == Kind::BulkDestructive) {
                let count = self.episodes.get(n).map_or(0, |ep| ep.uids.len() + 1);
                let reason = format!(
                    "{count} destructive actions by {} within {} min",
                    actor_label(&e).unwrap_or_default(),
                    window.num_minutes()
                );
                add_tag(&mut e, "bulk_destructive", reason);
                *self
                    .stats
                    .tags
                    .entry("bulk_destructive".to_owned())
                    .or_default() += 1;
            }
        }

        // Policy rollout: the changes of one actor, then the device results naming those policies.
        let targets: Vec<String> = [&e.target_id, &e.target_name]
            .into_iter()
            .flatten()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(a) = actor.clone().filter(|_| is_policy_change(&e)) {
            let n = match self.rollouts.get(&a).copied() {
                Some(n)
                    if self
                        .episodes
                        .get(&n)
                        .is_some_and(|ep| t - ep.anchor <= self.config.idle) =>
                {
                    n
                }
                _ => {
                    let n = self.open(Kind::PolicyRollout, &a, &e);
                    self.rollouts.insert(a.clone(), n);
                    n
                }
            };
            if let Some(ep) = self.episodes.get_mut(&n) {
                ep.anchor = t;
                if let Some(name) = e.target_name.clone().or_else(|| e.target_id.clone())
                    && ep.targets.len() < 20
                {
                    ep.targets.insert(name);
                }
            }
            for k in &targets {
                self.rollout_targets.insert(k.clone(), n);
            }
            if let Some(ep) = self.episodes.get_mut(&n) {
                ep.verbs.insert(match e.action.as_str() {
                    "create" => "created",
                    "assign" => "assigned",
                    _ => "changed",
                });
            }
            for c in &e.changes {
                if let Some(k) = setting_key(&c.path) {
                    self.rollout_settings.insert(k, n);
                }
            }
            if e.action == "assign" {
                confirm = Some(n);
            }
            member_of.push((Kind::PolicyRollout, n));
        } else if !is_person(&e) {
            // A device result: it names one of the policies, or reports one of their settings.
            let by_name = targets
                .iter()
                .find_map(|k| self.rollout_targets.get(k).copied());
            let by_setting = || {
                e.changes.iter().find_map(|c| {
                    setting_key(&c.path).and_then(|k| self.rollout_settings.get(&k).copied())
                })
            };
            if let Some(n) = by_name.or_else(by_setting)
                && self
                    .episodes
                    .get(&n)
                    .is_some_and(|ep| t - ep.anchor <= self.config.rollout_window)
            {
                if let Some(ep) = self.episodes.get_mut(&n) {
                    ep.results += 1;
                }
                confirm = Some(n);
                member_of.push((Kind::PolicyRollout, n));
            }
        }
        if let Some(n) = confirm
            && let Some(ep) = self.episodes.get_mut(&n)
            && !ep.confirmed
        {
            ep.confirmed = true;
            let (id, seqs) = (ep.id.clone(), ep.seqs.clone());
            for s in seqs {
                self.set_episode_held(s, Kind::PolicyRollout, &id);
            }
        }

        // Device lifecycle.
        if let Some(d) = device_key(&e) {
            if e.action == "enroll" && !self.lifecycles.contains_key(&d) {
                let n = self.open(Kind::DeviceLifecycle, &d, &e);
                self.lifecycles.insert(d.clone(), n);
            }
            if let Some(n) = self.lifecycles.get(&d).copied() {
                if ends_lifecycle(&e)
                    && let Some(ep) = self.episodes.get_mut(&n)
                {
                    ep.end_action = Some(e.action.clone());
                }
                member_of.push((Kind::DeviceLifecycle, n));
            }
        }

        // Admin session (administrators only: a device's own reports are not a session).
        if let Some(a) = actor.as_ref().filter(|_| administrative) {
            let n = match self.sessions.get(a).copied() {
                Some(n)
                    if self
                        .episodes
                        .get(&n)
                        .is_some_and(|ep| t - ep.last <= self.config.idle) =>
                {
                    n
                }
                other => {
                    if let Some(old) = other {
                        self.close(old, episodes);
                        self.new_actors.remove(a);
                    }
                    let n = self.open(Kind::AdminSession, a, &e);
                    self.sessions.insert(a.clone(), n);
                    n
                }
            };
            member_of.push((Kind::AdminSession, n));
        }

        if let Some((kind, ep)) = member_of
            .iter()
            .filter_map(|(k, n)| self.episodes.get(n).map(|ep| (*k, ep)))
            .filter(|(_, ep)| ep.confirmed)
            .max_by_key(|(k, _)| *k)
        {
            e.episode_id = Some(ep.id.clone());
            e.episode_kind = Some(kind.name().to_owned());
        }
        for (_, n) in &member_of {
            if let Some(ep) = self.episodes.get_mut(n) {
                ep.add(&e);
                ep.seqs.push(seq);
            }
        }
        self.held.push_back((seq, e));
        self.release(Some(now - self.config.bulk_window), events);
    }

    fn flush(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>) {
        self.release(None, events);
        let now = (self.clock)();
        let mut dirty: Vec<(DateTime<Utc>, u64)> = self
            .episodes
            .iter()
            .filter(|(_, ep)| ep.dirty && ep.confirmed)
            .map(|(n, ep)| (ep.first, *n))
            .collect();
        dirty.sort();
        for (_, n) in dirty {
            if let Some(mut ep) = self.episodes.remove(&n) {
                self.emit(&mut ep, now, episodes);
                self.episodes.insert(n, ep);
            }
        }
    }

    fn finish(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>) {
        self.release(None, events);
        let mut open: Vec<(DateTime<Utc>, u64)> =
            self.episodes.iter().map(|(n, ep)| (ep.first, *n)).collect();
        open.sort();
        for (_, n) in open {
            self.close(n, episodes);
        }
    }
}

#[cfg(test)]
mod tests;
