//! Keeps the VRL rules in step with the catalog: Vector runs `risk/*.vrl` without reading files, so
//! the weights and controls written there must be the catalog's, tag by tag.

use std::collections::BTreeMap;
use std::path::PathBuf;

use regex::Regex;

use super::{RiskCatalog, SetBy, catalog};

fn risk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vrl-mappings/risk")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(risk_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `"tag": weight` pairs of 90_score.vrl's table.
fn vrl_weights() -> BTreeMap<String, i32> {
    let text = read("90_score.vrl");
    let table = Regex::new(r#""(\w+)":\s*(\d+)"#).expect("regex");
    table
        .captures_iter(&text)
        .map(|c| (c[1].to_owned(), c[2].parse().expect("weight")))
        .collect()
}

/// tag -> controls, from every rule file (`push(tags, "t")` and `append(ctrls, [...])`).
fn vrl_rules() -> BTreeMap<String, (String, Vec<String>)> {
    let tag = Regex::new(r#"push\(tags,\s*"(\w+)"\)"#).expect("regex");
    let ctrls = Regex::new(r"append\(ctrls,\s*\[([^\]]*)\]\)").expect("regex");
    let mut out = BTreeMap::new();
    let mut names: Vec<String> = std::fs::read_dir(risk_dir())
        .expect("risk dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".vrl") && n != "00_init.vrl" && n != "90_score.vrl")
        .collect();
    names.sort();
    for name in names {
        let text = read(&name);
        let tags: Vec<String> = tag.captures_iter(&text).map(|c| c[1].to_owned()).collect();
        let lists: Vec<Vec<String>> = ctrls
            .captures_iter(&text)
            .map(|c| {
                c[1].split(',')
                    .map(|s| s.trim().trim_matches('"').to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .collect();
        assert_eq!(tags.len(), 1, "{name}: one tag per rule file: {tags:?}");
        assert_eq!(lists.len(), 1, "{name}: one controls list per rule file");
        out.insert(tags[0].clone(), (name, lists[0].clone()));
    }
    out
}

#[test]
fn the_embedded_catalog_parses_with_every_level() {
    let c = catalog();
    let names: Vec<&str> = c.levels.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["critical", "high", "medium", "low", "none"]);
    assert!(c.tags.len() >= 17, "{}", c.tags.len());
    assert_eq!(c.level(100), "critical");
    assert_eq!(c.level(84), "high");
    assert_eq!(c.level(0), "none");
    assert_eq!(c.weight("no_such_tag"), super::DEFAULT_WEIGHT);
}

#[test]
fn every_vrl_rule_has_the_catalogs_weight_and_controls() {
    let c = catalog();
    let weights = vrl_weights();
    let rules = vrl_rules();
    let vrl_tags: Vec<&str> = c
        .tags
        .iter()
        .filter(|t| t.set_by == SetBy::Vrl)
        .map(|t| t.tag.as_str())
        .collect();
    let mut rule_tags: Vec<&str> = rules.keys().map(String::as_str).collect();
    let mut sorted = vrl_tags.clone();
    sorted.sort_unstable();
    rule_tags.sort_unstable();
    assert_eq!(sorted, rule_tags, "catalog rows set by vrl vs rule files");
    for t in c.tags.iter().filter(|t| t.set_by == SetBy::Vrl) {
        assert_eq!(
            weights.get(&t.tag),
            Some(&t.weight),
            "90_score.vrl's weight of {} must be the catalog's {}",
            t.tag,
            t.weight
        );
        let (file, controls) = &rules[&t.tag];
        assert_eq!(
            controls, &t.controls,
            "{file}: controls of {} must be the catalog's",
            t.tag
        );
    }
    assert_eq!(
        weights.len(),
        vrl_tags.len(),
        "90_score.vrl weighs a tag the catalog does not list: {weights:?}"
    );
}

#[test]
fn the_vrl_levels_and_scoring_rule_are_the_catalogs() {
    let text = read("90_score.vrl");
    let c = catalog();
    for (name, min) in &c.levels {
        if *min == 0 {
            continue;
        }
        let needle = format!("score >= {min} {{ \"{name}\" }}");
        assert!(text.contains(&needle), "90_score.vrl lacks {needle:?}");
    }
    assert!(text.contains(&format!("?? {}", super::DEFAULT_WEIGHT)));
    assert!(text.contains(&format!(
        "score + {} * (length(tags) - 1)",
        super::PER_EXTRA_TAG
    )));
}

#[test]
fn a_bad_row_is_refused_with_its_line() {
    let err =
        RiskCatalog::parse("level:none\t0\nremote_wipe\tninety\tvrl\tX\tm\n").expect_err("bad");
    assert!(
        err.contains("line 2") && err.contains("not a number"),
        "{err}"
    );
    let err = RiskCatalog::parse("remote_wipe\t90\tvrl\tX\tm\n").expect_err("no levels");
    assert!(err.contains("lowest level"), "{err}");
}
