//! What the framer needs to know about the vendors' text formats, from their descriptors
//! (`[recognize] text_prefixes` and `[framing]` in `vendor.toml`): which lines start a record, and
//! which following lines belong to it.

use super::Source;

/// Detail lines that follow a record's first line (`framing.detail_lines_after`).
#[derive(Debug)]
struct Details {
    after: Vec<String>,
    values: Vec<String>,
}

/// A block of labelled lines (`framing.block_starts` .. `block_ends`).
#[derive(Debug)]
struct Block {
    starts: Vec<String>,
    ends: Vec<String>,
    max_lines: usize,
}

/// The framing rules of a set of vendors.
#[derive(Debug)]
pub struct FramingRules {
    /// Every vendor's `text_prefixes`: a line that begins with one is text (even if it begins with `[`)
    /// and starts a record of its own.
    text_prefixes: Vec<String>,
    /// Every vendor's `text_contains`: a line that contains one starts a record of its own.
    text_contains: Vec<String>,
    details: Vec<Details>,
    blocks: Vec<Block>,
}

impl FramingRules {
    /// The rules of `sources`.
    pub(crate) fn new(sources: &[Source]) -> Self {
        Self {
            text_prefixes: sources
                .iter()
                .flat_map(|s| s.recognize().text_prefixes.iter().cloned())
                .collect(),
            text_contains: sources
                .iter()
                .flat_map(|s| s.recognize().text_contains.iter().cloned())
                .collect(),
            details: sources
                .iter()
                .map(|s| s.framing())
                .filter(|f| !f.detail_lines_after.is_empty())
                .map(|f| Details {
                    after: f.detail_lines_after.clone(),
                    values: f.detail_line_values.clone(),
                })
                .collect(),
            blocks: sources
                .iter()
                .map(|s| s.framing())
                .filter(|f| !f.block_starts.is_empty())
                .map(|f| Block {
                    starts: f.block_starts.clone(),
                    ends: f.block_ends.clone(),
                    max_lines: f.block_max_lines,
                })
                .collect(),
        }
    }

    /// Whether a line beginning with `[` is a vendor's text line rather than a JSON array.
    pub(crate) fn is_text_line(&self, t: &str) -> bool {
        self.text_prefixes.iter().any(|p| t.starts_with(p.as_str()))
    }

    /// Whether `line` belongs to the text record `text` read so far.
    pub(crate) fn continues(&self, text: &str, line: &str) -> bool {
        self.is_detail_line(text, line) || self.block_continues(text, line)
    }

    /// A detail line (indented, or one of the listed values) of a record whose first line, bare or
    /// behind a syslog header (`<PRI>...`), begins with one of `detail_lines_after`.
    fn is_detail_line(&self, text: &str, line: &str) -> bool {
        let indented = line.starts_with('\t') || line.starts_with("  ");
        let first = text.lines().next().unwrap_or_default().trim_start();
        self.details.iter().any(|d| {
            (indented || d.values.iter().any(|v| line.trim() == v))
                && d.after.iter().any(|a| {
                    first.starts_with(a.as_str())
                        || (first.starts_with('<') && first.contains(a.as_str()))
                })
        })
    }

    /// A record that has begun a block but not reached its end takes the next line, unless that line
    /// starts a record of its own. At most `block_max_lines` lines are joined.
    fn block_continues(&self, text: &str, line: &str) -> bool {
        self.blocks.iter().any(|b| {
            let begun = b.starts.iter().any(|s| text.contains(s.as_str()));
            begun
                && !b.ends.iter().any(|e| text.contains(e.as_str()))
                && text.lines().count() < b.max_lines
                && !self.starts_record(line)
        })
    }

    /// Whether `line` begins a record of its own (XML or syslog `<`, JSON, or a vendor's text line).
    fn starts_record(&self, line: &str) -> bool {
        let next = line.trim_start();
        next.starts_with('<')
            || next.starts_with('{')
            || self.is_text_line(next)
            || self.text_contains.iter().any(|m| next.contains(m.as_str()))
    }
}
