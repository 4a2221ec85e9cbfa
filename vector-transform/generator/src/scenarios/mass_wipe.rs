//! S1, `compromised_admin_mass_wipe`: an Intune admin grants itself a privileged role, then wipes
//! devices before business hours.

use crate::GenerateError;
use crate::buf::{guid_string, v4};
use crate::fleet::{DeviceClass, FINANCE, Mdm};
use crate::render::intune::{self, Actor, Category, Op, Prop, Resource};
use crate::time::{MINUTE, SECOND};

use super::{Ctx, Effect, Planned, Rec, expect, owner_dept, step, too_small};

/// S1: an Intune admin account adds itself to a privileged role assignment, then wipes devices one after
/// the other before business hours.
pub(super) fn mass_wipe(ctx: &mut Ctx<'_>) -> Result<Planned, GenerateError> {
    let n = ctx.config.sizes.wipe_count as usize;
    let targets = ctx.take(
        &[
            DeviceClass::IntuneWindows,
            DeviceClass::IntuneIos,
            DeviceClass::IntuneAndroid,
        ],
        n,
        |f, i| owner_dept(f, i) != Some(FINANCE),
    );
    if targets.len() < n {
        return Err(too_small(
            "Intune devices outside Finance",
            n,
            targets.len(),
            "--wipe-count",
        ));
    }
    let a = ctx.admin(Mdm::Intune, "Intune Role Administrator");
    let admin = ctx.fleet.admins[a].clone();
    let actor = Actor::User {
        upn: admin.account.clone(),
        object_id: admin.object_id,
    };
    let day = ctx.day(0.6, admin.tz, true);
    let t0 = ctx.at_jitter(admin.tz, day, 4, 2, 12);
    let group = ctx
        .fleet
        .intune_groups
        .iter()
        .find(|g| g.name == "Intune Admins - Privileged")
        .map_or(0, |g| g.guid);
    let mut steps = Vec::new();
    let assignment_id = guid_string(v4(ctx.rng.next_u128()));
    let mut grant = intune::simple_event(
        "Create DeviceAndAppManagementRoleAssignment",
        "RoleBasedAccessControl",
        Op::Create,
        Category::Role,
        actor.clone(),
        t0,
        &mut ctx.rng,
        Resource {
            name: Some("Intune Administrator - Emergency Access".into()),
            rtype: "DeviceAndAppManagementRoleAssignment",
            id: assignment_id,
            props: vec![
                Prop::set("DisplayName", "Intune Administrator - Emergency Access"),
                Prop::set("Description", "<null>"),
                Prop::set("RoleDefinitionId", "0bd113fe-6be5-400c-a28f-ae5553f9c0be"),
                Prop::set("Members", format!("[\"{}\"]", guid_string(group))),
                Prop::set("ScopeType", "allDevicesAndLicensedUsers"),
                Prop::api_version(false),
            ],
        },
    );
    grant.additional = "Key = AccountQuotaEntityValue = DeviceAndAppManagementRoleAssignment\r\n";
    // role_grant: action assign (Create *Assignment) on target_type role_assignment (17_role_grant.vrl).
    steps.push(step(
        t0,
        "role_grant",
        Rec::Audit(Box::new(grant)),
        expect(
            "Create DeviceAndAppManagementRoleAssignment",
            "assign",
            Some("user"),
            Some("role_assignment"),
            &["role_grant"],
        ),
    ));
    let mut t = t0 + 6 * MINUTE + ctx.rng.range(0, 120) * SECOND;
    let mut names = Vec::new();
    for &i in &targets {
        let ev = intune::device_action(
            &ctx.fleet.devices[i],
            "wipe ManagedDevice",
            actor.clone(),
            t,
            &mut ctx.rng,
            true,
        );
        // remote_wipe: action wipe (10_remote_wipe.vrl); a wipe is not a retire/delete, so no mdm_removed.
        let mut s = step(
            t,
            "wipe",
            Rec::Audit(Box::new(ev)),
            expect(
                "wipe ManagedDevice",
                "wipe",
                Some("user"),
                Some("device"),
                &["remote_wipe"],
            ),
        );
        s.post.push(Effect::Pending(i, "wipe"));
        steps.push(s);
        // The collector's next poll shows the wipe pending; then the device is gone.
        let mut snap = step(
            t + ctx.rng.range(2 * 60, 9 * 60) * SECOND,
            "snapshot_wipe_pending",
            Rec::ManagedDevice(i),
            expect("managedDevice", "inventory", None, Some("device"), &[]),
        );
        snap.secret = ctx.fleet.devices[i]
            .lock_code
            .as_ref()
            .map(|_| "activationLockBypassCode");
        snap.post.push(Effect::Remove(i));
        steps.push(snap);
        names.push(ctx.fleet.devices[i].name.clone());
        t += ctx.rng.range(40, 150) * SECOND;
    }
    let summary = format!(
        "The Intune account of {} {} ({}, {}) adds its group to the 'Intune Administrator - Emergency Access' role assignment at about 04:00 local time ({}), then wipes {} devices within about {} minutes, before business hours. Each wipe is followed by the managedDevices snapshot showing it pending.",
        admin.first,
        admin.last,
        admin.account,
        admin.role,
        ctx.fleet.zones.name(admin.tz),
        targets.len(),
        (t - t0) / MINUTE
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        names,
        &["off_hours", "bulk_destructive"],
    ))
}
