//! The real `mdm-audit` binary, run as a user runs it: formats, auto-detection, dead letters that keep
//! the raw bytes, the summary line, `--strict`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use mdm_audit_tests::workspace_root as root;

/// Builds (once) and returns the CLI binary of the same profile as this test.
fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test exe path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps/..")
            .to_owned();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "-p", "mdm-audit", "--bin", "mdm-audit"])
            .current_dir(root());
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(
            status.success(),
            "cargo build of the mdm-audit binary failed"
        );
        profile_dir.join("mdm-audit")
    })
    .clone()
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

#[test]
fn parquet_and_ocsf_formats_and_clear_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, _) = mixed_input();
    std::fs::write(dir.path().join("in.ndjson"), &input).expect("write input");
    let out = run(
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
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = std::fs::File::open(dir.path().join("events.parquet")).expect("parquet written");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("valid parquet");
    assert_eq!(
        reader.schema().fields().len(),
        mdm_audit_transform::schema::events_schema().fields().len()
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
fn demo_runs_on_the_built_in_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["demo", "--out", "demo"], dir.path(), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Highest-risk events"), "{stdout}");
    for f in ["events.ndjson", "events.parquet", "events.ocsf.ndjson"] {
        assert!(
            dir.path()
                .join("demo")
                .join(f)
                .metadata()
                .is_ok_and(|m| m.len() > 0),
            "{f} missing"
        );
    }
}
