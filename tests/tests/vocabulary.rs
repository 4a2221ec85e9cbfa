//! The narrative vocabulary (`grafana-datasource/narrative/src/phrases.tsv`) covers every
//! canonical action x target type pair the VRL mappings emit: on every sample's expected output
//! (written from the vendors' documentation) and on a generated estate run through the real
//! mappings. A mapping that starts emitting a new pair fails here until the table says it in words.

use std::collections::BTreeSet;

use mdm_audit_narrative::vocab::vocabulary;
use mdm_audit_tests::{normalized_estate, workspace_root};

fn pair(v: &serde_json::Value) -> Option<(String, String)> {
    let action = v.get("action")?.as_str()?.to_owned();
    let tt = v
        .get("target_type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("-")
        .to_owned();
    Some((action, tt))
}

#[test]
fn every_pair_the_mappings_emit_has_plain_words() {
    let mut emitted: BTreeSet<(String, String)> = BTreeSet::new();
    let pattern = workspace_root().join("vrl-mappings/**/*expected*.json");
    let mut samples = 0;
    for path in glob::glob(&pattern.to_string_lossy())
        .expect("glob")
        .flatten()
    {
        let text = std::fs::read_to_string(&path).expect("sample");
        let v: serde_json::Value = serde_json::from_str(&text).expect("sample JSON");
        let items = match v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        for item in &items {
            if let Some(p) = pair(item) {
                emitted.insert(p);
                samples += 1;
            }
        }
    }
    assert!(samples > 80, "only {samples} sample outputs found");
    let estate = std::fs::read_to_string(normalized_estate(11, 600, 2)).expect("estate");
    for line in estate.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("event JSON");
        if let Some(p) = pair(&v) {
            emitted.insert(p);
        }
    }
    let table = vocabulary().pairs();
    let missing: Vec<String> = emitted
        .difference(&table)
        .map(|(a, t)| format!("{a}\t{t}"))
        .collect();
    assert!(
        missing.is_empty(),
        "pairs the mappings emit that phrases.tsv lacks (add a row each):\n{}",
        missing.join("\n")
    );
}
