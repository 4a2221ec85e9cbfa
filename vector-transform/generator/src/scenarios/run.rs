//! Running a planned scenario: each step writes its native record(s) through the engine, applies its
//! device-state changes, and adds what it wrote to the scenario's ground truth.

use crate::GenerateError;
use crate::buf::guid_string;
use crate::engine::Engine;
use crate::feeds::Feed;
use crate::ground_truth::{GtExpect, GtRecord};
use crate::noise::{emit_audit, emit_logstream};
use crate::render::intune;
use crate::render::{jamf, ws1};
use crate::time::{Micros, SECOND};

use super::{Effect, Rec, ScenarioRun, rfc3339, trunc};

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
    pub fn step(&mut self, eng: &mut Engine<'_>) -> Result<(), GenerateError> {
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
