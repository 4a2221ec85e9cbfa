//! The story plan: which evidence sets a narrative tells, and in what order. Findings first (every
//! bulk-destructive episode, every high- or critical-risk action, every rollout whose devices
//! failed), ranked by risk then time; then configuration changes grouped by object with the device
//! results; then one set per compliance control; then routine activity aggregated by kind; then one
//! set per feed. Device-originated events (check-ins, inventory, compliance reports) are routine
//! unless they are high risk themselves; they never make an admin's finding.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::evidence::{Evidence, EvidenceEvent};
use super::facts::{Fact, FactKind, level_rank, target_of};

/// Change objects told one by one; the rest share one sentence.
pub const MAX_CHANGE_OBJECTS: usize = 5;
/// Routine kinds told one by one; the rest share one sentence.
pub const MAX_ROUTINE_KINDS: usize = 6;
/// Devices that must fail or report noncompliance before a rollout is a finding (one device can
/// be a coincidence of a setting it shares with another policy).
pub const MIN_FAILED_DEVICES: usize = 2;
/// How long before a finding a role grant counts as its authority.
pub const AUTHORITY_WINDOW_HOURS: i64 = 72;

/// One finding of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The finding's evidence set (index into [`Plan::facts`]).
    pub fact: usize,
    /// A role grant to (or by) the actor shortly before, if any (index into [`Plan::facts`]).
    pub authority: Option<usize>,
    /// Device results of a rollout finding (index into [`Plan::facts`]).
    pub results: Option<usize>,
}

/// One changed configuration object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedObject {
    /// The administrators' change events of the object.
    pub fact: usize,
    /// The devices' reports naming it, if any.
    pub results: Option<usize>,
}

/// What a narrative tells, as evidence sets.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every evidence set, ids `F1..` in story order.
    pub facts: Vec<Fact>,
    /// Everything in scope.
    pub scope: Option<usize>,
    /// Findings, ranked by risk then time.
    pub findings: Vec<Finding>,
    /// Changed objects, the riskiest and busiest first.
    pub changes: Vec<ChangedObject>,
    /// The change objects not told one by one.
    pub changes_rest: Option<usize>,
    /// Controls (those with the very same events together): their set and the findings mapping
    /// to them.
    pub controls: Vec<(Vec<String>, usize, Vec<usize>)>,
    /// Routine kinds, the busiest first.
    pub routine: Vec<usize>,
    /// The routine kinds not told one by one.
    pub routine_rest: Option<usize>,
    /// One set per feed.
    pub feeds: Vec<usize>,
}

impl Plan {
    fn push(&mut self, f: Fact) -> usize {
        self.facts.push(f);
        self.facts.len() - 1
    }
}

/// Configuration categories whose admin changes the Changes section tells.
fn is_config_change(e: &EvidenceEvent) -> bool {
    e.administrative()
        && e.target_type.as_deref() != Some("device")
        && target_of(e).is_some()
        && matches!(
            e.action.as_str(),
            "create" | "update" | "patch" | "assign" | "unassign" | "delete"
        )
        && matches!(
            e.category.as_str(),
            "policy"
                | "profile"
                | "compliance"
                | "script"
                | "app"
                | "enrollment"
                | "role"
                | "access"
        )
}

fn day(e: &EvidenceEvent) -> String {
    e.time.format("%Y-%m-%d").to_string()
}

/// Plans the story of `ev`.
pub fn plan(ev: &Evidence) -> Plan {
    let mut p = Plan::default();
    if ev.events.is_empty() {
        return p;
    }
    let all: Vec<&EvidenceEvent> = ev.events.iter().collect();
    p.scope = Some(p.push(Fact::of(FactKind::Scope, "every event in scope", &all)));

    // Object names: an id some event names is shown by that name.
    let mut names: HashMap<&str, &str> = HashMap::new();
    for e in &ev.events {
        if let (Some(id), Some(n)) = (e.target_id.as_deref(), e.target_name.as_deref()) {
            names.entry(id).or_insert(n);
        }
    }
    let object_key = |e: &EvidenceEvent| -> Option<String> {
        let id = e.target_id.as_deref();
        e.target_name
            .as_deref()
            .or_else(|| id.and_then(|i| names.get(i).copied()))
            .or(id)
            .map(str::to_lowercase)
    };

    // Findings.
    let mut in_finding: HashSet<usize> = HashSet::new();
    let mut candidates: Vec<(Fact, Option<Fact>)> = Vec::new();
    let idx = |e: &EvidenceEvent| e.id[1..].parse::<usize>().unwrap_or(1) - 1;
    for ep in ev
        .episodes
        .iter()
        .filter(|x| x.episode_kind == "bulk_destructive")
    {
        let uids: HashSet<&str> = ep.event_uids.iter().map(String::as_str).collect();
        let rows: Vec<&EvidenceEvent> = ev
            .events
            .iter()
            .filter(|e| {
                uids.contains(e.event_uid.as_str())
                    || e.episode_id.as_deref() == Some(ep.episode_id.as_str())
            })
            .collect();
        let mut by_action: BTreeMap<&str, Vec<&EvidenceEvent>> = BTreeMap::new();
        for e in rows {
            by_action.entry(e.action.as_str()).or_default().push(e);
        }
        for (action, rows) in by_action {
            in_finding.extend(rows.iter().map(|e| idx(e)));
            let mut f = Fact::of(
                FactKind::Finding,
                format!("bulk {action} by {}", ep.actor.as_deref().unwrap_or("-")),
                &rows,
            );
            f.episode_id = Some(ep.episode_id.clone());
            f.episode_kind = Some(ep.episode_kind.clone());
            candidates.push((f, None));
        }
    }
    for ep in ev
        .episodes
        .iter()
        .filter(|x| x.episode_kind == "policy_rollout")
    {
        let uids: HashSet<&str> = ep.event_uids.iter().map(String::as_str).collect();
        let rows: Vec<&EvidenceEvent> = ev
            .events
            .iter()
            .filter(|e| {
                uids.contains(e.event_uid.as_str())
                    || e.episode_id.as_deref() == Some(ep.episode_id.as_str())
            })
            .collect();
        let (admin, results): (Vec<&EvidenceEvent>, Vec<&EvidenceEvent>) =
            rows.into_iter().partition(|e| e.administrative());
        let failing: HashSet<&str> = results
            .iter()
            .filter(|e| e.failed() || e.noncompliant())
            .filter_map(|e| e.device())
            .collect();
        if admin.is_empty()
            || (failing.len() < MIN_FAILED_DEVICES && !results.iter().any(|e| e.is_high_risk()))
        {
            continue;
        }
        in_finding.extend(admin.iter().map(|e| idx(e)));
        let mut f = Fact::of(
            FactKind::Finding,
            format!("rollout by {}", ep.actor.as_deref().unwrap_or("-")),
            &admin,
        );
        f.episode_id = Some(ep.episode_id.clone());
        f.episode_kind = Some(ep.episode_kind.clone());
        let r = Fact::of(FactKind::Finding, "device results of the rollout", &results);
        candidates.push((f, Some(r)));
    }
    // High- and critical-risk actions not yet in a finding: one per actor (or device), episode (or
    // day), action and target type; in a device's lifecycle, one per action (the admin's command
    // and the device's own report of it are one finding).
    let mut groups: BTreeMap<(String, String, String, String), Vec<&EvidenceEvent>> =
        BTreeMap::new();
    let high: Vec<&EvidenceEvent> = ev
        .events
        .iter()
        .filter(|e| e.is_high_risk() && !in_finding.contains(&idx(e)))
        .collect();
    for e in high.iter().filter(|e| e.administrative()) {
        let who = e.actor().unwrap_or("-").to_lowercase();
        let when = e.episode_id.clone().unwrap_or_else(|| day(e));
        let tt = e.target_type.clone().unwrap_or_default();
        groups
            .entry((who, when, e.action.clone(), tt))
            .or_default()
            .push(e);
    }
    // A device's own report of a command joins the administrator's finding of that command on
    // that device the same day; otherwise it is a finding of the device.
    for e in high.iter().filter(|e| !e.administrative()) {
        let joined = groups.values_mut().find(|rows| {
            rows.iter().any(|r| {
                r.action == e.action
                    && r.device().is_some()
                    && r.device() == e.device()
                    && day(r) == day(e)
            })
        });
        match joined {
            Some(rows) => rows.push(e),
            None => groups
                .entry((
                    format!("device {}", e.device().unwrap_or("-")),
                    day(e),
                    e.action.clone(),
                    e.target_type.clone().unwrap_or_default(),
                ))
                .or_default()
                .push(e),
        }
    }
    for ((_, _, action, _), mut rows) in groups {
        in_finding.extend(rows.iter().map(|e| idx(e)));
        // The administrator's event first, so the finding names who acted.
        rows.sort_by_key(|e| (!e.administrative(), e.time));
        let who = rows[0]
            .actor()
            .or(rows[0].device())
            .unwrap_or("-")
            .to_owned();
        candidates.push((
            Fact::of(FactKind::Finding, format!("{action} by {who}"), &rows),
            None,
        ));
    }
    candidates.sort_by(|(a, _), (b, _)| {
        (
            std::cmp::Reverse(level_rank(&a.risk_level)),
            std::cmp::Reverse(a.max_risk_score),
            a.first,
            &a.label,
        )
            .cmp(&(
                std::cmp::Reverse(level_rank(&b.risk_level)),
                std::cmp::Reverse(b.max_risk_score),
                b.first,
                &b.label,
            ))
    });
    // Role grants, for authority.
    let grants: Vec<&EvidenceEvent> = ev
        .events
        .iter()
        .filter(|e| e.risk_tags.iter().any(|t| t == "role_grant"))
        .collect();
    let mut finding_of_event: HashMap<String, usize> = HashMap::new();
    for (f, results) in candidates {
        let actor = f.actor.clone();
        let first = f.first;
        let fi = p.push(f);
        for id in &p.facts[fi].events {
            finding_of_event.insert(id.clone(), fi);
        }
        let results = results.map(|r| p.push(r));
        p.findings.push(Finding {
            fact: fi,
            authority: None,
            results,
        });
        // The latest role grant before the finding naming its actor (as granter or grantee).
        let grant = actor.as_deref().and_then(|a| {
            let a = a.to_lowercase();
            grants
                .iter()
                .filter(|g| {
                    g.time <= first
                        && first - g.time <= chrono::Duration::hours(AUTHORITY_WINDOW_HOURS)
                })
                .filter(|g| !p.facts[fi].events.contains(&g.id))
                .filter(|g| {
                    g.actor().is_some_and(|x| x.to_lowercase() == a)
                        || g.changes.iter().any(|c| {
                            c.new
                                .as_deref()
                                .is_some_and(|v| v.to_lowercase().contains(&a))
                        })
                })
                .max_by_key(|g| g.time)
                .copied()
        });
        if let Some(g) = grant {
            let gi = match finding_of_event.get(&g.id) {
                Some(gi) => *gi,
                None => p.push(Fact::of(FactKind::Finding, "role grant before", &[g])),
            };
            if let Some(last) = p.findings.last_mut() {
                last.authority = Some(gi);
            }
        }
    }

    // Changes, by object.
    let mut objects: BTreeMap<String, Vec<&EvidenceEvent>> = BTreeMap::new();
    for e in ev.events.iter().filter(|e| is_config_change(e)) {
        if let Some(k) = object_key(e) {
            objects.entry(k).or_default().push(e);
        }
    }
    let mut reports: HashMap<String, Vec<&EvidenceEvent>> = HashMap::new();
    for e in ev.events.iter().filter(|e| !e.administrative()) {
        if let Some(k) = object_key(e)
            && objects.contains_key(&k)
        {
            reports.entry(k).or_default().push(e);
        }
    }
    // An id a change sets (a group, a role definition) is cited with the event that names it, so
    // the sentence can give the name.
    let mut namers: HashMap<&str, &EvidenceEvent> = HashMap::new();
    for e in &ev.events {
        if let (Some(id), Some(_)) = (e.target_id.as_deref(), e.target_name.as_deref())
            && is_guid(id)
        {
            namers.entry(id).or_insert(e);
        }
    }
    let mut objs: Vec<(String, Fact)> = objects
        .into_iter()
        .map(|(k, mut rows)| {
            let named: Vec<&EvidenceEvent> = rows
                .iter()
                .flat_map(|e| e.changes.iter())
                .filter_map(|c| {
                    c.new
                        .as_deref()
                        .and_then(|v| namers.get(v.trim_matches(['[', ']', '"'])))
                })
                .copied()
                .filter(|n| !rows.iter().any(|r| r.id == n.id))
                .collect();
            rows.extend(named);
            let label = format!("changes of {}", target_of(rows[0]).unwrap_or("-"));
            (k, Fact::of(FactKind::Change, label, &rows))
        })
        .collect();
    objs.sort_by(|(_, a), (_, b)| {
        (
            std::cmp::Reverse(a.max_risk_score),
            std::cmp::Reverse(a.count),
            a.first,
        )
            .cmp(&(
                std::cmp::Reverse(b.max_risk_score),
                std::cmp::Reverse(b.count),
                b.first,
            ))
    });
    let mut rest: Vec<&EvidenceEvent> = Vec::new();
    for (i, (k, f)) in objs.into_iter().enumerate() {
        if i < MAX_CHANGE_OBJECTS {
            let fi = p.push(f);
            let results = reports.get(&k).map(|rows| {
                let label = format!(
                    "device reports on {}",
                    p.facts[fi].target.as_deref().unwrap_or("-")
                );
                p.push(Fact::of(FactKind::Change, label, rows))
            });
            p.changes.push(ChangedObject { fact: fi, results });
        } else {
            rest.extend(f.rows(ev));
        }
    }
    if !rest.is_empty() {
        rest.sort_by_key(|e| idx(e));
        p.changes_rest = Some(p.push(Fact::of(FactKind::Change, "further changes", &rest)));
    }

    // Controls.
    let mut by_control: BTreeMap<&str, Vec<&EvidenceEvent>> = BTreeMap::new();
    for e in &ev.events {
        for c in &e.controls {
            by_control.entry(c.as_str()).or_default().push(e);
        }
    }
    // Controls with the very same events share one line.
    let mut same: Vec<(Vec<&str>, Vec<&EvidenceEvent>)> = Vec::new();
    for (c, rows) in by_control {
        match same
            .iter_mut()
            .find(|(_, r)| r.len() == rows.len() && r.iter().zip(&rows).all(|(a, b)| a.id == b.id))
        {
            Some((cs, _)) => cs.push(c),
            None => same.push((vec![c], rows)),
        }
    }
    for (cs, rows) in same {
        let findings: Vec<usize> = p
            .findings
            .iter()
            .map(|f| f.fact)
            .filter(|fi| cs.iter().any(|c| p.facts[*fi].controls.contains(*c)))
            .collect();
        let fi = p.push(Fact::of(
            FactKind::Control,
            format!("events under {}", cs.join(", ")),
            &rows,
        ));
        p.controls
            .push((cs.iter().map(|c| (*c).to_owned()).collect(), fi, findings));
    }

    // Routine: everything that is neither a finding nor an admin's configuration change, by kind.
    let change_events: HashSet<&str> = p
        .changes
        .iter()
        .map(|c| c.fact)
        .chain(p.changes_rest)
        .flat_map(|fi| p.facts[fi].events.iter().map(String::as_str))
        .collect();
    let mut kinds: BTreeMap<(String, String), Vec<&EvidenceEvent>> = BTreeMap::new();
    for (i, e) in ev.events.iter().enumerate() {
        if in_finding.contains(&i) || change_events.contains(e.id.as_str()) {
            continue;
        }
        kinds
            .entry((e.action.clone(), e.target_type.clone().unwrap_or_default()))
            .or_default()
            .push(e);
    }
    let mut kinds: Vec<((String, String), Vec<&EvidenceEvent>)> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut rest: Vec<&EvidenceEvent> = Vec::new();
    for (i, ((action, tt), rows)) in kinds.into_iter().enumerate() {
        if i < MAX_ROUTINE_KINDS {
            let label = format!("routine {action} {tt}");
            let fi = p.push(Fact::of(FactKind::Routine, label.trim_end(), &rows));
            p.routine.push(fi);
        } else {
            rest.extend(rows);
        }
    }
    if !rest.is_empty() {
        rest.sort_by_key(|e| idx(e));
        p.routine_rest = Some(p.push(Fact::of(FactKind::Routine, "further routine", &rest)));
    }

    // Feeds.
    let mut feeds: BTreeMap<(&str, &str), Vec<&EvidenceEvent>> = BTreeMap::new();
    for e in &ev.events {
        feeds
            .entry((e.vendor.as_str(), e.feed.as_str()))
            .or_default()
            .push(e);
    }
    for ((v, f), rows) in feeds {
        let fi = p.push(Fact::of(FactKind::Feed, format!("{v} {f}"), &rows));
        p.feeds.push(fi);
    }

    for (i, f) in p.facts.iter_mut().enumerate() {
        f.id = format!("F{}", i + 1);
    }
    p
}

/// A GUID-like id (`8-4-4-4-12` hex): the ids changes refer to by value (groups, role
/// definitions), never a small number that could be anything.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The distinct values of `f` over `rows`.
pub fn distinct<'a>(
    rows: &[&'a EvidenceEvent],
    f: impl Fn(&'a EvidenceEvent) -> Option<&'a str>,
) -> BTreeSet<&'a str> {
    rows.iter().filter_map(|e| f(e)).collect()
}
