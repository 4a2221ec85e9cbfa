//! The real `mdm-audit` binary, run as a user runs it: formats, auto-detection, dead letters that keep
//! the raw bytes, the summary line, `--strict`, compiling only what `--source` needs; `demo`.
//! (`generate` is in `cli_generate.rs`, `query` in `cli_query.rs`.)

use mdm_audit_tests::{run_cli_input as run, succeeded as ok};

use mdm_audit_tests::workspace_root as root;

/// One record per line from several samples of each vendor, plus two bad records.
fn mixed_input() -> (String, usize) {
    let mut lines = Vec::new();
    for pattern in [
        "sources/*/samples/*/*.input.json",
        "sources/*/samples/*/*.input.log",
    ] {
        for p in glob::glob(&format!("{}/vrl-mappings/{pattern}", root().display()))
            .expect("glob")
            .filter_map(Result::ok)
        {
            let text = std::fs::read_to_string(&p).expect("read");
            let text = text.trim_end_matches(['\n', '\r']);
            if p.extension().is_some_and(|e| e == "json") {
                // Compact so that one record is one line, as NDJSON feeds send it.
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(v) => lines.push(v.to_string()),
                    Err(_) => continue,
                }
            } else if !text.contains('\n') {
                lines.push(text.to_owned());
            }
        }
    }
    let good = lines.len();
    lines.push(
        "{\"webhook\": {\"webhookEvent\": \"ComputerAdded\", \"eventTimestamp\": ".to_owned(),
    );
    lines.push("completely unrelated text with password=hunter2".to_owned());
    (lines.join("\n") + "\n", good)
}

#[test]
fn normalize_writes_ndjson_and_dead_letters_with_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, _good) = mixed_input();
    std::fs::write(dir.path().join("in.ndjson"), &input).expect("write input");
    let out = run(&["normalize", "in.ndjson"], dir.path(), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect();
    assert!(!events.is_empty(), "no events written");
    for e in &events {
        for field in ["event_uid", "time", "vendor", "action", "raw"] {
            assert!(
                e.get(field).is_some_and(|v| !v.is_null()),
                "{field} missing in {e}"
            );
        }
    }
    // The summary line counts per source and in total.
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("normalize: "))
        .expect("summary line");
    assert!(
        summary.contains(&format!("total ok={} dead_lettered=", events.len())),
        "{summary}"
    );
    let dead_count: usize = summary
        .rsplit("dead_lettered=")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("count");
    assert!(dead_count >= 2, "{summary}");
    assert!(
        summary.contains("unknown ok=0 dead_lettered=1"),
        "unrecognized text counted under unknown: {summary}"
    );
    // Dead letters keep source, reason and the raw bytes, with secrets redacted.
    let dl = std::fs::read_to_string(dir.path().join("mdm-audit-dead-letters.ndjson"))
        .expect("dead-letter file");
    let dead: Vec<serde_json::Value> = dl
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(dead.len(), dead_count);
    let unrelated = dead
        .iter()
        .find(|d| d["source"] == "unknown")
        .expect("unknown record dead-lettered");
    assert_eq!(
        unrelated["raw"],
        "completely unrelated text with password=[REDACTED]"
    );
    assert!(
        unrelated["reason"]
            .as_str()
            .is_some_and(|r| r.contains("recognized no source"))
    );
    let truncated = dead
        .iter()
        .find(|d| {
            d["raw"]
                .as_str()
                .is_some_and(|r| r.starts_with("{\"webhook\""))
        })
        .expect("truncated JSON kept");
    assert!(
        truncated["reason"]
            .as_str()
            .is_some_and(|r| r.contains("JSON")),
        "{truncated}"
    );
    assert!(
        truncated["origin"]
            .as_str()
            .is_some_and(|o| o.starts_with("in.ndjson:"))
    );
}

#[test]
fn strict_fails_on_dead_letters_and_stdin_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(
        &["normalize", "--strict", "--source", "jamf", "-"],
        dir.path(),
        Some("not a jamf record\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jamf ok=0 dead_lettered=1"), "{stderr}");
    let out = run(
        &["normalize", "--source", "jamf", "-"],
        dir.path(),
        Some("not a jamf record\n"),
    );
    assert_eq!(out.status.code(), Some(0));
}

/// A start compiles only the programs its `--source` needs: a broken Intune mapping stops
/// `--source auto` (with the file and line), and does not stop a Jamf-only run.
#[test]
fn a_start_compiles_only_the_programs_its_source_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mappings = dir.path().join("vrl-mappings");
    mdm_audit_tests::copy_dir(&mdm_audit_tests::mappings_dir(), &mappings);
    let broken = mappings.join("sources/microsoft_intune/graph_audit_event.vrl");
    let text = std::fs::read_to_string(&broken).expect("read mapping");
    std::fs::write(&broken, format!("{text}\n.oops = (\n")).expect("break mapping");
    let sample = mdm_audit_tests::mappings_dir()
        .join("sources/jamf_pro/samples/webhook_computer/computer_added.input.json");
    let json: serde_json::Value =
        serde_json::from_str(&mdm_audit_tests::read_record(&sample)).expect("sample JSON");
    let record = json.to_string();
    let m = mappings.to_string_lossy().into_owned();
    let out = ok(run(
        &["normalize", "--mappings", &m, "--source", "jamf", "-"],
        dir.path(),
        Some(&format!("{record}\n")),
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jamf ok=1 dead_lettered=0"), "{stderr}");
    let out = run(
        &["normalize", "--mappings", &m, "--source", "auto", "-"],
        dir.path(),
        Some(&format!("{record}\n")),
    );
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("intune")
            && stderr.contains("sources/microsoft_intune/graph_audit_event.vrl"),
        "{stderr}"
    );
}

#[test]
fn parquet_and_ocsf_formats_and_clear_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, _) = mixed_input();
    std::fs::write(dir.path().join("in.ndjson"), &input).expect("write input");
    ok(run(
        &[
            "normalize",
            "--format",
            "parquet",
            "-o",
            "events.parquet",
            "in.ndjson",
        ],
        dir.path(),
        None,
    ));
    let file = std::fs::File::open(dir.path().join("events.parquet")).expect("parquet written");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("valid parquet");
    assert_eq!(
        reader.schema().fields().len(),
        mdm_audit_store::schema::events_schema().fields().len()
    );
    let rows: usize = reader
        .build()
        .expect("reader")
        .map(|b| b.expect("batch").num_rows())
        .sum();
    assert!(rows > 0);

    let out = run(
        &["normalize", "--format", "ocsf", "in.ndjson"],
        dir.path(),
        None,
    );
    assert!(out.status.success());
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .expect("a line"),
    )
    .expect("json");
    assert!(
        first["class_uid"].is_i64() && first["metadata"]["version"] == "1.8.0",
        "{first}"
    );

    let out = run(
        &["normalize", "--format", "xml", "in.ndjson"],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected ndjson, parquet or ocsf"));
    let out = run(
        &["normalize", "--timezone", "Mars/Olympus", "in.ndjson"],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown time zone"));
}

#[test]
fn demo_generates_stores_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["demo", "--out", "demo", "--events", "3000", "--days", "5"];
    let out = run(&args, dir.path(), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for n in 1..=4 {
        assert!(
            stderr.contains(&format!("demo [{n}/4]")),
            "progress step {n} missing: {stderr}"
        );
    }
    assert!(stdout.contains("Hash chains: intact"), "{stdout}");
    let stored: u64 = stdout
        .split("demo: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stored count in {stdout}"));
    // 3,000 records, of which daily snapshots and Graph/diagnostic twins collapse; never more
    // events than records, and most records make an event.
    assert!(
        (1_500..=3_000).contains(&stored),
        "{stored} events stored: {stdout}"
    );
    let demo = dir.path().join("demo");
    assert!(demo.join("estate").join("ground_truth.json").is_file());
    assert!(demo.join("estate/directory/people.csv").is_file());
    // The correlated episodes are read back: the compromised admin's wipes and the API client's
    // deletions are the two bulk-destructive bursts of the estate.
    let bulk = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("bulk_destructive "))
        .unwrap_or_else(|| panic!("no bulk_destructive line in {stdout}"));
    assert_eq!(bulk.split_whitespace().nth(1), Some("2"), "{bulk}");
    // The report: the chain proof, the episodes with their reasons, and a cited narrative.
    let report = std::fs::read_to_string(demo.join("report.html")).expect("report.html");
    assert!(report.contains("Hash chains intact"), "chain proof");
    assert!(
        report.contains("threshold 5 within 60 min"),
        "bulk episode reasons"
    );
    assert!(report.contains("Narrative: period summary"));
    // The story opens the report, with the risk chart; the evidence tables follow.
    let story = report.find("Narrative: period summary").expect("story");
    assert!(story < report.find("<h2>Integrity</h2>").expect("integrity"));
    assert!(report.contains("<svg") && report.contains("Risky events per day"));
    assert!(report.contains("<h3>Findings</h3>"));
    // Citations link to the rows of the events they stand for, with chain position and hash.
    assert!(report.contains("<tr id=\"ev-") && report.contains("href=\"#ev-"));
    // Admin sessions are people's, apps' and API clients' work, never a device's check-ins.
    let sessions: u64 = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("admin_session "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no admin_session line in {stdout}"));
    assert!(
        sessions * 4 < stored,
        "{sessions} admin sessions for {stored} events"
    );
    assert!(!report.contains("<script"), "no markup from the logs");
    assert!(
        demo.join("store")
            .join("events")
            .join("_delta_log")
            .is_dir()
    );
    // A re-run replaces the demo's own directory ...
    let again = ok(run(&args, dir.path(), None));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&format!("demo: {stored} events stored"))
    );
    // ... but never a directory it did not write.
    std::fs::create_dir_all(dir.path().join("mine")).expect("mkdir");
    std::fs::write(dir.path().join("mine").join("keep.txt"), "x").expect("write");
    let refused = run(&["demo", "--out", "mine"], dir.path(), None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not written by `mdm-audit demo`"));
    assert!(dir.path().join("mine").join("keep.txt").is_file());
}
