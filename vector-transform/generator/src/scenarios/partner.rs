//! S6, `partner_compliance_change`: a delegated (GDAP) partner admin weakens the Windows compliance
//! policy and assigns it to all devices.

use crate::GenerateError;
use crate::buf::{guid_string, v4};
use crate::fleet::{ALL_DEVICES_GROUP, PARTNER_TZ};
use crate::render::intune::{self, Actor, Category, Op, Prop, Resource};
use crate::time::SECOND;

use super::{Ctx, Planned, Rec, expect, step};

/// S6: a delegated (GDAP) partner admin drops the password requirement of the Windows compliance policy
/// and assigns the policy to all devices.
pub(super) fn partner(ctx: &mut Ctx<'_>) -> Result<Planned, GenerateError> {
    let partner_tenant = v4(ctx.rng.next_u128());
    let object_id = v4(ctx.rng.next_u128());
    let upn = "tech.ops@contosomsp.onmicrosoft.com".to_owned();
    let actor = Actor::Partner {
        upn: upn.clone(),
        object_id,
        partner_tenant,
    };
    let zone = ctx.fleet.zones.find(PARTNER_TZ).unwrap_or(0);
    let day = ctx.day(0.5, zone, true);
    let t0 = ctx.at_jitter(zone, day, 11, 0, 30);
    let policy = ctx.fleet.intune_compliance[0].clone();
    let policy_id = guid_string(policy.guid);
    let patch = intune::simple_event(
        "Patch DeviceCompliancePolicy",
        "Compliance",
        Op::Patch,
        Category::Compliance,
        actor.clone(),
        t0,
        &mut ctx.rng,
        Resource {
            name: Some(policy.name.clone()),
            rtype: "DeviceCompliancePolicy",
            id: policy_id.clone(),
            props: vec![
                Prop::change("PasswordRequired", "true", "false"),
                Prop::change("PasswordRequiredType", "alphanumeric", "deviceDefault"),
                Prop::change("Version", "7", "8"),
                Prop::change("$Collection.RoleScopeTagIds[0]", "0", ""),
                Prop::api_version(true),
            ],
        },
    );
    let t1 = t0 + ctx.rng.range(150, 420) * SECOND;
    let mut assign = intune::simple_event(
        "Create DeviceCompliancePolicyAssignment",
        "Compliance",
        Op::Create,
        Category::Compliance,
        actor,
        t1,
        &mut ctx.rng,
        Resource {
            name: Some(policy.name.clone()),
            rtype: "DeviceCompliancePolicy",
            id: policy_id.clone(),
            props: Vec::new(),
        },
    );
    assign.additional = "Key = AccountQuotaEntityValue = DeviceCompliancePolicyAssignment\r\n";
    assign.resources.push(Resource {
        name: None,
        rtype: "DeviceCompliancePolicyAssignment",
        id: format!("{policy_id}_{ALL_DEVICES_GROUP}"),
        props: vec![
            Prop::set("Target.Type", "AllDevicesAssignmentTarget"),
            Prop::set("Target.DeviceAndAppManagementAssignmentFilterType", "None"),
            Prop::set("Source", "Direct"),
            Prop::set("SourceId", policy_id.clone()),
            Prop::api_version(false),
        ],
    });
    let steps = vec![
        // passcode_disabled: Patch (update) of a compliance_policy where PasswordRequired goes true ->
        // false (12_passcode_disabled.vrl). The partner is actor_kind partner, not app: no non_human_actor.
        step(
            t0,
            "passcode_requirement_removed",
            Rec::Audit(Box::new(patch)),
            expect(
                "Patch DeviceCompliancePolicy",
                "update",
                Some("partner"),
                Some("compliance_policy"),
                &["passcode_disabled"],
            ),
        ),
        // broad_scope: assign with Target.Type AllDevicesAssignmentTarget (18_broad_scope.vrl).
        step(
            t1,
            "assigned_to_all_devices",
            Rec::Audit(Box::new(assign)),
            expect(
                "Create DeviceCompliancePolicyAssignment",
                "assign",
                Some("partner"),
                Some("policy_assignment"),
                &["broad_scope"],
            ),
        ),
    ];
    let summary = format!(
        "{upn}, a delegated admin of the partner tenant {} (GDAP), sets PasswordRequired from true to false in the compliance policy '{}' at about 11:00 partner time ({PARTNER_TZ}), then assigns the policy to All Devices.",
        guid_string(partner_tenant),
        policy.name
    );
    Ok((
        steps,
        summary,
        vec![upn],
        Vec::new(),
        &["new_actor", "off_hours"],
    ))
}
