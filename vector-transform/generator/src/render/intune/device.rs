//! Intune device records: Graph `managedDevice` snapshots, the daily diagnostic `Devices` and
//! `DeviceComplianceOrg` batches, and the `OperationalLogs` compliance and enrollment records.

use crate::buf::Buf;
use crate::fleet::{Device, DeviceClass, Fleet, Platform};
use crate::time::{self, Micros};

fn os_name(d: &Device) -> &'static str {
    match d.platform() {
        Platform::Windows => "Windows",
        Platform::MacOs => "macOS",
        Platform::Ios | Platform::IpadOs => "iOS",
        Platform::Android => "Android",
    }
}

/// `<user>_<OS>_<M/D/YYYY>_<h:mm AM>`: Intune's managed-device name.
pub fn managed_device_name(b: &mut Buf, fleet: &Fleet, d: &Device) {
    let user = fleet.owner(d).map_or("device", |u| u.username.as_str());
    let os = match d.class {
        DeviceClass::IntuneWindows => "Windows",
        DeviceClass::IntuneMac => "MacOS",
        DeviceClass::IntuneIos => "IPhone",
        _ => "AndroidForWork",
    };
    b.esc(user).s("_").s(os).s("_");
    let mut tmp = Vec::with_capacity(24);
    time::us_date_12h_minutes(&mut tmp, d.enrolled);
    let tmp = String::from_utf8(tmp).unwrap_or_default();
    let (date, clock) = tmp.split_once(' ').unwrap_or((&tmp, ""));
    b.s(date).s("_").s(clock);
}

/// Graph `managedDevice` as of `t` (its `lastSyncDateTime`). Supervised iOS devices carry their
/// Activation Lock bypass code, a secret the collector receives (and the mappings must redact).
pub fn managed_device(b: &mut Buf, fleet: &Fleet, d: &Device, t: Micros) {
    let user = fleet.owner(d);
    let platform = d.platform();
    b.s("{\"id\":").qguid(d.intune_id).s(",\"userId\":");
    match user {
        Some(u) => b.qguid(u.object_id),
        None => b.s("null"),
    };
    b.s(",\"deviceName\":")
        .q(&d.name)
        .s(",\"managedDeviceOwnerType\":")
        .s(if d.company {
            "\"company\""
        } else {
            "\"personal\""
        })
        .s(",\"deviceActionResults\":[");
    if let Some((action, since)) = d.pending_action {
        b.s("{\"actionName\":")
            .q(action)
            .s(",\"actionState\":\"pending\",\"startDateTime\":")
            .qt(|o| time::iso_secs_z(o, since))
            .s(",\"lastUpdatedDateTime\":")
            .qt(|o| time::iso_secs_z(o, t))
            .s("}");
    }
    b.s("],\"enrolledDateTime\":")
        .qt(|o| time::iso_secs_z(o, d.enrolled))
        .s(",\"lastSyncDateTime\":")
        .qt(|o| time::iso_secs_z(o, t))
        .s(",\"operatingSystem\":")
        .q(os_name(d))
        .s(",\"complianceState\":")
        .s(if d.compliant {
            "\"compliant\""
        } else {
            "\"noncompliant\""
        })
        .s(",\"jailBroken\":")
        .s(match platform {
            Platform::Ios | Platform::IpadOs => "\"False\"",
            _ => "\"Unknown\"",
        })
        .s(",\"managementAgent\":")
        .s(if platform == Platform::Android {
            "\"googleCloudDevicePolicyController\""
        } else {
            "\"mdm\""
        })
        .s(",\"osVersion\":")
        .q(d.os_version())
        .s(",\"easActivated\":false,\"easDeviceId\":\"\",\"easActivationDateTime\":\"0001-01-01T00:00:00Z\",\"azureADRegistered\":true,\"deviceEnrollmentType\":")
        .s(match (platform, d.company) {
            (Platform::Windows, _) => "\"windowsAzureADJoin\"",
            (Platform::Ios | Platform::IpadOs, true) => "\"appleBulkWithUser\"",
            (Platform::MacOs, _) => "\"appleBulkWithUser\"",
            (Platform::Android, true) => "\"androidEnterpriseFullyManaged\"",
            _ => "\"userEnrollment\"",
        })
        .s(",\"activationLockBypassCode\":")
        .q_opt(d.lock_code.as_deref())
        .s(",\"emailAddress\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"azureADDeviceId\":")
        .qguid(d.aad_id)
        .s(",\"deviceRegistrationState\":\"registered\",\"deviceCategoryDisplayName\":\"Unknown\",\"isSupervised\":")
        .b(d.supervised)
        .s(",\"exchangeLastSuccessfulSyncDateTime\":\"0001-01-01T00:00:00Z\",\"exchangeAccessState\":\"none\",\"exchangeAccessStateReason\":\"none\",\"remoteAssistanceSessionUrl\":null,\"remoteAssistanceSessionErrorDetails\":null,\"isEncrypted\":")
        .b(d.encrypted)
        .s(",\"userPrincipalName\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"model\":")
        .q(d.model.name)
        .s(",\"manufacturer\":")
        .q(d.model.manufacturer)
        .s(",\"imei\":")
        .q(&d.imei)
        .s(",\"complianceGracePeriodExpirationDateTime\":\"9999-12-31T23:59:59Z\",\"serialNumber\":")
        .q(&d.serial)
        .s(",\"phoneNumber\":null,\"androidSecurityPatchLevel\":")
        .s(if platform == Platform::Android {
            "\"2025-02-05\""
        } else {
            "null"
        })
        .s(",\"userDisplayName\":");
    match user {
        Some(u) => {
            b.s("\"").esc(u.first).s(" ").esc(u.last).s("\"");
        }
        None => {
            b.s("\"\"");
        }
    }
    b.s(",\"configurationManagerClientEnabledFeatures\":null,\"wiFiMacAddress\":\"")
        .mac(d.mac, None)
        .s("\",\"deviceHealthAttestationState\":null,\"subscriberCarrier\":\"\",\"meid\":\"\",\"totalStorageSpaceInBytes\":254721163264,\"freeStorageSpaceInBytes\":")
        .u(120_000_000_000 + u64::from(d.jss_id % 97) * 700_000_000 + (d.intune_id as u64 % 50_000_000_000))
        .s(",\"managedDeviceName\":\"");
    managed_device_name(b, fleet, d);
    b.s("\",\"partnerReportedThreatState\":\"unknown\"}");
}

fn la_os(d: &Device) -> &'static str {
    match d.platform() {
        Platform::Windows => "Windows",
        Platform::MacOs => "MacOS",
        Platform::Ios | Platform::IpadOs => "iOS",
        Platform::Android => "Android",
    }
}

/// Diagnostic `Devices` record (daily inventory batch `batch` at `t`).
pub fn diag_device(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    batch: u128,
    last_contact: Micros,
) {
    let user = fleet.owner(d);
    b.s("{\"time\":")
        .qiso7(t, 0)
        .s(",\"tenantId\":")
        .qguid(fleet.tenant_id)
        .s(",\"category\":\"Devices\",\"operationName\":\"Devices\",\"resultType\":\"None\",\"properties\":{\"DeviceId\":")
        .qguid(d.intune_id)
        .s(",\"DeviceName\":")
        .q(&d.name)
        .s(",\"UPN\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"LastContact\":")
        .qt(|o| time::la_datetime(o, last_contact, (d.jss_id % 10) as u8))
        .s(",\"OSVersion\":")
        .q(d.os_version())
        .s(",\"OS\":")
        .q(la_os(d))
        .s(",\"CompliantState\":")
        .s(if d.compliant { "\"Compliant\"" } else { "\"Noncompliant\"" })
        .s(",\"Ownership\":")
        .s(if d.company { "\"Corporate\"" } else { "\"Personal\"" })
        .s(",\"ManagedBy\":\"Intune\",\"Model\":")
        .q(d.model.name)
        .s(",\"SerialNumber\":")
        .q(&d.serial)
        .s(",\"Manufacturer\":")
        .q(d.model.manufacturer)
        .s(",\"CreatedDate\":")
        .qt(|o| time::la_datetime(o, d.enrolled - d.enrolled % time::SECOND, 0))
        .s(",\"DeviceState\":")
        .s(match d.pending_action {
            Some(("wipe", _)) => "\"Wipe Pending\"",
            Some(("retire", _)) => "\"Retire Pending\"",
            _ => "\"Managed\"",
        })
        .s(",\"UserEmail\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"UserName\":");
    match user {
        Some(u) => {
            b.s("\"").esc(u.first).s(" ").esc(u.last).s("\"");
        }
        None => {
            b.s("\"\"");
        }
    }
    b.s(",\"IMEI\":")
        .q(&d.imei)
        .s(",\"PhoneNumber\":\"\",\"DeviceRegistrationState\":\"Registered\",\"ReferenceId\":")
        .qguid(d.aad_id)
        .s(",\"ManagedDeviceName\":\"");
    managed_device_name(b, fleet, d);
    b.s("\",\"GraphDeviceIsManaged\":true,\"CategoryName\":\"\",\"EncryptionStatusString\":")
        .s(if d.encrypted { "\"True\"" } else { "\"False\"" })
        .s(",\"SubscriberCarrierNetwork\":\"\",\"JoinType\":")
        .s(match d.platform() {
            Platform::Windows => "\"Azure AD joined\"",
            Platform::MacOs => "\"Azure AD registered\"",
            _ => "\"\"",
        })
        .s(",\"SupervisedStatusString\":")
        .s(if d.supervised {
            "\"True\""
        } else {
            "\"False\""
        })
        .s(",\"WifiMacAddress\":\"\",\"StorageTotal\":243163,\"StorageFree\":")
        .u(90_000 + u64::from(d.jss_id % 7) * 13_000 + (d.aad_id as u64 % 60_000))
        .s(",\"AndroidPatchLevel\":")
        .s(if d.platform() == Platform::Android {
            "\"2025-02-05\""
        } else {
            "\"\""
        })
        .s(",\"MEID\":\"\",\"InGracePeriodUntil\":\"9999-12-31 23:59:59.9999999\",\"JailBroken\":")
        .s(match d.platform() {
            Platform::Ios | Platform::IpadOs => "\"False\"",
            _ => "\"Unknown\"",
        })
        .s(",\"SkuFamily\":\"\",\"EasID\":\"\",\"PrimaryUser\":");
    match user {
        Some(u) => b.qguid(u.object_id),
        None => b.s("\"\""),
    };
    b.s(",\"BatchId\":")
        .qguid(batch)
        .s(",\"IntuneAccountId\":")
        .qguid(fleet.intune_account_id)
        .s(",\"AADTenantId\":")
        .qguid(fleet.tenant_id)
        .s("}}");
}

/// Diagnostic `DeviceComplianceOrg` record (daily compliance batch at `t`).
pub fn diag_compliance_org(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    last_contact: Micros,
) {
    let user = fleet.owner(d);
    b.s("{\"time\":")
        .qiso7(t, 0)
        .s(",\"tenantId\":")
        .qguid(fleet.tenant_id)
        .s(",\"category\":\"DeviceComplianceOrg\",\"operationName\":\"DeviceComplianceOrg\",\"resultType\":\"None\",\"properties\":{\"ComplianceState\":")
        .s(if d.compliant { "\"Compliant\"" } else { "\"Not compliant\"" })
        .s(",\"DeviceHealthThreatLevel\":")
        .s(if d.compliant { "\"Secured\"" } else { "\"Unknown\"" })
        .s(",\"DeviceId\":")
        .qguid(d.intune_id)
        .s(",\"DeviceName\":")
        .q(&d.name)
        .s(",\"DeviceType\":")
        .s(match d.class {
            DeviceClass::IntuneWindows => "\"Windows\"",
            DeviceClass::IntuneMac => "\"MacMDM\"",
            DeviceClass::IntuneIos => "\"iPhone\"",
            _ => "\"AndroidEnterprise\"",
        })
        .s(",\"IMEI\":")
        .q(&d.imei)
        .s(",\"InGracePeriodUntil\":\"\",\"LastContact\":")
        .qt(|o| time::la_datetime(o, last_contact, (d.jss_id % 10) as u8))
        .s(",\"ManagementAgents\":\"MDM\",\"OS\":")
        .q(la_os(d))
        .s(",\"OSDescription\":")
        .s(match d.platform() {
            Platform::Windows => "\"Windows 11 Enterprise\"",
            _ => "\"\"",
        })
        .s(",\"OSVersion\":")
        .q(d.os_version())
        .s(",\"OwnerType\":")
        .s(if d.company { "\"Corporate\"" } else { "\"Personal\"" })
        .s(",\"Result\":\"\",\"RetireAfterDatetime\":\"\",\"SerialNumber\":")
        .q(&d.serial)
        .s(",\"UPN\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"UserEmail\":")
        .q(user.map_or("", |u| u.upn.as_str()))
        .s(",\"UserId\":");
    match user {
        Some(u) => b.qguid(u.object_id),
        None => b.s("\"\""),
    };
    b.s(",\"UserName\":");
    match user {
        Some(u) => {
            b.s("\"").esc(u.first).s(" ").esc(u.last).s("\"");
        }
        None => {
            b.s("\"\"");
        }
    }
    b.s("}}");
}

/// A failing compliance setting: (policy type prefix, setting, rule id, CSP path).
#[derive(Debug, Clone, Copy)]
pub struct FailingSetting {
    /// `Windows10CompliancePolicy`, `MacOSCompliancePolicy`, ...
    pub policy: &'static str,
    /// `BitLockerEnabled`, `StorageRequireEncryption`, ...
    pub setting: &'static str,
    /// `Device_BitLocker_Enabled`.
    pub rule: &'static str,
    /// `Equals True`.
    pub expected: &'static str,
    /// The device's value.
    pub actual: &'static str,
    /// `DeviceStatus/BitLocker/Status`.
    pub path: &'static str,
}

fn device_os_text(b: &mut Buf, d: &Device) {
    match d.platform() {
        Platform::MacOs => {
            b.s("MacMDM ")
                .s(d.os_version())
                .s(" (")
                .s(d.os_build())
                .s(")");
        }
        Platform::Windows => {
            b.s("Windows ").s(d.os_version());
        }
        Platform::Ios | Platform::IpadOs => {
            b.s("iOS ").s(d.os_version());
        }
        Platform::Android => {
            b.s("Android ").s(d.os_version());
        }
    }
}

/// Diagnostic `OperationalLogs` / Compliance: "Managed Device Not Compliant" for one setting.
pub fn diag_noncompliant(
    b: &mut Buf,
    fleet: &Fleet,
    d: &Device,
    t: Micros,
    tick: u8,
    setting: &FailingSetting,
    setting_guid: u128,
) {
    let user = fleet.owner(d);
    b.s("{\"time\":")
        .qiso7(t, tick)
        .s(",\"tenantId\":")
        .qguid(fleet.tenant_id)
        .s(",\"category\":\"OperationalLogs\",\"operationName\":\"Compliance\",\"resultType\":\"None\",\"properties\":{\"IntuneAccountId\":")
        .qguid(fleet.intune_account_id)
        .s(",\"AlertDisplayName\":\"Managed Device ");
    managed_device_name(b, fleet, d);
    b.s(" is not Compliant\",\"AlertType\":\"Managed Device Not Compliant\",\"AADTenantId\":")
        .qguid(fleet.tenant_id)
        .s(",\"Description\":\"")
        .s(setting.policy)
        .s(".")
        .s(setting.setting)
        .s("_IID_")
        .guid(setting_guid)
        .s("||||")
        .s(setting.rule)
        .s("||")
        .s(setting.expected)
        .s("||")
        .s(setting.actual)
        .s("||")
        .s(setting.path)
        .s("\",\"DeviceDnsDomain\":")
        .s(if d.platform() == Platform::Windows {
            "\"northwind.local\""
        } else {
            "\"\""
        })
        .s(",\"DeviceHostName\":")
        .q(&d.name)
        .s(",\"IntuneDeviceId\":")
        .qguid(d.intune_id)
        .s(",\"DeviceName\":\"");
    managed_device_name(b, fleet, d);
    b.s("\",\"DeviceNetBiosName\":")
        .q(&d.name)
        .s(",\"DeviceOperatingSystem\":\"");
    device_os_text(b, d);
    b.s("\",\"ScaleUnit\":\"AMSUB0502\",\"ScenarioName\":\"Microsoft.Management.Services.Diagnostics.SLAEvents.DeviceNotInComplianceSecurityAlert\",\"StartTimeUtc\":")
        .qiso7(t, tick)
        .s(",\"UserName\":")
        .q(user.map_or("", |u| u.username.as_str()))
        .s(",\"UPNSuffix\":\"")
        .s(crate::fleet::DOMAIN)
        .s("\",\"UserDisplayName\":");
    match user {
        Some(u) => {
            b.s("\"").esc(u.first).s(" ").esc(u.last).s("\"");
        }
        None => {
            b.s("\"\"");
        }
    }
    b.s(",\"IntuneUserId\":");
    match user {
        Some(u) => b.qguid(u.object_id),
        None => b.s("\"\""),
    };
    b.s(",\"OperationalLogCategory\":\"DeviceCompliance\"}}");
}

/// Diagnostic `OperationalLogs` / Enrollment (success; a failed personal-iOS attempt has no device id).
pub fn diag_enrollment(b: &mut Buf, fleet: &Fleet, d: &Device, t: Micros, tick: u8, success: bool) {
    let user = fleet.owner(d);
    let (etype, emsg) = match d.platform() {
        Platform::Windows => (10, "AutoEnrollment"),
        Platform::MacOs => (5, "AppleBulkWithUser"),
        Platform::Ios | Platform::IpadOs => (1, "UserEnrollment"),
        Platform::Android => (14, "AndroidEnterpriseFullyManaged"),
    };
    b.s("{\"time\":")
        .qiso7(t, tick)
        .s(",\"tenantId\":")
        .qguid(fleet.tenant_id)
        .s(",\"category\":\"OperationalLogs\",\"operationName\":\"Enrollment\",\"resultType\":")
        .s(if success { "\"Success\"" } else { "\"Fail\"" })
        .s(",\"properties\":{\"IntuneAccountId\":")
        .qguid(fleet.intune_account_id)
        .s(",\"AADTenantId\":")
        .qguid(fleet.tenant_id)
        .s(",\"EnrollmentType\":")
        .u(etype)
        .s(",\"EnrollmentTypeMessage\":")
        .q(emsg);
    if success {
        b.s(",\"FailureCategory\":\"None\",\"FailureReason\":\"None\"");
    } else {
        b.s(",\"FailureCategory\":\"EnrollmentRestrictionsEnforced\",\"FailureReason\":\"Personally owned devices of this platform are blocked by the enrollment restriction\"");
    }
    b.s(",\"Os\":")
        .q(match d.platform() {
            Platform::Windows => "Windows",
            Platform::MacOs => "macOS",
            Platform::Ios | Platform::IpadOs => "iOS",
            Platform::Android => "Android",
        })
        .s(",\"OsVersion\":")
        .q(d.os_version())
        .s(",\"IntuneDeviceId\":");
    if success {
        b.qguid(d.intune_id);
    } else {
        b.s("\"\"");
    }
    b.s(",\"IntuneUserId\":");
    match user {
        Some(u) => b.qguid(u.object_id),
        None => b.s("\"\""),
    };
    b.s(",\"AADDeviceId\":");
    if success {
        b.qguid(d.aad_id);
    } else {
        b.s("\"\"");
    }
    b.s(",\"ScaleUnit\":\"AMSUB0502\"}}");
}
