//! S5, `api_bulk_delete`: a Jamf Pro API client deletes computer and mobile-device records in a burst.

use crate::GenerateError;
use crate::buf::guid_string;
use crate::fleet::{DeviceClass, EXECUTIVE, Mdm, Platform};
use crate::time::SECOND;

use super::{Ctx, Effect, Planned, Rec, expect, owner_dept, step, too_small};

/// S5: a Jamf Pro API client gets a token and deletes computer and mobile-device records in a burst.
pub(super) fn bulk_delete(ctx: &mut Ctx<'_>) -> Result<Planned, GenerateError> {
    let n = ctx.config.sizes.bulk_delete_count as usize;
    let n_mobile = n * 3 / 10;
    let mobile = ctx.take(
        &[DeviceClass::JamfIphone, DeviceClass::JamfIpad],
        n_mobile,
        |f, i| owner_dept(f, i) != Some(EXECUTIVE),
    );
    let macs = ctx.take(&[DeviceClass::JamfMac], n - mobile.len(), |f, i| {
        owner_dept(f, i) != Some(EXECUTIVE)
    });
    let mut targets: Vec<usize> = macs.into_iter().chain(mobile).collect();
    if targets.len() < n {
        return Err(too_small(
            "Jamf devices",
            n,
            targets.len(),
            "--bulk-delete-count",
        ));
    }
    for i in (1..targets.len()).rev() {
        let j = ctx.rng.index(i + 1);
        targets.swap(i, j);
    }
    let clients = ctx.fleet.api_clients_of(Mdm::Jamf);
    let client = ctx.fleet.api_clients[clients[clients.len() - 1]].clone();
    let client_id = guid_string(client.id);
    let day = ctx.day(0.75, 0, true);
    let t0 = ctx.at_jitter(0, day, 13, 0, 50);
    let mut steps = vec![
        // non_human_actor: actor_kind api_client (22_non_human_actor.vrl): the access mapping reads a
        // UUID user name as an API client.
        step(
            t0,
            "token",
            Rec::JamfAccess {
                user: client_id.clone(),
                status: "Successful token creation",
                ip: client.ip,
                entry: "Universal API (OAuth)",
            },
            expect(
                "Successful token creation",
                "token_create",
                Some("api_client"),
                None,
                &["non_human_actor"],
            ),
        ),
    ];
    let mut t = t0 + ctx.rng.range(5, 30) * SECOND;
    let mut names = Vec::new();
    for &i in &targets {
        let d = ctx.fleet.devices[i].clone();
        let otype = if d.platform() == Platform::MacOs {
            "Computer"
        } else {
            "Mobile Device"
        };
        // mdm_removed: target_type device + action delete (15_mdm_removed.vrl); non_human_actor: the
        // authorizedUsername is an API client id (22_non_human_actor.vrl).
        steps.push(step(
            t,
            "delete_webhook",
            Rec::JamfRest {
                user: client_id.clone(),
                object_id: u64::from(d.jss_id),
                name: d.name.clone(),
                otype,
                method: "DELETE",
            },
            expect(
                format!("RestAPIOperation DELETE {otype}"),
                "delete",
                Some("api_client"),
                Some("device"),
                &["mdm_removed", "non_human_actor"],
            ),
        ));
        let mut cm = step(
            t + ctx.rng.range(100, 900) * 1000,
            "delete_change_management",
            Rec::JamfChange {
                actor: client_id.clone(),
                id: 0,
                op: "DELETE",
                otype,
                details: vec![("ID", d.jss_id.to_string()), ("Name", d.name.clone())],
                thread: ctx.rng.below(400) as u32,
            },
            expect(
                format!("DELETE {otype}"),
                "delete",
                Some("api_client"),
                Some("device"),
                &["mdm_removed", "non_human_actor"],
            ),
        );
        cm.post.push(Effect::Remove(i));
        steps.push(cm);
        names.push(d.name);
        t += ctx.rng.range(2, 7) * SECOND;
    }
    let summary = format!(
        "The Jamf Pro API client '{}' ({client_id}) obtains an OAuth token and deletes {} inventory records ({} computers, {} mobile devices) within {} seconds; each delete shows as a RestAPIOperation webhook and a change-management record.",
        client.name,
        targets.len(),
        targets.len() - n_mobile.min(targets.len()),
        n_mobile.min(targets.len()),
        (t - t0) / SECOND
    );
    Ok((
        steps,
        summary,
        vec![client_id],
        names,
        &["bulk_destructive"],
    ))
}
