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
//! from the directory or the configured default, or on a weekend; the directory is read through a
//! [`DirectoryHandle`], the enrich stage before this one fills the event's columns), `rare_action_for_actor` (an action
//! this actor never did in a history of at least `rare_min_history` events), `new_actor` (an actor
//! never seen before, once the learning period after the first event of the store has passed; the
//! events of its first session), `bulk_destructive`.
//!
//! Events are held for the bulk window (in event time) so that the first wipes of a burst are tagged
//! too; [`Stage::flush`] (a service about to commit) releases everything held, with the tags known
//! by then. The clock is the events' own time; [`CorrelateStage::with_clock`] sets the time recorded
//! as `updated_time` of the episode states (tests inject it).

mod baseline;
mod bulk;
mod classify;
mod episode;
mod lifecycle;
mod rollout;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

pub use baseline::{ActorHistory, Baseline};
pub use classify::{actor_key, is_destructive, is_device_originated};
use classify::{add_tag, is_administrative};
use episode::{Episode, Kind, rank};

use crate::NormalizedEvent;
use crate::enrich::DirectoryHandle;
use crate::pipeline::Stage;
use mdm_audit_store::EpisodeRecord;

/// What correlation is told.
#[derive(Debug, Clone)]
pub struct CorrelateConfig {
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

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Counters of what correlation did, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorrelateStats {
    /// Episodes per kind, closed or open.
    pub episodes: HashMap<&'static str, u64>,
    /// Stateful tags added, per tag.
    pub tags: HashMap<String, u64>,
}

/// The correlation stage.
pub struct CorrelateStage {
    config: CorrelateConfig,
    /// People's time zones and business hours (read only; the enrich stage reloads it).
    directory: Option<DirectoryHandle>,
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
    /// A stage with `config`, knowing `baseline`. Without a directory every person has the
    /// configured time zone and business hours.
    pub fn new(config: CorrelateConfig, baseline: Baseline) -> Self {
        Self {
            config,
            directory: None,
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
        }
    }

    /// Looks people's time zones and business hours up in `directory`.
    #[must_use]
    pub fn with_directory(mut self, directory: DirectoryHandle) -> Self {
        self.directory = Some(directory);
        self
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

    /// Counts one stateful tag added.
    fn count_tag(&mut self, tag: &str) {
        *self.stats.tags.entry(tag.to_owned()).or_default() += 1;
    }

    /// The time zone and business hours of the event's person, if the directory knows them.
    fn schedule(&self, e: &NormalizedEvent) -> (Option<Tz>, Option<(u32, u32)>) {
        let Some(d) = self.directory.as_ref().map(DirectoryHandle::current) else {
            return (None, None);
        };
        let p = d.person_of(e);
        (
            p.and_then(|p| p.time_zone),
            p.and_then(|p| p.business_hours),
        )
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

        let actor = actor_key(&e);
        let admin = actor.as_deref().filter(|_| is_administrative(&e));
        if let Some(a) = admin {
            let (tz, hours) = self.schedule(&e);
            for (tag, reason) in self.actor_tags(&e, a, tz, hours) {
                add_tag(&mut e, tag, reason);
                self.count_tag(tag);
            }
        }

        // Every episode the event is a member of (by kind, most specific last).
        let mut member_of: Vec<(Kind, u64)> = Vec::new();
        if let Some(a) = actor.as_deref().filter(|_| is_destructive(&e)) {
            self.join_bulk(&mut e, a, seq, &mut member_of);
        }
        self.join_rollout(&e, actor.as_deref(), &mut member_of);
        self.join_lifecycle(&e, &mut member_of);
        if let Some(a) = admin {
            self.join_session(&e, a, episodes, &mut member_of);
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
