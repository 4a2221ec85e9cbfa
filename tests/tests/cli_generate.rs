//! `mdm-audit generate` run as a user runs it: a file per feed with the ground truth, records on
//! stdout that `normalize` takes in time order, and bad options refused with a hint.

use std::path::Path;
use std::process::Output;

use mdm_audit_tests::{run_cli_input as run, succeeded as ok};

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
