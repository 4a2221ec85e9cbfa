//! Records the Graph emulator serves, in the shapes Microsoft documents (each function cites its
//! resource page).

use serde_json::{Value, json};

/// `n` Graph auditEvent objects, one a minute from `start` (RFC 3339), in the shape of the
/// documented resource (<https://learn.microsoft.com/en-us/graph/api/resources/intune-auditing-auditevent>).
pub fn audit_events(n: usize, start: &str) -> Vec<Value> {
    let t0 = chrono::DateTime::parse_from_rfc3339(start).expect("start time");
    (0..n)
        .map(|i| {
            let at = t0 + chrono::Duration::seconds(60 * i as i64 + 7);
            json!({
                "@odata.type": "#microsoft.graph.auditEvent",
                "id": format!("a0e1b2c3-0000-4000-8000-{i:012}"),
                "displayName": "Patch DeviceCompliancePolicy",
                "componentName": "DeviceCompliance",
                "actor": {
                    "@odata.type": "microsoft.graph.auditActor",
                    "type": "ItPro",
                    "userPermissions": ["*"],
                    "applicationId": "5926fc8e-304e-4f59-8bed-58ca97cc39a4",
                    "applicationDisplayName": "Microsoft Intune portal extension",
                    "userPrincipalName": "megan.bowen@contoso.com",
                    "servicePrincipalName": null,
                    "ipAddress": null,
                    "userId": "424b1fee-9709-4315-85d9-5954058b4714"
                },
                "activity": null,
                "activityDateTime": format!(
                    "{}.{:07}Z",
                    at.format("%Y-%m-%dT%H:%M:%S"),
                    at.timestamp_subsec_nanos() / 100
                ),
                "activityType": "Patch DeviceCompliancePolicy",
                "activityOperationType": "Patch",
                "activityResult": "Success",
                "correlationId": format!("c0e1b2c3-0000-4000-8000-{i:012}"),
                "resources": [{
                    "displayName": format!("Windows baseline {i}"),
                    "type": "DeviceCompliancePolicy",
                    "resourceId": format!("d0e1b2c3-0000-4000-8000-{i:012}"),
                    "modifiedProperties": [
                        {"displayName": "PasswordMinimumLength", "oldValue": "8", "newValue": "12"}
                    ]
                }],
                "category": "Compliance"
            })
        })
        .collect()
}

/// `n` Graph managedDevice objects
/// (<https://learn.microsoft.com/en-us/graph/api/resources/intune-devices-manageddevice>).
pub fn managed_devices(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "id": format!("e0e1b2c3-0000-4000-8000-{i:012}"),
                "userId": "1c618a87-962d-497f-a739-b32f022e707b",
                "deviceName": format!("DESKTOP-{i:04}"),
                "managedDeviceOwnerType": "company",
                "enrolledDateTime": "2025-11-04T09:13:49Z",
                "lastSyncDateTime": "2026-03-15T22:41:08Z",
                "operatingSystem": "Windows",
                "complianceState": if i % 2 == 0 { "compliant" } else { "noncompliant" },
                "jailBroken": "Unknown",
                "managementAgent": "mdm",
                "osVersion": "10.0.22631.4890",
                "azureADRegistered": true,
                "activationLockBypassCode": null,
                "isSupervised": false,
                "isEncrypted": i % 2 == 0,
                "userPrincipalName": "megan.bowen@contoso.com",
                "serialNumber": format!("PF3K{i:04}"),
                "partnerReportedThreatState": "unknown"
            })
        })
        .collect()
}

/// Intune role definitions (<https://learn.microsoft.com/en-us/graph/api/resources/intune-rbac-deviceandappmanagementroledefinition>):
/// the built-in Help Desk Operator and a custom one.
pub fn role_definitions() -> Vec<Value> {
    let def = |id: &str, name: &str, desc: &str, builtin: bool, actions: &[&str]| {
        json!({
            "@odata.type": "#microsoft.graph.deviceAndAppManagementRoleDefinition",
            "id": id,
            "displayName": name,
            "description": desc,
            "rolePermissions": [{
                "resourceActions": [{"allowedResourceActions": actions, "notAllowedResourceActions": []}]
            }],
            "isBuiltIn": builtin
        })
    };
    vec![
        def(
            "9e0cc482-82df-4ab2-a24c-0c23a3f52e1e",
            "Help Desk Operator",
            "Help Desk Operators perform remote tasks on users and devices.",
            true,
            &[
                "Microsoft.Intune_ManagedDevices_Read",
                "Microsoft.Intune_RemoteTasks_Wipe",
            ],
        ),
        def(
            "5b1e7f2a-3c4d-4e5f-9a0b-1c2d3e4f5a6b",
            "Wipe Operators",
            "Custom role: wipe and retire only.",
            false,
            &[
                "Microsoft.Intune_RemoteTasks_Wipe",
                "Microsoft.Intune_RemoteTasks_Retire",
            ],
        ),
    ]
}

/// Role assignments of [`role_definitions`], with the id of their definition
/// (<https://learn.microsoft.com/en-us/graph/api/resources/intune-rbac-deviceandappmanagementroleassignment>).
pub fn role_assignments() -> Vec<(Value, String)> {
    let a = |id: &str, name: &str, members: &[&str], scopes: &[&str], def: &str| {
        (
            json!({
                "@odata.type": "#microsoft.graph.deviceAndAppManagementRoleAssignment",
                "id": id,
                "displayName": name,
                "description": format!("{name} assignment"),
                "resourceScopes": scopes,
                "members": members
            }),
            def.to_owned(),
        )
    };
    let help_desk = "9e0cc482-82df-4ab2-a24c-0c23a3f52e1e";
    vec![
        a(
            "b1f0a1c2-0000-4000-8000-000000000001",
            "Help Desk EMEA",
            &["0a1b2c3d-1111-4000-8000-000000000001"],
            &["0a1b2c3d-2222-4000-8000-000000000001"],
            help_desk,
        ),
        a(
            "b1f0a1c2-0000-4000-8000-000000000002",
            "Help Desk US",
            &["0a1b2c3d-1111-4000-8000-000000000002"],
            &[],
            help_desk,
        ),
        a(
            "b1f0a1c2-0000-4000-8000-000000000003",
            "Night Wipe Crew",
            &[
                "0a1b2c3d-1111-4000-8000-000000000003",
                "0a1b2c3d-1111-4000-8000-000000000004",
            ],
            &["0a1b2c3d-2222-4000-8000-000000000002"],
            "5b1e7f2a-3c4d-4e5f-9a0b-1c2d3e4f5a6b",
        ),
    ]
}
