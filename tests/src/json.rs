//! Reading the JSON the CLI and the services answer with.

use std::path::Path;

use serde_json::Value;

use crate::run_ok;

/// The element of the array `v[list]` whose `key` is `value`.
pub fn find<'a>(v: &'a Value, list: &str, key: &str, value: &str) -> &'a Value {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no array {list:?} in {v}"))
        .iter()
        .find(|t| t[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value:?} in {list:?}"))
}

/// The strings of the array `v`.
pub fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Whether `v` is a string that contains `needle`.
pub fn has(v: &Value, needle: &str) -> bool {
    v.as_str().is_some_and(|s| s.contains(needle))
}

/// `mdm-audit verify --store store --json` in `dir` (which must succeed): the report of `table`.
pub fn verified_table(store: &str, dir: &Path, table: &str) -> Value {
    let out = run_ok(&["verify", "--store", store, "--json"], dir);
    let v: Value = serde_json::from_slice(&out.stdout).expect("verify json");
    find(&v, "tables", "table", table).clone()
}

/// The id `mdm-audit narrate` printed on stderr for the narrative it recorded.
pub fn narrative_id(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .find(|w| w.starts_with("nar-"))
        .map(|w| w.trim_end_matches([',', ')', '`']).to_owned())
        .unwrap_or_else(|| panic!("no narrative id in {stderr}"))
}
