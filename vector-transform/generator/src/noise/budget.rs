//! Planning the noise: one stream per kind of activity and actor with its rhythm, and the record
//! budget split over the streams in proportion to their expected volume.

use std::rc::Rc;

use crate::engine::{Profile, Sampler};
use crate::fleet::{DeviceClass, Fleet, Mdm, OFFICES};
use crate::rng::Rng;
use crate::time::{DAY, HOUR, MINUTE, Micros, SECOND, civil};

use super::{NoiseKind, NoiseStream, Spec};

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
pub(super) fn allocate(budget: u64, specs: &[Spec]) -> Vec<u64> {
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
