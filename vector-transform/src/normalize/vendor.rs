//! A vendor's descriptor, `vrl-mappings/sources/<folder>/vendor.toml`: its name on the command line,
//! the name users read, the `vendor` value its events carry, its feeds, how to recognize its records
//! and how its multi-line records are framed. [`Source`] is the handle the rest of the write path uses.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex};

use serde::Deserialize;

use super::registry::VendorRegistry;

/// The file name of a vendor descriptor inside its folder.
pub const DESCRIPTOR_FILE: &str = "vendor.toml";

/// How `--source auto` recognizes a record of this vendor (every list may be empty).
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recognize {
    /// A text record (after an optional `<PRI>` syslog header) that begins with one of these; also a
    /// JSON record holding a string that begins with one (a text line wrapped in JSON).
    #[serde(default)]
    pub text_prefixes: Vec<String>,
    /// A text record (after an optional syslog header) that contains one of these.
    #[serde(default)]
    pub text_contains: Vec<String>,
    /// A text record that contains every string of one of these groups; the group's first string also
    /// marks where the message starts behind a syslog header.
    #[serde(default)]
    pub text_contains_all: Vec<Vec<String>>,
    /// An XML record whose first 512 bytes open one of these elements (`JSSEvent` for `<JSSEvent`).
    #[serde(default)]
    pub xml_elements: Vec<String>,
    /// A JSON record that holds one of these quoted names (`webhookEvent` for `"webhookEvent"`).
    #[serde(default)]
    pub json_keys: Vec<String>,
}

/// How this vendor's text records span several lines (both kinds are optional).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framing {
    /// A record whose first line (after an optional syslog header) begins with one of these takes the
    /// indented lines (a tab or two spaces) that follow it.
    #[serde(default)]
    pub detail_lines_after: Vec<String>,
    /// Lines equal to one of these (trimmed) are detail lines too, though not indented.
    #[serde(default)]
    pub detail_line_values: Vec<String>,
    /// A record that contains one of these has begun a block of labelled lines...
    #[serde(default)]
    pub block_starts: Vec<String>,
    /// ...which ends with the line that contains one of these; a line that starts a record of its
    /// own (`<`, `{`, any vendor's `text_prefixes` or `text_contains`) ends it too.
    #[serde(default)]
    pub block_ends: Vec<String>,
    /// The most lines one block may span.
    #[serde(default = "default_block_max_lines")]
    pub block_max_lines: usize,
}

fn default_block_max_lines() -> usize {
    64
}

impl Default for Framing {
    fn default() -> Self {
        Self {
            detail_lines_after: Vec::new(),
            detail_line_values: Vec::new(),
            block_starts: Vec::new(),
            block_ends: Vec::new(),
            block_max_lines: default_block_max_lines(),
        }
    }
}

/// The fields of `vendor.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
struct Descriptor {
    name: String,
    display_name: String,
    vendor: String,
    #[serde(default)]
    aliases: Vec<String>,
    feeds: Vec<String>,
    #[serde(default)]
    recognize: Recognize,
    #[serde(default)]
    framing: Framing,
}

/// One vendor, as its descriptor and folder give it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vendor {
    folder: String,
    d: Descriptor,
}

/// Why a descriptor cannot be used; `key` names the offending key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorProblem {
    /// The key (or `-` for the whole file).
    pub key: String,
    /// What is wrong, phrased for the user.
    pub reason: String,
}

impl Vendor {
    /// Parses and checks the descriptor of the vendor in `sources/<folder>/`.
    pub fn parse(folder: &str, text: &str) -> Result<Self, DescriptorProblem> {
        let d: Descriptor = toml::from_str(text).map_err(|e| DescriptorProblem {
            key: "-".into(),
            reason: e.to_string().trim_end().to_owned(),
        })?;
        let problem = |key: &str, reason: String| DescriptorProblem {
            key: key.into(),
            reason,
        };
        let is_word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !is_word(&d.name) || d.name == "auto" || d.name == "unknown" || d.name == "normalized" {
            return Err(problem(
                "name",
                format!(
                    "{:?} must be lowercase letters, digits or _ (and not auto, unknown or normalized)",
                    d.name
                ),
            ));
        }
        if let Some(a) = d.aliases.iter().find(|a| !is_word(a) || *a == "auto") {
            return Err(problem(
                "aliases",
                format!("{a:?} must be lowercase letters, digits or _ (and not auto)"),
            ));
        }
        for (key, value) in [("display_name", &d.display_name), ("vendor", &d.vendor)] {
            if value.trim().is_empty() {
                return Err(problem(key, "must not be empty".into()));
            }
        }
        if d.feeds.is_empty() || d.feeds.iter().any(|f| !is_word(f)) {
            return Err(problem(
                "feeds",
                "list the values of `feed` its VRL sets, each lowercase letters, digits or _"
                    .into(),
            ));
        }
        let r = &d.recognize;
        let empty = r
            .text_prefixes
            .iter()
            .chain(&r.text_contains)
            .chain(r.text_contains_all.iter().flatten())
            .chain(&r.xml_elements)
            .chain(&r.json_keys)
            .any(|s| s.is_empty());
        if empty || r.text_contains_all.iter().any(Vec::is_empty) {
            return Err(problem(
                "recognize",
                "a rule holds an empty string or an empty group (it would match every record)"
                    .into(),
            ));
        }
        let f = &d.framing;
        if f.block_starts.is_empty() != f.block_ends.is_empty() {
            return Err(problem(
                "framing.block_ends",
                "block_starts and block_ends go together: set both or neither".into(),
            ));
        }
        if !f.detail_line_values.is_empty() && f.detail_lines_after.is_empty() {
            return Err(problem(
                "framing.detail_line_values",
                "needs framing.detail_lines_after (the records these lines belong to)".into(),
            ));
        }
        Ok(Self {
            folder: folder.to_owned(),
            d,
        })
    }
}

/// Vendors handed out as [`Source`]s, one leaked copy per distinct descriptor (a process loads a few).
static INTERNED: LazyLock<Mutex<HashMap<Vendor, &'static Vendor>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A feed family with its own VRL program: one vendor folder and its descriptor. Compared by name.
#[derive(Clone, Copy)]
pub struct Source(&'static Vendor);

impl Source {
    /// The handle for `vendor` (the same one for equal descriptors).
    pub(crate) fn intern(vendor: Vendor) -> Self {
        let mut map = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = map.get(&vendor) {
            return Source(v);
        }
        let leaked: &'static Vendor = Box::leak(Box::new(vendor.clone()));
        map.insert(vendor, leaked);
        Source(leaked)
    }

    /// The vendors built into this binary, in folder order.
    pub fn all() -> impl Iterator<Item = Source> {
        VendorRegistry::embedded().sources().iter().copied()
    }

    /// The built-in vendor whose folder is `folder`.
    pub fn from_folder(folder: &str) -> Option<Self> {
        VendorRegistry::embedded().by_folder(folder)
    }

    /// The name used on the command line, in `/v1/raw/<name>` and in dead letters.
    pub fn name(self) -> &'static str {
        &self.0.d.name
    }

    /// The folder under `vrl-mappings/sources/` and the vendor prelude's name.
    pub fn folder(self) -> &'static str {
        &self.0.folder
    }

    /// The name people read (`Jamf Pro`).
    pub fn display_name(self) -> &'static str {
        &self.0.d.display_name
    }

    /// The `vendor` value of its normalized events (the Grafana vendor filter's values).
    pub fn vendor(self) -> &'static str {
        &self.0.d.vendor
    }

    /// Other names `--source` accepts (the folder name is always accepted too).
    pub fn aliases(self) -> &'static [String] {
        &self.0.d.aliases
    }

    /// The values of `feed` its VRL sets.
    pub fn feeds(self) -> &'static [String] {
        &self.0.d.feeds
    }

    /// How `--source auto` recognizes its records.
    pub fn recognize(self) -> &'static Recognize {
        &self.0.d.recognize
    }

    /// How its records span lines.
    pub fn framing(self) -> &'static Framing {
        &self.0.d.framing
    }

    /// Whether `name` (any case) is its name, an alias or its folder.
    pub fn answers_to(self, name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        n == self.name() || n == self.folder() || self.aliases().contains(&n)
    }
}

impl PartialEq for Source {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Source {}

impl std::hash::Hash for Source {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl PartialOrd for Source {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Source {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.folder()
            .cmp(other.folder())
            .then_with(|| self.name().cmp(other.name()))
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({})", self.name())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a built-in vendor's name; with `--mappings`, use [`VendorRegistry::parse`] of that set.
impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VendorRegistry::embedded().parse(s)
    }
}
