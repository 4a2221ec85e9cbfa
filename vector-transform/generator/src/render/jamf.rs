//! Jamf Pro wire formats: webhooks (JSON envelope + Computer / MobileDevice objects) and Log Stream
//! lines (`[JSSACCESSLOG]`, `[CHANGEMANAGEMENT]` with detail lines) in the HTTPS `{"time","message"}`
//! envelope. Field order and spelling follow `vrl-mappings/sources/jamf_pro/samples/`.

use super::super::buf::Buf;
use super::super::fleet::{DEPARTMENTS, Device, Fleet, OFFICES, Platform};
use super::super::time::{self, Micros};

/// Webhook definitions of the Jamf Pro server: (event, id, name, epoch in seconds instead of ms).
/// Two definitions were created on an older server version and still send 10-digit seconds.
pub fn webhook_def(event: &str) -> (u32, &'static str, bool) {
    match event {
        "ComputerAdded" => (3, "Audit - ComputerAdded", false),
        "ComputerCheckIn" => (7, "Audit - ComputerCheckIn", true),
        "ComputerInventoryCompleted" => (8, "Audit - InventoryCompleted", false),
        "ComputerPushCapabilityChanged" => (9, "Audit - PushCapability", false),
        "ComputerPolicyFinished" => (11, "Audit - PolicyFinished", false),
        "ComputerPatchPolicyCompleted" => (12, "Audit - PatchPolicyCompleted", false),
        "MobileDeviceEnrolled" => (21, "Audit - MobileDeviceEnrolled", false),
        "MobileDeviceUnEnrolled" => (22, "Audit - MobileDeviceUnEnrolled", false),
        "MobileDeviceCommandCompleted" => (23, "Audit - CommandCompleted", true),
        "MobileDeviceCheckIn" => (24, "Audit - MobileDeviceCheckIn", false),
        "MobileDeviceInventoryCompleted" => (25, "Audit - MobileInventory", false),
        "MobileDevicePushSent" => (26, "Audit - MobilePushSent", false),
        "RestAPIOperation" => (31, "Audit - RestAPIOperation", false),
        "SCEPChallenge" => (41, "SCEP challenge - Wi-Fi", false),
        "SmartGroupComputerMembershipChange" => (51, "Audit - SG computers", false),
        "SmartGroupMobileDeviceMembershipChange" => (52, "Audit - SG mobile", false),
        "JSSStartup" => (61, "Audit - JSSStartup", false),
        "JSSShutdown" => (62, "Audit - JSSShutdown", false),
        "DeviceAddedToDEP" => (63, "Audit - DeviceAddedToDEP", false),
        "PatchSoftwareTitleUpdated" => (64, "Audit - PatchTitleUpdated", false),
        _ => (65, "Audit - PushSent", false),
    }
}

/// Opens a webhook record up to the `event` object's first brace (inclusive).
pub fn webhook_open(b: &mut Buf, event: &'static str, t: Micros) {
    let (id, name, secs) = webhook_def(event);
    b.s("{\"webhook\":{\"id\":")
        .u(u64::from(id))
        .s(",\"name\":")
        .q(name)
        .s(",\"webhookEvent\":")
        .q(event)
        .s(",\"eventTimestamp\":")
        .i(if secs {
            time::epoch_secs(t)
        } else {
            time::epoch_millis(t)
        })
        .s("},\"event\":{");
}

/// The Computer object's fields (without braces).
pub fn computer_fields(b: &mut Buf, fleet: &Fleet, d: &Device) {
    let user = fleet.owner(d);
    let office = user.map_or(0, |u| u.office as usize);
    b.s("\"alternateMacAddress\":\"");
    if d.model.short == "MBP" || d.model.short == "MBA" {
        let mut alt = d.mac;
        alt[5] = alt[5].wrapping_add(1);
        b.mac(alt, Some(b':'));
    }
    b.s("\",\"building\":")
        .q(OFFICES[office].0)
        .s(",\"department\":")
        .q(DEPARTMENTS[d.dept as usize].0)
        .s(",\"deviceName\":")
        .q(&d.name)
        .s(",\"emailAddress\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"ipAddress\":\"");
    let p = OFFICES[office].3;
    b.ip([p[0], p[1], p[2], d.ip[3]])
        .s("\",\"jssID\":")
        .u(u64::from(d.jss_id))
        .s(",\"macAddress\":\"")
        .mac(d.mac, Some(b':'))
        .s("\",\"model\":")
        .q(d.model.name)
        .s(",\"osBuild\":")
        .q(d.os_build())
        .s(",\"osVersion\":")
        .q(d.os_version())
        .s(",\"phone\":\"\",\"position\":")
        .q(user.map_or("", |u| u.position))
        .s(",\"realName\":");
    match user {
        Some(u) => {
            b.s("\"").esc(u.first).s(" ").esc(u.last).s("\"");
        }
        None => {
            b.s("\"\"");
        }
    }
    b.s(",\"reportedIpAddress\":\"")
        .ip(d.ip)
        .s("\",\"room\":\"\",\"serialNumber\":")
        .q(&d.serial)
        .s(",\"udid\":")
        .q(&d.udid)
        .s(",\"userDirectoryID\":\"-1\",\"username\":")
        .q(user.map_or("", |u| u.username.as_str()))
        .s(",\"managementId\":")
        .qguid(d.management_id);
}

/// The MobileDevice object's fields (without braces).
pub fn mobile_fields(b: &mut Buf, fleet: &Fleet, d: &Device) {
    let user = fleet.owner(d);
    b.s("\"bluetoothMacAddress\":\"\",\"deviceName\":")
        .q(&d.name)
        .s(",\"icciID\":\"");
    if d.platform() == Platform::Ios {
        b.s("8946 2000 00")
            .u(10 + u64::from(d.jss_id % 89))
            .s(" ")
            .u(1000 + u64::from(d.jss_id) % 9000)
            .s(" 7890");
    }
    b.s("\",\"imei\":\"");
    if d.imei.len() == 15 {
        // Jamf spells the IMEI in groups: "35 690411 218457 3".
        b.s(&d.imei[0..2])
            .s(" ")
            .s(&d.imei[2..8])
            .s(" ")
            .s(&d.imei[8..14])
            .s(" ")
            .s(&d.imei[14..15]);
    }
    b.s("\",\"ipAddress\":\"")
        .ip(d.ip)
        .s("\",\"jssID\":")
        .u(u64::from(d.jss_id))
        .s(",\"model\":")
        .q(d.model.name)
        .s(",\"modelDisplay\":")
        .q(d.model.name)
        .s(",\"osBuild\":")
        .q(d.os_build())
        .s(",\"osVersion\":")
        .q(d.os_version())
        .s(",\"product\":")
        .q(d.model.product)
        .s(",\"room\":\"\",\"serialNumber\":")
        .q(&d.serial)
        .s(",\"udid\":")
        .q(&d.udid)
        .s(",\"userDirectoryID\":\"-1\",\"username\":")
        .q(user.map_or("", |u| u.username.as_str()))
        .s(",\"version\":")
        .q(d.os_version())
        .s(",\"wifiMacAddress\":\"")
        .mac(d.mac, Some(b':'))
        .s("\",\"managementId\":")
        .qguid(d.management_id);
}

/// A webhook whose `event` is the device object itself (ComputerAdded, ComputerInventoryCompleted,
/// ComputerPushCapabilityChanged, MobileDevice*).
pub fn device_webhook(b: &mut Buf, fleet: &Fleet, event: &'static str, d: &Device, t: Micros) {
    webhook_open(b, event, t);
    if d.platform() == Platform::MacOs {
        computer_fields(b, fleet, d);
    } else {
        mobile_fields(b, fleet, d);
    }
    b.s("}}");
}

/// ComputerCheckIn: `{computer, trigger, username}`.
pub fn computer_check_in(b: &mut Buf, fleet: &Fleet, d: &Device, t: Micros, trigger: &str) {
    webhook_open(b, "ComputerCheckIn", t);
    b.s("\"computer\":{");
    computer_fields(b, fleet, d);
    b.s("},\"trigger\":")
        .q(trigger)
        .s(",\"username\":")
        .q(fleet.owner(d).map_or("", |u| u.username.as_str()))
        .s("}}");
}

/// ComputerPolicyFinished: `{computer, policyId, successful}`.
pub fn computer_policy_finished(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    policy: u32,
    ok: bool,
) {
    webhook_open(b, "ComputerPolicyFinished", t);
    b.s("\"computer\":{");
    computer_fields(b, fleet, d);
    b.s("},\"policyId\":")
        .u(u64::from(policy))
        .s(",\"successful\":")
        .b(ok)
        .s("}}");
}

/// ComputerPatchPolicyCompleted.
#[allow(clippy::too_many_arguments)]
pub fn computer_patch_completed(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    policy_id: u32,
    policy_name: &str,
    title_id: u32,
    version: &str,
    ok: bool,
) {
    webhook_open(b, "ComputerPatchPolicyCompleted", t);
    b.s("\"computer\":{");
    computer_fields(b, fleet, d);
    b.s("},\"deployedVersion\":")
        .q(version)
        .s(",\"eventActions\":{\"action\":[\"Install\"]},\"patchPolicyId\":")
        .u(u64::from(policy_id))
        .s(",\"patchPolicyName\":")
        .q(policy_name)
        .s(",\"softwareTitleId\":")
        .u(u64::from(title_id))
        .s(",\"successful\":")
        .b(ok)
        .s("}}");
}

/// RestAPIOperation (the one webhook with an actor).
#[allow(clippy::too_many_arguments)]
pub fn rest_api_operation(
    b: &mut Buf,
    t: Micros,
    user: &str,
    object_id: u64,
    object_name: &str,
    object_type: &str,
    ok: bool,
    method: &str,
) {
    webhook_open(b, "RestAPIOperation", t);
    b.s("\"authorizedUsername\":")
        .q(user)
        .s(",\"objectID\":")
        .u(object_id)
        .s(",\"objectName\":")
        .q(object_name)
        .s(",\"objectTypeName\":")
        .q(object_type)
        .s(",\"operationSuccessful\":")
        .b(ok)
        .s(",\"restAPIOperationType\":")
        .q(method)
        .s("}}");
}

/// SCEPChallenge for a mobile device; `password` is the user's directory password that some SCEP
/// integrations pass along (a secret the mappings must redact).
pub fn scep_challenge(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    payload: u128,
    password: Option<&str>,
) {
    webhook_open(b, "SCEPChallenge", t);
    b.s("\"targetDevice\":{");
    mobile_fields(b, fleet, d);
    b.s("}");
    if let Some(u) = fleet.owner(d) {
        b.s(",\"targetUser\":{\"username\":")
            .q(&u.username)
            .s(",\"realname\":\"")
            .esc(u.first)
            .s(" ")
            .esc(u.last)
            .s("\",\"email\":")
            .q(&u.upn)
            .s(",\"phone\":\"\",\"position\":")
            .q(u.position)
            .s(",\"dn\":\"CN=")
            .esc(u.first)
            .s(" ")
            .esc(u.last)
            .s(",OU=")
            .s(DEPARTMENTS[u.dept as usize].0)
            .s(",DC=northwind,DC=local\",\"uid\":\"")
            .u(u64::from(u.ws1_user_id % 10_000))
            .s("\",\"uuid\":")
            .qguid(u.object_id)
            .s(",\"buildingId\":")
            .u(u64::from(u.office) + 1)
            .s(",\"departmentId\":")
            .u(u64::from(u.dept) + 1)
            .s(",\"room\":\"\"");
        if let Some(p) = password {
            b.s(",\"password\":").q(p);
        }
        b.s("}");
    }
    b.s(",\"scepServerUrl\":\"https://scep.northwindtraders.com/scep/wifi\",\"payloadIdentifier\":\"")
        .guid_upper(payload)
        .s("\",\"payloadTypes\":[\"com.apple.security.scep\",\"com.apple.wifi.managed\"]}}");
}

/// SmartGroupComputerMembershipChange / SmartGroupMobileDeviceMembershipChange (ids only).
pub fn smart_group_change(
    b: &mut Buf,
    t: Micros,
    computers: bool,
    group_id: u32,
    group_name: &str,
    added: &[u32],
    removed: &[u32],
) {
    webhook_open(
        b,
        if computers {
            "SmartGroupComputerMembershipChange"
        } else {
            "SmartGroupMobileDeviceMembershipChange"
        },
        t,
    );
    b.s("\"computer\":")
        .b(computers)
        .s(",\"groupAddedDevices\":[],\"groupAddedDevicesIds\":[");
    for (i, id) in added.iter().enumerate() {
        if i > 0 {
            b.s(",");
        }
        b.u(u64::from(*id));
    }
    b.s("],\"groupRemovedDevices\":[],\"groupRemovedDevicesIds\":[");
    for (i, id) in removed.iter().enumerate() {
        if i > 0 {
            b.s(",");
        }
        b.u(u64::from(*id));
    }
    b.s("],\"jssid\":")
        .u(u64::from(group_id))
        .s(",\"name\":")
        .q(group_name)
        .s(",\"smartGroup\":true}}");
}

/// JSSStartup / JSSShutdown of one cluster node.
pub fn server_event(b: &mut Buf, t: Micros, startup: bool, node: u8) {
    webhook_open(b, if startup { "JSSStartup" } else { "JSSShutdown" }, t);
    b.s("\"hostAddress\":\"10.0.12.")
        .u(21 + u64::from(node))
        .s("\",\"institution\":\"Northwind Traders\",\"isClusterMaster\":")
        .b(node == 0)
        .s(",\"jssUrl\":\"")
        .s(super::super::fleet::JAMF_URL)
        .s("\",\"webApplicationPath\":\"/usr/local/jss/tomcat/webapps/ROOT\"}}");
}

/// DeviceAddedToDEP for a newly purchased Mac.
pub fn device_added_to_dep(
    b: &mut Buf,
    t: Micros,
    serial: &str,
    asset: u32,
    description: &str,
    model: &str,
) {
    webhook_open(b, "DeviceAddedToDEP", t);
    b.s("\"assetTag\":\"NW-")
        .u(u64::from(asset))
        .s("\",\"description\":")
        .q(description)
        .s(",\"deviceAssignedDate\":")
        .i(time::epoch_millis(t - 5 * time::MINUTE))
        .s(",\"deviceEnrollmentProgramInstanceId\":2,\"model\":")
        .q(model)
        .s(",\"serialNumber\":")
        .q(serial)
        .s("}}");
}

/// PatchSoftwareTitleUpdated.
pub fn patch_title_updated(b: &mut Buf, t: Micros, title_id: u32, name: &str, version: &str) {
    webhook_open(b, "PatchSoftwareTitleUpdated", t);
    b.s("\"jssID\":")
        .u(u64::from(title_id))
        .s(",\"lastUpdate\":")
        .i(time::epoch_millis(t - 4 * time::MINUTE))
        .s(",\"latestVersion\":")
        .q(version)
        .s(",\"name\":")
        .q(name)
        .s(",\"reportUrls\":[\"")
        .s(super::super::fleet::JAMF_URL)
        .s("view/computers/patch/")
        .u(u64::from(title_id))
        .s("?tab=report\"]}}");
}

/// PushSent (`{managementId, type}`).
pub fn push_sent(b: &mut Buf, d: &Device, t: Micros) {
    webhook_open(b, "PushSent", t);
    b.s("\"managementId\":")
        .qguid(d.management_id)
        .s(",\"type\":")
        .s(if d.platform() == Platform::MacOs {
            "\"Computer\""
        } else {
            "\"MobileDevice\""
        })
        .s("}}");
}

/// Opens a Log Stream envelope: `{"time":"<delivery>","message":"` (the caller writes the escaped line
/// and calls [`logstream_close`]).
pub fn logstream_open(b: &mut Buf, t: Micros, delay_micros: i64, nanos: u16) {
    b.s("{\"time\":\"")
        .t(|o| time::rfc3339_nanos(o, t + delay_micros, nanos))
        .s("\",\"message\":\"");
}

/// Closes a Log Stream envelope.
pub fn logstream_close(b: &mut Buf) {
    b.s("\"}");
}

/// `[JSSACCESSLOG] <time> - username=<u>, status=<s>, ipAddress=<ip>, entryPoint=<e>` (JSON-escaped,
/// inside an open envelope).
pub fn access_line(b: &mut Buf, t: Micros, username: &str, status: &str, ip: [u8; 4], entry: &str) {
    b.s("[JSSACCESSLOG] ")
        .t(|o| time::jamf_header(o, t))
        .s(" - username=")
        .esc(username)
        .s(", status=")
        .s(status)
        .s(", ipAddress=")
        .ip(ip)
        .s(", entryPoint=")
        .s(entry);
}

/// A change-management actor as the header names it: `<name> (ID: <n>)`.
#[derive(Debug, Clone, Copy)]
pub struct CmActor<'a> {
    /// SSO e-mail, local account name or API client id.
    pub name: &'a str,
    /// `-1` SSO user, `0` API client, else the local account id.
    pub id: i32,
}

/// `[CHANGEMANAGEMENT] ...` header plus detail lines (JSON-escaped, inside an open envelope). Details
/// alternate space and dot-leader padding as Jamf writes them.
pub fn change_line(
    b: &mut Buf,
    t: Micros,
    thread: u32,
    actor: CmActor<'_>,
    op: &str,
    object_type: &str,
    details: &[(&str, &str)],
) {
    b.s("[CHANGEMANAGEMENT] ")
        .t(|o| time::jamf_header(o, t))
        .s(" [INFO ] [");
    let mut th = Buf::default();
    if thread.is_multiple_of(5) {
        th.s("eralPool-").u(u64::from(thread % 97));
    } else {
        th.s("Tomcat-").u(u64::from(thread % 400));
    }
    let n = th.bytes.len();
    b.s(th.as_str());
    for _ in n..11 {
        b.s(" ");
    }
    b.s("] [file                     ] - [")
        .esc(actor.name)
        .s(" (ID: ")
        .i(i64::from(actor.id))
        .s(")] [")
        .s(op)
        .s("] [")
        .s(object_type)
        .s("] [")
        .t(|o| time::jamf_iso_offset(o, t))
        .s("]");
    let width = details.iter().map(|(f, _)| f.len()).max().unwrap_or(0) + 5;
    for (i, (field, value)) in details.iter().enumerate() {
        b.s("\\n\\t").s(field);
        if i % 2 == 0 {
            for _ in field.len()..width {
                b.s(" ");
            }
        } else {
            b.s(" ");
            for _ in field.len() + 2..width {
                b.s(".");
            }
            b.s(" ");
        }
        b.esc(value);
    }
}
