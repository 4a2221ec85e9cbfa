//! Planted incidents. Each scenario is planned up front as a short, time-ordered list of steps (its
//! size is set by the options, never by `--events`), then runs as one process of the merge: each step
//! writes its native record(s), records them in the ground truth, and changes device state (a wiped
//! device stops checking in, an enrolled one starts).
//!
//! The risk tags in the ground truth are written from the trigger conditions of `vrl-mappings/risk/*.vrl`
//! (cited at each step), not from normalizer output; `tests/tests/generate.rs` checks them against the
//! real mappings.

use chrono::{DateTime, SecondsFormat, Utc};

use super::buf::{guid_string, v4};
use super::config::{GenerateConfig, ScenarioKind};
use super::engine::Engine;
use super::feeds::Feed;
use super::fleet::{
    ALL_DEVICES_GROUP, DeviceClass, EXECUTIVE, FINANCE, Fleet, Mdm, PARTNER_TZ, Platform,
};
use super::ground_truth::{GtExpect, GtRecord, GtScenario};
use super::noise::{emit_audit, emit_logstream};
use super::render::intune::{
    self, Actor, AuditEvent, Category, FailingSetting, Op, Prop, Resource,
};
use super::render::{jamf, ws1};
use super::rng::Rng;
use super::time::{DAY, HOUR, MINUTE, Micros, SECOND};
use crate::TransformError;

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

impl ScenarioRun {
    /// The time of the next step.
    pub fn next(&self) -> Option<Micros> {
        self.steps.get(self.pos).map(|s| s.t)
    }

    /// Records this scenario writes.
    pub fn records(&self) -> u64 {
        self.steps
            .iter()
            .map(|s| if matches!(s.rec, Rec::Audit(_)) { 2 } else { 1 })
            .sum()
    }

    /// Writes the next step's record(s).
    pub fn step(&mut self, eng: &mut Engine<'_>) -> Result<(), TransformError> {
        let Some(s) = self.steps.get(self.pos).cloned() else {
            return Ok(());
        };
        self.pos += 1;
        for e in &s.pre {
            apply(eng, *e, s.t);
        }
        let t = s.t;
        let mut written: Vec<(Feed, u64, Option<String>, Micros)> = Vec::new();
        eng.capture = true;
        eng.hashes.clear();
        match &s.rec {
            Rec::Audit(ev) => {
                let (g, d) = emit_audit(eng, ev)?;
                let id = guid_string(ev.id);
                written.push((Feed::IntuneGraphAudit, g, Some(id.clone()), t));
                written.push((Feed::IntuneDiagnostic, d, Some(id), t));
            }
            Rec::ManagedDevice(i) => {
                intune::managed_device(&mut eng.b, &eng.fleet, &eng.fleet.devices[*i], t);
                written.push((
                    Feed::IntuneManagedDevices,
                    eng.emit(Feed::IntuneManagedDevices)?,
                    None,
                    trunc(t, SECOND),
                ));
            }
            Rec::Noncompliant(i, setting, guid) => {
                let tick = self.rng.below(10) as u8;
                intune::diag_noncompliant(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[*i],
                    t,
                    tick,
                    setting,
                    *guid,
                );
                written.push((
                    Feed::IntuneDiagnostic,
                    eng.emit(Feed::IntuneDiagnostic)?,
                    None,
                    t,
                ));
            }
            Rec::JamfAccess {
                user,
                status,
                ip,
                entry,
            } => {
                let idx = emit_logstream(eng, &mut self.rng, t, |b| {
                    jamf::access_line(b, t, user, status, *ip, entry)
                })?;
                written.push((Feed::JamfLogStream, idx, None, trunc(t, 1000)));
            }
            Rec::JamfChange {
                actor,
                id,
                op,
                otype,
                details,
                thread,
            } => {
                let d: Vec<(&str, &str)> = details.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let a = jamf::CmActor {
                    name: actor,
                    id: *id,
                };
                let idx = emit_logstream(eng, &mut self.rng, t, |b| {
                    jamf::change_line(b, t, *thread, a, op, otype, &d)
                })?;
                written.push((Feed::JamfLogStream, idx, None, trunc(t, 1000)));
            }
            Rec::JamfRest {
                user,
                object_id,
                name,
                otype,
                method,
            } => {
                jamf::rest_api_operation(
                    &mut eng.b, t, user, *object_id, name, otype, true, method,
                );
                written.push((
                    Feed::JamfWebhooks,
                    eng.emit(Feed::JamfWebhooks)?,
                    None,
                    trunc(t, 1000),
                ));
            }
            Rec::Ws1Device {
                device,
                event,
                admin,
                category,
            } => {
                ws1::device_event(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[*device],
                    t,
                    event,
                    admin,
                    category,
                );
                written.push((
                    Feed::Ws1Syslog,
                    eng.emit(Feed::Ws1Syslog)?,
                    None,
                    trunc(t, SECOND),
                ));
            }
            Rec::Ws1Console {
                event,
                admin,
                module,
                category,
            } => {
                ws1::console_event(
                    &mut eng.b,
                    t,
                    &ws1::SyslogEvent {
                        console: true,
                        event,
                        user: admin,
                        source: "Console",
                        module,
                        category,
                    },
                    &[],
                );
                written.push((
                    Feed::Ws1Syslog,
                    eng.emit(Feed::Ws1Syslog)?,
                    None,
                    trunc(t, SECOND),
                ));
            }
            Rec::Ws1Notify {
                device,
                id,
                etype,
                enrollment,
                compliance,
            } => {
                let tick = self.rng.below(10) as u8;
                ws1::notification(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[*device],
                    t,
                    tick,
                    *id,
                    etype,
                    &ws1::NotificationState {
                        enrollment,
                        compromised: "NotCompromised",
                        compliance,
                    },
                );
                written.push((
                    Feed::Ws1Notifications,
                    eng.emit(Feed::Ws1Notifications)?,
                    None,
                    t,
                ));
            }
        }
        eng.capture = false;
        let hashes = std::mem::take(&mut eng.hashes);
        for e in &s.post {
            apply(eng, *e, t);
        }
        let mut tags: Vec<String> = s.expect.tags.iter().map(|t| (*t).to_owned()).collect();
        tags.sort();
        for ((feed, index, vendor_id, time), sha256) in written.into_iter().zip(hashes) {
            if self.truth.records.is_empty() {
                self.truth.start = rfc3339(time);
            }
            self.truth.end = rfc3339(time);
            self.truth.records.push(GtRecord {
                feed: feed.name().to_owned(),
                file: feed.file_name().to_owned(),
                index,
                vendor_id,
                sha256,
                time: rfc3339(time),
                role: s.role.to_owned(),
                expect: GtExpect {
                    native_action: s.expect.native.clone(),
                    action: s.expect.action.to_owned(),
                    actor_kind: s.expect.actor.map(str::to_owned),
                    target_type: s.expect.target.map(str::to_owned),
                },
                risk_tags: tags.clone(),
                secret_field: s.secret.map(str::to_owned),
            });
        }
        Ok(())
    }
}

fn apply(eng: &mut Engine<'_>, e: Effect, t: Micros) {
    match e {
        Effect::Enroll(i) => {
            let d = &mut eng.fleet.devices[i];
            d.active = true;
            d.enrolled = t;
        }
        Effect::Remove(i) => eng.fleet.devices[i].active = false,
        Effect::Pending(i, action) => eng.fleet.devices[i].pending_action = Some((action, t)),
        Effect::State(i, compliant, encrypted) => {
            let d = &mut eng.fleet.devices[i];
            d.compliant = compliant;
            d.encrypted = encrypted;
        }
    }
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

fn too_small(what: &str, need: usize, have: usize, flag: &str) -> TransformError {
    TransformError::InvalidOption(format!(
        "the fleet has {have} {what} but the scenario needs {need}: raise --devices or lower {flag}"
    ))
}

fn owner_dept(fleet: &Fleet, i: usize) -> Option<u8> {
    fleet.owner(&fleet.devices[i]).map(|u| u.dept)
}

/// Plans every selected scenario.
pub fn plan(
    fleet: &mut Fleet,
    config: &GenerateConfig,
) -> Result<Vec<ScenarioRun>, TransformError> {
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

/// S1: an Intune admin account adds itself to a privileged role assignment, then wipes devices one after
/// the other before business hours.
fn mass_wipe(ctx: &mut Ctx<'_>) -> Result<Planned, TransformError> {
    let n = ctx.config.sizes.wipe_count as usize;
    let targets = ctx.take(
        &[
            DeviceClass::IntuneWindows,
            DeviceClass::IntuneIos,
            DeviceClass::IntuneAndroid,
        ],
        n,
        |f, i| owner_dept(f, i) != Some(FINANCE),
    );
    if targets.len() < n {
        return Err(too_small(
            "Intune devices outside Finance",
            n,
            targets.len(),
            "--wipe-count",
        ));
    }
    let a = ctx.admin(Mdm::Intune, "Intune Role Administrator");
    let admin = ctx.fleet.admins[a].clone();
    let actor = Actor::User {
        upn: admin.account.clone(),
        object_id: admin.object_id,
    };
    let day = ctx.day(0.6, admin.tz, true);
    let t0 = ctx.at_jitter(admin.tz, day, 4, 2, 12);
    let group = ctx
        .fleet
        .intune_groups
        .iter()
        .find(|g| g.name == "Intune Admins - Privileged")
        .map_or(0, |g| g.guid);
    let mut steps = Vec::new();
    let assignment_id = guid_string(v4(ctx.rng.next_u128()));
    let mut grant = intune::simple_event(
        "Create DeviceAndAppManagementRoleAssignment",
        "RoleBasedAccessControl",
        Op::Create,
        Category::Role,
        actor.clone(),
        t0,
        &mut ctx.rng,
        Resource {
            name: Some("Intune Administrator - Emergency Access".into()),
            rtype: "DeviceAndAppManagementRoleAssignment",
            id: assignment_id,
            props: vec![
                Prop::set("DisplayName", "Intune Administrator - Emergency Access"),
                Prop::set("Description", "<null>"),
                Prop::set("RoleDefinitionId", "0bd113fe-6be5-400c-a28f-ae5553f9c0be"),
                Prop::set("Members", format!("[\"{}\"]", guid_string(group))),
                Prop::set("ScopeType", "allDevicesAndLicensedUsers"),
                Prop::api_version(false),
            ],
        },
    );
    grant.additional = "Key = AccountQuotaEntityValue = DeviceAndAppManagementRoleAssignment\r\n";
    // role_grant: action assign (Create *Assignment) on target_type role_assignment (17_role_grant.vrl).
    steps.push(step(
        t0,
        "role_grant",
        Rec::Audit(Box::new(grant)),
        expect(
            "Create DeviceAndAppManagementRoleAssignment",
            "assign",
            Some("user"),
            Some("role_assignment"),
            &["role_grant"],
        ),
    ));
    let mut t = t0 + 6 * MINUTE + ctx.rng.range(0, 120) * SECOND;
    let mut names = Vec::new();
    for &i in &targets {
        let ev = intune::device_action(
            &ctx.fleet.devices[i],
            "wipe ManagedDevice",
            actor.clone(),
            t,
            &mut ctx.rng,
            true,
        );
        // remote_wipe: action wipe (10_remote_wipe.vrl); a wipe is not a retire/delete, so no mdm_removed.
        let mut s = step(
            t,
            "wipe",
            Rec::Audit(Box::new(ev)),
            expect(
                "wipe ManagedDevice",
                "wipe",
                Some("user"),
                Some("device"),
                &["remote_wipe"],
            ),
        );
        s.post.push(Effect::Pending(i, "wipe"));
        steps.push(s);
        // The collector's next poll shows the wipe pending; then the device is gone.
        let mut snap = step(
            t + ctx.rng.range(2 * 60, 9 * 60) * SECOND,
            "snapshot_wipe_pending",
            Rec::ManagedDevice(i),
            expect("managedDevice", "inventory", None, Some("device"), &[]),
        );
        snap.secret = ctx.fleet.devices[i]
            .lock_code
            .as_ref()
            .map(|_| "activationLockBypassCode");
        snap.post.push(Effect::Remove(i));
        steps.push(snap);
        names.push(ctx.fleet.devices[i].name.clone());
        t += ctx.rng.range(40, 150) * SECOND;
    }
    let summary = format!(
        "The Intune account of {} {} ({}, {}) adds its group to the 'Intune Administrator - Emergency Access' role assignment at about 04:00 local time ({}), then wipes {} devices within about {} minutes, before business hours. Each wipe is followed by the managedDevices snapshot showing it pending.",
        admin.first,
        admin.last,
        admin.account,
        admin.role,
        ctx.fleet.zones.name(admin.tz),
        targets.len(),
        (t - t0) / MINUTE
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        names,
        &["off_hours", "bulk_destructive"],
    ))
}

/// S2: late in the evening a help-desk admin clears the passcode of an executive's iPhone and lifts the
/// lost mode the executive asked for a few hours earlier.
fn exec_phone(ctx: &mut Ctx<'_>) -> Result<Planned, TransformError> {
    let mut phone = ctx.take(&[DeviceClass::Ws1Ios], 1, |f, i| {
        owner_dept(f, i) == Some(EXECUTIVE)
    });
    if phone.is_empty() {
        phone = ctx.take(&[DeviceClass::Ws1Ios], 1, |_, _| true);
    }
    let Some(&d) = phone.first() else {
        return Err(too_small(
            "Workspace ONE iPhones",
            1,
            0,
            "--scenarios (leave out exec_phone_unlock)",
        ));
    };
    let a = ctx.admin(Mdm::Ws1, "Helpdesk");
    let admin = ctx.fleet.admins[a].clone();
    let day = ctx.day(0.3, admin.tz, true);
    let t_lost = ctx.at_jitter(admin.tz, day, 18, 35, 15);
    let t_in = ctx.at_jitter(admin.tz, day, 23, 20, 15);
    let t_in = t_in.max(t_lost + HOUR);
    let dev = |event: &'static str,
               t: Micros,
               role: &'static str,
               action: &'static str,
               tags: &'static [&'static str]| {
        step(
            t,
            role,
            Rec::Ws1Device {
                device: d,
                event,
                admin: admin.account.clone(),
                category: "Command",
            },
            expect(event, action, Some("user"), Some("device"), tags),
        )
    };
    let console = |event: &'static str, t: Micros, role: &'static str, action: &'static str| {
        step(
            t,
            role,
            Rec::Ws1Console {
                event,
                admin: admin.account.clone(),
                module: "Admin",
                category: "Login",
            },
            expect(event, action, Some("user"), Some("admin_account"), &[]),
        )
    };
    let t_clear = t_in + ctx.rng.range(120, 300) * SECOND;
    let t_unlost = t_clear + ctx.rng.range(60, 200) * SECOND;
    let t_out = t_unlost + ctx.rng.range(120, 400) * SECOND;
    let steps = vec![
        // enable_lost_mode is in no rule: no tag (a near miss of passcode_cleared).
        dev(
            "EnableLostMode",
            t_lost,
            "lost_mode_enabled",
            "enable_lost_mode",
            &[],
        ),
        console("AdminUserLoggedIn", t_in, "login", "login"),
        // passcode_cleared: action clear_passcode (11_passcode_cleared.vrl).
        dev(
            "ClearPasscode",
            t_clear,
            "passcode_cleared",
            "clear_passcode",
            &["passcode_cleared"],
        ),
        // passcode_cleared: action disable_lost_mode (11_passcode_cleared.vrl).
        dev(
            "DisableLostMode",
            t_unlost,
            "lost_mode_disabled",
            "disable_lost_mode",
            &["passcode_cleared"],
        ),
        console("AdminUserLogout", t_out, "logout", "logout"),
    ];
    let device = &ctx.fleet.devices[d];
    let owner = ctx.fleet.owner(device).map_or(String::new(), |u| {
        format!("{} {} ({})", u.first, u.last, u.position)
    });
    let summary = format!(
        "Lost mode is enabled on {owner}'s iPhone '{}' in the evening; around 23:30 local time ({}) {} signs in to the Workspace ONE console, clears the phone's passcode and lifts lost mode, then signs out.",
        device.name,
        ctx.fleet.zones.name(admin.tz),
        admin.account
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        vec![device.name.clone()],
        &["off_hours"],
    ))
}

/// S3: a Jamf Pro admin signs in at night and views an executive Mac's FileVault recovery key.
fn filevault(ctx: &mut Ctx<'_>) -> Result<Planned, TransformError> {
    let mut mac = ctx.take(&[DeviceClass::JamfMac], 1, |f, i| {
        owner_dept(f, i) == Some(EXECUTIVE)
    });
    if mac.is_empty() {
        mac = ctx.take(&[DeviceClass::JamfMac], 1, |_, _| true);
    }
    let Some(&d) = mac.first() else {
        return Err(too_small("Jamf Macs", 1, 0, "--scenarios"));
    };
    let a = ctx.admin(Mdm::Jamf, "Administrator");
    let admin = ctx.fleet.admins[a].clone();
    let day = ctx.day(0.45, admin.tz, false);
    let t_in = ctx.at_jitter(admin.tz, day, 1, 40, 15);
    let t_read = t_in + ctx.rng.range(60, 240) * SECOND;
    let t_out = t_read + ctx.rng.range(180, 600) * SECOND;
    let device = ctx.fleet.devices[d].clone();
    let access = |t: Micros, role: &'static str, status: &'static str, action: &'static str| {
        step(
            t,
            role,
            Rec::JamfAccess {
                user: admin.account.clone(),
                status,
                ip: admin.ip,
                entry: "Single Sign On (SAML)",
            },
            expect(status, action, Some("user"), None, &[]),
        )
    };
    let steps = vec![
        access(t_in, "login", "Successful Login", "login"),
        // secret_read: action read on target_type filevault_recovery_key (14_secret_read.vrl); the
        // change-management mapping gives a READ with an empty object type and a `File Vault 2 ID`
        // detail that type.
        step(
            t_read,
            "key_read",
            Rec::JamfChange {
                actor: admin.account.clone(),
                id: -1,
                op: "READ",
                otype: "",
                details: vec![
                    ("File Vault 2 ID", "-1".into()),
                    ("Computer ID", device.jss_id.to_string()),
                ],
                thread: ctx.rng.below(400) as u32,
            },
            expect(
                "READ FileVault recovery key",
                "read",
                Some("user"),
                Some("filevault_recovery_key"),
                &["secret_read"],
            ),
        ),
        access(t_out, "logout", "Successful SSO Logout", "logout"),
    ];
    let owner = ctx.fleet.owner(&device).map_or(String::new(), |u| {
        format!(" of {} {} ({})", u.first, u.last, u.position)
    });
    let summary = format!(
        "{} {} ({}) signs in to Jamf Pro through SSO at about 01:45 local time ({}), views the FileVault recovery key of the Mac '{}' (Jamf ID {}){owner}, and signs out.",
        admin.first,
        admin.last,
        admin.account,
        ctx.fleet.zones.name(admin.tz),
        device.name,
        device.jss_id
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        vec![device.name],
        &["off_hours", "rare_action_for_actor"],
    ))
}

/// S4: the "Finance baseline" (BitLocker and FileVault profiles, an encryption compliance policy) is
/// created and assigned to the Finance devices; most comply, some fail encryption.
fn rollout(ctx: &mut Ctx<'_>) -> Result<Planned, TransformError> {
    let n = ctx.config.sizes.rollout_devices as usize;
    let macs = ctx.take(&[DeviceClass::IntuneMac], n / 3, |f, i| {
        owner_dept(f, i) == Some(FINANCE)
    });
    let pcs = ctx.take(&[DeviceClass::IntuneWindows], n - macs.len(), |f, i| {
        owner_dept(f, i) == Some(FINANCE)
    });
    let mut targets: Vec<usize> = macs.into_iter().chain(pcs).collect();
    if targets.len() < n {
        return Err(too_small(
            "Finance devices in Intune",
            n,
            targets.len(),
            "--rollout-devices",
        ));
    }
    for i in (1..targets.len()).rev() {
        let j = ctx.rng.index(i + 1);
        targets.swap(i, j);
    }
    let pct = ctx.config.sizes.rollout_fail_pct as usize;
    let fails = if pct == 0 {
        0
    } else {
        (n * pct).div_ceil(100).clamp(1, n)
    };
    let a = ctx.admin(Mdm::Intune, "Policy and Profile Manager");
    let admin = ctx.fleet.admins[a].clone();
    let actor = Actor::User {
        upn: admin.account.clone(),
        object_id: admin.object_id,
    };
    let day = ctx.day(0.2, admin.tz, true);
    let t0 = ctx.at_jitter(admin.tz, day, 10, 0, 20);
    let group = ctx.fleet.intune_groups[0].guid; // "All Finance Devices"
    let group_id = guid_string(group);
    let mut steps = Vec::new();
    let mut t = t0;
    let policies: [(&'static str, &'static str, &'static str, &'static str); 2] = [
        (
            "Finance Baseline - Windows BitLocker",
            "windows10",
            "device_vendor_msft_bitlocker_requiredeviceencryption",
            "1",
        ),
        (
            "Finance Baseline - macOS FileVault",
            "macOS",
            "com.apple.mcx.filevault2_enable",
            "On",
        ),
    ];
    for (name, platform, setting, value) in policies {
        let policy_id = guid_string(v4(ctx.rng.next_u128()));
        let create = intune::simple_event(
            "Create DeviceManagementConfigurationPolicy",
            "DeviceConfiguration",
            Op::Create,
            Category::DeviceConfiguration,
            actor.clone(),
            t,
            &mut ctx.rng,
            Resource {
                name: Some(name.into()),
                rtype: "DeviceManagementConfigurationPolicy",
                id: policy_id.clone(),
                props: vec![
                    Prop::set("Name", name),
                    Prop::set(
                        "Description",
                        "Finance baseline: full-disk encryption with escrowed recovery keys",
                    ),
                    Prop::set("Platforms", platform),
                    Prop::set("Technologies", "mdm"),
                    Prop::set("Settings[0].SettingInstance.SettingDefinitionId", setting),
                    Prop::set("Settings[0].SettingInstance.Value", value),
                    Prop::api_version(false),
                ],
            },
        );
        // No rule fires: creating a profile (old values null) is neither a passcode nor an encryption
        // rollback (12/13_*.vrl), and a configuration profile is not code (19_code_exec_push.vrl).
        steps.push(step(
            t,
            "baseline_profile_created",
            Rec::Audit(Box::new(create)),
            expect(
                "Create DeviceManagementConfigurationPolicy",
                "create",
                Some("user"),
                Some("configuration_profile"),
                &[],
            ),
        ));
        t += ctx.rng.range(90, 200) * SECOND;
        let mut assign = intune::simple_event(
            "Create DeviceManagementConfigurationPolicyAssignment",
            "DeviceConfiguration",
            Op::Create,
            Category::DeviceConfiguration,
            actor.clone(),
            t,
            &mut ctx.rng,
            Resource {
                name: Some(name.into()),
                rtype: "DeviceManagementConfigurationPolicy",
                id: policy_id.clone(),
                props: Vec::new(),
            },
        );
        assign.resources.push(Resource {
            name: None,
            rtype: "DeviceManagementConfigurationPolicyAssignment",
            id: format!("{policy_id}_{group_id}"),
            props: vec![
                Prop::set("Target.GroupId", group_id.clone()),
                Prop::set("Target.Type", "GroupAssignmentTarget"),
                Prop::set("Target.DeviceAndAppManagementAssignmentFilterType", "None"),
                Prop::set("Source", "Direct"),
                Prop::set("SourceId", policy_id.clone()),
                Prop::api_version(false),
            ],
        });
        // A group target is not broad (18_broad_scope.vrl): no tag.
        steps.push(step(
            t,
            "baseline_profile_assigned",
            Rec::Audit(Box::new(assign)),
            expect(
                "Create DeviceManagementConfigurationPolicyAssignment",
                "assign",
                Some("user"),
                Some("profile_assignment"),
                &[],
            ),
        ));
        t += ctx.rng.range(240, 420) * SECOND;
    }
    let compliance_id = guid_string(v4(ctx.rng.next_u128()));
    let create = intune::simple_event(
        "Create DeviceCompliancePolicy",
        "Compliance",
        Op::Create,
        Category::Compliance,
        actor.clone(),
        t,
        &mut ctx.rng,
        Resource {
            name: Some("Finance - Require encryption".into()),
            rtype: "DeviceCompliancePolicy",
            id: compliance_id.clone(),
            props: vec![
                Prop::set("DisplayName", "Finance - Require encryption"),
                Prop::set("BitLockerEnabled", "true"),
                Prop::set("StorageRequireEncryption", "true"),
                Prop::set("SecureBootEnabled", "true"),
                Prop::api_version(false),
            ],
        },
    );
    steps.push(step(
        t,
        "compliance_policy_created",
        Rec::Audit(Box::new(create)),
        expect(
            "Create DeviceCompliancePolicy",
            "create",
            Some("user"),
            Some("compliance_policy"),
            &[],
        ),
    ));
    t += ctx.rng.range(60, 180) * SECOND;
    let mut assign = intune::simple_event(
        "Create DeviceCompliancePolicyAssignment",
        "Compliance",
        Op::Create,
        Category::Compliance,
        actor,
        t,
        &mut ctx.rng,
        Resource {
            name: Some("Finance - Require encryption".into()),
            rtype: "DeviceCompliancePolicy",
            id: compliance_id.clone(),
            props: Vec::new(),
        },
    );
    assign.resources.push(Resource {
        name: None,
        rtype: "DeviceCompliancePolicyAssignment",
        id: format!("{compliance_id}_{group_id}"),
        props: vec![
            Prop::set("Target.GroupId", group_id.clone()),
            Prop::set("Target.Type", "GroupAssignmentTarget"),
            Prop::set("Id", format!("{compliance_id}_{group_id}")),
            Prop::api_version(false),
        ],
    });
    steps.push(step(
        t,
        "compliance_policy_assigned",
        Rec::Audit(Box::new(assign)),
        expect(
            "Create DeviceCompliancePolicyAssignment",
            "assign",
            Some("user"),
            Some("policy_assignment"),
            &[],
        ),
    ));

    // Devices pick the baseline up over the next day as they check in.
    let mut t_dev = t + 25 * MINUTE;
    let mut names = Vec::new();
    for (k, &i) in targets.iter().enumerate() {
        t_dev += ctx.rng.range(3 * 60, 70 * 60) * SECOND;
        let fail = k < fails;
        let device = &ctx.fleet.devices[i];
        names.push(device.name.clone());
        if fail {
            let setting = if device.platform() == Platform::MacOs {
                FailingSetting {
                    policy: "MacOSCompliancePolicy",
                    setting: "StorageRequireEncryption",
                    rule: "Device_Encryption_FileVault2Encrypted",
                    expected: "Equals True",
                    actual: "False",
                    path: "SecurityInfo/FDE_Enabled",
                }
            } else {
                FailingSetting {
                    policy: "Windows10CompliancePolicy",
                    setting: "BitLockerEnabled",
                    rule: "Device_BitLocker_Enabled",
                    expected: "Equals True",
                    actual: "False",
                    path: "DeviceStatus/BitLocker/Status",
                }
            };
            // A compliance alert carries only the new state (old null), so encryption_disabled (which needs
            // true -> false, 13_encryption_disabled.vrl) does not fire: no tag.
            let mut s = step(
                t_dev,
                "encryption_failed",
                Rec::Noncompliant(i, setting, v4(ctx.rng.next_u128())),
                expect("Compliance", "compliance_change", None, Some("device"), &[]),
            );
            s.pre.push(Effect::State(i, false, false));
            steps.push(s);
        }
        let mut snap = step(
            t_dev + ctx.rng.range(2 * 60, 15 * 60) * SECOND,
            if fail {
                "snapshot_noncompliant"
            } else {
                "snapshot_compliant"
            },
            Rec::ManagedDevice(i),
            expect("managedDevice", "inventory", None, Some("device"), &[]),
        );
        if !fail {
            snap.pre.push(Effect::State(i, true, true));
        }
        snap.secret = device
            .lock_code
            .as_ref()
            .map(|_| "activationLockBypassCode");
        steps.push(snap);
    }
    let summary = format!(
        "{} {} ({}, {}) creates the Finance baseline (BitLocker and FileVault settings-catalog profiles and the 'Finance - Require encryption' compliance policy) and assigns it to 'All Finance Devices'. Over the next day {} of the {} devices report compliant and encrypted; {} fail encryption (OperationalLogs compliance alerts, noncompliant unencrypted snapshots).",
        admin.first,
        admin.last,
        admin.account,
        admin.role,
        n - fails,
        n,
        fails
    );
    Ok((steps, summary, vec![admin.account], names, &[]))
}

/// S5: a Jamf Pro API client gets a token and deletes computer and mobile-device records in a burst.
fn bulk_delete(ctx: &mut Ctx<'_>) -> Result<Planned, TransformError> {
    let n = ctx.config.sizes.bulk_delete_count as usize;
    let n_mobile = n * 3 / 10;
    let mobile = ctx.take(
        &[DeviceClass::JamfIphone, DeviceClass::JamfIpad],
        n_mobile,
        |f, i| owner_dept(f, i) != Some(EXECUTIVE),
    );
    let macs = ctx.take(&[DeviceClass::JamfMac], n - mobile.len(), |f, i| {
        owner_dept(f, i) != Some(EXECUTIVE)
    });
    let mut targets: Vec<usize> = macs.into_iter().chain(mobile).collect();
    if targets.len() < n {
        return Err(too_small(
            "Jamf devices",
            n,
            targets.len(),
            "--bulk-delete-count",
        ));
    }
    for i in (1..targets.len()).rev() {
        let j = ctx.rng.index(i + 1);
        targets.swap(i, j);
    }
    let clients = ctx.fleet.api_clients_of(Mdm::Jamf);
    let client = ctx.fleet.api_clients[clients[clients.len() - 1]].clone();
    let client_id = guid_string(client.id);
    let day = ctx.day(0.75, 0, true);
    let t0 = ctx.at_jitter(0, day, 13, 0, 50);
    let mut steps = vec![
        // non_human_actor: actor_kind api_client (22_non_human_actor.vrl): the access mapping reads a
        // UUID user name as an API client.
        step(
            t0,
            "token",
            Rec::JamfAccess {
                user: client_id.clone(),
                status: "Successful token creation",
                ip: client.ip,
                entry: "Universal API (OAuth)",
            },
            expect(
                "Successful token creation",
                "token_create",
                Some("api_client"),
                None,
                &["non_human_actor"],
            ),
        ),
    ];
    let mut t = t0 + ctx.rng.range(5, 30) * SECOND;
    let mut names = Vec::new();
    for &i in &targets {
        let d = ctx.fleet.devices[i].clone();
        let otype = if d.platform() == Platform::MacOs {
            "Computer"
        } else {
            "Mobile Device"
        };
        // mdm_removed: target_type device + action delete (15_mdm_removed.vrl); non_human_actor: the
        // authorizedUsername is an API client id (22_non_human_actor.vrl).
        steps.push(step(
            t,
            "delete_webhook",
            Rec::JamfRest {
                user: client_id.clone(),
                object_id: u64::from(d.jss_id),
                name: d.name.clone(),
                otype,
                method: "DELETE",
            },
            expect(
                format!("RestAPIOperation DELETE {otype}"),
                "delete",
                Some("api_client"),
                Some("device"),
                &["mdm_removed", "non_human_actor"],
            ),
        ));
        let mut cm = step(
            t + ctx.rng.range(100, 900) * 1000,
            "delete_change_management",
            Rec::JamfChange {
                actor: client_id.clone(),
                id: 0,
                op: "DELETE",
                otype,
                details: vec![("ID", d.jss_id.to_string()), ("Name", d.name.clone())],
                thread: ctx.rng.below(400) as u32,
            },
            expect(
                format!("DELETE {otype}"),
                "delete",
                Some("api_client"),
                Some("device"),
                &["mdm_removed", "non_human_actor"],
            ),
        );
        cm.post.push(Effect::Remove(i));
        steps.push(cm);
        names.push(d.name);
        t += ctx.rng.range(2, 7) * SECOND;
    }
    let summary = format!(
        "The Jamf Pro API client '{}' ({client_id}) obtains an OAuth token and deletes {} inventory records ({} computers, {} mobile devices) within {} seconds; each delete shows as a RestAPIOperation webhook and a change-management record.",
        client.name,
        targets.len(),
        targets.len() - n_mobile.min(targets.len()),
        n_mobile.min(targets.len()),
        (t - t0) / SECOND
    );
    Ok((
        steps,
        summary,
        vec![client_id],
        names,
        &["bulk_destructive"],
    ))
}

/// S6: a delegated (GDAP) partner admin drops the password requirement of the Windows compliance policy
/// and assigns the policy to all devices.
fn partner(ctx: &mut Ctx<'_>) -> Result<Planned, TransformError> {
    let partner_tenant = v4(ctx.rng.next_u128());
    let object_id = v4(ctx.rng.next_u128());
    let upn = "tech.ops@contosomsp.onmicrosoft.com".to_owned();
    let actor = Actor::Partner {
        upn: upn.clone(),
        object_id,
        partner_tenant,
    };
    let zone = ctx.fleet.zones.find(PARTNER_TZ).unwrap_or(0);
    let day = ctx.day(0.5, zone, true);
    let t0 = ctx.at_jitter(zone, day, 11, 0, 30);
    let policy = ctx.fleet.intune_compliance[0].clone();
    let policy_id = guid_string(policy.guid);
    let patch = intune::simple_event(
        "Patch DeviceCompliancePolicy",
        "Compliance",
        Op::Patch,
        Category::Compliance,
        actor.clone(),
        t0,
        &mut ctx.rng,
        Resource {
            name: Some(policy.name.clone()),
            rtype: "DeviceCompliancePolicy",
            id: policy_id.clone(),
            props: vec![
                Prop::change("PasswordRequired", "true", "false"),
                Prop::change("PasswordRequiredType", "alphanumeric", "deviceDefault"),
                Prop::change("Version", "7", "8"),
                Prop::change("$Collection.RoleScopeTagIds[0]", "0", ""),
                Prop::api_version(true),
            ],
        },
    );
    let t1 = t0 + ctx.rng.range(150, 420) * SECOND;
    let mut assign = intune::simple_event(
        "Create DeviceCompliancePolicyAssignment",
        "Compliance",
        Op::Create,
        Category::Compliance,
        actor,
        t1,
        &mut ctx.rng,
        Resource {
            name: Some(policy.name.clone()),
            rtype: "DeviceCompliancePolicy",
            id: policy_id.clone(),
            props: Vec::new(),
        },
    );
    assign.additional = "Key = AccountQuotaEntityValue = DeviceCompliancePolicyAssignment\r\n";
    assign.resources.push(Resource {
        name: None,
        rtype: "DeviceCompliancePolicyAssignment",
        id: format!("{policy_id}_{ALL_DEVICES_GROUP}"),
        props: vec![
            Prop::set("Target.Type", "AllDevicesAssignmentTarget"),
            Prop::set("Target.DeviceAndAppManagementAssignmentFilterType", "None"),
            Prop::set("Source", "Direct"),
            Prop::set("SourceId", policy_id.clone()),
            Prop::api_version(false),
        ],
    });
    let steps = vec![
        // passcode_disabled: Patch (update) of a compliance_policy where PasswordRequired goes true ->
        // false (12_passcode_disabled.vrl). The partner is actor_kind partner, not app: no non_human_actor.
        step(
            t0,
            "passcode_requirement_removed",
            Rec::Audit(Box::new(patch)),
            expect(
                "Patch DeviceCompliancePolicy",
                "update",
                Some("partner"),
                Some("compliance_policy"),
                &["passcode_disabled"],
            ),
        ),
        // broad_scope: assign with Target.Type AllDevicesAssignmentTarget (18_broad_scope.vrl).
        step(
            t1,
            "assigned_to_all_devices",
            Rec::Audit(Box::new(assign)),
            expect(
                "Create DeviceCompliancePolicyAssignment",
                "assign",
                Some("partner"),
                Some("policy_assignment"),
                &["broad_scope"],
            ),
        ),
    ];
    let summary = format!(
        "{upn}, a delegated admin of the partner tenant {} (GDAP), sets PasswordRequired from true to false in the compliance policy '{}' at about 11:00 partner time ({PARTNER_TZ}), then assigns the policy to All Devices.",
        guid_string(partner_tenant),
        policy.name
    );
    Ok((
        steps,
        summary,
        vec![upn],
        Vec::new(),
        &["new_actor", "off_hours"],
    ))
}

/// S7: one Workspace ONE Android phone from enrollment through compliance drift to enterprise wipe and
/// MDM removal.
fn lifecycle(ctx: &mut Ctx<'_>) -> Result<Planned, TransformError> {
    let picked = ctx.take(&[DeviceClass::Ws1Android], 1, |f, i| {
        f.devices[i].company && owner_dept(f, i) != Some(EXECUTIVE)
    });
    let Some(&d) = picked.first() else {
        return Err(too_small(
            "company-owned Workspace ONE Android phones",
            1,
            0,
            "--scenarios",
        ));
    };
    // Not managed before the planted enrollment.
    ctx.fleet.devices[d].active = false;
    let a = ctx.admin(Mdm::Ws1, "System Administrator");
    let admin = ctx.fleet.admins[a].clone();
    let tz = admin.tz;
    let days = i64::from(ctx.config.days);
    let mut times = [
        ctx.at(tz, ctx.day(0.1, tz, true), 9, 12),
        ctx.at(tz, ctx.day(0.55, tz, false), 14, 20),
        ctx.at(tz, ctx.day(0.85, tz, true), 10, 40),
    ];
    if !(times[0] < times[1] && times[1] < times[2]) {
        // A short period: spread the three phases over it.
        let span = days * DAY;
        times = [
            ctx.config.start + span / 10,
            ctx.config.start + span * 5 / 10,
            ctx.config.start + span * 8 / 10,
        ];
    }
    let [t_enroll, t_drift, t_wipe] = times.map(|t| t + ctx.rng.range(0, 59) * SECOND);
    let notify = |t: Micros,
                  role: &'static str,
                  id: u32,
                  etype: &'static str,
                  enrollment: &'static str,
                  compliance: &'static str,
                  action: &'static str,
                  tags: &'static [&'static str]| {
        step(
            t,
            role,
            Rec::Ws1Notify {
                device: d,
                id,
                etype,
                enrollment,
                compliance,
            },
            expect(etype, action, None, Some("device"), tags),
        )
    };
    let syslog = |t: Micros,
                  role: &'static str,
                  event: &'static str,
                  user: &str,
                  category: &'static str,
                  action: &'static str,
                  tags: &'static [&'static str]| {
        step(
            t,
            role,
            Rec::Ws1Device {
                device: d,
                event,
                admin: user.to_owned(),
                category,
            },
            expect(event, action, Some("user"), Some("device"), tags),
        )
    };
    let mut enroll = notify(
        t_enroll,
        "enrolled",
        148,
        "MDMEnrollmentComplete",
        "Enrolled",
        "PendingComplianceCheck",
        "enroll",
        &[],
    );
    enroll.pre.push(Effect::Enroll(d));
    enroll.pre.push(Effect::State(d, true, true));
    let mut drift = notify(
        t_drift,
        "compliance_drift",
        177,
        "Compliance Status Changed",
        "Enrolled",
        "NonCompliant",
        "compliance_change",
        &[],
    );
    drift.pre.push(Effect::State(d, false, true));
    let mut unenrolled = notify(
        t_wipe + 6 * MINUTE + 5 * SECOND,
        "mdm_removed_notification",
        39,
        "BreakMDMConfirmed",
        "Unenrolled",
        "NotAvailable",
        "unenroll",
        // mdm_removed: action unenroll (15_mdm_removed.vrl).
        &["mdm_removed"],
    );
    unenrolled.post.push(Effect::Remove(d));
    let steps = vec![
        enroll,
        notify(
            t_enroll + 11 * MINUTE,
            "initial_compliance",
            177,
            "Compliance Status Changed",
            "Enrolled",
            "Compliant",
            "compliance_change",
            &[],
        ),
        drift,
        // remote_wipe (action retire, 10_remote_wipe.vrl) and mdm_removed (target_type device + retire,
        // 15_mdm_removed.vrl).
        syslog(
            t_wipe,
            "enterprise_wipe",
            "EnterpriseWipe",
            &admin.account,
            "Command",
            "retire",
            &["mdm_removed", "remote_wipe"],
        ),
        notify(
            t_wipe + 20 * SECOND,
            "enterprise_wipe_notification",
            229,
            "DeviceEnterpriseWipeRequested",
            "EnterpriseWipePending",
            "NonCompliant",
            "retire",
            &["mdm_removed", "remote_wipe"],
        ),
        // mdm_removed: action unenroll (15_mdm_removed.vrl).
        syslog(
            t_wipe + 6 * MINUTE,
            "mdm_removed",
            "BreakMDMConfirmed",
            "sysadmin",
            "Enrollment",
            "unenroll",
            &["mdm_removed"],
        ),
        unenrolled,
    ];
    let device = &ctx.fleet.devices[d];
    let summary = format!(
        "The company-owned Android phone '{}' enrolls in Workspace ONE, reports compliant, drifts to non-compliant, and is enterprise-wiped by {}; the device then confirms MDM removal.",
        device.name, admin.account
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        vec![device.name.clone()],
        &[],
    ))
}
