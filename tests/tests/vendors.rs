//! The vendor descriptors (`vrl-mappings/sources/<folder>/vendor.toml`) are the one place a vendor is
//! declared; what follows from them is kept in step here:
//! - the frontend's vendor list, `grafana-datasource/src/vendors.json` (after changing a descriptor:
//!   `MDM_UPDATE_VENDORS_JSON=1 cargo test --workspace --test vendors` rewrites it; review the diff);
//! - the samples: every expected event of a vendor's folder carries its `vendor` and one of its `feeds`;
//! - the VRL: every feed a descriptor lists is set (`feed = "<feed>"`) by the vendor's files.

use mdm_audit_tests::{mappings_dir, workspace_root};
use mdm_audit_transform::MappingSet;
use serde_json::{Value, json};

fn disk() -> MappingSet {
    MappingSet::from_dir(&mappings_dir()).expect("vrl-mappings/ readable")
}

#[test]
fn the_frontend_vendor_list_is_the_descriptors() {
    let expected: Vec<Value> = disk()
        .vendors()
        .sources()
        .iter()
        .map(|s| json!({ "name": s.name(), "vendor": s.vendor(), "displayName": s.display_name() }))
        .collect();
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&expected).expect("json")
    );
    let path = workspace_root().join("grafana-datasource/src/vendors.json");
    if std::env::var_os("MDM_UPDATE_VENDORS_JSON").is_some() {
        std::fs::write(&path, &text).expect("write vendors.json");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        current,
        text,
        "{} is not the descriptors' list: MDM_UPDATE_VENDORS_JSON=1 cargo test --workspace --test vendors rewrites it",
        path.display()
    );
}

#[test]
fn the_disk_descriptors_are_the_built_in_ones() {
    let disk: Vec<_> = disk().vendors().sources().to_vec();
    let built_in: Vec<_> = mdm_audit_transform::Source::all().collect();
    assert_eq!(disk, built_in);
    assert!(disk.len() >= 3, "{disk:?}");
}

#[test]
fn samples_carry_their_vendor_and_a_listed_feed() {
    let mut problems = Vec::new();
    let mut seen = 0;
    for source in disk().vendors().sources() {
        let pattern = format!(
            "{}/sources/{}/samples/*/*.expected.json",
            mappings_dir().display(),
            source.folder()
        );
        for path in glob::glob(&pattern).expect("glob").filter_map(Result::ok) {
            let text = std::fs::read_to_string(&path).expect("readable");
            let event: Value = serde_json::from_str(&text).expect("json");
            if event.get("error").is_some() || event.get("vendor").is_none() {
                continue; // a dead-letter case
            }
            seen += 1;
            if event["vendor"] != source.vendor() {
                problems.push(format!(
                    "{}: vendor {} but the descriptor says {}",
                    path.display(),
                    event["vendor"],
                    source.vendor()
                ));
            }
            let feed = event["feed"].as_str().unwrap_or_default();
            if !source.feeds().iter().any(|f| f == feed) {
                problems.push(format!(
                    "{}: feed {feed:?} is not in the descriptor's feeds {:?}",
                    path.display(),
                    source.feeds()
                ));
            }
        }
    }
    assert!(seen > 20, "only {seen} samples checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_listed_feed_is_set_by_the_vendors_vrl() {
    let set = disk();
    let mut problems = Vec::new();
    for source in set.vendors().sources() {
        let prelude = format!("prelude/10_{}.vrl", source.folder());
        let folder = format!("sources/{}/", source.folder());
        let vrl: String = set
            .paths()
            .filter(|p| *p == prelude || p.starts_with(&folder))
            .filter_map(|p| set.get(p))
            .collect();
        for feed in source.feeds() {
            if !vrl.contains(&format!("feed = \"{feed}\"")) {
                problems.push(format!(
                    "{source}: feed {feed:?} is listed but no file sets it"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
