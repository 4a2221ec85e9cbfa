//! `mdm-audit narrate` and `report` over a store made the way users make one (`generate` with planted
//! scenarios, then `ingest`). Expected values come from the generator's ground truth: the planted
//! mass wipe must be in the period summary, every high-risk event of the store must be cited, and the
//! template's sentences must all pass verification.

use std::collections::BTreeSet;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use mdm_audit_tests::run_cli;
use mdm_audit_transform::generate::GroundTruth;
use mdm_audit_transform::store::{StoreLocation, register_tables};

fn make_store(root: &Path) -> GroundTruth {
    let g = run_cli(
        &[
            "generate", "--seed", "7", "--events", "1500", "--days", "3", "--out", "estate",
        ],
        root,
    );
    assert!(
        g.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&g.stderr)
    );
    let truth = GroundTruth::read(&root.join("estate/ground_truth.json")).expect("ground truth");
    let files: Vec<String> = truth
        .feeds
        .iter()
        .map(|f| format!("estate/{}", f.file))
        .collect();
    let mut args = vec!["ingest", "--store", "data", "--writer-id", "narr-ingest"];
    args.extend(files.iter().map(String::as_str));
    let i = run_cli(&args, root);
    assert!(
        i.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&i.stderr)
    );
    truth
}

async fn high_risk_uids(root: &Path) -> BTreeSet<String> {
    let loc = StoreLocation::parse(
        root.join("data").to_str().expect("utf8"),
        Default::default(),
    )
    .expect("location");
    let ctx = SessionContext::new();
    register_tables(&loc, &ctx).await.expect("register");
    let batches = ctx
        .sql("SELECT event_uid FROM events WHERE risk_level IN ('high', 'critical')")
        .await
        .expect("sql")
        .collect()
        .await
        .expect("collect");
    let mut out = BTreeSet::new();
    for b in batches {
        let c = cast(b.column(0), &DataType::Utf8).expect("utf8");
        let s = c.as_string::<i32>();
        out.extend(
            (0..s.len())
                .filter(|&i| s.is_valid(i))
                .map(|i| s.value(i).to_owned()),
        );
    }
    out
}

#[tokio::test]
async fn period_summary_names_the_planted_wipe_and_cites_every_high_risk_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let truth = make_store(root);
    let wipe = truth
        .scenarios
        .iter()
        .find(|s| s.kind == "compromised_admin_mass_wipe")
        .expect("a planted mass wipe");
    let (from, to) = ("2000-01-01", "2100-01-01");
    let out = run_cli(
        &[
            "narrate", "--store", "data", "--kind", "period", "--from", from, "--to", to,
            "--format", "json",
        ],
        root,
    );
    assert!(
        out.status.success(),
        "narrate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json narrative");
    assert_eq!(n["narrator"]["narrator"], "template");
    assert_eq!(
        n["dropped"].as_array().map(Vec::len),
        Some(0),
        "{}",
        n["dropped"]
    );
    let sentences: Vec<String> = n["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["sentences"].as_array().cloned().unwrap_or_default())
        .map(|s| s["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    let actor = &wipe.actors[0];
    assert!(
        sentences
            .iter()
            .any(|s| s.contains(actor.as_str()) && s.contains("wiped")),
        "the mass wipe by {actor} is stated: {sentences:#?}"
    );
    let cited: BTreeSet<String> = n["cited_event_uids"]
        .as_array()
        .expect("cited")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let high = high_risk_uids(root).await;
    assert!(
        high.len() >= wipe.records.len() / 2,
        "the store has the high-risk events"
    );
    let missing: Vec<&String> = high.difference(&cited).collect();
    assert!(
        missing.is_empty(),
        "{} of {} high-risk events uncited",
        missing.len(),
        high.len()
    );

    // Markdown: numbered citations and the verification line.
    let md = run_cli(
        &[
            "narrate", "--store", "data", "--kind", "period", "--from", from, "--to", to,
        ],
        root,
    );
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## Period audit summary") && md.contains("[1]"),
        "{md}"
    );
    assert!(md.contains("0 dropped"), "{md}");

    // Admin activity of the wiping admin, and a device without a subject refused with a hint.
    let a = run_cli(
        &[
            "narrate", "--store", "data", "--kind", "admin", "--actor", actor, "--from", from,
            "--to", to,
        ],
        root,
    );
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(String::from_utf8_lossy(&a.stdout).contains("wiped"));
    let d = run_cli(&["narrate", "--store", "data", "--kind", "device"], root);
    assert!(!d.status.success());
    assert!(String::from_utf8_lossy(&d.stderr).contains("--device"));

    // An unreachable LLM falls back to the template, with the reason.
    let l = run_cli(
        &[
            "narrate",
            "--store",
            "data",
            "--from",
            from,
            "--to",
            to,
            "--llm-url",
            "http://127.0.0.1:9/v1",
            "--llm-timeout",
            "2",
            "--format",
            "json",
        ],
        root,
    );
    assert!(l.status.success(), "{}", String::from_utf8_lossy(&l.stderr));
    let l: serde_json::Value = serde_json::from_slice(&l.stdout).expect("json");
    assert_eq!(l["narrator"]["narrator"], "template");
    assert!(
        l["narrator"]["fallback_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );

    // The evidence pack: counts, high-risk events, the narrative, the intact chain.
    let r = run_cli(
        &[
            "report", "--store", "data", "--from", from, "--to", to, "--format", "json",
        ],
        root,
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json report");
    assert_eq!(r["chain"]["intact"], true);
    // Every narrate run above that succeeded was recorded, on its own chain, and verifies.
    let tables = r["chain"]["verify"]["tables"].as_array().expect("tables");
    let nar = tables
        .iter()
        .find(|t| t["table"] == "narratives")
        .expect("narratives table");
    assert_eq!(nar["rows"], 4, "{nar}");
    assert_eq!(
        r["high_risk_events"].as_array().map(Vec::len),
        Some(high.len())
    );
    assert_eq!(
        r["narratives"][0]["dropped"].as_array().map(Vec::len),
        Some(0)
    );
    let h = run_cli(
        &[
            "report", "--store", "data", "--from", from, "--to", to, "--format", "html",
        ],
        root,
    );
    let h = String::from_utf8_lossy(&h.stdout);
    assert!(h.starts_with("<!doctype html>") && h.contains("Chain"));
}
