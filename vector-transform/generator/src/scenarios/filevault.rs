//! S3, `filevault_key_read_off_hours`: a Jamf Pro admin views an executive Mac's FileVault recovery key
//! at night.

use crate::GenerateError;
use crate::fleet::{DeviceClass, EXECUTIVE, Mdm};
use crate::time::{Micros, SECOND};

use super::{Ctx, Planned, Rec, expect, owner_dept, step, too_small};

/// S3: a Jamf Pro admin signs in at night and views an executive Mac's FileVault recovery key.
pub(super) fn filevault(ctx: &mut Ctx<'_>) -> Result<Planned, GenerateError> {
    let mut mac = ctx.take(&[DeviceClass::JamfMac], 1, |f, i| {
        owner_dept(f, i) == Some(EXECUTIVE)
    });
    if mac.is_empty() {
        mac = ctx.take(&[DeviceClass::JamfMac], 1, |_, _| true);
    }
    let Some(&d) = mac.first() else {
        return Err(too_small("Jamf Macs", 1, 0, "--scenarios"));
    };
    let a = ctx.admin(Mdm::Jamf, "Administrator");
    let admin = ctx.fleet.admins[a].clone();
    let day = ctx.day(0.45, admin.tz, false);
    let t_in = ctx.at_jitter(admin.tz, day, 1, 40, 15);
    let t_read = t_in + ctx.rng.range(60, 240) * SECOND;
    let t_out = t_read + ctx.rng.range(180, 600) * SECOND;
    let device = ctx.fleet.devices[d].clone();
    let access = |t: Micros, role: &'static str, status: &'static str, action: &'static str| {
        step(
            t,
            role,
            Rec::JamfAccess {
                user: admin.account.clone(),
                status,
                ip: admin.ip,
                entry: "Single Sign On (SAML)",
            },
            expect(status, action, Some("user"), None, &[]),
        )
    };
    let steps = vec![
        access(t_in, "login", "Successful Login", "login"),
        // secret_read: action read on target_type filevault_recovery_key (14_secret_read.vrl); the
        // change-management mapping gives a READ with an empty object type and a `File Vault 2 ID`
        // detail that type.
        step(
            t_read,
            "key_read",
            Rec::JamfChange {
                actor: admin.account.clone(),
                id: -1,
                op: "READ",
                otype: "",
                details: vec![
                    ("File Vault 2 ID", "-1".into()),
                    ("Computer ID", device.jss_id.to_string()),
                ],
                thread: ctx.rng.below(400) as u32,
            },
            expect(
                "READ FileVault recovery key",
                "read",
                Some("user"),
                Some("filevault_recovery_key"),
                &["secret_read"],
            ),
        ),
        access(t_out, "logout", "Successful SSO Logout", "logout"),
    ];
    let owner = ctx.fleet.owner(&device).map_or(String::new(), |u| {
        format!(" of {} {} ({})", u.first, u.last, u.position)
    });
    let summary = format!(
        "{} {} ({}) signs in to Jamf Pro through SSO at about 01:45 local time ({}), views the FileVault recovery key of the Mac '{}' (Jamf ID {}){owner}, and signs out.",
        admin.first,
        admin.last,
        admin.account,
        ctx.fleet.zones.name(admin.tz),
        device.name,
        device.jss_id
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        vec![device.name],
        &["off_hours", "rare_action_for_actor"],
    ))
}
