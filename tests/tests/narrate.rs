//! `mdm-audit narrate` and `report` over a store made the way users make one (`generate` with planted
//! scenarios, then `ingest`). Expected values come from the generator's ground truth: the planted
//! mass wipe must be in the period summary, every high-risk event of the store must be cited, and the
//! template's sentences must all pass verification.

use std::collections::BTreeSet;
use std::path::Path;

use mdm_audit_generate::GroundTruth;
use mdm_audit_tests::json::{narrative_id, verified_table};
use mdm_audit_tests::query::{open_store, present_texts, sql};
use mdm_audit_tests::{generated_store, run_cli, words};

fn make_store(root: &Path) -> GroundTruth {
    generated_store(root, "--seed 7 --events 1500 --days 3", "narr-ingest")
}

async fn high_risk_uids(root: &Path) -> BTreeSet<String> {
    let (ctx, _) = open_store(&root.join("data")).await;
    let batches = sql(
        &ctx,
        "SELECT event_uid FROM events WHERE risk_level IN ('high', 'critical')",
    )
    .await;
    present_texts(&batches, "event_uid").into_iter().collect()
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
    // Findings first: every planted incident is in Findings, and every finding rests on a planted
    // record (no routine activity there); the whole story stays short.
    let sections = n["sections"].as_array().expect("sections");
    assert_eq!(sections[0]["title"], "Summary");
    assert_eq!(sections[1]["title"], "Findings");
    assert!(sentences.len() <= 60, "{} sentences", sentences.len());
    let uids_of = |id: &serde_json::Value| -> BTreeSet<String> {
        n["citations"]
            .as_array()
            .expect("citations")
            .iter()
            .find(|c| &c["id"] == id)
            .map(|c| {
                c["event_uids"]
                    .as_array()
                    .expect("uids")
                    .iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let planted: Vec<(String, BTreeSet<String>)> = truth
        .scenarios
        .iter()
        .map(|s| {
            let uids = s
                .records
                .iter()
                .flat_map(|r| {
                    [r.vendor_id.clone(), Some(r.sha256[..32].to_owned())]
                        .into_iter()
                        .flatten()
                })
                .collect();
            (s.kind.clone(), uids)
        })
        .collect();
    let all_planted: BTreeSet<&String> = planted.iter().flat_map(|(_, u)| u).collect();
    let mut in_findings: BTreeSet<String> = BTreeSet::new();
    for s in sections[1]["sentences"].as_array().expect("findings") {
        let first = uids_of(&s["citations"][0]);
        assert!(
            first.iter().any(|u| all_planted.contains(u)),
            "a finding of routine activity: {}",
            s["text"]
        );
        for c in s["citations"].as_array().expect("cites") {
            in_findings.extend(uids_of(c));
        }
    }
    for (kind, uids) in &planted {
        assert!(
            uids.iter().any(|u| in_findings.contains(u)),
            "planted {kind} is not in Findings: {sentences:#?}"
        );
    }
    let actor = &wipe.actors[0];
    assert!(
        sentences
            .iter()
            .any(|s| s.contains(actor.as_str()) && s.contains("wiped")),
        "the mass wipe by {actor} is stated: {sentences:#?}"
    );
    let cited: BTreeSet<String> = n["events"]
        .as_array()
        .expect("cited rows")
        .iter()
        .filter_map(|v| v["event_uid"].as_str().map(str::to_owned))
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
    // The pack checks without our software: every citation resolves to rows in the same file, and
    // what each sentence states is in its cited rows.
    let (ok, report) = check_pack(root, &r);
    assert!(ok, "{report}");
    assert!(report.contains(" 0 problems"), "{report}");
    // A number changed in one sentence is caught.
    let mut forged = r.clone();
    let s0 = &mut forged["narratives"][0]["sections"][0]["sentences"][0]["text"];
    let text = s0.as_str().expect("text").to_owned();
    *s0 = serde_json::Value::String(text.replacen(" events", " 987654 events", 1));
    let (ok, report) = check_pack(root, &forged);
    assert!(!ok && report.contains("987654"), "{report}");
    let h = run_cli(
        &[
            "report", "--store", "data", "--from", from, "--to", to, "--format", "html",
        ],
        root,
    );
    let h = String::from_utf8_lossy(&h.stdout);
    assert!(h.starts_with("<!doctype html>") && h.contains("Chain"));
}

/// Runs `scripts/check-evidence-pack.py` (Python's standard library only) on `pack`.
fn check_pack(root: &std::path::Path, pack: &serde_json::Value) -> (bool, String) {
    let path = root.join("pack.json");
    std::fs::write(&path, serde_json::to_vec(pack).expect("pack json")).expect("write pack");
    let out = std::process::Command::new("python3")
        .arg(mdm_audit_tests::workspace_root().join("scripts/check-evidence-pack.py"))
        .arg(&path)
        .output()
        .expect("python3 runs the checker");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn reviews_approve_edit_and_reject_are_chained_and_keep_the_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    make_store(root);
    let n = run_cli(
        &words("narrate --store data --kind period --from 2026-01-01 --to 2027-01-01"),
        root,
    );
    let err = String::from_utf8_lossy(&n.stderr).into_owned();
    assert!(n.status.success(), "{err}");
    let id = narrative_id(&err);
    let review = |args: &[&str]| {
        let mut all = vec!["review", "--store", "data", "--narrative", id.as_str()];
        all.extend_from_slice(args);
        run_cli(&all, root)
    };
    let json = |o: &std::process::Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("review json")
    };
    let first = json(&review(&[
        "--decision",
        "approve",
        "--reviewer",
        "carol.compliance",
        "--comment",
        "matches the change tickets",
    ]));
    assert_eq!(first["decision"], "approve");
    let original_hash = first["reviewed_output_hash"]
        .as_str()
        .expect("hash")
        .to_owned();

    std::fs::write(root.join("edit.md"), "The period had one mass wipe [1].\n").expect("edit");
    let edit = json(&review(&[
        "--decision",
        "edit",
        "--reviewer",
        "carol.compliance",
        "--text",
        "edit.md",
    ]));
    assert_eq!(edit["reviewed_output_hash"], original_hash.as_str());
    let edited_hash = edit["edited_output_hash"]
        .as_str()
        .expect("edited")
        .to_owned();
    assert_ne!(edited_hash, original_hash);
    // A later decision is about the edited text, not the engine's.
    let reject = json(&review(&[
        "--decision",
        "reject",
        "--reviewer",
        "dave.auditor",
    ]));
    assert_eq!(reject["reviewed_output_hash"], edited_hash.as_str());

    // Refused: an edit without text, approve with text, an unknown narrative.
    let no_text = review(&["--decision", "edit", "--reviewer", "x"]);
    assert!(!no_text.status.success());
    assert!(String::from_utf8_lossy(&no_text.stderr).contains("needs the new text"));
    let with_text = review(&["--decision", "approve", "--text", "edit.md"]);
    assert!(!with_text.status.success());
    let unknown = run_cli(
        &[
            "review",
            "--store",
            "data",
            "--narrative",
            "nar-nope",
            "--decision",
            "approve",
        ],
        root,
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no narrative \"nar-nope\""));

    // The reviews are on their writer's chain, verify, and appear in the evidence pack.
    let reviews = verified_table("data", root, "reviews");
    assert_eq!(reviews["rows"], 3, "{reviews}");
    assert!(reviews["problems"].as_array().is_some_and(Vec::is_empty));
    let r = run_cli(
        &[
            "report",
            "--store",
            "data",
            "--from",
            "2026-01-01",
            "--to",
            "2027-01-01",
            "--format",
            "json",
        ],
        root,
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r: serde_json::Value = serde_json::from_slice(&r.stdout).expect("report");
    let decisions: Vec<&str> = r["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .filter_map(|x| x["decision"].as_str())
        .collect();
    assert_eq!(decisions, ["approve", "edit", "reject"]);
    assert!(r["reviews"][0]["comment"] == "matches the change tickets");
}
