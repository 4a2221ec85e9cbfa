//! Microsoft Intune wire formats: Graph `auditEvent` (beta), its Azure Monitor twin (diagnostic
//! `AuditLogs`), `OperationalLogs` (Compliance, Enrollment), the daily `Devices` and
//! `DeviceComplianceOrg` snapshots, and Graph `managedDevice`. Field order and spelling follow the
//! reviewed samples in `vrl-mappings/sources/microsoft_intune/samples/`.

mod audit;
mod device;

pub use audit::{
    Actor, AuditEvent, Category, Op, Prop, Resource, device_action, diag_audit, graph_audit,
    simple_event,
};
pub use device::{
    FailingSetting, diag_compliance_org, diag_device, diag_enrollment, diag_noncompliant,
    managed_device,
};
