//! Workspace ONE noise: inventory confirmations and console events (syslog), status-change
//! notifications, the HR sync API user, and the admins' console sessions and device commands.

use crate::GenerateError;
use crate::engine::Engine;
use crate::feeds::Feed;
use crate::render::ws1;
use crate::time::{MINUTE, Micros};

use super::{NoiseKind, NoiseStream, pick};

impl NoiseStream {
    /// Workspace ONE activity: syslog events and notifications.
    pub(super) fn render_ws1(
        &mut self,
        eng: &mut Engine<'_>,
        t: Micros,
    ) -> Result<(), GenerateError> {
        let rng = &mut self.rng;
        match self.kind {
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
            kind => unreachable!("{kind:?} is not a Workspace ONE stream"),
        }
        Ok(())
    }

    /// A WS1 admin: console sessions, profile and group edits, device commands.
    fn ws1_admin(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), GenerateError> {
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
