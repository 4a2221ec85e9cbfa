//! The mapping harness: every sample beside every VRL mapping runs through the same program Vector
//! would run (the files concatenated in `deploy/vector.toml` order), and its output is compared field by
//! field with the reviewed expected event. Samples are found by glob; `ingest_time` is the one volatile
//! field and is ignored by name.
//!
//! `MDM_SAMPLES_FILTER=jamf_pro cargo test -p mdm-audit-tests --test vrl_samples` runs a subset.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::DateTime;
use mdm_audit_transform::normalize::sniff;
use mdm_audit_transform::{MappingSet, NormalizeConfig, Normalizer, Source};
use serde_json::Value;

/// The risk tags one event can show (DESIGN.md), each needing a trigger and a near miss.
const RISK_TAGS: &[&str] = &[
    "remote_wipe",
    "passcode_cleared",
    "passcode_disabled",
    "encryption_disabled",
    "secret_read",
    "mdm_removed",
    "profile_removed",
    "role_grant",
    "broad_scope",
    "code_exec_push",
    "approval_bypass",
    "audit_tamper",
    "non_human_actor",
];

/// Fields that differ on every run and are not compared.
const VOLATILE: &[&str] = &["ingest_time"];

use mdm_audit_tests::{mappings_dir, read_record};

#[derive(Debug)]
struct Case {
    input: PathBuf,
    expected: PathBuf,
    options: Option<PathBuf>,
    /// `Some(source)` for mapping samples (the folder), `None` for risk samples (auto-detected).
    folder_source: Option<Source>,
    /// `<folder>/<mapping>` for mapping samples.
    mapping: Option<String>,
}

fn case_stem(input: &Path) -> String {
    let name = input
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.split(".input.").next().unwrap_or_default().to_owned()
}

fn cases() -> Vec<Case> {
    let root = mappings_dir();
    let filter = std::env::var("MDM_SAMPLES_FILTER").unwrap_or_default();
    let mut out = Vec::new();
    for pattern in ["sources/*/samples/*/*.input.*", "risk/samples/*/*.input.*"] {
        let pat = format!("{}/{pattern}", root.display());
        for input in glob::glob(&pat).expect("valid glob").filter_map(Result::ok) {
            if !input.to_string_lossy().contains(&filter) {
                continue;
            }
            let dir = input.parent().expect("has parent").to_owned();
            let stem = case_stem(&input);
            let options = dir.join(format!("{stem}.options.json"));
            let rel = input.strip_prefix(&root).expect("under root");
            let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
            let (folder_source, mapping) = if parts[0] == "sources" {
                (
                    Some(
                        Source::from_folder(parts[1])
                            .unwrap_or_else(|| panic!("unknown vendor folder {}", parts[1])),
                    ),
                    Some(format!("{}/{}", parts[1], parts[3])),
                )
            } else {
                (None, None)
            };
            out.push(Case {
                expected: dir.join(format!("{stem}.expected.json")),
                options: options.exists().then_some(options),
                input,
                folder_source,
                mapping,
            });
        }
    }
    out.sort_by(|a, b| a.input.cmp(&b.input));
    out
}

/// Compares one field; `None` when equal.
fn field_differs(name: &str, expected: Option<&Value>, actual: Option<&Value>) -> Option<String> {
    let is_default = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Number(n)) => name == "risk_score" && n.as_i64() == Some(0),
        Some(Value::String(s)) => name == "risk_level" && s == "none",
        _ => false,
    };
    match (expected, actual) {
        (None, a) if is_default(a) => None,
        (Some(e), a) if is_default(Some(e)) && is_default(a) => None,
        (Some(Value::String(e)), Some(Value::String(a))) if name.ends_with("time") => {
            let pe = DateTime::parse_from_rfc3339(e);
            let pa = DateTime::parse_from_rfc3339(a);
            match (pe, pa) {
                (Ok(pe), Ok(pa)) if pe == pa => None,
                _ => Some(format!("  {name}: expected {e:?}, got {a:?}")),
            }
        }
        (Some(e), Some(a)) if e == a => None,
        (e, a) => Some(format!(
            "  {name}:\n    expected {}\n    got      {}",
            e.map_or("(absent = null)".to_owned(), Value::to_string),
            a.map_or("(absent)".to_owned(), Value::to_string)
        )),
    }
}

struct Harness {
    mappings: MappingSet,
    normalizers: BTreeMap<String, Normalizer>,
}

impl Harness {
    fn new() -> Self {
        Self {
            mappings: MappingSet::from_dir(&mappings_dir()).expect("vrl-mappings/ readable"),
            normalizers: BTreeMap::new(),
        }
    }

    fn normalizer(&mut self, timezone: &str) -> &mut Normalizer {
        let mappings = &self.mappings;
        self.normalizers
            .entry(timezone.to_owned())
            .or_insert_with(|| {
                let config = NormalizeConfig {
                    mappings_dir: None,
                    timezone: timezone.to_owned(),
                };
                Normalizer::new(mappings, &config).unwrap_or_else(|e| panic!("{e}"))
            })
    }

    /// Runs one case; returns the problems found.
    fn run(&mut self, case: &Case) -> Result<Value, Vec<String>> {
        let input = read_record(&case.input);
        let options: Value = case
            .options
            .as_ref()
            .map(|p| {
                serde_json::from_str(&std::fs::read_to_string(p).expect("options readable"))
                    .expect("options are JSON")
            })
            .unwrap_or(Value::Null);
        let timezone = options
            .get("timezone")
            .and_then(Value::as_str)
            .unwrap_or("UTC")
            .to_owned();
        let detected = sniff(&input);
        let source = match (case.folder_source, detected) {
            (Some(folder), Some(d)) if folder != d => {
                return Err(vec![format!(
                    "  auto-detection says {d}, the sample folder says {folder}"
                )]);
            }
            (Some(folder), _) => folder,
            (None, Some(d)) => d,
            (None, None) => return Err(vec!["  auto-detection recognized no source".to_owned()]),
        };
        if case.folder_source.is_some() && detected.is_none() {
            return Err(vec![format!(
                "  auto-detection recognized no source (expected {source})"
            )]);
        }
        let expected: Value = match std::fs::read_to_string(&case.expected) {
            Ok(t) => serde_json::from_str(&t)
                .map_err(|e| vec![format!("  expected file is not JSON: {e}")])?,
            Err(_) => return Err(vec![format!("  missing {}", case.expected.display())]),
        };
        let result = self.normalizer(&timezone).normalize(source, &input);
        // An expected {"dead_letter": "<reason substring>"} says the record must be rejected.
        if let Some(reason) = expected.get("dead_letter").and_then(Value::as_str) {
            return match result {
                Err(actual) if actual.contains(reason) => Ok(expected),
                Err(actual) => Err(vec![format!(
                    "  dead-lettered, but for {actual:?} (expected {reason:?})"
                )]),
                Ok(n) => Err(vec![format!(
                    "  expected a dead letter ({reason:?}), got an event from {}",
                    n.mapping
                )]),
            };
        }
        let normalized = result.map_err(|reason| vec![format!("  dead-lettered: {reason}")])?;
        let mut problems = Vec::new();
        if let Some(mapping) = case.mapping.as_ref().filter(|m| **m != normalized.mapping) {
            problems.push(format!(
                "  handled by {}, expected {mapping}",
                normalized.mapping
            ));
        }
        let actual = serde_json::to_value(&normalized.event).expect("event serializes");
        let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
            return Err(vec!["  expected file must hold a JSON object".to_owned()]);
        };
        let names: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
        for name in names {
            if VOLATILE.contains(&name.as_str()) {
                continue;
            }
            if let Some(d) = field_differs(name, e.get(name), a.get(name)) {
                problems.push(d);
            }
        }
        if problems.is_empty() {
            Ok(actual)
        } else {
            Err(problems)
        }
    }
}

#[test]
fn samples_match_expected() {
    let cases = cases();
    assert!(
        !cases.is_empty() || std::env::var("MDM_SAMPLES_FILTER").is_ok(),
        "no samples found under vrl-mappings/"
    );
    let mut harness = Harness::new();
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(problems) = harness.run(case) {
            failures.push(format!("{}\n{}", case.input.display(), problems.join("\n")));
        }
    }
    eprintln!(
        "vrl samples: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} samples differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_mapping_has_at_least_three_samples() {
    let root = mappings_dir();
    let mut problems = Vec::new();
    let mut mappings = 0;
    for vrl in glob::glob(&format!("{}/sources/*/*.vrl", root.display()))
        .expect("glob")
        .filter_map(Result::ok)
    {
        mappings += 1;
        let name = vrl
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let dir = vrl.parent().expect("parent").join("samples").join(name);
        let inputs = glob::glob(&format!("{}/*.input.*", dir.display()))
            .expect("glob")
            .filter_map(Result::ok)
            .count();
        if inputs < 3 {
            problems.push(format!(
                "{}: {inputs} sample(s), at least 3 needed in {}",
                vrl.display(),
                dir.display()
            ));
        }
    }
    // And no sample folder without its mapping.
    for dir in glob::glob(&format!("{}/sources/*/samples/*", root.display()))
        .expect("glob")
        .filter_map(Result::ok)
    {
        let name = dir
            .file_name()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let vrl = dir
            .parent()
            .and_then(Path::parent)
            .expect("vendor dir")
            .join(format!("{name}.vrl"));
        if !vrl.exists() {
            problems.push(format!(
                "{}: no mapping {} beside it",
                dir.display(),
                vrl.display()
            ));
        }
    }
    assert!(
        mappings >= 3,
        "expected mapping files under {}/sources",
        root.display()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_risk_tag_has_a_trigger_and_a_near_miss() {
    let root = mappings_dir().join("risk/samples");
    let mut harness = Harness::new();
    let mut problems = Vec::new();
    for tag in RISK_TAGS {
        for (kind, must_have) in [("trigger", true), ("near_miss", false)] {
            let found: Vec<PathBuf> =
                glob::glob(&format!("{}/{tag}/{kind}.input.*", root.display()))
                    .expect("glob")
                    .filter_map(Result::ok)
                    .collect();
            let Some(input) = found.first() else {
                problems.push(format!("{tag}: no {kind} sample"));
                continue;
            };
            let case = Case {
                expected: input.with_file_name(format!("{kind}.expected.json")),
                options: None,
                input: input.clone(),
                folder_source: None,
                mapping: None,
            };
            match harness.run(&case) {
                Ok(actual) => {
                    let tags: Vec<&str> = actual["risk_tags"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    if tags.contains(tag) != must_have {
                        problems.push(format!("{tag}: the {kind} sample has risk_tags {tags:?}"));
                    }
                    if must_have {
                        let reasons = actual["risk_reasons"].as_array().map_or(0, Vec::len);
                        let controls = actual["controls"].as_array().map_or(0, Vec::len);
                        if reasons == 0
                            || controls == 0
                            || actual["risk_score"].as_i64().unwrap_or(0) == 0
                        {
                            problems
                                .push(format!("{tag}: trigger lacks reasons, controls or a score"));
                        }
                    }
                }
                Err(p) => problems.push(format!("{tag} {kind}: {}", p.join("; "))),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn embedded_mappings_equal_the_files_on_disk() {
    let disk = MappingSet::from_dir(&mappings_dir()).expect("readable");
    let embedded = MappingSet::embedded();
    let a: Vec<&str> = disk.paths().collect();
    let b: Vec<&str> = embedded.paths().collect();
    assert_eq!(a, b, "the binary embeds a different file list: rebuild");
    for p in a {
        assert_eq!(
            disk.get(p),
            embedded.get(p),
            "{p} differs from the embedded copy: rebuild"
        );
    }
}

#[test]
fn every_program_compiles_and_a_garbage_record_is_dead_lettered() {
    let mut harness = Harness::new();
    let n = harness.normalizer("UTC");
    for source in Source::all() {
        let err = n
            .normalize(source, "this is not an MDM record")
            .expect_err("must be dead-lettered");
        assert!(err.contains("unrecognized"), "{source}: {err}");
        let err = n
            .normalize(source, "{\"broken\": ")
            .expect_err("must be dead-lettered");
        assert!(err.contains("invalid JSON"), "{source}: {err}");
    }
}

/// A sample file read as a file (what `mdm-audit normalize FILE` does) is one record: the framer keeps
/// multi-line records (pretty JSON, XML, Jamf change-management blocks, Workspace ONE syslog with one
/// label per line) together.
#[test]
fn every_sample_file_frames_as_one_record() {
    let mut problems = Vec::new();
    for input in mdm_audit_tests::sample_inputs() {
        let bytes = std::fs::read(&input).expect("read sample");
        let frames: Vec<_> = mdm_audit_transform::normalize::Framer::new(bytes.as_slice())
            .collect::<Result<_, _>>()
            .expect("framing reads from memory");
        let one_record = frames.len() == 1 && frames[0].error.is_none();
        // Garbage samples that expect a dead letter may frame as anything.
        let expected = std::fs::read_to_string(
            input
                .to_string_lossy()
                .replacen(".input.", ".expected.", 1)
                .rsplit_once('.')
                .map(|(stem, _)| format!("{stem}.json"))
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        if !one_record && !expected.contains("\"dead_letter\"") {
            problems.push(format!("{}: {} frames", input.display(), frames.len()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
