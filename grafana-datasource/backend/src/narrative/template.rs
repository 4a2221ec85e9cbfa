//! The template narrator: deterministic sentences from the facts, each citing the fact (and through
//! it the events) it states. The default narrator, and the fallback whenever the LLM fails.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::evidence::Evidence;
use super::facts::{Fact, FactKind, level_rank};
use super::{Origin, Section, Sentence};
use crate::query::NarrativeKind;

/// Low-risk facts stated one by one per section; the rest get one summary sentence.
pub const MAX_LOW_RISK_PER_SECTION: usize = 10;

/// A time as narratives state it.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The past-tense phrase of a canonical action (the verifier maps these words back).
pub fn verb(action: &str) -> String {
    match action {
        "create" => "created".into(),
        "read" => "read".into(),
        "update" => "updated".into(),
        "delete" => "deleted".into(),
        "assign" => "assigned".into(),
        "unassign" => "unassigned".into(),
        "wipe" => "wiped".into(),
        "retire" => "retired".into(),
        "lock" => "locked".into(),
        "clear_passcode" => "cleared the passcode of".into(),
        "reset_passcode" => "reset the passcode of".into(),
        "enroll" => "enrolled".into(),
        "unenroll" => "unenrolled".into(),
        "login" => "signed in to".into(),
        "logout" => "signed out of".into(),
        "login_failed" => "failed to sign in to".into(),
        "restart" => "restarted".into(),
        "push" => "pushed".into(),
        "run" => "ran".into(),
        "remove_profile" => "removed a profile from".into(),
        "bypass_activation_lock" => "bypassed activation lock of".into(),
        other => format!("performed {other} on"),
    }
}

fn actor(f: &Fact) -> String {
    f.actor
        .clone()
        .unwrap_or_else(|| "an actor the logs do not name".into())
}

fn target(f: &Fact) -> String {
    match (&f.target_type, &f.target) {
        (Some(t), Some(n)) => format!("{} \"{n}\"", t.replace('_', " ")),
        (None, Some(n)) => format!("\"{n}\""),
        (Some(t), None) => t.replace('_', " "),
        (None, None) => "a target the logs do not name".into(),
    }
}

fn devices(f: &Fact) -> String {
    let list: Vec<&str> = f.devices.iter().take(3).map(String::as_str).collect();
    match f.devices.len() {
        0 => String::new(),
        1 if f.target.is_none() && f.target_type.as_deref() == Some("device") => {
            format!(" {}", list[0])
        }
        1 => format!(" on device {}", list[0]),
        n if n <= 3 => format!(" on {n} devices ({})", list.join(", ")),
        n => format!(" on {n} devices (including {})", list.join(", ")),
    }
}

fn risk(f: &Fact) -> String {
    if level_rank(&f.risk_level) < 2 {
        return String::new();
    }
    let tags: Vec<&str> = f.risk_tags.iter().map(String::as_str).collect();
    if tags.is_empty() {
        format!(" Risk: {}.", f.risk_level)
    } else {
        format!(" Risk: {} ({}).", f.risk_level, tags.join(", "))
    }
}

/// The sentence stating one fact.
pub fn fact_sentence(f: &Fact) -> Sentence {
    let text = match f.kind {
        FactKind::Episode => format!(
            "Correlated episode {} ({}): {} {} {} in {} event{}{} between {} and {}.{}",
            f.episode_id.as_deref().unwrap_or_default(),
            f.episode_kind.as_deref().unwrap_or_default(),
            actor(f),
            verb(&f.action),
            if f.devices.is_empty() {
                "targets"
            } else {
                "devices"
            },
            f.count,
            plural(f.count),
            devices(f),
            fmt_time(f.first),
            fmt_time(f.last),
            risk(f),
        ),
        FactKind::Group
            if f.target.is_none() && f.target_type.as_deref() == Some("device") && f.count > 1 =>
        {
            format!(
                "{} {} {} device{} in {} events between {} and {}{}.{}",
                actor(f),
                verb(&f.action),
                f.devices.len(),
                plural(f.devices.len()),
                f.count,
                fmt_time(f.first),
                fmt_time(f.last),
                if f.devices.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (including {})",
                        f.devices
                            .iter()
                            .take(3)
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } + &if f.failures > 0 {
                    format!("; {} of them failed", f.failures)
                } else {
                    String::new()
                },
                risk(f),
            )
        }
        FactKind::Group if f.count == 1 => format!(
            "{} {} {}{} at {}{}.{}",
            actor(f),
            verb(&f.action),
            target(f),
            devices(f),
            fmt_time(f.first),
            if f.failures > 0 { ", which failed" } else { "" },
            risk(f),
        ),
        FactKind::Group => format!(
            "{} {} {} {} times{} between {} and {}{}.{}",
            actor(f),
            verb(&f.action),
            target(f),
            f.count,
            devices(f),
            fmt_time(f.first),
            fmt_time(f.last),
            if f.failures > 0 {
                format!("; {} of them failed", f.failures)
            } else {
                String::new()
            },
            risk(f),
        ),
    };
    Sentence {
        text,
        citations: vec![f.id.clone()],
        origin: Origin::Template,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Sentences of `facts`: high-risk and the first `MAX_LOW_RISK_PER_SECTION` others one by one, the
/// remaining ones in one summary sentence.
fn section(title: String, mut facts: Vec<&Fact>, by_risk: bool) -> Section {
    if by_risk {
        facts.sort_by(|a, b| {
            (level_rank(&b.risk_level), b.count, &a.id).cmp(&(
                level_rank(&a.risk_level),
                a.count,
                &b.id,
            ))
        });
    }
    let mut sentences = Vec::new();
    let mut rest = Vec::new();
    let mut low = 0;
    for f in facts {
        if f.is_high_risk() || f.kind == FactKind::Episode || low < MAX_LOW_RISK_PER_SECTION {
            if !f.is_high_risk() && f.kind != FactKind::Episode {
                low += 1;
            }
            sentences.push(fact_sentence(f));
        } else {
            rest.push(f);
        }
    }
    if !rest.is_empty() {
        let n: usize = rest.iter().map(|f| f.count).sum();
        sentences.push(Sentence {
            text: format!(
                "{} further groups of lower-risk activity hold {} event{}.",
                rest.len(),
                n,
                plural(n)
            ),
            citations: rest.iter().map(|f| f.id.clone()).collect(),
            origin: Origin::Template,
        });
    }
    Section { title, sentences }
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
        NarrativeKind::PeriodSummary => "Period audit summary".to_owned(),
        NarrativeKind::IncidentTimeline => "Incident timeline (72 hours before)".to_owned(),
        NarrativeKind::ChangeReview => "Change review".to_owned(),
        NarrativeKind::DeviceLifecycle => "Device lifecycle".to_owned(),
        NarrativeKind::AdminActivity => "Admin activity".to_owned(),
    };
    let subject = subject.map(|x| format!(" of {x}")).unwrap_or_default();
    format!(
        "{what}{subject}, {} to {}",
        fmt_time(r.from),
        fmt_time(r.to)
    )
}

/// The template narrative's sections.
pub fn narrate(ev: &Evidence, facts: &[Fact]) -> Vec<Section> {
    if facts.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    match ev.scope.kind {
        NarrativeKind::PeriodSummary | NarrativeKind::AdminActivity => {
            out.push(overview(ev, facts));
            let episodes: Vec<&Fact> = facts
                .iter()
                .filter(|f| f.kind == FactKind::Episode)
                .collect();
            if !episodes.is_empty() {
                out.push(section("Correlated episodes".into(), episodes, false));
            }
            let mut by_control: BTreeMap<String, Vec<&Fact>> = BTreeMap::new();
            for f in facts.iter().filter(|f| f.kind == FactKind::Group) {
                let c = f
                    .controls
                    .iter()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "~Other activity".into());
                by_control.entry(c).or_default().push(f);
            }
            for (c, fs) in by_control {
                let title = match c.strip_prefix('~') {
                    Some(t) => t.to_owned(),
                    None => format!("Control {c}"),
                };
                out.push(section(title, fs, true));
            }
        }
        NarrativeKind::IncidentTimeline | NarrativeKind::DeviceLifecycle => {
            let mut by_day: BTreeMap<String, Vec<&Fact>> = BTreeMap::new();
            let mut sorted: Vec<&Fact> = facts.iter().collect();
            sorted.sort_by_key(|f| (f.first, f.id.clone()));
            for f in sorted {
                by_day
                    .entry(f.first.format("%Y-%m-%d").to_string())
                    .or_default()
                    .push(f);
            }
            for (d, fs) in by_day {
                let sentences = fs.into_iter().map(fact_sentence).collect();
                out.push(Section {
                    title: d,
                    sentences,
                });
            }
        }
        NarrativeKind::ChangeReview => {
            let mut changes = Vec::new();
            for e in &ev.events {
                if e.changes.is_empty() {
                    continue;
                }
                let parts: Vec<String> = e
                    .changes
                    .iter()
                    .take(5)
                    .map(|c| {
                        if c.redacted {
                            format!("{} (redacted)", c.path)
                        } else {
                            format!(
                                "{} from \"{}\" to \"{}\"",
                                c.path,
                                c.old.as_deref().unwrap_or("unset"),
                                c.new.as_deref().unwrap_or("unset")
                            )
                        }
                    })
                    .collect();
                let f = Fact {
                    target_type: e.target_type.clone(),
                    target: e.target_name.clone().or_else(|| e.target_id.clone()),
                    ..facts[0].clone()
                };
                changes.push(Sentence {
                    text: format!(
                        "{} {} {} at {}: {}.",
                        e.actor().unwrap_or("an actor the logs do not name"),
                        verb(&e.action),
                        target(&f),
                        fmt_time(e.time),
                        parts.join("; ")
                    ),
                    citations: vec![e.id.clone()],
                    origin: Origin::Template,
                });
            }
            if !changes.is_empty() {
                out.push(Section {
                    title: "Changes".into(),
                    sentences: changes,
                });
            }
            out.push(section("Activity".into(), facts.iter().collect(), true));
            let failed: Vec<&Fact> = facts.iter().filter(|f| f.failures > 0).collect();
            if !failed.is_empty() {
                let n: usize = failed.iter().map(|f| f.failures).sum();
                let mut devs: Vec<&str> = failed
                    .iter()
                    .flat_map(|f| f.devices.iter().map(String::as_str))
                    .collect();
                devs.sort_unstable();
                devs.dedup();
                out.push(Section {
                    title: "Failures".into(),
                    sentences: vec![Sentence {
                        text: format!(
                            "{n} event{} failed on {} device{}.",
                            plural(n),
                            devs.len(),
                            plural(devs.len())
                        ),
                        citations: failed.iter().map(|f| f.id.clone()).collect(),
                        origin: Origin::Template,
                    }],
                });
            }
        }
    }
    out
}

fn overview(ev: &Evidence, facts: &[Fact]) -> Section {
    let mut actors: Vec<&str> = facts.iter().filter_map(|f| f.actor.as_deref()).collect();
    actors.sort_unstable();
    actors.dedup();
    let mut devs: Vec<&str> = facts
        .iter()
        .flat_map(|f| f.devices.iter().map(String::as_str))
        .collect();
    devs.sort_unstable();
    devs.dedup();
    let high = ev.events.iter().filter(|e| e.is_high_risk()).count();
    let n = ev.events.len();
    Section {
        title: "Overview".into(),
        sentences: vec![Sentence {
            text: format!(
                "The scope holds {n} event{} by {} actor{} on {} device{}; {high} of them are high or critical risk.",
                plural(n),
                actors.len(),
                plural(actors.len()),
                devs.len(),
                plural(devs.len()),
            ),
            citations: facts.iter().map(|f| f.id.clone()).collect(),
            origin: Origin::Template,
        }],
    }
}
