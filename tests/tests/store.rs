//! The store through the real binary, as a user runs it: `generate` an estate, `ingest` it (summary,
//! idempotent re-run), `verify` it (clean, then broken after an edit), and DuckDB, an engine
//! independent of ours, reading the same data files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mdm_audit_generate::GroundTruth;
use mdm_audit_tests::json::verified_table;
use mdm_audit_tests::{count_after, run_cli};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Estate {
    _dir: tempfile::TempDir,
    root: PathBuf,
    inputs: Vec<String>,
    truth: GroundTruth,
}

fn estate(events: u32) -> Estate {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    let out = run_cli(
        &[
            "generate",
            "--seed",
            "7",
            "--events",
            &events.to_string(),
            "--days",
            "3",
            "--out",
            "estate",
        ],
        &root,
    );
    assert!(out.status.success(), "generate failed: {}", stderr(&out));
    let truth = GroundTruth::read(&root.join("estate/ground_truth.json")).expect("ground truth");
    let inputs = truth
        .feeds
        .iter()
        .map(|f| format!("estate/{}", f.file))
        .collect();
    Estate {
        _dir: dir,
        root,
        inputs,
        truth,
    }
}

fn ingest(e: &Estate, store: &str) -> Output {
    let mut args = vec!["ingest", "--store", store, "--writer-id", "ci-ingest"];
    args.extend(e.inputs.iter().map(String::as_str));
    run_cli(&args, &e.root)
}

#[test]
fn ingest_stores_every_record_once_and_verify_finds_an_edit() {
    let e = estate(3_000);
    let records = e.truth.records_total;
    let out = ingest(&e, "data");
    assert!(out.status.success(), "ingest failed: {}", stderr(&out));
    let line = stderr(&out);
    assert!(line.contains("ingest: "), "{line}");
    let stored = count_after(&line, "stored");
    assert_eq!(count_after(&line, "dead-lettered"), 0, "{line}");
    // Intune audit events arrive twice (Graph and diagnostic logs share the AuditEventId): the twin
    // is a duplicate; everything else is one event per record.
    let twins = count_after(&line, "duplicates skipped");
    assert_eq!(stored + twins, records, "{line}");
    assert!(twins > 0, "the estate has Intune twins: {line}");

    // Ingesting the same files again stores nothing.
    let again = ingest(&e, "data");
    assert!(again.status.success(), "{}", stderr(&again));
    let line2 = stderr(&again);
    assert_eq!(count_after(&line2, "stored"), 0, "{line2}");
    assert_eq!(
        count_after(&line2, "duplicates skipped"),
        records,
        "{line2}"
    );

    let v = run_cli(&["verify", "--store", "data"], &e.root);
    assert!(v.status.success(), "verify: {}{}", stdout(&v), stderr(&v));
    let text = stdout(&v);
    assert!(text.contains("Chain intact"), "{text}");
    assert!(text.contains(&format!("events: {stored} rows")), "{text}");

    // JSON report: the chain head of the one writer.
    let events = verified_table("data", &e.root, "events");
    assert_eq!(events["chains"][0]["chain_id"], "ci-ingest");
    assert_eq!(events["chains"][0]["rows"], stored);

    // Change one value in one data file: verify exits 2 and names the event.
    let (file, uid) = edit_one_action(&e.root.join("data/events"));
    let broken = run_cli(&["verify", "--store", "data"], &e.root);
    assert_eq!(broken.status.code(), Some(2), "{}", stdout(&broken));
    let text = stdout(&broken);
    assert!(text.contains("BROKEN"), "{text}");
    assert!(text.contains(&uid), "the report names {uid}: {text}");
    assert!(file.exists());
}

/// Rewrites the first data file with the `action` of its first row changed; returns (file, event_uid).
fn edit_one_action(table: &Path) -> (PathBuf, String) {
    use arrow::array::{Array, AsArray, RecordBatch, StringArray};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = glob::glob(&format!("{}/day=*/*.parquet", table.display()))
        .expect("glob")
        .filter_map(Result::ok)
        .min()
        .expect("a data file");
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).expect("open"))
            .expect("parquet")
            .build()
            .expect("reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat");
    let uid = batch
        .column_by_name("event_uid")
        .expect("uid")
        .as_string::<i32>()
        .value(0)
        .to_owned();
    let i = batch.schema().index_of("action").expect("action");
    let actions = batch.column(i).as_string::<i32>();
    let changed: StringArray = (0..actions.len())
        .map(|r| Some(if r == 0 { "read" } else { actions.value(r) }))
        .collect();
    assert_ne!(
        actions.value(0),
        "read",
        "pick a row whose action is not read already"
    );
    let mut cols = batch.columns().to_vec();
    cols[i] = std::sync::Arc::new(changed);
    let edited = RecordBatch::try_new(batch.schema(), cols).expect("batch");
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(&file).expect("create"),
        edited.schema(),
        None,
    )
    .expect("writer");
    w.write(&edited).expect("write");
    w.close().expect("close");
    (file, uid)
}

#[test]
fn duckdb_reads_the_data_files_as_we_wrote_them() {
    let python = match std::env::var("MDM_TEST_PYTHON") {
        Ok(p) => p,
        Err(_) => {
            eprintln!(
                "skipped: MDM_TEST_PYTHON (a Python with duckdb) is not set; scripts/test sets it"
            );
            return;
        }
    };
    let e = estate(2_000);
    let out = ingest(&e, "data");
    assert!(out.status.success(), "ingest failed: {}", stderr(&out));
    let stored = count_after(&stderr(&out), "stored");

    // The Intune scenario records carry the vendor id that is their event_uid.
    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    for s in &e.truth.scenarios {
        for r in &s.records {
            if let Some(id) = &r.vendor_id {
                expected.insert(id.clone(), (r.expect.action.clone(), r.time.clone()));
            }
        }
    }
    assert!(
        !expected.is_empty(),
        "the estate has Intune scenario records"
    );
    let script = mdm_audit_tests::workspace_root().join("tests/duckdb/read_store.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script).arg(e.root.join("data/events"));
    cmd.args(expected.keys());
    let out = cmd.output().expect("run python");
    assert!(
        out.status.success(),
        "duckdb script failed: {}",
        stderr(&out)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(seen["rows"], stored);
    assert_eq!(seen["distinct_uids"], stored);
    let days = seen["days"].as_object().expect("days");
    assert!(days.len() >= 3, "3 days generated: {days:?}");
    assert_eq!(
        days.values().filter_map(|v| v.as_u64()).sum::<u64>(),
        stored
    );
    let chain = &seen["chains"]["ci-ingest"];
    assert_eq!(chain[0], 0);
    assert_eq!(chain[1], stored - 1);
    assert_eq!(chain[2], stored);
    for (uid, (action, time)) in &expected {
        let got = &seen["events"][uid];
        assert_eq!(got["action"], action.as_str(), "{uid}");
        let t = chrono::DateTime::parse_from_rfc3339(time).expect("truth time");
        let g = chrono::DateTime::parse_from_rfc3339(got["time"].as_str().expect("time"))
            .expect("duckdb time");
        assert_eq!(t, g, "{uid}");
    }
}

/// The normalize workers change nothing but speed: one thread and three threads store the same
/// events in the same chain order, with the same risk and the same episodes.
#[test]
fn ingest_on_several_threads_stores_the_same_chain_as_on_one() {
    let e = estate(2_000);
    let mut seen = Vec::new();
    for (store, threads) in [("one", "1"), ("three", "3")] {
        let mut args = vec![
            "ingest",
            "--store",
            store,
            "--writer-id",
            "ci-ingest",
            "--threads",
            threads,
        ];
        args.extend(e.inputs.iter().map(String::as_str));
        let out = run_cli(&args, &e.root);
        assert!(
            out.status.success(),
            "ingest --threads {threads}: {}",
            stderr(&out)
        );
        let rows = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(async {
                let (ctx, _) = mdm_audit_tests::query::open_store(&e.root.join(store)).await;
                let batches = mdm_audit_tests::query::sql(
                    &ctx,
                    "SELECT chain_seq, event_uid, risk_score, risk_level, \
                     array_to_string(risk_tags, ',') AS tags, episode_id, episode_kind \
                     FROM events ORDER BY chain_seq",
                )
                .await;
                [
                    "chain_seq",
                    "event_uid",
                    "risk_score",
                    "risk_level",
                    "tags",
                    "episode_id",
                    "episode_kind",
                ]
                .map(|c| mdm_audit_tests::query::texts(&batches, c))
            });
        seen.push((count_after(&stderr(&out), "stored"), rows));
    }
    let (stored, one) = &seen[0];
    assert!(*stored > 1_000, "stored {stored}");
    assert_eq!(one[0].len() as u64, *stored);
    assert_eq!(seen[1].0, *stored);
    for (c, (a, b)) in one.iter().zip(&seen[1].1).enumerate() {
        assert_eq!(
            a, b,
            "column {c} differs between --threads 1 and --threads 3"
        );
    }
}
