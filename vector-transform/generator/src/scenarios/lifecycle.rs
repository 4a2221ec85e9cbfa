//! S7, `device_lifecycle`: one Workspace ONE Android phone from enrollment through compliance drift to
//! enterprise wipe and MDM removal.

use crate::GenerateError;
use crate::fleet::{DeviceClass, EXECUTIVE, Mdm};
use crate::time::{DAY, MINUTE, Micros, SECOND};

use super::{Ctx, Effect, Planned, Rec, expect, owner_dept, step, too_small};

/// S7: one Workspace ONE Android phone from enrollment through compliance drift to enterprise wipe and
/// MDM removal.
pub(super) fn lifecycle(ctx: &mut Ctx<'_>) -> Result<Planned, GenerateError> {
    let picked = ctx.take(&[DeviceClass::Ws1Android], 1, |f, i| {
        f.devices[i].company && owner_dept(f, i) != Some(EXECUTIVE)
    });
    let Some(&d) = picked.first() else {
        return Err(too_small(
            "company-owned Workspace ONE Android phones",
            1,
            0,
            "--scenarios",
        ));
    };
    // Not managed before the planted enrollment.
    ctx.fleet.devices[d].active = false;
    let a = ctx.admin(Mdm::Ws1, "System Administrator");
    let admin = ctx.fleet.admins[a].clone();
    let tz = admin.tz;
    let days = i64::from(ctx.config.days);
    let mut times = [
        ctx.at(tz, ctx.day(0.1, tz, true), 9, 12),
        ctx.at(tz, ctx.day(0.55, tz, false), 14, 20),
        ctx.at(tz, ctx.day(0.85, tz, true), 10, 40),
    ];
    if !(times[0] < times[1] && times[1] < times[2]) {
        // A short period: spread the three phases over it.
        let span = days * DAY;
        times = [
            ctx.config.start + span / 10,
            ctx.config.start + span * 5 / 10,
            ctx.config.start + span * 8 / 10,
        ];
    }
    let [t_enroll, t_drift, t_wipe] = times.map(|t| t + ctx.rng.range(0, 59) * SECOND);
    let notify = |t: Micros,
                  role: &'static str,
                  id: u32,
                  etype: &'static str,
                  enrollment: &'static str,
                  compliance: &'static str,
                  action: &'static str,
                  tags: &'static [&'static str]| {
        step(
            t,
            role,
            Rec::Ws1Notify {
                device: d,
                id,
                etype,
                enrollment,
                compliance,
            },
            expect(etype, action, None, Some("device"), tags),
        )
    };
    let syslog = |t: Micros,
                  role: &'static str,
                  event: &'static str,
                  user: &str,
                  category: &'static str,
                  action: &'static str,
                  tags: &'static [&'static str]| {
        step(
            t,
            role,
            Rec::Ws1Device {
                device: d,
                event,
                admin: user.to_owned(),
                category,
            },
            expect(event, action, Some("user"), Some("device"), tags),
        )
    };
    let mut enroll = notify(
        t_enroll,
        "enrolled",
        148,
        "MDMEnrollmentComplete",
        "Enrolled",
        "PendingComplianceCheck",
        "enroll",
        &[],
    );
    enroll.pre.push(Effect::Enroll(d));
    enroll.pre.push(Effect::State(d, true, true));
    let mut drift = notify(
        t_drift,
        "compliance_drift",
        177,
        "Compliance Status Changed",
        "Enrolled",
        "NonCompliant",
        "compliance_change",
        &[],
    );
    drift.pre.push(Effect::State(d, false, true));
    let mut unenrolled = notify(
        t_wipe + 6 * MINUTE + 5 * SECOND,
        "mdm_removed_notification",
        39,
        "BreakMDMConfirmed",
        "Unenrolled",
        "NotAvailable",
        "unenroll",
        // mdm_removed: action unenroll (15_mdm_removed.vrl).
        &["mdm_removed"],
    );
    unenrolled.post.push(Effect::Remove(d));
    let steps = vec![
        enroll,
        notify(
            t_enroll + 11 * MINUTE,
            "initial_compliance",
            177,
            "Compliance Status Changed",
            "Enrolled",
            "Compliant",
            "compliance_change",
            &[],
        ),
        drift,
        // remote_wipe (action retire, 10_remote_wipe.vrl) and mdm_removed (target_type device + retire,
        // 15_mdm_removed.vrl).
        syslog(
            t_wipe,
            "enterprise_wipe",
            "EnterpriseWipe",
            &admin.account,
            "Command",
            "retire",
            &["mdm_removed", "remote_wipe"],
        ),
        notify(
            t_wipe + 20 * SECOND,
            "enterprise_wipe_notification",
            229,
            "DeviceEnterpriseWipeRequested",
            "EnterpriseWipePending",
            "NonCompliant",
            "retire",
            &["mdm_removed", "remote_wipe"],
        ),
        // mdm_removed: action unenroll (15_mdm_removed.vrl).
        syslog(
            t_wipe + 6 * MINUTE,
            "mdm_removed",
            "BreakMDMConfirmed",
            "sysadmin",
            "Enrollment",
            "unenroll",
            &["mdm_removed"],
        ),
        unenrolled,
    ];
    let device = &ctx.fleet.devices[d];
    let summary = format!(
        "The company-owned Android phone '{}' enrolls in Workspace ONE, reports compliant, drifts to non-compliant, and is enterprise-wiped by {}; the device then confirms MDM removal.",
        device.name, admin.account
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        vec![device.name.clone()],
        &[],
    ))
}
