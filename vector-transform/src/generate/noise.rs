//! Ordinary activity, the bulk of every estate: device check-ins, inventory, pushes, policy runs,
//! snapshots and daily batches, API clients polling, and admins' routine sessions and edits.
//!
//! Each kind of activity is one stream with a rate (per device of a class per day, per admin per
//! business day, or per estate per day). The record budget left after the planted scenarios is split
//! over the streams in proportion to their expected volume (largest remainder, so the total is exact),
//! and each stream draws exactly its count of event times, sorted, from its own daily/weekly rhythm.

use std::rc::Rc;

use super::buf::v4;
use super::engine::{Engine, Profile, Sampler};
use super::feeds::Feed;
use super::fleet::{DeviceClass, Fleet, Mdm, OFFICES, Platform};
use super::render::intune::{
    self, Actor, AuditEvent, Category, FailingSetting, Op, Prop, Resource,
};
use super::render::{jamf, ws1};
use super::rng::Rng;
use super::time::{DAY, HOUR, MINUTE, Micros, SECOND, civil};
use crate::TransformError;

/// What a noise stream does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseKind {
    /// Jamf ComputerCheckIn.
    ComputerCheckIn,
    /// Jamf ComputerInventoryCompleted.
    ComputerInventory,
    /// Jamf ComputerPolicyFinished (routine policies).
    ComputerPolicy,
    /// Jamf ComputerPatchPolicyCompleted.
    ComputerPatch,
    /// Jamf PushSent to a computer.
    ComputerPush,
    /// Jamf MobileDeviceCheckIn.
    MobileCheckIn,
    /// Jamf MobileDeviceInventoryCompleted.
    MobileInventory,
    /// Jamf MobileDevicePushSent.
    MobilePush,
    /// Jamf MobileDeviceCommandCompleted.
    MobileCommand,
    /// Jamf SCEPChallenge (Wi-Fi certificate renewals).
    Scep,
    /// Jamf SmartGroupComputerMembershipChange.
    SmartGroupComputers,
    /// Jamf SmartGroupMobileDeviceMembershipChange.
    SmartGroupMobile,
    /// Jamf DeviceAddedToDEP (new purchases).
    DepAssigned,
    /// Jamf PatchSoftwareTitleUpdated.
    PatchTitle,
    /// Jamf JSSShutdown / JSSStartup (maintenance restarts).
    ServerRestart,
    /// Jamf RestAPIOperation GET by the inventory API client.
    JamfApiRead,
    /// Jamf RestAPIOperation PUT by a local service account.
    JamfApiUpdate,
    /// Jamf Log Stream token creation by API clients and service accounts.
    JamfToken,
    /// One Jamf admin's console sessions (Log Stream access + change management).
    JamfAdmin,
    /// Graph managedDevices snapshot.
    IntuneManagedDevice,
    /// Diagnostic Devices daily batch.
    IntuneDevicesBatch,
    /// Diagnostic DeviceComplianceOrg daily batch.
    IntuneComplianceBatch,
    /// OperationalLogs Compliance (routine drift).
    IntuneNoncompliant,
    /// OperationalLogs Enrollment.
    IntuneEnrollment,
    /// syncDevice by the lifecycle automation app (Graph + diagnostic).
    IntuneAppSync,
    /// One Intune admin's routine edits and device actions (Graph + diagnostic).
    IntuneAdmin,
    /// WS1 device inventory confirmations (syslog).
    Ws1Inventory,
    /// WS1 Compliance Status Changed notifications.
    Ws1Compliance,
    /// WS1 Compromised Status Changed notifications.
    Ws1Compromised,
    /// WS1 OS Changed notifications.
    Ws1OsChanged,
    /// One WS1 admin's console sessions and device commands (syslog).
    Ws1Admin,
    /// The HR sync API user adding and updating enrollment users (syslog).
    Ws1ApiUser,
}

/// A planned stream before the budget is split.
#[derive(Debug)]
struct Spec {
    kind: NoiseKind,
    pool: Rc<Vec<u32>>,
    actor: usize,
    /// Expected records over the period at the natural rate.
    weight: f64,
    /// Records per event (2 for Intune audit events: Graph + diagnostic).
    per_tick: u64,
    /// At most this many events (daily batches: one record per device per day).
    cap: Option<u64>,
    profile: Option<Rc<Profile>>,
    batch_offset: Micros,
}

/// A running noise stream.
#[derive(Debug)]
pub struct NoiseStream {
    kind: NoiseKind,
    rng: Rng,
    sampler: Sampler,
    pool: Rc<Vec<u32>>,
    actor: usize,
    session_until: Micros,
    cursor: usize,
    batch_day: i64,
    batch_id: u128,
    /// Records this stream will write.
    pub records: u64,
    /// The time of its next event.
    pub next: Option<Micros>,
}

fn union(fleet: &Fleet, classes: &[DeviceClass]) -> Rc<Vec<u32>> {
    Rc::new(
        classes
            .iter()
            .flat_map(|c| fleet.class(*c).iter().copied())
            .collect(),
    )
}

fn is_weekday(t: Micros) -> bool {
    civil(t).weekday < 5
}

/// Splits `budget` records over the specs (largest remainder; capped specs first). Returns events per
/// spec. The total is exact when at least one uncapped one-record-per-event spec has weight.
fn allocate(budget: u64, specs: &[Spec]) -> Vec<u64> {
    let n = specs.len();
    let mut ticks = vec![0u64; n];
    let mut fixed = vec![false; n];
    let mut left = budget as f64;
    // Fix capped specs that would exceed their cap, until none does.
    loop {
        let total_w: f64 = (0..n).filter(|i| !fixed[*i]).map(|i| specs[i].weight).sum();
        if total_w <= 0.0 {
            break;
        }
        let mut changed = false;
        for i in 0..n {
            if fixed[i] {
                continue;
            }
            if let Some(cap) = specs[i].cap {
                let ideal = left * specs[i].weight / total_w / specs[i].per_tick as f64;
                if ideal >= cap as f64 {
                    ticks[i] = cap;
                    fixed[i] = true;
                    left -= (cap * specs[i].per_tick) as f64;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let total_w: f64 = (0..n).filter(|i| !fixed[*i]).map(|i| specs[i].weight).sum();
    let mut fracs: Vec<(f64, usize)> = Vec::new();
    let mut used: u64 = (0..n)
        .filter(|i| fixed[*i])
        .map(|i| ticks[i] * specs[i].per_tick)
        .sum();
    if total_w > 0.0 {
        for i in 0..n {
            if fixed[i] {
                continue;
            }
            let ideal = (left.max(0.0) * specs[i].weight / total_w) / specs[i].per_tick as f64;
            ticks[i] = ideal.floor() as u64;
            used += ticks[i] * specs[i].per_tick;
            if specs[i].per_tick == 1 && specs[i].weight > 0.0 {
                fracs.push((ideal - ideal.floor(), i));
            }
        }
    }
    // Hand out what rounding left to one-record streams, largest remainder first (ties by order).
    fracs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut rest = budget.saturating_sub(used);
    let mut k = 0;
    while rest > 0 && !fracs.is_empty() {
        ticks[fracs[k % fracs.len()].1] += 1;
        rest -= 1;
        k += 1;
    }
    ticks
}

/// Plans the noise streams for `budget` records.
pub fn plan(fleet: &Fleet, seed: u64, start: Micros, days: u32, budget: u64) -> Vec<NoiseStream> {
    let d = f64::from(days);
    let business_days = (0..i64::from(days))
        .filter(|k| is_weekday(start + k * DAY + 12 * HOUR))
        .count()
        .max(1) as f64;

    // Rhythms: devices follow their users' offices, automation is flat, admins their business hours.
    let zones = &fleet.zones;
    let shares: Vec<f64> = OFFICES.iter().map(|o| f64::from(o.2)).collect();
    let device_profile = Rc::new(Profile::new(start, days, |t| {
        let mut w = 0.0;
        for (zone, share) in shares.iter().enumerate() {
            let local = zones.local(zone, t + 30 * MINUTE);
            let busy = if (7..19).contains(&local.hour) {
                1.0
            } else {
                0.0
            };
            let week = if local.weekday < 5 { 1.0 } else { 0.55 };
            w += share * (0.35 + busy) * week;
        }
        w
    }));
    let flat = Rc::new(Profile::new(start, days, |_| 1.0));
    let admin_profile = |tz: usize, hours: (u32, u32)| {
        Rc::new(Profile::new(start, days, move |t| {
            let local = zones.local(tz, t + 30 * MINUTE);
            if local.weekday >= 5 {
                0.004
            } else if (hours.0..hours.1).contains(&local.hour) {
                1.0
            } else {
                0.012
            }
        }))
    };

    let jamf_macs = union(fleet, &[DeviceClass::JamfMac]);
    let jamf_mobile = union(fleet, &[DeviceClass::JamfIphone, DeviceClass::JamfIpad]);
    let jamf_iphones = union(fleet, &[DeviceClass::JamfIphone]);
    let intune_all = union(
        fleet,
        &[
            DeviceClass::IntuneWindows,
            DeviceClass::IntuneMac,
            DeviceClass::IntuneAndroid,
            DeviceClass::IntuneIos,
        ],
    );
    let ws1_all = union(fleet, &[DeviceClass::Ws1Ios, DeviceClass::Ws1Android]);
    let empty = Rc::new(Vec::new());

    let mut specs = Vec::new();
    let device = |kind, pool: &Rc<Vec<u32>>, per_day: f64, per_tick: u64| Spec {
        kind,
        pool: pool.clone(),
        actor: 0,
        weight: per_day * pool.len() as f64 * d * per_tick as f64,
        per_tick,
        cap: None,
        profile: Some(device_profile.clone()),
        batch_offset: 0,
    };
    specs.push(device(NoiseKind::ComputerCheckIn, &jamf_macs, 12.0, 1));
    specs.push(device(NoiseKind::ComputerInventory, &jamf_macs, 1.0, 1));
    specs.push(device(NoiseKind::ComputerPolicy, &jamf_macs, 2.0, 1));
    specs.push(device(NoiseKind::ComputerPatch, &jamf_macs, 0.15, 1));
    specs.push(device(NoiseKind::ComputerPush, &jamf_macs, 1.0, 1));
    specs.push(device(NoiseKind::MobileCheckIn, &jamf_mobile, 6.0, 1));
    specs.push(device(NoiseKind::MobileInventory, &jamf_mobile, 1.0, 1));
    specs.push(device(NoiseKind::MobilePush, &jamf_mobile, 2.0, 1));
    specs.push(device(NoiseKind::MobileCommand, &jamf_mobile, 1.0, 1));
    specs.push(device(NoiseKind::Scep, &jamf_iphones, 0.05, 1));
    specs.push(device(NoiseKind::SmartGroupComputers, &jamf_macs, 0.02, 1));
    specs.push(device(NoiseKind::SmartGroupMobile, &jamf_mobile, 0.02, 1));
    specs.push(device(NoiseKind::DepAssigned, &jamf_macs, 0.002, 1));
    specs.push(device(NoiseKind::IntuneManagedDevice, &intune_all, 4.0, 1));
    specs.push(device(NoiseKind::IntuneNoncompliant, &intune_all, 0.03, 1));
    specs.push(device(NoiseKind::IntuneEnrollment, &intune_all, 0.004, 1));
    specs.push(device(NoiseKind::Ws1Inventory, &ws1_all, 6.0, 1));
    specs.push(device(NoiseKind::Ws1Compliance, &ws1_all, 0.03, 1));
    specs.push(device(NoiseKind::Ws1Compromised, &ws1_all, 0.003, 1));
    specs.push(device(NoiseKind::Ws1OsChanged, &ws1_all, 0.02, 1));
    for (kind, offset) in [
        (
            NoiseKind::IntuneDevicesBatch,
            20 * MINUTE + 52 * SECOND + 479_200,
        ),
        (
            NoiseKind::IntuneComplianceBatch,
            31 * MINUTE + 17 * SECOND + 62_000,
        ),
    ] {
        specs.push(Spec {
            kind,
            pool: intune_all.clone(),
            actor: 0,
            weight: intune_all.len() as f64 * d,
            per_tick: 1,
            cap: Some(intune_all.len() as u64 * u64::from(days)),
            profile: None,
            batch_offset: offset,
        });
    }
    let fleet_level =
        |kind, per_day: f64, per_tick: u64, profile: &Rc<Profile>, pool: &Rc<Vec<u32>>| Spec {
            kind,
            pool: pool.clone(),
            actor: 0,
            weight: per_day * d * per_tick as f64,
            per_tick,
            cap: None,
            profile: Some(profile.clone()),
            batch_offset: 0,
        };
    let jamf_devices = (jamf_macs.len() + jamf_mobile.len()) as f64;
    specs.push(fleet_level(NoiseKind::PatchTitle, 1.5, 1, &flat, &empty));
    specs.push(fleet_level(NoiseKind::ServerRestart, 0.3, 1, &flat, &empty));
    specs.push(fleet_level(
        NoiseKind::JamfApiRead,
        0.05 * jamf_devices,
        1,
        &flat,
        &empty,
    ));
    specs.push(fleet_level(
        NoiseKind::JamfApiUpdate,
        0.01 * jamf_macs.len() as f64,
        1,
        &device_profile,
        &jamf_macs,
    ));
    specs.push(fleet_level(
        NoiseKind::JamfToken,
        24.0 * 3.0,
        1,
        &flat,
        &empty,
    ));
    specs.push(fleet_level(
        NoiseKind::IntuneAppSync,
        0.05 * intune_all.len() as f64,
        2,
        &flat,
        &intune_all,
    ));
    specs.push(fleet_level(NoiseKind::Ws1ApiUser, 4.0, 1, &flat, &empty));
    for (i, admin) in fleet.admins.iter().enumerate() {
        if admin.reserved {
            continue;
        }
        let (kind, per_day, per_tick) = match admin.mdm {
            Mdm::Jamf => (NoiseKind::JamfAdmin, 14.0, 1),
            Mdm::Intune => (NoiseKind::IntuneAdmin, 5.0, 2),
            Mdm::Ws1 => (NoiseKind::Ws1Admin, 10.0, 1),
        };
        specs.push(Spec {
            kind,
            pool: match admin.mdm {
                Mdm::Jamf => jamf_macs.clone(),
                Mdm::Intune => intune_all.clone(),
                Mdm::Ws1 => ws1_all.clone(),
            },
            actor: i,
            weight: per_day * business_days * per_tick as f64,
            per_tick,
            cap: None,
            profile: Some(admin_profile(admin.tz, admin.hours)),
            batch_offset: 0,
        });
    }
    // A class with no devices has no noise.
    for s in &mut specs {
        if s.weight > 0.0
            && s.pool.is_empty()
            && !matches!(
                s.kind,
                NoiseKind::PatchTitle
                    | NoiseKind::ServerRestart
                    | NoiseKind::JamfApiRead
                    | NoiseKind::JamfToken
                    | NoiseKind::Ws1ApiUser
            )
        {
            s.weight = 0.0;
        }
    }

    let ticks = allocate(budget, &specs);
    specs
        .into_iter()
        .zip(ticks)
        .enumerate()
        .map(|(i, (spec, count))| {
            let sampler = match &spec.profile {
                Some(p) => Sampler::sorted(p.clone(), count),
                None => Sampler::batch(start, days, count, spec.batch_offset),
            };
            let mut s = NoiseStream {
                kind: spec.kind,
                rng: Rng::for_part(seed, "noise", i as u64),
                sampler,
                pool: spec.pool,
                actor: spec.actor,
                session_until: i64::MIN,
                cursor: 0,
                batch_day: -1,
                batch_id: 0,
                records: count * spec.per_tick,
                next: None,
            };
            s.next = s.sampler.next(&mut s.rng);
            s
        })
        .collect()
}

/// Picks an active device of the pool (a few random tries, then a scan; any device if none is active).
fn pick(rng: &mut Rng, fleet: &Fleet, pool: &[u32]) -> usize {
    for _ in 0..8 {
        let i = pool[rng.index(pool.len())] as usize;
        if fleet.devices[i].active {
            return i;
        }
    }
    let start = rng.index(pool.len());
    (0..pool.len())
        .map(|k| pool[(start + k) % pool.len()] as usize)
        .find(|i| fleet.devices[*i].active)
        .unwrap_or(pool[start] as usize)
}

/// A routine compliance failure for a device: an OS below the minimum when it runs an old release,
/// else a firewall or security-provider setting.
fn routine_setting(d: &super::fleet::Device) -> FailingSetting {
    let old_os = d.os + 1 == d.model.os.len() && d.model.os.len() > 1;
    match d.platform() {
        Platform::Windows if old_os => FailingSetting {
            policy: "Windows10CompliancePolicy",
            setting: "OsMinimumVersion",
            rule: "Device_OS_Version",
            expected: "GreaterEquals 10.0.22631",
            actual: d.os_version(),
            path: "DeviceStatus/OSVersion",
        },
        Platform::Windows => FailingSetting {
            policy: "Windows10CompliancePolicy",
            setting: "ActiveFirewallRequired",
            rule: "Device_Firewall_Enabled",
            expected: "Equals True",
            actual: "False",
            path: "DeviceStatus/Firewall/Status",
        },
        Platform::MacOs if old_os => FailingSetting {
            policy: "MacOSCompliancePolicy",
            setting: "OsMinimumVersion",
            rule: "Device_OS_Version",
            expected: "GreaterEquals 15.0",
            actual: d.os_version(),
            path: "SecurityInfo/OSVersion",
        },
        Platform::MacOs => FailingSetting {
            policy: "MacOSCompliancePolicy",
            setting: "FirewallEnabled",
            rule: "Device_Firewall_Enabled",
            expected: "Equals True",
            actual: "False",
            path: "SecurityInfo/FirewallEnabled",
        },
        Platform::Ios | Platform::IpadOs => FailingSetting {
            policy: "IosCompliancePolicy",
            setting: "OsMinimumVersion",
            rule: "Device_OS_Version",
            expected: "GreaterEquals 18.0",
            actual: d.os_version(),
            path: "DeviceStatus/OSVersion",
        },
        Platform::Android => FailingSetting {
            policy: "AndroidDeviceOwnerCompliancePolicy",
            setting: "SecurityRequireUpToDateSecurityProviders",
            rule: "Device_SecurityProvider_UpToDate",
            expected: "Equals True",
            actual: "False",
            path: "DeviceStatus/SecurityProvider",
        },
    }
}

/// Writes an Intune audit event to both audit feeds (Graph, then its diagnostic twin).
pub fn emit_audit(eng: &mut Engine<'_>, ev: &AuditEvent) -> Result<(u64, u64), TransformError> {
    intune::graph_audit(&mut eng.b, ev);
    let g = eng.emit(Feed::IntuneGraphAudit)?;
    intune::diag_audit(&mut eng.b, &eng.fleet, ev);
    let d = eng.emit(Feed::IntuneDiagnostic)?;
    Ok((g, d))
}

/// Writes one Jamf Log Stream record: `line` writes the (JSON-escaped) line inside the envelope.
pub fn emit_logstream(
    eng: &mut Engine<'_>,
    rng: &mut Rng,
    t: Micros,
    line: impl FnOnce(&mut super::buf::Buf),
) -> Result<u64, TransformError> {
    jamf::logstream_open(
        &mut eng.b,
        t,
        80_000 + rng.below(900_000) as i64,
        rng.below(1000) as u16,
    );
    line(&mut eng.b);
    jamf::logstream_close(&mut eng.b);
    eng.emit(Feed::JamfLogStream)
}

impl NoiseStream {
    /// Writes the record(s) of the current event and draws the next time.
    pub fn step(&mut self, eng: &mut Engine<'_>) -> Result<(), TransformError> {
        let Some(t) = self.next else {
            return Ok(());
        };
        self.render(eng, t)?;
        self.next = self.sampler.next(&mut self.rng);
        Ok(())
    }

    fn render(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), TransformError> {
        let rng = &mut self.rng;
        match self.kind {
            NoiseKind::ComputerCheckIn => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let trigger = if rng.chance(0.9) {
                    "CLIENT_CHECKIN"
                } else {
                    "LOGIN"
                };
                jamf::computer_check_in(&mut eng.b, &eng.fleet, &eng.fleet.devices[i], t, trigger);
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::ComputerInventory => {
                let i = pick(rng, &eng.fleet, &self.pool);
                jamf::device_webhook(
                    &mut eng.b,
                    &eng.fleet,
                    "ComputerInventoryCompleted",
                    &eng.fleet.devices[i],
                    t,
                );
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::ComputerPolicy => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let policy = rng.pick(&eng.fleet.jamf_policies).num;
                let ok = rng.chance(0.97);
                jamf::computer_policy_finished(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    policy,
                    ok,
                );
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::ComputerPatch => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let (p, title) = rng.pick(&eng.fleet.jamf_patch_policies);
                let version = format!(
                    "{}.0.{}.{}",
                    130 + rng.below(3),
                    6700 + rng.below(200),
                    rng.below(120)
                );
                let ok = rng.chance(0.95);
                jamf::computer_patch_completed(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    p.num,
                    &p.name,
                    *title,
                    &version,
                    ok,
                );
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::ComputerPush => {
                let i = pick(rng, &eng.fleet, &self.pool);
                jamf::push_sent(&mut eng.b, &eng.fleet.devices[i], t);
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::MobileCheckIn
            | NoiseKind::MobileInventory
            | NoiseKind::MobilePush
            | NoiseKind::MobileCommand => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let event = match self.kind {
                    NoiseKind::MobileCheckIn => "MobileDeviceCheckIn",
                    NoiseKind::MobileInventory => "MobileDeviceInventoryCompleted",
                    NoiseKind::MobilePush => "MobileDevicePushSent",
                    _ => "MobileDeviceCommandCompleted",
                };
                if self.kind == NoiseKind::MobilePush && rng.chance(0.4) {
                    // The server-level PushSent webhook for the same kind of push.
                    jamf::push_sent(&mut eng.b, &eng.fleet.devices[i], t);
                } else {
                    jamf::device_webhook(&mut eng.b, &eng.fleet, event, &eng.fleet.devices[i], t);
                }
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::Scep => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let payload = v4(rng.next_u128());
                // Some SCEP integrations forward the user's directory password: a secret in the record.
                let password = rng.chance(0.4).then(|| {
                    let u = eng
                        .fleet
                        .owner(&eng.fleet.devices[i])
                        .map_or("Staff", |u| u.last);
                    format!(
                        "{}{}!{}",
                        ["Winter", "Spring", "Summer", "Autumn"][rng.index(4)],
                        2024 + rng.below(3),
                        u
                    )
                });
                jamf::scep_challenge(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    payload,
                    password.as_deref(),
                );
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::SmartGroupComputers | NoiseKind::SmartGroupMobile => {
                let computers = self.kind == NoiseKind::SmartGroupComputers;
                let groups = if computers {
                    &eng.fleet.jamf_computer_groups
                } else {
                    &eng.fleet.jamf_mobile_groups
                };
                let g = rng.pick(groups);
                let mut added = Vec::new();
                let mut removed = Vec::new();
                for _ in 0..rng.range(0, 3) {
                    added.push(eng.fleet.devices[pick(rng, &eng.fleet, &self.pool)].jss_id);
                }
                for _ in 0..rng.range(if added.is_empty() { 1 } else { 0 }, 2) {
                    removed.push(eng.fleet.devices[pick(rng, &eng.fleet, &self.pool)].jss_id);
                }
                jamf::smart_group_change(
                    &mut eng.b, t, computers, g.num, &g.name, &added, &removed,
                );
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::DepAssigned => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let model = eng.fleet.devices[i].model.name;
                let serial = format!("K{:09X}", rng.below(0xF_FFFF_FFFF));
                let desc = [
                    "MACBOOK PRO 14 SPACE BLACK",
                    "MACBOOK AIR 13 MIDNIGHT",
                    "MAC MINI SILVER",
                ][rng.index(3)];
                jamf::device_added_to_dep(
                    &mut eng.b,
                    t,
                    &serial,
                    4000 + rng.below(6000) as u32,
                    desc,
                    model,
                );
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::PatchTitle => {
                let titles = [
                    (6, "Google Chrome"),
                    (7, "Microsoft Edge"),
                    (9, "Zoom"),
                    (11, "Slack"),
                    (13, "Firefox"),
                ];
                let (id, name) = titles[rng.index(titles.len())];
                let version = format!(
                    "{}.{}.{}",
                    120 + rng.below(20),
                    rng.below(10),
                    rng.below(300)
                );
                jamf::patch_title_updated(&mut eng.b, t, id, name, &version);
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::ServerRestart => {
                // A node goes down and comes back: the shutdown and startup alternate per stream.
                self.cursor += 1;
                let startup = self.cursor.is_multiple_of(2);
                jamf::server_event(&mut eng.b, t, startup, (self.cursor / 2 % 2) as u8);
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::JamfApiRead => {
                let clients = eng.fleet.api_clients_of(Mdm::Jamf);
                let c = &eng.fleet.api_clients[clients[0]];
                let macs = eng.fleet.class(DeviceClass::JamfMac);
                let mobile = eng.fleet.class(DeviceClass::JamfIphone);
                let (pool, otype): (&[u32], &str) = if rng.chance(0.7) || mobile.is_empty() {
                    (macs, "Computer")
                } else {
                    (mobile, "Mobile Device")
                };
                if pool.is_empty() {
                    jamf::rest_api_operation(
                        &mut eng.b,
                        t,
                        &super::buf::guid_string(c.id),
                        0,
                        "",
                        "Policy",
                        true,
                        "GET",
                    );
                } else {
                    let d = &eng.fleet.devices[pick(rng, &eng.fleet, pool)];
                    jamf::rest_api_operation(
                        &mut eng.b,
                        t,
                        &super::buf::guid_string(c.id),
                        u64::from(d.jss_id),
                        &d.name,
                        otype,
                        true,
                        "GET",
                    );
                }
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::JamfApiUpdate => {
                let d = &eng.fleet.devices[pick(rng, &eng.fleet, &self.pool)];
                jamf::rest_api_operation(
                    &mut eng.b,
                    t,
                    "svc-munki-sync",
                    u64::from(d.jss_id),
                    &d.name,
                    "Computer",
                    rng.chance(0.98),
                    "PUT",
                );
                eng.emit(Feed::JamfWebhooks)?;
            }
            NoiseKind::JamfToken => {
                let clients = eng.fleet.api_clients_of(Mdm::Jamf);
                let k = rng.index(clients.len() + 1);
                if k < clients.len() {
                    let c = eng.fleet.api_clients[clients[k]].clone();
                    let id = super::buf::guid_string(c.id);
                    emit_logstream(eng, rng, t, |b| {
                        jamf::access_line(
                            b,
                            t,
                            &id,
                            "Successful token creation",
                            c.ip,
                            "Universal API (OAuth)",
                        );
                    })?;
                } else {
                    emit_logstream(eng, rng, t, |b| {
                        jamf::access_line(
                            b,
                            t,
                            "svc-munki-sync",
                            "Successful token creation",
                            [10, 20, 0, 15],
                            "JSS (API)",
                        );
                    })?;
                }
            }
            NoiseKind::JamfAdmin => self.jamf_admin(eng, t)?,
            NoiseKind::IntuneManagedDevice => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let d = &mut eng.fleet.devices[i];
                // Devices that drifted get fixed by their users after a while.
                if !d.compliant && !d.reserved && rng.chance(0.08) {
                    d.compliant = true;
                }
                intune::managed_device(&mut eng.b, &eng.fleet, &eng.fleet.devices[i], t);
                eng.emit(Feed::IntuneManagedDevices)?;
            }
            NoiseKind::IntuneDevicesBatch | NoiseKind::IntuneComplianceBatch => {
                let day = t.div_euclid(DAY);
                if day != self.batch_day {
                    self.batch_day = day;
                    self.batch_id = v4(rng.next_u128());
                }
                // One record per device per batch: walk the pool, skipping devices no longer managed.
                let mut i = self.pool[self.cursor % self.pool.len()] as usize;
                for _ in 0..self.pool.len() {
                    if eng.fleet.devices[i].active {
                        break;
                    }
                    self.cursor += 1;
                    i = self.pool[self.cursor % self.pool.len()] as usize;
                }
                self.cursor += 1;
                let last_contact = t - rng.range(10 * MINUTE, 20 * HOUR);
                if self.kind == NoiseKind::IntuneDevicesBatch {
                    intune::diag_device(
                        &mut eng.b,
                        &eng.fleet,
                        &eng.fleet.devices[i],
                        t,
                        self.batch_id,
                        last_contact,
                    );
                } else {
                    intune::diag_compliance_org(
                        &mut eng.b,
                        &eng.fleet,
                        &eng.fleet.devices[i],
                        t,
                        last_contact,
                    );
                }
                eng.emit(Feed::IntuneDiagnostic)?;
            }
            NoiseKind::IntuneNoncompliant => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let setting = routine_setting(&eng.fleet.devices[i]);
                if !eng.fleet.devices[i].reserved {
                    eng.fleet.devices[i].compliant = false;
                }
                let guid = v4(rng.next_u128());
                let tick = rng.below(10) as u8;
                intune::diag_noncompliant(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    tick,
                    &setting,
                    guid,
                );
                eng.emit(Feed::IntuneDiagnostic)?;
            }
            NoiseKind::IntuneEnrollment => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let ok = rng.chance(0.85);
                let tick = rng.below(10) as u8;
                intune::diag_enrollment(&mut eng.b, &eng.fleet, &eng.fleet.devices[i], t, tick, ok);
                eng.emit(Feed::IntuneDiagnostic)?;
            }
            NoiseKind::IntuneAppSync => {
                let apps = eng.fleet.api_clients_of(Mdm::Intune);
                let app = eng.fleet.api_clients[apps[0]].clone();
                let i = pick(rng, &eng.fleet, &self.pool);
                let ev = intune::device_action(
                    &eng.fleet.devices[i],
                    "syncDevice ManagedDevice",
                    Actor::App(app),
                    t,
                    rng,
                    true,
                );
                emit_audit(eng, &ev)?;
            }
            NoiseKind::IntuneAdmin => self.intune_admin(eng, t)?,
            NoiseKind::Ws1Inventory => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let event = *rng.pick(&[
                    "SecurityInformationConfirmed",
                    "DeviceInformationConfirmed",
                    "CertificateListConfirmed",
                    "ProfileListConfirmed",
                    "AppListConfirmed",
                ]);
                ws1::device_event(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    event,
                    "sysadmin",
                    "Command",
                );
                eng.emit(Feed::Ws1Syslog)?;
            }
            NoiseKind::Ws1Compliance | NoiseKind::Ws1Compromised | NoiseKind::Ws1OsChanged => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let reserved = eng.fleet.devices[i].reserved;
                let d = &mut eng.fleet.devices[i];
                let (id, etype, compromised) = match self.kind {
                    NoiseKind::Ws1Compliance => {
                        if !reserved {
                            d.compliant = !d.compliant || rng.chance(0.3);
                        }
                        (177, "Compliance Status Changed", "NotCompromised")
                    }
                    NoiseKind::Ws1Compromised => {
                        if !reserved {
                            d.compliant = false;
                        }
                        (178, "Compromised Status Changed", "Compromised")
                    }
                    _ => {
                        if !reserved && d.os > 0 {
                            d.os -= 1;
                        }
                        (186, "OS Changed", "NotCompromised")
                    }
                };
                let compliance = if d.compliant {
                    "Compliant"
                } else {
                    "NonCompliant"
                };
                let tick = rng.below(10) as u8;
                ws1::notification(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    tick,
                    id,
                    etype,
                    &ws1::NotificationState {
                        enrollment: "Enrolled",
                        compromised,
                        compliance,
                    },
                );
                eng.emit(Feed::Ws1Notifications)?;
            }
            NoiseKind::Ws1Admin => self.ws1_admin(eng, t)?,
            NoiseKind::Ws1ApiUser => {
                let u = &eng.fleet.users[rng.index(eng.fleet.users.len())];
                let event = if rng.chance(0.3) {
                    "UserAdded"
                } else {
                    "UserModified"
                };
                let id = u.ws1_user_id.to_string();
                ws1::console_event(
                    &mut eng.b,
                    t,
                    &ws1::SyslogEvent {
                        console: true,
                        event,
                        user: "svc-hr-sync",
                        source: "API",
                        module: "Users",
                        category: "Users",
                    },
                    &[("User", &u.username), ("UserId", &id), ("Email", &u.upn)],
                );
                eng.emit(Feed::Ws1Syslog)?;
            }
        }
        Ok(())
    }

    /// A Jamf admin: a tick outside a session signs in; inside one it edits or signs out.
    fn jamf_admin(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), TransformError> {
        let rng = &mut self.rng;
        let admin = eng.fleet.admins[self.actor].clone();
        let sso = admin.jamf_id == -1;
        if t > self.session_until {
            let failed = rng.chance(0.04);
            let (status, entry) = if sso {
                (
                    if failed {
                        "Failed Login"
                    } else {
                        "Successful Login"
                    },
                    "Single Sign On (SAML)",
                )
            } else {
                (
                    if failed {
                        "Failed Login"
                    } else {
                        "Successful Login"
                    },
                    "JSS",
                )
            };
            emit_logstream(eng, rng, t, |b| {
                jamf::access_line(b, t, &admin.account, status, admin.ip, entry)
            })?;
            if !failed {
                self.session_until = t + 50 * MINUTE;
            }
            return Ok(());
        }
        // Auditors only look: their sessions are sign-ins and sign-outs.
        if sso && (admin.role == "Auditor" || rng.chance(0.15)) {
            emit_logstream(eng, rng, t, |b| {
                jamf::access_line(
                    b,
                    t,
                    &admin.account,
                    "Successful SSO Logout",
                    admin.ip,
                    "Single Sign On (SAML)",
                );
            })?;
            self.session_until = i64::MIN;
            return Ok(());
        }
        self.session_until = t + 50 * MINUTE;
        let actor = jamf::CmActor {
            name: &admin.account,
            id: admin.jamf_id,
        };
        let thread = rng.below(400) as u32;
        let helpdesk = admin.role == "Help Desk";
        let choice = if helpdesk {
            4 + rng.index(2)
        } else {
            rng.index(9)
        };
        let fleet = &eng.fleet;
        let (op, otype, details): (&str, &str, Vec<(&str, String)>) = match choice {
            0 => {
                let p = rng.pick(&fleet.jamf_policies);
                let scope = rng.pick(&fleet.jamf_computer_groups).name.clone();
                (
                    "UPDATE",
                    "Policy",
                    vec![
                        ("ID", p.num.to_string()),
                        ("Name", p.name.clone()),
                        ("Enabled", "true".into()),
                        ("Frequency", "Once per computer".into()),
                        ("Scope", scope),
                    ],
                )
            }
            1 => {
                let p = rng.pick(&fleet.jamf_mac_profiles);
                (
                    "UPDATE",
                    "OS X Configuration Profile",
                    vec![
                        ("ID", p.num.to_string()),
                        ("Name", p.name.clone()),
                        ("Distribution Method", "Install Automatically".into()),
                        ("Level", "Computer Level".into()),
                    ],
                )
            }
            2 => {
                let p = rng.pick(&fleet.jamf_mobile_profiles);
                (
                    "UPDATE",
                    "Mobile Device Configuration Profile",
                    vec![("ID", p.num.to_string()), ("Name", p.name.clone())],
                )
            }
            3 => {
                let g = rng.pick(&fleet.jamf_computer_groups);
                (
                    "UPDATE",
                    "Smart Computer Group",
                    vec![
                        ("ID", g.num.to_string()),
                        ("Name", g.name.clone()),
                        ("Criteria", "Operating System Version less than 15.0".into()),
                    ],
                )
            }
            4 => {
                let d = &fleet.devices[pick(rng, fleet, &self.pool)];
                (
                    "UPDATE",
                    "Computer",
                    vec![
                        ("ID", d.jss_id.to_string()),
                        ("Name", d.name.clone()),
                        ("Asset Tag", format!("NW-{:06}", d.jss_id * 7 % 1_000_000)),
                    ],
                )
            }
            5 => {
                let pool = fleet.class(DeviceClass::JamfIpad);
                if pool.is_empty() {
                    (
                        "UPDATE",
                        "Computer PreStage Enrollment",
                        vec![("ID", "8".into()), ("Name", "NW Staff Macs - ADE".into())],
                    )
                } else {
                    let d = &fleet.devices[pick(rng, fleet, pool)];
                    (
                        "UPDATE",
                        "Mobile Device",
                        vec![
                            ("ID", d.jss_id.to_string()),
                            ("Name", d.name.clone()),
                            ("Room", format!("{}", 1 + rng.below(40))),
                        ],
                    )
                }
            }
            6 => {
                let s = rng.pick(&fleet.jamf_scripts);
                (
                    "UPDATE",
                    "Script",
                    vec![("ID", s.num.to_string()), ("Name", s.name.clone())],
                )
            }
            7 => (
                "UPDATE",
                "Computer PreStage Enrollment",
                vec![
                    ("ID", "8".into()),
                    ("Name", "NW Staff Macs - ADE".into()),
                    ("Assigned Devices", (20 + rng.below(30)).to_string()),
                    ("Enrolled Devices", (10 + rng.below(20)).to_string()),
                ],
            ),
            _ => {
                let n = 70 + rng.below(200);
                (
                    "CREATE",
                    "Static Computer Group",
                    vec![
                        ("ID", n.to_string()),
                        (
                            "Name",
                            format!("Ticket INC{:06} - affected Macs", rng.below(1_000_000)),
                        ),
                    ],
                )
            }
        };
        let details: Vec<(&str, &str)> = details.iter().map(|(k, v)| (*k, v.as_str())).collect();
        emit_logstream(eng, rng, t, |b| {
            jamf::change_line(b, t, thread, actor, op, otype, &details)
        })?;
        Ok(())
    }

    /// An Intune admin: a routine edit or a device action (Graph + diagnostic).
    fn intune_admin(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), TransformError> {
        let rng = &mut self.rng;
        let admin = &eng.fleet.admins[self.actor];
        let actor = Actor::User {
            upn: admin.account.clone(),
            object_id: admin.object_id,
        };
        let helpdesk = admin.role.starts_with("Help Desk");
        let fleet = &eng.fleet;
        let choice = if helpdesk {
            5 + rng.index(2)
        } else {
            rng.index(10)
        };
        let ev = match choice {
            9 => {
                // A remediation script: its bodies are secrets the mappings redact by property name.
                let name = *rng.pick(&[
                    "Clear-TeamsCache",
                    "Repair-OneDriveSync",
                    "Reset-WindowsUpdate",
                    "Remove-StaleProfiles",
                ]);
                let detect = format!(
                    "$p = \"$env:LOCALAPPDATA\\Northwind\\{name}.flag\"\r\nif (Test-Path $p) {{ exit 1 }} else {{ exit 0 }} # {}\r\n",
                    rng.below(1_000_000)
                );
                let remediate = format!(
                    "Start-Transcript -Path \"$env:TEMP\\{name}.log\"\r\nNew-Item -ItemType File -Force \"$env:LOCALAPPDATA\\Northwind\\{name}.flag\" # {}\r\n",
                    rng.below(1_000_000)
                );
                let id = super::buf::guid_string(v4(rng.next_u128()));
                intune::simple_event(
                    "Create DeviceHealthScript",
                    "DeviceConfiguration",
                    Op::Create,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(name.to_owned()),
                        rtype: "DeviceHealthScript",
                        id,
                        props: vec![
                            Prop::set("DisplayName", name),
                            Prop::set("Publisher", "Northwind IT"),
                            Prop::set("RunAsAccount", "User"),
                            Prop::set(
                                "DetectionScriptContent",
                                super::buf::base64(detect.as_bytes()),
                            ),
                            Prop::set(
                                "RemediationScriptContent",
                                super::buf::base64(remediate.as_bytes()),
                            ),
                            Prop::set("RunAs32Bit", "False"),
                        ],
                    },
                )
            }
            8 => {
                // An app assignment removed (its display name is the "<null>" literal).
                let app = rng.pick(&fleet.intune_apps);
                let group = rng.pick(&fleet.intune_groups);
                intune::simple_event(
                    "Delete MobileAppAssignment",
                    "Application",
                    Op::Delete,
                    Category::Application,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: None,
                        rtype: "MobileAppAssignment",
                        id: format!(
                            "{}_{}_0",
                            super::buf::guid_string(app.guid),
                            super::buf::guid_string(group.guid)
                        ),
                        props: Vec::new(),
                    },
                )
            }
            5 | 6 => {
                let d = &fleet.devices[pick(rng, fleet, &self.pool)];
                let verb = *rng.pick(&[
                    "syncDevice ManagedDevice",
                    "rebootNow ManagedDevice",
                    "remoteLock ManagedDevice",
                    "syncDevice ManagedDevice",
                ]);
                let ok = rng.chance(0.97);
                intune::device_action(d, verb, actor, t, rng, ok)
            }
            0 | 7 => {
                let c = rng.pick(&fleet.intune_configs);
                let v = 2 + rng.below(9);
                let mut props = vec![Prop::change("Version", v.to_string(), (v + 1).to_string())];
                match rng.index(3) {
                    0 => props.push(Prop::change("CameraBlocked", "false", "true")),
                    1 => props.push(Prop::change(
                        "Description",
                        "<null>",
                        format!("Updated per change CHG{:06}", rng.below(1_000_000)),
                    )),
                    _ => props.push(Prop::change("BluetoothBlocked", "true", "false")),
                }
                // Intune's Patch quirk: an unchanged collection re-emitted with an empty new value.
                props.push(Prop::change("$Collection.RoleScopeTagIds[0]", "0", ""));
                props.push(Prop::api_version(true));
                intune::simple_event(
                    "Patch DeviceConfiguration",
                    "DeviceConfiguration",
                    Op::Patch,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(c.name.clone()),
                        rtype: "DeviceConfiguration",
                        id: super::buf::guid_string(c.guid),
                        props,
                    },
                )
            }
            1 => {
                let c = rng.pick(&fleet.intune_settings);
                intune::simple_event(
                    "Patch DeviceManagementConfigurationPolicy",
                    "DeviceConfiguration",
                    Op::Patch,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(c.name.clone()),
                        rtype: "DeviceManagementConfigurationPolicy",
                        id: super::buf::guid_string(c.guid),
                        props: vec![
                            Prop::change("Description", "<null>", "Reviewed quarterly"),
                            Prop::change("SettingCount", "12", "13"),
                            Prop::api_version(true),
                        ],
                    },
                )
            }
            2 => {
                let c = rng.pick(&fleet.intune_compliance);
                intune::simple_event(
                    "Patch DeviceCompliancePolicy",
                    "Compliance",
                    Op::Patch,
                    Category::Compliance,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(c.name.clone()),
                        rtype: "DeviceCompliancePolicy",
                        id: super::buf::guid_string(c.guid),
                        props: vec![
                            Prop::change("OsMinimumVersion", "\"10.0.19045\"", "\"10.0.22631\""),
                            Prop::change("Version", "3", "4"),
                            Prop::api_version(true),
                        ],
                    },
                )
            }
            3 => {
                let app = rng.pick(&fleet.intune_apps);
                let group = rng.pick(&fleet.intune_groups);
                let required = rng.chance(0.15);
                let app_id = super::buf::guid_string(app.guid);
                let group_id = super::buf::guid_string(group.guid);
                let mut ev = intune::simple_event(
                    "Create MobileAppAssignment",
                    "Application",
                    Op::Create,
                    Category::Application,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(app.name.clone()),
                        rtype: "MobileApp",
                        id: app_id.clone(),
                        props: Vec::new(),
                    },
                );
                ev.resources.push(Resource {
                    name: None,
                    rtype: "MobileAppAssignment",
                    id: format!("{app_id}_{group_id}_0"),
                    props: vec![
                        Prop::set("Intent", if required { "Required" } else { "Available" }),
                        Prop::set("Target.GroupId", group_id),
                        Prop::set("Target.Type", "GroupAssignmentTarget"),
                        Prop::api_version(false),
                    ],
                });
                ev
            }
            _ => {
                let f = rng.pick(&fleet.intune_filters);
                intune::simple_event(
                    "Patch DeviceAndAppManagementAssignmentFilter",
                    "DeviceConfiguration",
                    Op::Patch,
                    Category::DeviceConfiguration,
                    actor,
                    t,
                    rng,
                    Resource {
                        name: Some(f.name.clone()),
                        rtype: "DeviceAndAppManagementAssignmentFilter",
                        id: super::buf::guid_string(f.guid),
                        props: vec![Prop::change(
                            "Rule",
                            "(device.deviceOwnership -eq \"Corporate\")",
                            "(device.deviceOwnership -eq \"Corporate\") and (device.osVersion -startsWith \"10.0.22\")",
                        )],
                    },
                )
            }
        };
        emit_audit(eng, &ev)?;
        Ok(())
    }

    /// A WS1 admin: console sessions, profile and group edits, device commands.
    fn ws1_admin(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), TransformError> {
        let rng = &mut self.rng;
        let admin = eng.fleet.admins[self.actor].account.clone();
        let console = |event, module, category| ws1::SyslogEvent {
            console: true,
            event,
            user: &admin,
            source: "Console",
            module,
            category,
        };
        if t > self.session_until {
            let failed = rng.chance(0.04);
            let ev = if failed {
                "AdminUserLoginAttemptFailed"
            } else {
                "AdminUserLoggedIn"
            };
            ws1::console_event(&mut eng.b, t, &console(ev, "Admin", "Login"), &[]);
            eng.emit(Feed::Ws1Syslog)?;
            if !failed {
                self.session_until = t + 40 * MINUTE;
            }
            return Ok(());
        }
        match rng.index(10) {
            0 | 1 => {
                ws1::console_event(
                    &mut eng.b,
                    t,
                    &console("AdminUserLogout", "Admin", "Login"),
                    &[],
                );
                self.session_until = i64::MIN;
            }
            2..=4 => {
                let p = rng.pick(&eng.fleet.ws1_profiles);
                let id = p.num.to_string();
                let version = (2 + rng.below(8)).to_string();
                ws1::console_event(
                    &mut eng.b,
                    t,
                    &console("ProfileModified", "Profiles", "Profiles"),
                    &[
                        ("Profile", &p.name),
                        ("ProfileId", &id),
                        ("Version", &version),
                    ],
                );
                self.session_until = t + 40 * MINUTE;
            }
            5 | 6 => {
                let g = rng.pick(&eng.fleet.ws1_smart_groups);
                let id = g.num.to_string();
                ws1::console_event(
                    &mut eng.b,
                    t,
                    &console("SmartGroupModified", "Groups", "SmartGroup"),
                    &[("SmartGroupName", &g.name), ("SmartGroupId", &id)],
                );
                self.session_until = t + 40 * MINUTE;
            }
            7 => {
                let a = rng.pick(&eng.fleet.ws1_apps);
                let id = a.num.to_string();
                ws1::console_event(
                    &mut eng.b,
                    t,
                    &console("ApplicationModified", "Apps", "Application"),
                    &[("ApplicationName", &a.name), ("ApplicationId", &id)],
                );
                self.session_until = t + 40 * MINUTE;
            }
            _ => {
                let i = pick(rng, &eng.fleet, &self.pool);
                let event = if rng.chance(0.3) {
                    "DeviceLock"
                } else {
                    "DeviceQuery"
                };
                ws1::device_event(
                    &mut eng.b,
                    &eng.fleet,
                    &eng.fleet.devices[i],
                    t,
                    event,
                    &admin,
                    "Command",
                );
                self.session_until = t + 40 * MINUTE;
            }
        }
        eng.emit(Feed::Ws1Syslog)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(weight: f64, per_tick: u64, cap: Option<u64>) -> Spec {
        Spec {
            kind: NoiseKind::ComputerCheckIn,
            pool: Rc::new(Vec::new()),
            actor: 0,
            weight,
            per_tick,
            cap,
            profile: None,
            batch_offset: 0,
        }
    }

    #[test]
    fn allocation_is_exact_proportional_and_respects_caps() {
        let specs = vec![
            spec(100.0, 1, None),
            spec(50.0, 2, None),
            spec(50.0, 1, Some(10)),
            spec(0.0, 1, None),
        ];
        for budget in [0u64, 1, 7, 1_000, 123_457] {
            let t = allocate(budget, &specs);
            let total: u64 = t.iter().zip(&specs).map(|(n, s)| n * s.per_tick).sum();
            assert_eq!(total, budget, "budget {budget}: {t:?}");
            assert!(t[2] <= 10);
            assert_eq!(t[3], 0);
        }
        let t = allocate(100_000, &specs);
        assert_eq!(t[2], 10);
        // The rest splits 2:1 between the first two (in records).
        let r0 = t[0] as f64;
        let r1 = (t[1] * 2) as f64;
        assert!((r0 / r1 - 2.0).abs() < 0.01, "{t:?}");
    }
}
