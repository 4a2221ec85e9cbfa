//! The template narrator: deterministic sentences from the story plan ([`super::story`]), each
//! citing the evidence sets it states. Sections, for every kind: Summary, Findings (ranked), Changes
//! (by object), By control, Routine activity (aggregated), Coverage. Verbs come from the vocabulary
//! table ([`super::vocab`]). The default narrator, and the fallback whenever the LLM fails.

use chrono::{DateTime, Utc};

use super::evidence::{Evidence, EvidenceEvent};
use super::facts::Fact;
use super::story::{Plan, distinct};
use super::vocab::vocabulary;
use super::{Origin, Section, Sentence};
use crate::NarrativeKind;

/// Devices named in a sentence at most.
pub const MAX_NAMED: usize = 5;

/// A time as narratives state it.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `1,234`.
pub fn num(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn sentence(text: String, citations: Vec<&Fact>) -> Sentence {
    Sentence {
        text,
        citations: citations.iter().map(|f| f.id.clone()).collect(),
        origin: Origin::Template,
    }
}

/// `"a", "b", "c" and 4 more` of `names` (at most [`MAX_NAMED`] named).
fn named<'a>(names: impl IntoIterator<Item = &'a str>, quote: bool) -> String {
    let all: Vec<&str> = names.into_iter().collect();
    let q = |s: &str| {
        if quote {
            format!("\"{s}\"")
        } else {
            s.to_owned()
        }
    };
    let shown: Vec<String> = all.iter().take(MAX_NAMED).map(|s| q(s)).collect();
    match all.len() {
        0 => String::new(),
        1 => shown[0].clone(),
        n if n <= MAX_NAMED => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
        _ => format!("{} and others", shown.join(", ")),
    }
}

/// The devices of `rows`: "NW-MBP-1", or "25 Windows devices (A, B, C, D, E and others)".
fn devices_phrase(rows: &[&EvidenceEvent]) -> String {
    let devs = distinct(rows, EvidenceEvent::device);
    let platforms = distinct(rows, |e| e.device_platform.as_deref());
    match devs.len() {
        0 => "devices the logs do not name".into(),
        1 => format!("device {}", named(devs.iter().copied(), false)),
        n => {
            // A platform only when every row that names a device states the same one.
            let unstated = rows
                .iter()
                .any(|e| e.device().is_some() && e.device_platform.is_none());
            let platform = if platforms.len() == 1 && !unstated {
                format!("{} ", platforms.iter().next().copied().unwrap_or_default())
            } else {
                String::new()
            };
            format!(
                "{n} {platform}devices ({})",
                named(devs.iter().copied(), false)
            )
        }
    }
}

/// The target of `rows`: `the policy "X"` is in the verb; this gives `"X"` or `3 targets ("A", ..)`.
fn target_phrase(rows: &[&EvidenceEvent]) -> String {
    let t = distinct(rows, super::facts::target_of);
    match t.len() {
        0 => "(the logs name no target)".into(),
        1 => named(t.iter().copied(), true),
        n => format!("{n} targets ({})", named(t.iter().copied(), true)),
    }
}

/// `<verb phrase>` of `rows` (one action) from the vocabulary, placeholders filled.
pub fn what(rows: &[&EvidenceEvent]) -> String {
    let Some(e) = rows.first() else {
        return String::new();
    };
    let p = vocabulary().phrase(&e.action, e.target_type.as_deref());
    let targets = distinct(rows, super::facts::target_of);
    if targets.len() > 1
        && let Some((head, _)) = p.verb.split_once(" the ")
        && p.verb.ends_with("{target}")
    {
        let types = distinct(rows, |e| e.target_type.as_deref());
        let noun = match types.iter().next() {
            Some(t) if types.len() == 1 => format!("{}s", t.replace('_', " ")),
            _ => "objects".to_owned(),
        };
        return format!(
            "{head} {} {noun} ({})",
            targets.len(),
            named(targets.iter().copied(), true)
        );
    }
    p.verb
        .replace("{devices}", &devices_phrase(rows))
        .replace("{target}", &target_phrase(rows))
}

/// Who acted, with the person and department the directory gives.
pub fn who(rows: &[&EvidenceEvent]) -> String {
    let Some(e) = rows.first() else {
        return "an actor the logs do not name".into();
    };
    if e.device_originated() || e.actor().is_none() {
        return match e.device() {
            Some(d) => format!("device {d}"),
            None => "an actor the logs do not name".into(),
        };
    }
    let account = e.actor().unwrap_or_default();
    let kind = match e.actor_kind.as_deref() {
        Some("api_client") => "API client ",
        Some("app") => "app ",
        Some("partner") => "partner admin ",
        _ => "",
    };
    match (&e.actor_person, &e.actor_department) {
        (Some(p), Some(d)) if p != account => format!("{p} ({d}, account {account})"),
        (Some(p), None) if p != account => format!("{p} (account {account})"),
        _ => format!("{kind}{account}"),
    }
}

/// When: `on 2026-03-14 at 05:10 UTC (00:10 local time, America/New_York)` or a range.
pub fn when(rows: &[&EvidenceEvent]) -> String {
    let (Some(first), Some(last)) = (
        rows.iter().min_by_key(|e| e.time),
        rows.iter().max_by_key(|e| e.time),
    ) else {
        return String::new();
    };
    let local = first
        .local_clock()
        .filter(|_| first.local_zone.as_deref() != Some("UTC"))
        .map(|(_, hm)| {
            format!(
                " ({hm} local time, {})",
                first.local_zone.as_deref().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    if first.time.format("%Y-%m-%d %H:%M").to_string()
        == last.time.format("%Y-%m-%d %H:%M").to_string()
    {
        format!(
            "on {} at {} UTC{local}",
            first.time.format("%Y-%m-%d"),
            first.time.format("%H:%M")
        )
    } else if first.time.date_naive() == last.time.date_naive() {
        format!(
            "on {} between {} and {} UTC{local}",
            first.time.format("%Y-%m-%d"),
            first.time.format("%H:%M"),
            last.time.format("%H:%M")
        )
    } else {
        format!(
            "between {} and {}{local}",
            fmt_time(first.time),
            fmt_time(last.time)
        )
    }
}

/// `<verb phrase> <when>` of one action's rows; a device's own report reads "reported that it was
/// retired".
pub fn act(rows: &[&EvidenceEvent]) -> String {
    let Some(e) = rows.first() else {
        return String::new();
    };
    if !e.administrative() {
        let p = vocabulary().phrase(&e.action, e.target_type.as_deref());
        if p.verb.contains("{devices}") {
            let verb = p.verb.split_whitespace().next().unwrap_or_default();
            return format!("reported that it was {verb} {}", when(rows));
        }
    }
    format!("{} {}", what(rows), when(rows))
}

/// What devices reported on a rollout or a changed object.
fn results_sentence(ev: &Evidence, r: &Fact) -> Sentence {
    let rows = r.rows(ev);
    let bad: Vec<&EvidenceEvent> = rows
        .iter()
        .copied()
        .filter(|e| e.failed() || e.noncompliant())
        .collect();
    let bad_devices = distinct(&bad, EvidenceEvent::device);
    let text = if bad_devices.is_empty() {
        format!(
            "{} device{} reported on it in {} events, none failed or noncompliant.",
            num(r.devices.len()),
            plural(r.devices.len()),
            num(r.count)
        )
    } else {
        format!(
            "{} device{} reported on it in {} events; {} of them reported a failure or noncompliance ({}).",
            num(r.devices.len()),
            plural(r.devices.len()),
            num(r.count),
            num(bad_devices.len()),
            named(bad_devices.iter().copied(), false)
        )
    };
    sentence(text, vec![r])
}

fn outcome(f: &Fact) -> String {
    match (f.successes, f.failures) {
        (1, 0) if f.count == 1 => "it succeeded".to_owned(),
        (0, 1) if f.count == 1 => "it failed".to_owned(),
        (s, 0) if s == f.count => format!("all {} succeeded", num(s)),
        (0, fl) if fl == f.count => format!("all {} failed", num(fl)),
        (s, fl) => format!("{} succeeded and {} failed", num(s), num(fl)),
    }
}

/// Why a set is flagged: its tags in words, one reason per tag, and its controls.
fn why(f: &Fact, rows: &[&EvidenceEvent]) -> String {
    let v = vocabulary();
    let tags: Vec<String> = f.risk_tags.iter().map(|t| v.tag(t)).collect();
    let mut reasons: Vec<&str> = Vec::new();
    for r in rows.iter().rev().flat_map(|e| e.risk_reasons.iter()) {
        if reasons.len() < 2 && !reasons.contains(&r.as_str()) {
            reasons.push(r);
        }
    }
    let mut s = if tags.is_empty() {
        "flagged because its devices reported failures or noncompliance".to_owned()
    } else {
        format!("flagged {} for {}", f.risk_level, tags.join(", "))
    };
    if !reasons.is_empty() {
        s += &format!(" ({})", reasons.join("; "));
    }
    if !f.controls.is_empty() {
        s += &format!(
            "; controls {}",
            f.controls
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}

/// `s` with its first letter in upper case, unless it starts with an account name.
pub fn upper_first(s: &str) -> String {
    // Account names keep their case ("alice@corp.example", "CORP\\jdoe").
    let first = s.split_whitespace().next().unwrap_or_default();
    if first.contains(['@', '\\', '.']) || first.chars().any(|c| c.is_ascii_digit()) {
        return s.to_owned();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The title of a narrative of `ev`.
pub fn title(ev: &Evidence) -> String {
    let s = &ev.scope;
    let r = s.effective_range();
    let subject = s
        .device
        .as_deref()
        .or(s.actor.as_deref())
        .or(s.policy.as_deref())
        .or(s.episode.as_deref());
    let what = match s.kind {
        NarrativeKind::PeriodSummary => "Period audit summary",
        NarrativeKind::IncidentTimeline => "Incident timeline (72 hours before)",
        NarrativeKind::ChangeReview => "Change review",
        NarrativeKind::DeviceLifecycle => "Device lifecycle",
        NarrativeKind::AdminActivity => "Admin activity",
    };
    let subject = subject.map(|x| format!(" of {x}")).unwrap_or_default();
    format!(
        "{what}{subject}, {} to {}",
        fmt_time(r.from),
        fmt_time(r.to)
    )
}

/// The template narrative's sections.
pub fn narrate(ev: &Evidence, plan: &Plan) -> Vec<Section> {
    let Some(scope) = plan.scope.map(|i| &plan.facts[i]) else {
        return Vec::new();
    };
    let fact = |i: usize| &plan.facts[i];
    let mut out = vec![summary(ev, plan, scope)];

    let mut findings = Vec::new();
    for f in &plan.findings {
        let fa = fact(f.fact);
        let rows = fa.rows(ev);
        let mut cites = vec![fa];
        let mut text = format!("{} {}", upper_first(&who(&rows)), act(&rows));
        if let Some(p) = rows.iter().find(|e| e.actor_is_delegated) {
            text += &format!(
                ", as a delegated admin{}",
                p.actor_partner_tenant
                    .as_deref()
                    .map(|t| format!(" of partner tenant {t}"))
                    .unwrap_or_default()
            );
        }
        if let Some(a) = f.authority.map(fact) {
            let g = a.rows(ev);
            let same = g.first().and_then(|e| e.actor()) == rows.first().and_then(|e| e.actor());
            let by = if same { "they".to_owned() } else { who(&g) };
            text += &format!(", after {by} {}", act(&g));
            cites.push(a);
        }
        text += &format!("; {}; {}.", outcome(fa), why(fa, &rows));
        findings.push(sentence(text, cites));
        if let Some(r) = f.results.map(fact) {
            findings.push(results_sentence(ev, r));
        }
    }
    if !findings.is_empty() {
        out.push(Section {
            title: "Findings".into(),
            sentences: findings,
        });
    }

    let mut changes = Vec::new();
    for c in &plan.changes {
        let fa = fact(c.fact);
        changes.push(super::changes::object_sentence(ev, fa));
        if let Some(r) = c.results.map(fact) {
            changes.push(results_sentence(ev, r));
        }
    }
    if let Some(r) = plan.changes_rest.map(fact) {
        changes.push(sentence(
            format!(
                "{} further objects were changed in {} events by {} administrators.",
                num(r.targets.len()),
                num(r.count),
                num(r.actors.len())
            ),
            vec![r],
        ));
    }
    if !changes.is_empty() {
        out.push(Section {
            title: "Changes".into(),
            sentences: changes,
        });
    }

    let mut controls = Vec::new();
    for (cs, fi, fs) in &plan.controls {
        let f = fact(*fi);
        let names: Vec<String> = cs
            .iter()
            .map(|c| match vocabulary().control(c) {
                Some(t) => format!("{c} ({t})"),
                None => c.clone(),
            })
            .collect();
        let (c, title) = (names.join(", "), "");
        let mut cites = vec![f];
        cites.extend(fs.iter().map(|i| fact(*i)));
        controls.push(sentence(
            format!(
                "{c}{title}: {} event{}, {} of them high or critical risk.",
                num(f.count),
                plural(f.count),
                num(f.high)
            ),
            cites,
        ));
    }
    if !controls.is_empty() {
        out.push(Section {
            title: "By control".into(),
            sentences: controls,
        });
    }

    let mut routine = Vec::new();
    for fi in &plan.routine {
        routine.push(routine_sentence(ev, fact(*fi)));
    }
    if let Some(r) = plan.routine_rest.map(fact) {
        routine.push(sentence(
            format!(
                "{} further routine events of {} kinds came from {} devices and {} actors.",
                num(r.count),
                num(r.actions.len()),
                num(r.devices.len()),
                num(r.actors.len())
            ),
            vec![r],
        ));
    }
    if !routine.is_empty() {
        out.push(Section {
            title: "Routine activity".into(),
            sentences: routine,
        });
    }

    let feeds: Vec<&Fact> = plan.feeds.iter().map(|i| fact(*i)).collect();
    let mut cites = vec![scope];
    cites.extend(feeds.iter().copied());
    let coverage = vec![sentence(
        format!(
            "Events run from {} to {} and came from {} feed{}: {}.",
            fmt_time(scope.first),
            fmt_time(scope.last),
            feeds.len(),
            plural(feeds.len()),
            feeds
                .iter()
                .map(|f| format!("{} {}", f.label, num(f.count)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        cites,
    )];
    out.push(Section {
        title: "Coverage and integrity".into(),
        sentences: coverage,
    });
    out
}

fn summary(ev: &Evidence, plan: &Plan, scope: &Fact) -> Section {
    let rows: Vec<&EvidenceEvent> = ev.events.iter().collect();
    let vendors = distinct(&rows, |e| Some(e.vendor.as_str()));
    let feeds = distinct(&rows, |e| Some(e.feed.as_str()));
    let admins = distinct(&rows, |e| e.administrative().then(|| e.actor()).flatten());
    let mut s = vec![sentence(
        format!(
            "From {} to {}, the trail holds {} events from {} vendor{} ({}) over {} feed{}, on {} device{}, by {} administrator{}.",
            scope.first.format("%Y-%m-%d"),
            scope.last.format("%Y-%m-%d"),
            num(scope.count),
            vendors.len(),
            plural(vendors.len()),
            vendors.iter().copied().collect::<Vec<_>>().join(", "),
            feeds.len(),
            plural(feeds.len()),
            num(scope.devices.len()),
            plural(scope.devices.len()),
            num(admins.len()),
            plural(admins.len())
        ),
        vec![scope],
    )];
    let findings: Vec<&Fact> = plan.findings.iter().map(|f| &plan.facts[f.fact]).collect();
    if findings.is_empty() {
        s.push(sentence(
            "No event in scope is high or critical risk and no bulk-destructive episode occurred."
                .into(),
            vec![scope],
        ));
    } else {
        let by = |l: &str| findings.iter().filter(|f| f.risk_level == l).count();
        let mut parts: Vec<String> = ["critical", "high", "medium", "low"]
            .iter()
            .filter(|l| by(l) > 0)
            .map(|l| format!("{} {l}", by(l)))
            .collect();
        let unrated = findings
            .iter()
            .filter(|f| super::facts::level_rank(&f.risk_level) == 0)
            .count();
        if unrated > 0 {
            parts.push(format!(
                "{unrated} rollout{} whose devices failed",
                plural(unrated)
            ));
        }
        s.push(sentence(
            format!(
                "{} finding{} stand{} out: {}.",
                findings.len(),
                plural(findings.len()),
                if findings.len() == 1 { "s" } else { "" },
                parts.join(", ")
            ),
            findings.clone(),
        ));
    }
    let changed: Vec<&Fact> = plan
        .changes
        .iter()
        .map(|c| &plan.facts[c.fact])
        .chain(plan.changes_rest.map(|i| &plan.facts[i]))
        .collect();
    if !changed.is_empty() {
        let n: usize = changed.iter().map(|f| f.count).sum();
        s.push(sentence(
            format!("Administrators made {} configuration changes.", num(n)),
            changed,
        ));
    }
    let routine: Vec<&Fact> = plan
        .routine
        .iter()
        .chain(plan.routine_rest.iter())
        .map(|i| &plan.facts[*i])
        .collect();
    if !routine.is_empty() {
        let n: usize = routine.iter().map(|f| f.count).sum();
        s.push(sentence(
            format!("The other {} events are routine activity.", num(n)),
            routine,
        ));
    }
    Section {
        title: "Summary".into(),
        sentences: s,
    }
}

fn routine_sentence(ev: &Evidence, f: &Fact) -> Sentence {
    let rows = f.rows(ev);
    let e = rows[0];
    let p = vocabulary().phrase(&e.action, e.target_type.as_deref());
    let by_devices = p.by == "device" || e.device_originated();
    let mut text = format!("{} {}", num(f.count), p.noun);
    if by_devices && !f.devices.is_empty() {
        text += &format!(
            " from {} device{}",
            num(f.devices.len()),
            plural(f.devices.len())
        );
    } else if !f.actors.is_empty() {
        text += &format!(
            " by {} actor{}",
            num(f.actors.len()),
            plural(f.actors.len())
        );
        if !f.devices.is_empty() {
            text += &format!(
                " on {} device{}",
                num(f.devices.len()),
                plural(f.devices.len())
            );
        }
    }
    if f.targets.len() > 1 {
        text += &format!(" covering {} targets", num(f.targets.len()));
    }
    if f.failures > 0 {
        text += &format!("; {} failed", num(f.failures));
    }
    text.push('.');
    sentence(upper_first(&text), vec![f])
}
