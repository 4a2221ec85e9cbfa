//! The real `mdm-audit` binary, run as a user runs it: formats, auto-detection, dead letters that keep
//! the raw bytes, the summary line, `--strict`; `generate` to files and to stdout.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mdm_audit_tests::workspace_root as root;

fn binary() -> PathBuf {
    mdm_audit_tests::cli_binary()
}

fn run(args: &[&str], dir: &Path, stdin: Option<&str>) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mdm-audit");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

/// `out`, asserting that the command succeeded.
fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

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

/// Options of a small estate (every scenario, reduced sizes) for the generate tests.
const SMALL_ESTATE: [&str; 15] = [
    "generate",
    "--seed",
    "5",
    "--events",
    "400",
    "--days",
    "5",
    "--devices",
    "100",
    "--wipe-count",
    "4",
    "--bulk-delete-count",
    "5",
    "--rollout-devices",
    "6",
];

fn small_estate(extra: &[&str]) -> Vec<String> {
    SMALL_ESTATE
        .iter()
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

fn run_owned(args: &[String], dir: &Path, stdin: Option<&str>) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs, dir, stdin)
}

#[test]
fn generate_writes_one_file_per_feed_the_ground_truth_and_a_summary() {
    use mdm_audit_generate::GroundTruth;

    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_owned(&small_estate(&["--out", "estate"]), dir.path(), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(out.stdout.is_empty(), "nothing on stdout in --out mode");
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("generate: "))
        .expect("summary line");
    assert!(summary.starts_with("generate: 400 records"), "{summary}");
    assert!(summary.contains("7 scenarios planted"), "{summary}");
    assert!(
        summary.contains("ground truth: estate/ground_truth.json"),
        "{summary}"
    );

    let estate = dir.path().join("estate");
    let gt = GroundTruth::read(&estate.join("ground_truth.json")).expect("ground truth");
    assert_eq!(gt.records_total, 400);
    let mut file_lines = Vec::new();
    for feed in &gt.feeds {
        let text = std::fs::read_to_string(estate.join(&feed.file))
            .unwrap_or_else(|e| panic!("{}: {e}", feed.file));
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        assert_eq!(lines.len() as u64, feed.records, "{}", feed.file);
        assert!(feed.records > 0, "{} is empty", feed.file);
        file_lines.extend(lines);
    }
    assert_eq!(file_lines.len(), 400);
    for s in &gt.scenarios {
        for r in &s.records {
            assert!(
                r.index
                    < gt.feeds
                        .iter()
                        .find(|f| f.file == r.file)
                        .map_or(0, |f| f.records),
                "{} {}: index {} past the end of {}",
                s.id,
                r.role,
                r.index,
                r.file
            );
        }
    }

    // --stdout: the same records, interleaved on one stream; the ground truth indexes them per feed.
    let out = ok(run_owned(
        &small_estate(&["--stdout", "--ground-truth", "gt.json"]),
        dir.path(),
        None,
    ));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let mut stream: Vec<String> = stdout.lines().map(str::to_owned).collect();
    assert_eq!(stream.len(), 400);
    // Same seed, same records: the stream is the files' lines in another order.
    stream.sort();
    file_lines.sort();
    assert_eq!(stream, file_lines);
    let gt2 = GroundTruth::read(&dir.path().join("gt.json")).expect("ground truth of --stdout");
    assert_eq!(gt2, gt);
}

#[test]
fn generate_stdout_is_accepted_by_normalize_in_time_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ok(run(
        &[
            "generate",
            "--stdout",
            "--events",
            "80",
            "--days",
            "2",
            "--devices",
            "60",
            "--scenarios",
            "exec_phone_unlock,filevault_key_read_off_hours,partner_compliance_change",
        ],
        dir.path(),
        None,
    ));
    let records = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(records.lines().count(), 80);
    let norm = run(&["normalize", "--strict", "-"], dir.path(), Some(&records));
    let stderr = String::from_utf8_lossy(&norm.stderr);
    assert!(norm.status.success(), "exit {:?}: {stderr}", norm.status);
    assert!(stderr.contains("total ok=80 dead_lettered=0"), "{stderr}");
    // One normalized event per record, in the stream's order: times never go back by more than the
    // coarsest record precision (whole seconds in some Jamf webhooks and WS1 syslog).
    let mut latest: Option<chrono::DateTime<chrono::Utc>> = None;
    for line in String::from_utf8_lossy(&norm.stdout).lines() {
        let e: serde_json::Value = serde_json::from_str(line).expect("event");
        let t = chrono::DateTime::parse_from_rfc3339(e["time"].as_str().expect("time"))
            .expect("RFC 3339")
            .with_timezone(&chrono::Utc);
        if let Some(l) = latest {
            assert!(t >= l - chrono::Duration::seconds(1), "{t} after {l}");
        }
        latest = latest.max(Some(t));
    }
}

#[test]
fn generate_refuses_bad_options_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["generate", "--scenarios", "bogus"], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compromised_admin_mass_wipe"));
    let out = run(&["generate", "--start", "2026-13-01"], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));
    let out = run(&["generate", "--days", "0", "--out", "x"], dir.path(), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--days"));
    assert!(
        !dir.path().join("x").exists(),
        "nothing written for invalid options"
    );
}

/// The rows of `query --format ndjson` output.
fn ndjson_rows(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn query_prints_sql_and_the_filtered_timeline_as_table_csv_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    mdm_audit_tests::generated_store(
        root,
        "--seed 5 --events 400 --days 5 --devices 100 --wipe-count 4 --bulk-delete-count 5 --rollout-devices 6",
        "query",
    );
    let range = [
        "--store",
        "data",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
    ];
    let query = |extra: &[&str]| {
        let mut args = vec!["query"];
        args.extend(range);
        args.extend(extra);
        run(&args, root, None)
    };

    // The user's SQL, as JSON: one row per group, counts that add up to the whole table.
    let out = ok(query(&[
        "--sql",
        "SELECT action, count(*) AS n FROM events GROUP BY action ORDER BY n DESC, action",
        "--format",
        "json",
        "--limit",
        "1000",
    ]));
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let total = ok(query(&[
        "--sql",
        "SELECT count(*) AS n FROM events",
        "--format",
        "ndjson",
    ]));
    let total = ndjson_rows(&total)[0]["n"].as_u64().expect("n");
    assert!(total > 300, "{total} events stored");
    let summed: u64 = groups.iter().map(|g| g["n"].as_u64().expect("n")).sum();
    assert_eq!(summed, total);
    let wipes = groups
        .iter()
        .find(|g| g["action"] == "wipe")
        .and_then(|g| g["n"].as_u64())
        .expect("wipe among the actions");
    assert!(wipes >= 4, "the planted wipe burst: {wipes}");

    // The timeline with a filter: exactly the events SQL counts, newest first.
    let out = ok(query(&["--action", "wipe", "--format", "ndjson"]));
    let rows = ndjson_rows(&out);
    assert_eq!(rows.len() as u64, wipes);
    assert!(rows.iter().all(|r| r["action"] == "wipe"));
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["time"].as_str().expect("time"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    for column in ["vendor", "actor", "device", "risk_level", "event_uid"] {
        assert!(rows[0].get(column).is_some(), "{column} in {}", rows[0]);
    }

    // CSV: a header, then one line per row; lists (risk_tags) as their text.
    let out = ok(query(&["--action", "wipe", "--format", "csv"]));
    let csv = String::from_utf8(out.stdout).expect("UTF-8");
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    assert!(
        header.starts_with("time,vendor,action,actor,device,"),
        "{header}"
    );
    assert!(header.contains("risk_tags"), "{header}");
    assert_eq!(lines.count() as u64, wipes);
    assert!(csv.contains("[remote_wipe"), "risk tags as text: {csv}");

    // A table, capped at --limit with a note on stderr.
    let out = ok(query(&["--limit", "3"]));
    let table = String::from_utf8(out.stdout).expect("UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        table.lines().nth(1).is_some_and(|l| l.contains("| time")),
        "{table}"
    );
    let data_rows = table.lines().filter(|l| l.starts_with("| 20")).count();
    assert_eq!(data_rows, 3, "{table}");
    assert!(
        stderr.contains("query: showing the first 3 rows; more match"),
        "{stderr}"
    );

    // Clear refusals.
    for (args, says) in [
        (vec!["--sql", "DROP TABLE events"], "one read-only query"),
        (
            vec!["--sql", "SELECT 1", "--vendor", "jamf"],
            "with --sql, write them in the query's WHERE clause",
        ),
    ] {
        let out = query(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let backwards = [
        "query",
        "--store",
        "data",
        "--from",
        "2026-03-05",
        "--to",
        "2026-03-01",
    ];
    let out = run(&backwards, root, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is after --to"));
    // An empty timeline says what the store holds.
    let out = ok(run(
        &["query", "--store", "data", "--to", "2001-01-01"],
        root,
        None,
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("the store holds {total} events from 20")),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("(no rows; columns: time, vendor,"));
    let out = run(&["query", "--store", "empty"], root, None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no `events` table"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
