//! Planted incidents. Each scenario is planned up front as a short, time-ordered list of steps (its
//! size is set by the options, never by `--events`), then runs as one process of the merge: each step
//! writes its native record(s), records them in the ground truth, and changes device state (a wiped
//! device stops checking in, an enrolled one starts).
//!
//! The risk tags in the ground truth are written from the trigger conditions of `vrl-mappings/risk/*.vrl`
//! (cited at each step), not from normalizer output; `tests/tests/generate.rs` checks them against the
//! real mappings.

mod bulk_delete;
mod exec_phone;
mod filevault;
mod lifecycle;
mod mass_wipe;
mod partner;
mod rollout;
mod run;

use chrono::{DateTime, SecondsFormat, Utc};

use super::config::{GenerateConfig, ScenarioKind};
use super::fleet::{DeviceClass, Fleet, Mdm};
use super::ground_truth::GtScenario;
use super::render::intune::{AuditEvent, FailingSetting};
use super::rng::Rng;
use super::time::{DAY, HOUR, MINUTE, Micros, SECOND};
use crate::GenerateError;

use bulk_delete::bulk_delete;
use exec_phone::exec_phone;
use filevault::filevault;
use lifecycle::lifecycle;
use mass_wipe::mass_wipe;
use partner::partner;
use rollout::rollout;

/// What a step writes.
#[derive(Debug, Clone)]
enum Rec {
    /// An Intune audit event: Graph + diagnostic twin (two records).
    Audit(Box<AuditEvent>),
    /// A Graph managedDevices snapshot of a device.
    ManagedDevice(usize),
    /// An OperationalLogs compliance alert.
    Noncompliant(usize, FailingSetting, u128),
    /// A Jamf Log Stream access line.
    JamfAccess {
        user: String,
        status: &'static str,
        ip: [u8; 4],
        entry: &'static str,
    },
    /// A Jamf change-management record.
    JamfChange {
        actor: String,
        id: i32,
        op: &'static str,
        otype: &'static str,
        details: Vec<(&'static str, String)>,
        thread: u32,
    },
    /// A Jamf RestAPIOperation webhook.
    JamfRest {
        user: String,
        object_id: u64,
        name: String,
        otype: &'static str,
        method: &'static str,
    },
    /// A WS1 device event (syslog).
    Ws1Device {
        device: usize,
        event: &'static str,
        admin: String,
        category: &'static str,
    },
    /// A WS1 console event (syslog).
    Ws1Console {
        event: &'static str,
        admin: String,
        module: &'static str,
        category: &'static str,
    },
    /// A WS1 notification.
    Ws1Notify {
        device: usize,
        id: u32,
        etype: &'static str,
        enrollment: &'static str,
        compliance: &'static str,
    },
}

/// A device-state change applied around a step.
#[derive(Debug, Clone, Copy)]
enum Effect {
    /// Managed from now on (enrolled at the step's time).
    Enroll(usize),
    /// No longer managed.
    Remove(usize),
    /// A remote action is pending.
    Pending(usize, &'static str),
    /// Compliance and encryption state.
    State(usize, bool, bool),
}

/// Expected normalization of a step's record(s).
#[derive(Debug, Clone)]
struct Expect {
    native: String,
    action: &'static str,
    actor: Option<&'static str>,
    target: Option<&'static str>,
    tags: &'static [&'static str],
}

fn expect(
    native: impl Into<String>,
    action: &'static str,
    actor: Option<&'static str>,
    target: Option<&'static str>,
    tags: &'static [&'static str],
) -> Expect {
    Expect {
        native: native.into(),
        action,
        actor,
        target,
        tags,
    }
}

#[derive(Debug, Clone)]
struct Step {
    t: Micros,
    rec: Rec,
    expect: Expect,
    role: &'static str,
    secret: Option<&'static str>,
    pre: Vec<Effect>,
    post: Vec<Effect>,
}

fn step(t: Micros, role: &'static str, rec: Rec, expect: Expect) -> Step {
    Step {
        t,
        rec,
        expect,
        role,
        secret: None,
        pre: Vec::new(),
        post: Vec::new(),
    }
}

/// A planted scenario, running.
#[derive(Debug)]
pub struct ScenarioRun {
    steps: Vec<Step>,
    pos: usize,
    rng: Rng,
    /// Its ground truth (records filled in as they are written).
    pub truth: GtScenario,
}

/// RFC 3339 as the normalized output writes times.
pub fn rfc3339(t: Micros) -> String {
    DateTime::<Utc>::from_timestamp_micros(t)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

fn trunc(t: Micros, unit: Micros) -> Micros {
    t - t.rem_euclid(unit)
}

/// Everything a scenario planner needs.
struct Ctx<'a> {
    fleet: &'a mut Fleet,
    config: &'a GenerateConfig,
    rng: Rng,
    end: Micros,
}

impl Ctx<'_> {
    /// A day (0-based) near `frac` of the period; a weekday in `zone` if `weekday` and one exists.
    fn day(&self, frac: f64, zone: usize, weekday: bool) -> i64 {
        let days = i64::from(self.config.days);
        let d0 = ((days as f64 * frac) as i64).clamp(0, days - 1);
        if !weekday {
            return d0;
        }
        let is_wd = |d: i64| {
            let noon = self.fleet.zones.at_local(zone, d, 12, 0);
            self.fleet.zones.local(zone, noon).weekday < 5
        };
        (d0..days)
            .chain((0..d0).rev())
            .find(|d| is_wd(*d))
            .unwrap_or(d0)
    }

    /// Local time on a day, kept inside the period.
    fn at(&self, zone: usize, day: i64, hour: u32, minute: u32) -> Micros {
        let mut t = self.fleet.zones.at_local(zone, day, hour, minute);
        let start = self.config.start;
        if t < start {
            t = self.fleet.zones.at_local(zone, day + 1, hour, minute);
        }
        t.clamp(start, self.end - HOUR)
    }

    /// Local `hour:minute` plus up to `span` minutes and a random second.
    fn at_jitter(&mut self, zone: usize, day: i64, hour: u32, minute: u32, span: u64) -> Micros {
        let m = minute + self.rng.below(span.max(1)) as u32;
        let s = self.rng.range(0, 59);
        self.at(zone, day, hour, m) + s * SECOND
    }

    /// Keeps a step's time inside the period (scenarios near the end are compressed, in order).
    fn fit(&self, steps: &mut [Step]) {
        let Some(first) = steps.first().map(|s| s.t) else {
            return;
        };
        let last = steps.iter().map(|s| s.t).max().unwrap_or(first);
        let limit = self.end - MINUTE;
        if last > limit && last > first {
            let room = (limit - first).max(0) as f64;
            let span = (last - first) as f64;
            for s in steps.iter_mut() {
                s.t = first + ((s.t - first) as f64 * room / span) as i64;
            }
        }
        steps.sort_by_key(|s| s.t);
        for s in steps.iter_mut() {
            // Whole milliseconds, so every feed's precision gives the same instant for the record.
            s.t = trunc(s.t, 1000);
        }
    }

    fn admin(&self, mdm: Mdm, role_prefix: &str) -> usize {
        let all = self.fleet.admins_of(mdm);
        all.iter()
            .copied()
            .find(|i| self.fleet.admins[*i].role.starts_with(role_prefix))
            .unwrap_or(all[0])
    }

    /// Up to `n` unreserved devices of `classes` passing `filter`, shuffled; marks them reserved.
    fn take(
        &mut self,
        classes: &[DeviceClass],
        n: usize,
        filter: impl Fn(&Fleet, usize) -> bool,
    ) -> Vec<usize> {
        let mut pool: Vec<usize> = classes
            .iter()
            .flat_map(|c| self.fleet.class(*c).iter().map(|i| *i as usize))
            .filter(|i| !self.fleet.devices[*i].reserved && filter(self.fleet, *i))
            .collect();
        // Fisher-Yates with the scenario's generator.
        for i in (1..pool.len()).rev() {
            let j = self.rng.index(i + 1);
            pool.swap(i, j);
        }
        pool.truncate(n);
        pool.sort_unstable();
        for i in &pool {
            self.fleet.devices[*i].reserved = true;
        }
        pool
    }
}

fn too_small(what: &str, need: usize, have: usize, flag: &str) -> GenerateError {
    GenerateError::InvalidOption(format!(
        "the fleet has {have} {what} but the scenario needs {need}: raise --devices or lower {flag}"
    ))
}

fn owner_dept(fleet: &Fleet, i: usize) -> Option<u8> {
    fleet.owner(&fleet.devices[i]).map(|u| u.dept)
}

/// Plans every selected scenario.
pub fn plan(fleet: &mut Fleet, config: &GenerateConfig) -> Result<Vec<ScenarioRun>, GenerateError> {
    let mut runs = Vec::new();
    for (n, kind) in ScenarioKind::ALL.iter().enumerate() {
        if !config.scenarios.contains(*kind) {
            continue;
        }
        let mut ctx = Ctx {
            rng: Rng::for_part(config.seed, kind.name(), 0),
            fleet: &mut *fleet,
            config,
            end: config.start + i64::from(config.days) * DAY,
        };
        let (mut steps, summary, actors, devices, correlation) = match kind {
            ScenarioKind::CompromisedAdminMassWipe => mass_wipe(&mut ctx)?,
            ScenarioKind::ExecPhoneUnlock => exec_phone(&mut ctx)?,
            ScenarioKind::FilevaultKeyReadOffHours => filevault(&mut ctx)?,
            ScenarioKind::FinanceBaselineRollout => rollout(&mut ctx)?,
            ScenarioKind::ApiBulkDelete => bulk_delete(&mut ctx)?,
            ScenarioKind::PartnerComplianceChange => partner(&mut ctx)?,
            ScenarioKind::DeviceLifecycle => lifecycle(&mut ctx)?,
        };
        ctx.fit(&mut steps);
        let rng = Rng::for_part(config.seed, kind.name(), 1);
        runs.push(ScenarioRun {
            steps,
            pos: 0,
            rng,
            truth: GtScenario {
                id: format!("S{}", n + 1),
                kind: kind.name().to_owned(),
                episode_kind: kind.episode_kind().to_owned(),
                correlation_tags: correlation.iter().map(|s| (*s).to_owned()).collect(),
                summary,
                actors,
                devices,
                start: String::new(),
                end: String::new(),
                records: Vec::new(),
            },
        });
    }
    Ok(runs)
}

type Planned = (
    Vec<Step>,
    String,
    Vec<String>,
    Vec<String>,
    &'static [&'static str],
);
