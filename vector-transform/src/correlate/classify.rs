//! How correlation reads one event: the keys it knows actors and devices by, who acted (a person,
//! a device reporting on itself, administration), what kind of action it is, and how a stateful
//! risk tag is added (weights, controls and levels from the risk catalog, `crate::risk`).

use crate::NormalizedEvent;

/// The key correlation knows an actor by: UPN, else id, else name, else app, lower-cased.
pub fn actor_key(e: &NormalizedEvent) -> Option<String> {
    [&e.actor_upn, &e.actor_id, &e.actor_name, &e.actor_app]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_lowercase())
}

pub(super) fn device_key(e: &NormalizedEvent) -> Option<String> {
    [&e.device_serial, &e.device_id, &e.device_name]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_lowercase())
}

pub(super) fn device_label(e: &NormalizedEvent) -> Option<String> {
    e.device_name
        .clone()
        .or_else(|| e.device_serial.clone())
        .or_else(|| e.device_id.clone())
}

pub(super) fn actor_label(e: &NormalizedEvent) -> Option<String> {
    e.actor_upn
        .clone()
        .or_else(|| e.actor_name.clone())
        .or_else(|| e.actor_app.clone())
        .or_else(|| {
            // A bare id reads better with the name the directory gives it.
            let id = e.actor_id.as_deref()?;
            Some(match &e.actor_person {
                Some(p) => format!("{p} ({id})"),
                None => id.to_owned(),
            })
        })
}

/// A person at a keyboard (not a device, an app or an API client).
pub(super) fn is_person(e: &NormalizedEvent) -> bool {
    matches!(e.actor_kind.as_deref(), Some("user" | "partner"))
}

/// Actions a device reports about itself (check-ins, inventory, compliance results, command
/// acknowledgements): never administration, whoever the feed names as the actor.
const DEVICE_REPORTS: [&str; 6] = [
    "check_in",
    "inventory",
    "compliance_change",
    "command_completed",
    "mdm_capability_changed",
    "status_change",
];

/// An event the device itself originated: `actor_kind` `device`, or a device report with no
/// administrative actor kind. Such events join the device's own activity and the rollout or
/// lifecycle episodes they report on, never an admin session, and they never make an actor "new"
/// or an action "rare".
pub fn is_device_originated(e: &NormalizedEvent) -> bool {
    match e.actor_kind.as_deref() {
        Some("device") => true,
        Some("user" | "app" | "api_client" | "partner") => false,
        _ => DEVICE_REPORTS.contains(&e.action.as_str()),
    }
}

/// Administration: a person, app, API client or partner acting (not a device reporting, not the
/// MDM server's own system events).
pub(super) fn is_administrative(e: &NormalizedEvent) -> bool {
    e.actor_kind.as_deref() != Some("system") && !is_device_originated(e)
}

/// A wipe, retire or deletion of a device.
pub fn is_destructive(e: &NormalizedEvent) -> bool {
    e.outcome != "failure"
        && (matches!(e.action.as_str(), "wipe" | "retire")
            || (e
                .risk_tags
                .iter()
                .any(|t| t == "remote_wipe" || t == "mdm_removed")
                && matches!(e.action.as_str(), "delete" | "unenroll")))
}

pub(super) fn is_policy_change(e: &NormalizedEvent) -> bool {
    let policy_like = e
        .target_type
        .as_deref()
        .is_some_and(|t| t.contains("policy") || t.contains("profile"));
    policy_like && matches!(e.action.as_str(), "create" | "update" | "patch" | "assign")
}

/// The setting a change path names (its last segment, lower case), unless it is a generic property
/// every policy has (name, description, assignment target, ...).
pub(super) fn setting_key(path: &str) -> Option<String> {
    let last = path.rsplit('.').next()?.trim();
    let last = last.split('[').next()?.to_lowercase();
    const GENERIC: [&str; 16] = [
        "name",
        "displayname",
        "description",
        "platforms",
        "technologies",
        "id",
        "groupid",
        "type",
        "value",
        "settingdefinitionid",
        "version",
        "rolescopetagids",
        "assignments",
        "target",
        "compliancestate",
        "lastmodifieddatetime",
    ];
    (last.len() > 3 && !GENERIC.contains(&last.as_str())).then_some(last)
}

pub(super) fn ends_lifecycle(e: &NormalizedEvent) -> bool {
    matches!(e.action.as_str(), "unenroll" | "retire" | "wipe" | "delete")
        || e.risk_tags.iter().any(|t| t == "mdm_removed")
}

/// Adds a stateful tag with its reason, controls and score; a tag already there is left alone.
pub(super) fn add_tag(e: &mut NormalizedEvent, tag: &str, reason: String) {
    if e.risk_tags.iter().any(|t| t == tag) {
        return;
    }
    let n_old = i32::try_from(e.risk_tags.len()).unwrap_or(i32::MAX);
    let max_old = if n_old == 0 {
        0
    } else {
        e.risk_score - crate::risk::PER_EXTRA_TAG * (n_old - 1)
    };
    let catalog = crate::risk::catalog();
    let score = max_old.max(catalog.weight(tag)) + crate::risk::PER_EXTRA_TAG * n_old;
    e.risk_tags.push(tag.to_owned());
    e.risk_reasons.push(reason);
    for c in catalog.controls(tag) {
        if !e.controls.iter().any(|x| x == c) {
            e.controls.push(c.clone());
        }
    }
    e.risk_score = score.clamp(e.risk_score, 100);
    e.risk_level = catalog.level(e.risk_score).to_owned();
}
