//! S2, `exec_phone_unlock`: a help-desk admin clears the passcode of an executive's Workspace ONE
//! iPhone and lifts its lost mode, late in the evening.

use crate::GenerateError;
use crate::fleet::{DeviceClass, EXECUTIVE, Mdm};
use crate::time::{HOUR, Micros, SECOND};

use super::{Ctx, Planned, Rec, expect, owner_dept, step, too_small};

/// S2: late in the evening a help-desk admin clears the passcode of an executive's iPhone and lifts the
/// lost mode the executive asked for a few hours earlier.
pub(super) fn exec_phone(ctx: &mut Ctx<'_>) -> Result<Planned, GenerateError> {
    let mut phone = ctx.take(&[DeviceClass::Ws1Ios], 1, |f, i| {
        owner_dept(f, i) == Some(EXECUTIVE)
    });
    if phone.is_empty() {
        phone = ctx.take(&[DeviceClass::Ws1Ios], 1, |_, _| true);
    }
    let Some(&d) = phone.first() else {
        return Err(too_small(
            "Workspace ONE iPhones",
            1,
            0,
            "--scenarios (leave out exec_phone_unlock)",
        ));
    };
    let a = ctx.admin(Mdm::Ws1, "Helpdesk");
    let admin = ctx.fleet.admins[a].clone();
    let day = ctx.day(0.3, admin.tz, true);
    let t_lost = ctx.at_jitter(admin.tz, day, 18, 35, 15);
    let t_in = ctx.at_jitter(admin.tz, day, 23, 20, 15);
    let t_in = t_in.max(t_lost + HOUR);
    let dev = |event: &'static str,
               t: Micros,
               role: &'static str,
               action: &'static str,
               tags: &'static [&'static str]| {
        step(
            t,
            role,
            Rec::Ws1Device {
                device: d,
                event,
                admin: admin.account.clone(),
                category: "Command",
            },
            expect(event, action, Some("user"), Some("device"), tags),
        )
    };
    let console = |event: &'static str, t: Micros, role: &'static str, action: &'static str| {
        step(
            t,
            role,
            Rec::Ws1Console {
                event,
                admin: admin.account.clone(),
                module: "Admin",
                category: "Login",
            },
            expect(event, action, Some("user"), Some("admin_account"), &[]),
        )
    };
    let t_clear = t_in + ctx.rng.range(120, 300) * SECOND;
    let t_unlost = t_clear + ctx.rng.range(60, 200) * SECOND;
    let t_out = t_unlost + ctx.rng.range(120, 400) * SECOND;
    let steps = vec![
        // enable_lost_mode is in no rule: no tag (a near miss of passcode_cleared).
        dev(
            "EnableLostMode",
            t_lost,
            "lost_mode_enabled",
            "enable_lost_mode",
            &[],
        ),
        console("AdminUserLoggedIn", t_in, "login", "login"),
        // passcode_cleared: action clear_passcode (11_passcode_cleared.vrl).
        dev(
            "ClearPasscode",
            t_clear,
            "passcode_cleared",
            "clear_passcode",
            &["passcode_cleared"],
        ),
        // passcode_cleared: action disable_lost_mode (11_passcode_cleared.vrl).
        dev(
            "DisableLostMode",
            t_unlost,
            "lost_mode_disabled",
            "disable_lost_mode",
            &["passcode_cleared"],
        ),
        console("AdminUserLogout", t_out, "logout", "logout"),
    ];
    let device = &ctx.fleet.devices[d];
    let owner = ctx.fleet.owner(device).map_or(String::new(), |u| {
        format!("{} {} ({})", u.first, u.last, u.position)
    });
    let summary = format!(
        "Lost mode is enabled on {owner}'s iPhone '{}' in the evening; around 23:30 local time ({}) {} signs in to the Workspace ONE console, clears the phone's passcode and lifts lost mode, then signs out.",
        device.name,
        ctx.fleet.zones.name(admin.tz),
        admin.account
    );
    Ok((
        steps,
        summary,
        vec![admin.account],
        vec![device.name.clone()],
        &["off_hours"],
    ))
}
