//! Microsoft Intune wire formats: Graph `auditEvent` (beta), its Azure Monitor twin (diagnostic
//! `AuditLogs`), `OperationalLogs` (Compliance, Enrollment), the daily `Devices` and
//! `DeviceComplianceOrg` snapshots, and Graph `managedDevice`. Field order and spelling follow the
//! reviewed samples in `vrl-mappings/sources/microsoft_intune/samples/`.

use super::super::buf::{Buf, guid_string, v4};
use super::super::fleet::{
    ApiClient, Device, DeviceClass, Fleet, INTUNE_API_VERSION, INTUNE_PORTAL_APP,
    INTUNE_PORTAL_NAME, Platform,
};
use super::super::rng::Rng;
use super::super::time::{self, Micros};

/// The HTTP-ish operation of an audit event (`activityOperationType`, diagnostic `ActivityType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Create (0).
    Create,
    /// Delete (1).
    Delete,
    /// Patch (2).
    Patch,
    /// Action (3): wipe, retire, sync, ...
    Action,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Create => "Create",
            Op::Delete => "Delete",
            Op::Patch => "Patch",
            Op::Action => "Action",
        }
    }

    fn diag(self) -> u64 {
        match self {
            Op::Create => 0,
            Op::Delete => 1,
            Op::Patch => 2,
            Op::Action => 3,
        }
    }
}

/// Audit category: Graph `category` name and diagnostic `properties.Category` number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Compliance (2).
    Compliance,
    /// DeviceConfiguration (3).
    DeviceConfiguration,
    /// Device (4).
    Device,
    /// Application (5).
    Application,
    /// Role (9).
    Role,
}

impl Category {
    fn name(self) -> &'static str {
        match self {
            Category::Compliance => "Compliance",
            Category::DeviceConfiguration => "DeviceConfiguration",
            Category::Device => "Device",
            Category::Application => "Application",
            Category::Role => "Role",
        }
    }

    fn diag(self) -> u64 {
        match self {
            Category::Compliance => 2,
            Category::DeviceConfiguration => 3,
            Category::Device => 4,
            Category::Application => 5,
            Category::Role => 9,
        }
    }
}

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An Intune admin in the console (ItPro).
    User {
        /// UPN.
        upn: String,
        /// Entra object id.
        object_id: u128,
    },
    /// A delegated admin of a partner tenant (GDAP).
    Partner {
        /// UPN in the partner tenant.
        upn: String,
        /// Object id.
        object_id: u128,
        /// Partner tenant id.
        partner_tenant: u128,
    },
    /// An application (app-only Graph access).
    App(ApiClient),
}

/// One modified property; `None` is JSON null, `Some("<null>")` the vendor's literal.
#[derive(Debug, Clone)]
pub struct Prop {
    /// Property name as Intune writes it.
    pub name: &'static str,
    /// Old value.
    pub old: Option<String>,
    /// New value.
    pub new: Option<String>,
}

impl Prop {
    /// A property set on creation (old null).
    pub fn set(name: &'static str, new: impl Into<String>) -> Self {
        Self {
            name,
            old: None,
            new: Some(new.into()),
        }
    }

    /// A changed property.
    pub fn change(name: &'static str, old: impl Into<String>, new: impl Into<String>) -> Self {
        Self {
            name,
            old: Some(old.into()),
            new: Some(new.into()),
        }
    }

    /// `DeviceManagementAPIVersion`, which Intune adds to most events (transport noise).
    pub fn api_version(patch: bool) -> Self {
        Self {
            name: "DeviceManagementAPIVersion",
            old: patch.then(|| INTUNE_API_VERSION.to_owned()),
            new: Some(INTUNE_API_VERSION.to_owned()),
        }
    }
}

/// One audited resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Display name; `None` is written as the literal `"<null>"` (assignments).
    pub name: Option<String>,
    /// Resource type (`ManagedDevice`, `DeviceCompliancePolicyAssignment`).
    pub rtype: &'static str,
    /// Resource id (composite `<parent>_<group>` for assignments).
    pub id: String,
    /// Modified properties.
    pub props: Vec<Prop>,
}

/// One Intune audit event, written as Graph `auditEvent` and as diagnostic `AuditLogs` record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// `id` / `AuditEventId`.
    pub id: u128,
    /// Event time.
    pub time: Micros,
    /// 100-ns digit.
    pub tick: u8,
    /// `activityType` / `operationName` ("<Verb> <ResourceType>").
    pub activity: &'static str,
    /// `componentName`.
    pub component: &'static str,
    /// Operation.
    pub op: Op,
    /// Category.
    pub category: Category,
    /// Result.
    pub success: bool,
    /// `correlationId`.
    pub correlation: u128,
    /// Who.
    pub actor: Actor,
    /// What (first = the parent object).
    pub resources: Vec<Resource>,
    /// Diagnostic `AdditionalDetails` ("" or `Key = ...Value = ...\r\n` lines).
    pub additional: &'static str,
}

fn prop_value(b: &mut Buf, v: &Option<String>) {
    match v {
        Some(s) => {
            b.q(s);
        }
        None => {
            b.s("null");
        }
    }
}

/// An event about one device: `<verb> ManagedDevice` (wipe, retire, syncDevice, resetPasscode, ...),
/// with the `AzureADDeviceId` and API-version properties Intune writes on device actions.
pub fn device_action(
    d: &Device,
    activity: &'static str,
    actor: Actor,
    t: Micros,
    rng: &mut Rng,
    success: bool,
) -> AuditEvent {
    AuditEvent {
        id: v4(rng.next_u128()),
        time: t,
        tick: rng.below(10) as u8,
        activity,
        component: "Device",
        op: Op::Action,
        category: Category::Device,
        success,
        correlation: v4(rng.next_u128()),
        actor,
        resources: vec![Resource {
            name: Some(d.name.clone()),
            rtype: "ManagedDevice",
            id: guid_string(d.intune_id),
            props: vec![
                Prop::set("AzureADDeviceId", guid_string(d.aad_id)),
                Prop::api_version(false),
            ],
        }],
        additional: "",
    }
}

/// An event about one resource.
#[allow(clippy::too_many_arguments)]
pub fn simple_event(
    activity: &'static str,
    component: &'static str,
    op: Op,
    category: Category,
    actor: Actor,
    t: Micros,
    rng: &mut Rng,
    resource: Resource,
) -> AuditEvent {
    AuditEvent {
        id: v4(rng.next_u128()),
        time: t,
        tick: rng.below(10) as u8,
        activity,
        component,
        op,
        category,
        success: true,
        correlation: v4(rng.next_u128()),
        actor,
        resources: vec![resource],
        additional: match op {
            Op::Create | Op::Delete | Op::Patch => {
                "Key = AccountQuotaEntityValue = DeviceConfiguration\r\n"
            }
            _ => "",
        },
    }
}

/// Graph `auditEvent` (beta: `auditActorType`, `userRoleScopeTags`, `remoteTenantId`).
pub fn graph_audit(b: &mut Buf, e: &AuditEvent) {
    b.s("{\"id\":").qguid(e.id);
    b.s(",\"displayName\":").q(e.activity);
    b.s(",\"componentName\":").q(e.component);
    b.s(",\"actor\":{");
    match &e.actor {
        Actor::User { upn, object_id } | Actor::Partner { upn, object_id, .. } => {
            b.s("\"type\":\"ItPro\",\"auditActorType\":\"ItPro\",\"userPermissions\":[\"*\"],\"applicationId\":\"")
                .s(INTUNE_PORTAL_APP)
                .s("\",\"applicationDisplayName\":\"")
                .s(INTUNE_PORTAL_NAME)
                .s("\",\"userPrincipalName\":")
                .q(upn)
                .s(",\"servicePrincipalName\":null,\"ipAddress\":null,\"userId\":")
                .qguid(*object_id)
                .s(",\"userRoleScopeTags\":[{\"displayName\":\"Default\",\"roleScopeTagId\":\"0\"}]");
            if let Actor::Partner { partner_tenant, .. } = &e.actor {
                b.s(",\"remoteTenantId\":")
                    .qguid(*partner_tenant)
                    .s(",\"remoteUserId\":")
                    .qguid(*object_id);
            } else {
                b.s(",\"remoteTenantId\":null,\"remoteUserId\":null");
            }
        }
        Actor::App(app) => {
            b.s("\"type\":\"Application\",\"auditActorType\":\"Application\",\"userPermissions\":[")
                .q(app.permissions)
                .s("],\"applicationId\":")
                .qguid(app.id)
                .s(",\"applicationDisplayName\":")
                .q(app.name)
                .s(",\"userPrincipalName\":null,\"servicePrincipalName\":")
                .q(app.name)
                .s(",\"ipAddress\":null,\"userId\":null,\"userRoleScopeTags\":[],\"remoteTenantId\":null,\"remoteUserId\":null");
        }
    }
    b.s("},\"activity\":null,\"activityDateTime\":")
        .qiso7(e.time, e.tick)
        .s(",\"activityType\":")
        .q(e.activity)
        .s(",\"activityOperationType\":")
        .q(e.op.name())
        .s(",\"activityResult\":")
        .s(if e.success {
            "\"Success\""
        } else {
            "\"Failure\""
        })
        .s(",\"correlationId\":")
        .qguid(e.correlation)
        .s(",\"resources\":[");
    for (i, r) in e.resources.iter().enumerate() {
        if i > 0 {
            b.s(",");
        }
        b.s("{\"displayName\":");
        match &r.name {
            Some(n) => b.q(n),
            None => b.s("\"<null>\""),
        };
        b.s(",\"modifiedProperties\":[");
        for (j, p) in r.props.iter().enumerate() {
            if j > 0 {
                b.s(",");
            }
            b.s("{\"displayName\":").q(p.name).s(",\"oldValue\":");
            prop_value(b, &p.old);
            b.s(",\"newValue\":");
            prop_value(b, &p.new);
            b.s("}");
        }
        b.s("],\"type\":")
            .q(r.rtype)
            .s(",\"auditResourceType\":")
            .q(r.rtype)
            .s(",\"resourceId\":")
            .q(&r.id)
            .s("}");
    }
    b.s("],\"category\":").q(e.category.name()).s("}");
}

/// Diagnostic `AuditLogs` record of the same event (Event Hub / storage shape).
pub fn diag_audit(b: &mut Buf, fleet: &Fleet, e: &AuditEvent) {
    b.s("{\"time\":")
        .qiso7(e.time, e.tick)
        .s(",\"tenantId\":")
        .qguid(fleet.tenant_id)
        .s(",\"category\":\"AuditLogs\",\"operationName\":")
        .q(e.activity)
        .s(",\"properties\":{\"ActivityDate\":")
        .qt(|o| time::us_date_12h(o, e.time))
        .s(",\"ActivityResultStatus\":")
        .u(if e.success { 1 } else { 2 })
        .s(",\"ActivityType\":")
        .u(e.op.diag())
        .s(",\"Actor\":{");
    let identity: &str = match &e.actor {
        Actor::User { upn, object_id } => {
            b.s("\"ActorType\":1,\"Application\":\"")
                .s(INTUNE_PORTAL_APP)
                .s("\",\"ApplicationName\":\"")
                .s(INTUNE_PORTAL_NAME)
                .s("\",\"IsDelegatedAdmin\":false,\"Name\":null,\"ObjectId\":")
                .qguid(*object_id)
                .s(",\"PartnerTenantId\":\"00000000-0000-0000-0000-000000000000\",\"UserPermissions\":[\"*\"],\"UPN\":")
                .q(upn);
            upn
        }
        Actor::Partner {
            upn,
            object_id,
            partner_tenant,
        } => {
            b.s("\"ActorType\":1,\"Application\":\"")
                .s(INTUNE_PORTAL_APP)
                .s("\",\"ApplicationName\":\"")
                .s(INTUNE_PORTAL_NAME)
                .s("\",\"IsDelegatedAdmin\":true,\"Name\":null,\"ObjectId\":")
                .qguid(*object_id)
                .s(",\"PartnerTenantId\":")
                .qguid(*partner_tenant)
                .s(",\"UserPermissions\":[\"*\"],\"UPN\":")
                .q(upn);
            upn
        }
        Actor::App(app) => {
            b.s("\"ActorType\":5,\"Application\":")
                .qguid(app.id)
                .s(",\"ApplicationName\":")
                .q(app.name)
                .s(",\"IsDelegatedAdmin\":false,\"Name\":null,\"ObjectId\":")
                .qguid(app.sp_object_id)
                .s(",\"PartnerTenantId\":\"00000000-0000-0000-0000-000000000000\",\"UserPermissions\":[")
                .q(app.permissions)
                .s("],\"UPN\":null");
            "See Actor details in properties"
        }
    };
    b.s("},\"AdditionalDetails\":")
        .q(e.additional)
        .s(",\"AuditEventId\":")
        .qguid(e.id)
        .s(",\"Category\":")
        .u(e.category.diag())
        .s(",\"RelationId\":null,\"TargetDisplayNames\":[");
    for (i, r) in e.resources.iter().enumerate() {
        if i > 0 {
            b.s(",");
        }
        match &r.name {
            Some(n) => b.q(n),
            None => b.s("\"<null>\""),
        };
    }
    b.s("],\"TargetObjectIds\":[");
    for (i, r) in e.resources.iter().enumerate() {
        if i > 0 {
            b.s(",");
        }
        b.q(&r.id);
    }
    b.s("],\"Targets\":[");
    for (i, r) in e.resources.iter().enumerate() {
        if i > 0 {
            b.s(",");
        }
        b.s("{\"ModifiedProperties\":[");
        for (j, p) in r.props.iter().enumerate() {
            if j > 0 {
                b.s(",");
            }
            b.s("{\"Name\":").q(p.name).s(",\"Old\":");
            prop_value(b, &p.old);
            b.s(",\"New\":");
            prop_value(b, &p.new);
            b.s("}");
        }
        b.s("],\"Name\":");
        match &r.name {
            Some(n) => b.q(n),
            None => b.s("\"<null>\""),
        };
        b.s("}");
    }
    b.s("]},\"resultType\":")
        .s(if e.success {
            "\"Success\""
        } else {
            "\"Failure\""
        })
        .s(",\"resultDescription\":\"None\",\"correlationId\":")
        .qguid(e.correlation)
        .s(",\"identity\":")
        .q(identity)
        .s("}");
}

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
        .s(super::super::fleet::DOMAIN)
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
