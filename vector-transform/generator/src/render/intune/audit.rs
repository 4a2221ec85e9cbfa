//! Intune audit events: the event model (operation, category, actor, resources and their modified
//! properties), written as Graph `auditEvent` (beta) and as its diagnostic `AuditLogs` twin.

use crate::buf::{Buf, guid_string, v4};
use crate::fleet::{
    ApiClient, Device, Fleet, INTUNE_API_VERSION, INTUNE_PORTAL_APP, INTUNE_PORTAL_NAME,
};
use crate::rng::Rng;
use crate::time::{self, Micros};

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
