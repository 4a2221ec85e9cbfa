//! The narrative vocabulary: one table (`phrases.tsv`, data, not phrases in code) mapping canonical
//! action x target type to the plain words narratives and reports use: the verb phrase of a sentence
//! ("wiped {devices}", "viewed the FileVault recovery key of {devices}") and the plural noun of a
//! routine count ("check-ins"). The verifier reads the same table: a phrase's verb stands for its
//! action, and its words are template words, never claims.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The table's text.
pub const PHRASES_TSV: &str = include_str!("phrases.tsv");
/// Words of risk tags and titles of controls.
pub const TERMS_TSV: &str = include_str!("terms.tsv");

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    /// Canonical action.
    pub action: String,
    /// Target type (`-`: none).
    pub target_type: String,
    /// Past-tense verb phrase with `{target}` / `{devices}` placeholders.
    pub verb: String,
    /// Plural noun for routine counts.
    pub noun: String,
    /// `device` when devices report it, `admin` when administrators do it.
    pub by: String,
}

/// The parsed table.
#[derive(Debug)]
pub struct Vocabulary {
    rows: BTreeMap<(String, String), Phrase>,
    by_action: BTreeMap<String, Phrase>,
    tags: BTreeMap<String, String>,
    controls: BTreeMap<String, String>,
}

/// The vocabulary (parsed once).
pub fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| {
        let mut v = Vocabulary::parse(PHRASES_TSV);
        for line in TERMS_TSV.lines().filter(|l| !l.starts_with('#')) {
            let c: Vec<&str> = line.split('\t').collect();
            match c.as_slice() {
                ["tag", id, words] => {
                    v.tags.insert((*id).to_owned(), (*words).to_owned());
                }
                ["control", id, words] => {
                    v.controls.insert((*id).to_owned(), (*words).to_owned());
                }
                _ => {}
            }
        }
        v
    })
}

impl Vocabulary {
    /// Parses the TSV (comment lines start with `#`; the header row is skipped). Malformed rows are
    /// skipped (a test checks there are none).
    pub fn parse(text: &str) -> Self {
        let mut rows = BTreeMap::new();
        let mut by_action: BTreeMap<String, Phrase> = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() || line.starts_with("action\t") {
                continue;
            }
            let c: Vec<&str> = line.split('\t').collect();
            if c.len() != 5 {
                continue;
            }
            let p = Phrase {
                action: c[0].to_owned(),
                target_type: c[1].to_owned(),
                verb: c[2].to_owned(),
                noun: c[3].to_owned(),
                by: c[4].to_owned(),
            };
            by_action
                .entry(p.action.clone())
                .or_insert_with(|| p.clone());
            rows.insert((p.action.clone(), p.target_type.clone()), p);
        }
        Self {
            rows,
            by_action,
            tags: BTreeMap::new(),
            controls: BTreeMap::new(),
        }
    }

    /// A risk tag in words ("a remote wipe"); unknown tags are shown as written, underscores as
    /// spaces.
    pub fn tag(&self, tag: &str) -> String {
        self.tags
            .get(tag)
            .cloned()
            .unwrap_or_else(|| tag.replace('_', " "))
    }

    /// A control's title, if the table has it.
    pub fn control(&self, id: &str) -> Option<&str> {
        self.controls.get(id).map(String::as_str)
    }

    /// Every `(action, target_type)` pair of the table.
    pub fn pairs(&self) -> BTreeSet<(String, String)> {
        self.rows.keys().cloned().collect()
    }

    /// Rows that do not parse (five tab-separated columns), for the table's own test.
    pub fn malformed(text: &str) -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter(|l| l.split('\t').count() != 5)
            .map(str::to_owned)
            .collect()
    }

    /// The row of `action` on `target_type`: the exact pair, else the action's first row, else a
    /// neutral phrase built from the action's name.
    pub fn phrase(&self, action: &str, target_type: Option<&str>) -> Phrase {
        let tt = target_type.unwrap_or("-");
        if let Some(p) = self.rows.get(&(action.to_owned(), tt.to_owned())) {
            return p.clone();
        }
        if let Some(p) = self.by_action.get(action) {
            let mut p = p.clone();
            // The action's first row names another target type: name the target generically.
            if p.verb.contains("{target}") || p.verb.contains("{devices}") {
                let head = p.verb.split(" the ").next().unwrap_or(&p.verb).to_owned();
                let head = head.split(" {").next().unwrap_or(&head).to_owned();
                p.verb = if tt == "device" {
                    format!("{head} {{devices}}")
                } else {
                    format!("{head} {{target}}")
                };
            }
            return p;
        }
        let words = action.replace('_', " ");
        Phrase {
            action: action.to_owned(),
            target_type: tt.to_owned(),
            verb: if tt == "device" {
                format!("performed {words} on {{devices}}")
            } else {
                format!("performed {words} on {{target}}")
            },
            noun: format!("{words} events"),
            by: "admin".into(),
        }
    }

    /// Words the table's phrases, tag words and control titles use (lower case), which the
    /// verifier treats as template words.
    pub fn words(&self) -> BTreeSet<String> {
        let extra: Vec<&str> = self
            .tags
            .values()
            .chain(self.controls.values())
            .flat_map(|t| t.split_whitespace())
            .collect();
        self.rows
            .values()
            .flat_map(|p| {
                p.verb
                    .split_whitespace()
                    .chain(p.noun.split_whitespace())
                    .chain(extra.iter().copied())
                    .map(|w| {
                        w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
                            .to_lowercase()
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty() && !w.starts_with('{'))
            .collect()
    }

    /// The verb each phrase starts with (lower case) and the actions it stands for.
    pub fn verbs(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in self.rows.values() {
            if let Some(v) = p.verb.split_whitespace().next() {
                out.entry(v.to_lowercase())
                    .or_default()
                    .insert(p.action.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_phrase_names_its_object() {
        assert!(
            Vocabulary::malformed(PHRASES_TSV).is_empty(),
            "{:?}",
            Vocabulary::malformed(PHRASES_TSV)
        );
        let v = vocabulary();
        assert!(v.pairs().len() > 50);
        let wipe = v.phrase("wipe", Some("device"));
        assert_eq!(wipe.verb, "wiped {devices}");
        assert_eq!(wipe.noun, "wipes");
        // An unknown pair of a known action keeps the action's verb.
        let p = v.phrase("wipe", Some("laptop_fleet"));
        assert!(p.verb.starts_with("wiped"), "{p:?}");
        // An unknown action gets a neutral phrase.
        let p = v.phrase("frobnicate", None);
        assert_eq!(p.verb, "performed frobnicate on {target}");
        assert!(v.verbs()["viewed"].contains("read"));
    }
}
