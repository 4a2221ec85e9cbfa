//! The Changes section's sentence of one configuration object: who created, changed, assigned or
//! deleted it, when, and which settings changed ("set to" for a new setting, old -> new for a
//! change, secrets shown only as redacted).

use std::collections::{BTreeMap, HashMap};

use super::evidence::{Evidence, EvidenceEvent};
use super::facts::Fact;
use super::template::{num, upper_first, what, when, who};
use super::{Origin, Sentence};

/// Settings stated per object at most.
pub const MAX_SETTINGS: usize = 4;

/// One setting change in words; an id some cited event names is shown with its name.
fn setting(c: &super::evidence::Change, names: &HashMap<&str, &str>) -> String {
    if c.redacted {
        return format!("{} (a secret, redacted)", c.path);
    }
    let show = |v: &String| -> String {
        match names.get(v.trim_matches(['[', ']', '"'])) {
            Some(n) => format!("\"{v}\" (\"{n}\")"),
            None => format!("\"{v}\""),
        }
    };
    let new = c.new.as_ref().map(show);
    let old = c.old.as_ref().map(show);
    match (&old, &new) {
        (None, Some(n)) => format!("{} set to {n}", c.path),
        (Some(o), Some(n)) => format!("{} from {o} to {n}", c.path),
        (Some(o), None) => format!("{} emptied (was {o})", c.path),
        (None, None) => format!("{} emptied", c.path),
    }
}

/// The sentence of one changed object (`f`: its administrators' change events).
pub fn object_sentence(ev: &Evidence, f: &Fact) -> Sentence {
    let rows = f.rows(ev);
    let names: HashMap<&str, &str> = rows
        .iter()
        .filter_map(|e| Some((e.target_id.as_deref()?, e.target_name.as_deref()?)))
        .filter(|(id, _)| super::story::is_guid(id))
        .collect();
    let admin: Vec<&EvidenceEvent> = rows
        .iter()
        .copied()
        .filter(|e| e.administrative())
        .collect();
    let rows = if admin.is_empty() { rows } else { admin };
    let mut by_action: BTreeMap<&str, Vec<&EvidenceEvent>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for e in &rows {
        if !order.contains(&e.action.as_str()) {
            order.push(e.action.as_str());
        }
        by_action.entry(e.action.as_str()).or_default().push(e);
    }
    let clauses: Vec<String> = order.iter().map(|a| what(&by_action[a])).collect();
    let mut settings: Vec<String> = Vec::new();
    for e in &rows {
        for c in &e.changes {
            let s = setting(c, &names);
            if settings.len() < MAX_SETTINGS && !settings.contains(&s) {
                settings.push(s);
            }
        }
    }
    let mut text = format!(
        "{} {} {}",
        upper_first(&who(&rows)),
        clauses.join(", then "),
        when(&rows)
    );
    if f.count > 1 {
        text += &format!(" ({} events)", num(f.count));
    }
    if !settings.is_empty() {
        text += &format!(": {}", settings.join("; "));
    }
    text.push('.');
    Sentence {
        text,
        citations: vec![f.id.clone()],
        origin: Origin::Template,
    }
}
