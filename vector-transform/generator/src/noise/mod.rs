//! Ordinary activity, the bulk of every estate: device check-ins, inventory, pushes, policy runs,
//! snapshots and daily batches, API clients polling, and admins' routine sessions and edits.
//!
//! Each kind of activity is one stream with a rate (per device of a class per day, per admin per
//! business day, or per estate per day). The record budget left after the planted scenarios is split
//! over the streams in proportion to their expected volume (largest remainder, so the total is exact),
//! and each stream draws exactly its count of event times, sorted, from its own daily/weekly rhythm.

mod budget;
mod intune;
mod jamf;
#[cfg(test)]
mod tests;
mod ws1;

use std::rc::Rc;

use super::engine::{Engine, Profile, Sampler};
use super::feeds::Feed;
use super::fleet::{Fleet, Mdm};
use super::render;
use super::render::intune::AuditEvent;
use super::rng::Rng;
use super::time::Micros;
use crate::GenerateError;

pub use budget::plan;

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

impl NoiseKind {
    /// The MDM whose feeds the stream writes to.
    fn mdm(self) -> Mdm {
        match self {
            NoiseKind::ComputerCheckIn
            | NoiseKind::ComputerInventory
            | NoiseKind::ComputerPolicy
            | NoiseKind::ComputerPatch
            | NoiseKind::ComputerPush
            | NoiseKind::MobileCheckIn
            | NoiseKind::MobileInventory
            | NoiseKind::MobilePush
            | NoiseKind::MobileCommand
            | NoiseKind::Scep
            | NoiseKind::SmartGroupComputers
            | NoiseKind::SmartGroupMobile
            | NoiseKind::DepAssigned
            | NoiseKind::PatchTitle
            | NoiseKind::ServerRestart
            | NoiseKind::JamfApiRead
            | NoiseKind::JamfApiUpdate
            | NoiseKind::JamfToken
            | NoiseKind::JamfAdmin => Mdm::Jamf,
            NoiseKind::IntuneManagedDevice
            | NoiseKind::IntuneDevicesBatch
            | NoiseKind::IntuneComplianceBatch
            | NoiseKind::IntuneNoncompliant
            | NoiseKind::IntuneEnrollment
            | NoiseKind::IntuneAppSync
            | NoiseKind::IntuneAdmin => Mdm::Intune,
            NoiseKind::Ws1Inventory
            | NoiseKind::Ws1Compliance
            | NoiseKind::Ws1Compromised
            | NoiseKind::Ws1OsChanged
            | NoiseKind::Ws1Admin
            | NoiseKind::Ws1ApiUser => Mdm::Ws1,
        }
    }
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

/// Writes an Intune audit event to both audit feeds (Graph, then its diagnostic twin).
pub fn emit_audit(eng: &mut Engine<'_>, ev: &AuditEvent) -> Result<(u64, u64), GenerateError> {
    render::intune::graph_audit(&mut eng.b, ev);
    let g = eng.emit(Feed::IntuneGraphAudit)?;
    render::intune::diag_audit(&mut eng.b, &eng.fleet, ev);
    let d = eng.emit(Feed::IntuneDiagnostic)?;
    Ok((g, d))
}

/// Writes one Jamf Log Stream record: `line` writes the (JSON-escaped) line inside the envelope.
pub fn emit_logstream(
    eng: &mut Engine<'_>,
    rng: &mut Rng,
    t: Micros,
    line: impl FnOnce(&mut super::buf::Buf),
) -> Result<u64, GenerateError> {
    render::jamf::logstream_open(
        &mut eng.b,
        t,
        80_000 + rng.below(900_000) as i64,
        rng.below(1000) as u16,
    );
    line(&mut eng.b);
    render::jamf::logstream_close(&mut eng.b);
    eng.emit(Feed::JamfLogStream)
}

impl NoiseStream {
    /// Writes the record(s) of the current event and draws the next time.
    pub fn step(&mut self, eng: &mut Engine<'_>) -> Result<(), GenerateError> {
        let Some(t) = self.next else {
            return Ok(());
        };
        self.render(eng, t)?;
        self.next = self.sampler.next(&mut self.rng);
        Ok(())
    }

    /// Writes the current event's record(s) with its vendor's renderer.
    fn render(&mut self, eng: &mut Engine<'_>, t: Micros) -> Result<(), GenerateError> {
        match self.kind.mdm() {
            Mdm::Jamf => self.render_jamf(eng, t),
            Mdm::Intune => self.render_intune(eng, t),
            Mdm::Ws1 => self.render_ws1(eng, t),
        }
    }
}
