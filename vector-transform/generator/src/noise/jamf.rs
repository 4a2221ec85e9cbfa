//! Jamf Pro noise: computer and mobile-device webhooks, server and API-client activity, Log Stream
//! tokens, and the admins' console sessions (Log Stream access + change management).

use crate::GenerateError;
use crate::buf::v4;
use crate::engine::Engine;
use crate::feeds::Feed;
use crate::fleet::{DeviceClass, Mdm};
use crate::render::jamf;
use crate::time::{MINUTE, Micros};

use super::{NoiseKind, NoiseStream, emit_logstream, pick};

impl NoiseStream {
    /// Jamf Pro activity: webhooks, Log Stream tokens, admin sessions.
    pub(super) fn render_jamf(
        &mut self,
        eng: &mut Engine<'_>,
        t: Micros,
    ) -> Result<(), GenerateError> {
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
                        &crate::buf::guid_string(c.id),
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
                        &crate::buf::guid_string(c.id),
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
                    let id = crate::buf::guid_string(c.id);
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
            kind => unreachable!("{kind:?} is not a Jamf Pro stream"),
        }
        Ok(())
    }

    /// A Jamf admin: a tick outside a session signs in; inside one it edits or signs out.
    fn jamf_admin(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), GenerateError> {
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
}
