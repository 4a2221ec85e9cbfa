//! Records the Jamf Pro emulator serves, in the shapes Jamf documents (each function cites its
//! reference page).

use serde_json::{Value, json};

/// `n` MDM commands, one a minute from `start` (RFC 3339), as `GET /api/v2/mdm/commands` lists them
/// (<https://developer.jamf.com/jamf-pro/reference/get_v2-mdm-commands>): `uuid`, `dateSent`,
/// `client {managementId, clientType}`, `commandState`, `commandType`. Every seventh is an
/// ERASE_DEVICE to a mobile device, the others DEVICE_LOCK commands to computers.
pub fn mdm_commands(n: usize, start: &str) -> Vec<Value> {
    let t0 = chrono::DateTime::parse_from_rfc3339(start).expect("start time");
    (0..n)
        .map(|i| {
            let at = t0 + chrono::Duration::seconds(60 * i as i64 + 7);
            let erase = i % 7 == 3;
            json!({
                "uuid": format!("5b9d2f0e-0000-4000-8000-{i:012}"),
                "dateSent": at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "client": {
                    "managementId": format!("9a4e2c61-0000-4000-8000-{:012}", i % 11),
                    "clientType": if erase { "MOBILE_DEVICE" } else { "COMPUTER" }
                },
                "commandState": "ACKNOWLEDGED",
                "commandType": if erase { "ERASE_DEVICE" } else { "DEVICE_LOCK" }
            })
        })
        .collect()
}

/// `n` computers as `GET /api/v1/computers-inventory` returns them with the sections GENERAL,
/// DISK_ENCRYPTION, HARDWARE, OPERATING_SYSTEM and USER_AND_LOCATION
/// (<https://developer.jamf.com/jamf-pro/reference/get_v1-computers-inventory>); sections not asked
/// for are null. The second one's FileVault is off.
pub fn computers(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let fv = if i == 1 { "UNENCRYPTED" } else { "ENCRYPTED" };
            json!({
                "id": (100 + i).to_string(),
                "udid": format!("6D2A9E44-0000-4000-8000-{i:012}"),
                "general": {
                    "name": format!("MBP-{i:04}"),
                    "lastIpAddress": "203.0.113.24",
                    "platform": "Mac",
                    "remoteManagement": {"managed": true, "managementUsername": "jamfmgmt"},
                    "supervised": true,
                    "mdmCapable": {"capable": true, "capableUsers": ["amy.lee"]},
                    "reportDate": "2026-03-02T07:41:12.081Z",
                    "lastContactTime": format!("2026-03-02T07:{:02}:41.456Z", 10 + i),
                    "lastEnrolledDate": "2025-09-15T13:02:44.902Z",
                    "userApprovedMdm": true,
                    "managementId": format!("6d2a9e44-0000-4000-8000-{i:012}")
                },
                "diskEncryption": {
                    "bootPartitionEncryptionDetails": {
                        "partitionName": "Macintosh HD (Boot Partition)",
                        "partitionFileVault2State": fv,
                        "partitionFileVault2Percent": if i == 1 { 0 } else { 100 }
                    },
                    "individualRecoveryKeyValidityStatus": if i == 1 { "NOT_APPLICABLE" } else { "VALID" },
                    "institutionalRecoveryKeyPresent": false,
                    "diskEncryptionConfigurationName": "Corporate FileVault",
                    "fileVault2EnabledUserNames": [],
                    "fileVault2EligibilityMessage": "Eligible"
                },
                "hardware": {"model": "MacBook Pro (14-inch, 2023)", "serialNumber": format!("C02XK{i:07}")},
                "operatingSystem": {"name": "macOS", "version": "14.3.1", "build": "23D60"},
                "userAndLocation": {"username": "amy.lee", "realname": "Amy Lee", "email": "amy.lee@acme.example"},
                "applications": null,
                "security": null
            })
        })
        .collect()
}

/// `n` mobile devices as `GET /api/v2/mobile-devices/detail` returns them with the sections
/// GENERAL, HARDWARE, SECURITY and USER_AND_LOCATION
/// (<https://developer.jamf.com/jamf-pro/reference/get_v2-mobile-devices-detail>).
pub fn mobile_devices(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "mobileDeviceId": (1180 + i).to_string(),
                "deviceType": "iOS",
                "hardware": {"serialNumber": format!("DMPXL{i:07}"), "model": "iPad Air (5th generation)"},
                "userAndLocation": {"username": "ward3.shared", "emailAddress": ""},
                "general": {
                    "udid": format!("00008103-{i:016}"),
                    "displayName": format!("WARD3-CART-{i:02}"),
                    "lastInventoryUpdateDate": "2026-03-02T06:30:11.804Z",
                    "osVersion": "17.7",
                    "managed": true,
                    "supervised": true,
                    "lastEnrolledDate": "2025-11-02T09:14:27.115Z",
                    "managementId": format!("9a4e2c61-0000-4000-8000-{i:012}")
                },
                "security": {
                    "dataProtected": true,
                    "passcodePresent": i != 0,
                    "activationLockEnabled": true,
                    "jailBreakDetected": false,
                    "lostModeEnabled": false
                }
            })
        })
        .collect()
}

/// Scripts as `GET /api/v1/scripts` lists them (<https://developer.jamf.com/jamf-pro/reference/get_v1-scripts>),
/// `n` of them.
pub fn scripts(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"id": (10 + i).to_string(), "name": format!("Rotate local admin {i}"),
                "categoryId": "-1", "categoryName": "NONE", "priority": "AFTER"})
        })
        .collect()
}

/// `n` object history entries of one object, one an hour from `start`, as `{id}/history` lists them
/// (<https://developer.jamf.com/jamf-pro/reference/get_v1-scripts-id-history>): the first
/// "Created", the others "Updated".
pub fn history_entries(object: usize, n: usize, start: &str) -> Vec<Value> {
    let t0 = chrono::DateTime::parse_from_rfc3339(start).expect("start time");
    (0..n)
        .map(|i| {
            let at = t0 + chrono::Duration::hours(i as i64);
            json!({
                "id": (1000 * (object + 1) + i).to_string(),
                "username": "jssadmin",
                "date": at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "note": if i == 0 { "Created" } else { "Updated" },
                "details": if i == 0 { Value::Null } else { json!("Script contents updated") }
            })
        })
        .collect()
}

/// A computer's management history as the Classic API returns it in JSON
/// (<https://developer.jamf.com/jamf-pro/reference/computerhistory>): one audit, one policy log, one
/// completed DeviceLock, one failed EraseDevice, from `start` on (a minute apart).
pub fn computer_history(id: u64, name: &str, start: &str) -> Value {
    let t0 = chrono::DateTime::parse_from_rfc3339(start).expect("start time");
    let ms = |minutes: i64| (t0 + chrono::Duration::minutes(minutes)).timestamp_millis();
    json!({"computer_history": {
        "general": {"id": id, "name": name, "udid": format!("6D2A9E44-0000-4000-8000-{id:012}"),
            "serial_number": format!("C02XK{id:07}"), "mac_address": "3C:22:FB:00:00:01"},
        "audits": [{"event": "Remote Desktop session started", "username": "jssadmin",
            "date_time": "", "date_time_epoch": ms(0), "date_time_utc": ""}],
        "policy_logs": [{"policy_id": 12, "policy_name": "Rotate local admin", "username": "amy.lee",
            "date_completed": "", "date_completed_epoch": ms(1), "date_completed_utc": "", "status": "Completed"}],
        "commands": {
            "completed": [{"name": "DeviceLock", "completed": "", "completed_epoch": ms(2),
                "completed_utc": "", "username": "jssadmin"}],
            "pending": [],
            "failed": [{"name": "EraseDevice", "error": "The device is not reachable", "issued": "",
                "issued_epoch": ms(3), "issued_utc": "", "failed": "", "failed_epoch": ms(4),
                "failed_utc": "", "username": "jssadmin"}]
        }
    }})
}

/// A mobile device's management history as the Classic API returns it in JSON
/// (<https://developer.jamf.com/jamf-pro/reference/mobiledevicehistory>): one audit, one completed
/// ClearPasscode, one pending EnableLostMode.
pub fn mobile_device_history(id: u64, name: &str, start: &str) -> Value {
    let t0 = chrono::DateTime::parse_from_rfc3339(start).expect("start time");
    let ms = |minutes: i64| (t0 + chrono::Duration::minutes(minutes)).timestamp_millis();
    json!({"mobile_device_history": {
        "general": {"id": id, "name": name, "udid": format!("00008103-{id:016}"),
            "serial_number": format!("DMPXL{id:07}"), "mac_address": "F0:5C:77:00:00:01"},
        "audits": [{"event": "Clear Passcode", "username": "jssadmin", "date_time": "",
            "date_time_epoch": ms(0), "date_time_utc": ""}],
        "management_commands": {
            "completed": [{"name": "ClearPasscode", "completed": "", "completed_epoch": ms(1),
                "completed_utc": "", "username": "jssadmin"}],
            "pending": [{"name": "EnableLostMode", "status": "Pending", "issued": "",
                "issued_epoch": ms(2), "issued_utc": "", "last_push": "", "last_push_epoch": ms(2),
                "last_push_utc": "", "username": "jssadmin"}],
            "failed": []
        }
    }})
}
