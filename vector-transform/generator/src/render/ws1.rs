//! Workspace ONE UEM wire formats: the SIEM syslog line (RFC 5424 header + the default template with
//! its labels run together, as most collectors receive it) and event notifications (JSON). Field order
//! and spelling follow `vrl-mappings/sources/omnissa_workspace_one/samples/`.

use super::super::buf::Buf;
use super::super::fleet::{Device, Fleet, Platform};
use super::super::time::{self, Micros};

/// The syslog labels of one event.
#[derive(Debug, Clone, Copy)]
pub struct SyslogEvent<'a> {
    /// Console or Device.
    pub console: bool,
    /// Event name (`ProfileModified`, `ClearPasscode`).
    pub event: &'a str,
    /// The admin (or `sysadmin` for device-initiated events).
    pub user: &'a str,
    /// Event Source (Console, Device, API).
    pub source: &'a str,
    /// Event Module (Admin, Profiles, Devices, Users, ...).
    pub module: &'a str,
    /// Event Category (Login, Profiles, Command, ...).
    pub category: &'a str,
}

/// Writes the syslog header and labels up to `Event Data: ` (the caller writes the data, then calls
/// [`syslog_close`]).
pub fn syslog_open(b: &mut Buf, t: Micros, e: &SyslogEvent<'_>) {
    b.s("<134>1 ")
        .t(|o| time::iso_millis_z(o, t))
        .s(" uem01 AirWatch - - - AirWatch Syslog Details are as follows Event Type: ")
        .s(if e.console { "Console" } else { "Device" })
        .s("Event: ")
        .s(e.event)
        .s("User: ")
        .s(e.user)
        .s("Event Source: ")
        .s(e.source)
        .s("Event Module: ")
        .s(e.module)
        .s("Event Category: ")
        .s(e.category)
        .s("Event Data: ");
}

/// Writes `Event Timestamp: <Month d, yyyy HH:mm:ss>` (UTC: the UEM server's zone).
pub fn syslog_close(b: &mut Buf, t: Micros, space_before: bool) {
    if space_before {
        b.s(" ");
    }
    b.s("Event Timestamp: ").t(|o| time::ws1_syslog(o, t));
}

/// Device-event data: `Device: <friendly name>User: <admin> EnrollmentUser: <user>`.
pub fn device_data(b: &mut Buf, fleet: &Fleet, d: &Device, admin: &str) {
    b.s("Device: ")
        .s(&d.name)
        .s("User: ")
        .s(admin)
        .s(" EnrollmentUser: ")
        .s(fleet.owner(d).map_or("", |u| u.username.as_str()));
}

/// A whole device event line.
pub fn device_event(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    event: &str,
    admin: &str,
    category: &str,
) {
    syslog_open(
        b,
        t,
        &SyslogEvent {
            console: false,
            event,
            user: admin,
            source: "Device",
            module: "Devices",
            category,
        },
    );
    device_data(b, fleet, d, admin);
    syslog_close(b, t, true);
}

/// A whole console event line with `Key=Value;` data (empty data for sign-ins).
pub fn console_event(b: &mut Buf, t: Micros, e: &SyslogEvent<'_>, data: &[(&str, &str)]) {
    syslog_open(b, t, e);
    for (i, (k, v)) in data.iter().enumerate() {
        if i > 0 {
            b.s(";");
        }
        b.s(k).s("=").s(v);
    }
    syslog_close(b, t, false);
}

/// The state a notification reports.
#[derive(Debug, Clone, Copy)]
pub struct NotificationState<'a> {
    /// Enrolled, Unenrolled, EnterpriseWipePending, ...
    pub enrollment: &'a str,
    /// "", Compromised, NotCompromised.
    pub compromised: &'a str,
    /// Compliant, NonCompliant, PendingComplianceCheck, NotAvailable.
    pub compliance: &'a str,
}

fn platform_name(d: &Device) -> &'static str {
    match d.platform() {
        Platform::Ios | Platform::IpadOs => "Apple",
        Platform::Android => "Android",
        Platform::MacOs => "AppleOsX",
        Platform::Windows => "WinRT",
    }
}

/// An event notification (JSON REST callback).
#[allow(clippy::too_many_arguments)]
pub fn notification(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    tick: u8,
    event_id: u32,
    event_type: &str,
    state: &NotificationState<'_>,
) {
    let user = fleet.owner(d);
    b.s("{\"EventId\":")
        .u(u64::from(event_id))
        .s(",\"EventType\":")
        .q(event_type)
        .s(",\"DeviceId\":")
        .u(u64::from(d.ws1_id))
        .s(",\"DeviceFriendlyName\":")
        .q(&d.name)
        .s(",\"EnrollmentEmailAddress\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"EnrollmentUserName\":")
        .q(user.map_or("", |u| u.username.as_str()))
        .s(",\"EventTime\":")
        .qiso7(t, tick)
        .s(",\"EnrollmentStatus\":")
        .q(state.enrollment)
        .s(",\"CompromisedStatus\":")
        .q(state.compromised)
        .s(",\"CompromisedTimeStamp\":")
        .qiso7(t + 1_300_000 + i64::from(tick) * 1000, tick)
        .s(",\"ComplianceStatus\":")
        .q(state.compliance)
        .s(",\"PhoneNumber\":\"\",\"Udid\":")
        .q(&d.udid)
        .s(",\"SerialNumber\":")
        .q(&d.serial)
        .s(",\"MACAddress\":\"")
        .mac(d.mac, None)
        .s("\",\"DeviceIMEI\":")
        .q(&d.imei)
        .s(",\"EnrollmentUserId\":")
        .u(u64::from(user.map_or(0, |u| u.ws1_user_id)))
        .s(",\"AssetNumber\":")
        .q(&d.udid)
        .s(",\"Platform\":")
        .q(platform_name(d))
        .s(",\"OperatingSystem\":")
        .q(d.os_version())
        .s(",\"Ownership\":")
        .s(if d.company {
            "\"CorporateDedicated\""
        } else {
            "\"EmployeeOwned\""
        })
        .s(",\"SIMMCC\":\"310\",\"CurrentMCC\":\"310\",\"OrganizationGroupName\":")
        .q(fleet.ws1_org_group(d))
        .s(",\"DeviceUUID\":")
        .qguid(d.management_id)
        .s(",\"EnrollmentUserUUID\":");
    match user {
        Some(u) => b.qguid(u.object_id),
        None => b.s("null"),
    };
    b.s("}");
}
