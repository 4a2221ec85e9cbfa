//! The risk catalog (`vrl-mappings/risk/catalog.tsv`): the one source of risk weights, levels and
//! controls. Correlation scores its stateful tags from it; a test keeps the VRL rules (`risk/*.vrl`,
//! which Vector runs without reading files) in step with it, tag by tag.

use std::sync::OnceLock;

/// The catalog's text, embedded at build time.
pub const CATALOG_TSV: &str = include_str!("../../vrl-mappings/risk/catalog.tsv");

/// Weight of a tag the catalog does not list (`90_score.vrl`'s `?? 10`).
pub const DEFAULT_WEIGHT: i32 = 10;

/// What each further tag adds to the highest weight.
pub const PER_EXTRA_TAG: i32 = 5;

/// Who sets a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetBy {
    /// A rule in `vrl-mappings/risk/` (stateless, per event).
    Vrl,
    /// The correlate stage (stateful: baselines, windows, business hours).
    Correlate,
}

/// One risk tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRule {
    /// The tag (`remote_wipe`).
    pub tag: String,
    /// Its weight in the score.
    pub weight: i32,
    /// Who sets it.
    pub set_by: SetBy,
    /// The control ids it maps to, in order.
    pub controls: Vec<String>,
    /// What it means, in words.
    pub meaning: String,
}

/// The parsed catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskCatalog {
    /// Every tag, in file order.
    pub tags: Vec<TagRule>,
    /// `(level, lowest score)`, highest level first.
    pub levels: Vec<(String, i32)>,
}

impl RiskCatalog {
    /// Parses the TSV; the error names the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut tags = Vec::new();
        let mut levels = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let bad = |why: &str| format!("risk catalog line {}: {why}: {line:?}", i + 1);
            let number = |s: &str| s.parse::<i32>().map_err(|_| bad("not a number"));
            if let Some(level) = cols[0].strip_prefix("level:") {
                let [_, min] = cols[..] else {
                    return Err(bad("a level row is level:<name> TAB <lowest score>"));
                };
                levels.push((level.to_owned(), number(min)?));
                continue;
            }
            let [tag, weight, set_by, controls, meaning] = cols[..] else {
                return Err(bad("want 5 tab-separated columns"));
            };
            let set_by = match set_by {
                "vrl" => SetBy::Vrl,
                "correlate" => SetBy::Correlate,
                _ => return Err(bad("set by is vrl or correlate")),
            };
            tags.push(TagRule {
                tag: tag.to_owned(),
                weight: number(weight)?,
                set_by,
                controls: controls
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
                meaning: meaning.to_owned(),
            });
        }
        levels.sort_by_key(|(_, min)| std::cmp::Reverse(*min));
        if levels.last().is_none_or(|(_, min)| *min != 0) {
            return Err("risk catalog: the lowest level must start at 0".into());
        }
        Ok(Self { tags, levels })
    }

    /// The rule of `tag`.
    pub fn rule(&self, tag: &str) -> Option<&TagRule> {
        self.tags.iter().find(|t| t.tag == tag)
    }

    /// The weight of `tag` ([`DEFAULT_WEIGHT`] when unlisted).
    pub fn weight(&self, tag: &str) -> i32 {
        self.rule(tag).map_or(DEFAULT_WEIGHT, |t| t.weight)
    }

    /// The controls of `tag` (none when unlisted).
    pub fn controls(&self, tag: &str) -> &[String] {
        self.rule(tag).map_or(&[], |t| &t.controls)
    }

    /// The level of a score.
    pub fn level(&self, score: i32) -> &str {
        self.levels
            .iter()
            .find(|(_, min)| score >= *min)
            .map_or("none", |(name, _)| name.as_str())
    }
}

/// The embedded catalog (checked by the tests, so parsing cannot fail in a built binary).
pub fn catalog() -> &'static RiskCatalog {
    static CATALOG: OnceLock<RiskCatalog> = OnceLock::new();
    CATALOG
        .get_or_init(|| RiskCatalog::parse(CATALOG_TSV).unwrap_or_else(|e| panic!("embedded {e}")))
}

#[cfg(test)]
mod tests;
