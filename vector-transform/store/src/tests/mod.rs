//! The store against a real Delta table in a temporary directory: appends, restarts, dedupe, and
//! `verify` on an untouched store and after each kind of tampering.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::compute::take_record_batch;
use arrow::datatypes::Int64Type;
use datafusion::prelude::{SessionContext, cast, col, lit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::log::{list_versions, read_commit};
use super::*;
use crate::{DeadLetter, NormalizedEvent};

mod copies;
mod evolve;
mod pending;
mod select;
mod signed;
mod tamper;

/// Synthetic events over three days, with every kind of column filled somewhere (lists, changes,
/// nulls). Built in Rust rather than by the VRL mappings, whose compilation alone takes seconds: the
/// store does not care where its rows come from (`tests/tests/store.rs` stores real normalized
/// records through `mdm-audit ingest`).
fn sample_events() -> Vec<NormalizedEvent> {
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let actions = [
        "wipe",
        "update",
        "login",
        "assign",
        "read",
        "clear_passcode",
    ];
    (0..60)
        .map(|i| {
            let time = start + chrono::Duration::minutes(i * 67);
            let action = actions[i as usize % actions.len()];
            let raw =
                format!(r#"{{"id":"evt-{i}","activityType":"{action} ManagedDevice","n":{i}}}"#);
            NormalizedEvent {
                event_uid: format!("evt-{i:04}"),
                time,
                ingest_time: Some(time + chrono::Duration::seconds(30)),
                tenant: Some("contoso".into()),
                correlation_id: (i % 3 == 0).then(|| format!("corr-{i}")),
                vendor: "microsoft".into(),
                product: "intune".into(),
                feed: "graph".into(),
                native_action: format!("{action} ManagedDevice"),
                ocsf_class_uid: 6003,
                ocsf_activity_id: 99,
                category: "command".into(),
                action: action.into(),
                outcome: if i % 7 == 0 { "failure" } else { "success" }.into(),
                actor_kind: Some("user".into()),
                actor_id: Some(format!("user-{}", i % 4)),
                actor_name: Some(format!("Admin {}", i % 4)),
                actor_upn: Some(format!("admin{}@contoso.example", i % 4)),
                actor_ip: Some("203.0.113.7".into()),
                actor_app: None,
                actor_is_delegated: Some(i % 5 == 0),
                actor_partner_tenant: None,
                actor_person: None,
                actor_department: None,
                target_type: Some("device".into()),
                target_id: Some(format!("dev-{}", i % 9)),
                target_name: Some(format!("LAPTOP-{}", i % 9)),
                changes: if i % 4 == 0 {
                    vec![crate::Change {
                        path: "Settings.passwordRequired".into(),
                        old: Some("true".into()),
                        new: (i % 8 != 0).then(|| "false".into()),
                        redacted: i % 8 == 0,
                    }]
                } else {
                    vec![]
                },
                device_id: Some(format!("dev-{}", i % 9)),
                device_serial: Some(format!("C02X{i:04}")),
                device_name: Some(format!("LAPTOP-{}", i % 9)),
                device_platform: Some("windows".into()),
                device_os: Some("10.0.22631".into()),
                device_user: None,
                asset_tag: None,
                device_department: None,
                unresolved: vec![],
                risk_tags: if action == "wipe" {
                    vec!["remote_wipe".into()]
                } else {
                    vec![]
                },
                risk_score: if action == "wipe" { 70 } else { 0 },
                risk_level: if action == "wipe" { "high" } else { "none" }.into(),
                risk_reasons: if action == "wipe" {
                    vec!["remote wipe of a device".into()]
                } else {
                    vec![]
                },
                controls: vec!["SOC2-CC6.1".into()],
                episode_id: None,
                episode_kind: None,
                message: format!("Admin {} ran {action} on LAPTOP-{}", i % 4, i % 9),
                raw,
                chain_id: None,
                chain_seq: None,
                prev_hash: None,
                hash: None,
            }
        })
        .collect()
}

fn location(dir: &Path) -> StoreLocation {
    StoreLocation::parse(dir.to_str().expect("utf-8 path"), HashMap::new()).expect("valid")
}

async fn write_three_commits(loc: &StoreLocation, events: &[NormalizedEvent]) -> AuditWriter {
    let mut w = AuditWriter::open(loc, WriterOptions::new("test-writer"))
        .await
        .expect("opens");
    let third = events.len() / 3;
    for chunk in [
        &events[..third],
        &events[third..2 * third],
        &events[2 * third..],
    ] {
        let s = w
            .append(chunk.to_vec(), vec![], vec![])
            .await
            .expect("append");
        assert_eq!(s.stored as usize, chunk.len());
        assert_eq!(s.duplicates, 0);
    }
    w
}

/// The first row of `sql`, each column as an integer by its name.
async fn one_row(ctx: &SessionContext, sql: &str) -> HashMap<String, i64> {
    let b = ctx
        .sql(sql)
        .await
        .expect("sql")
        .collect()
        .await
        .expect("collect");
    b[0].schema()
        .fields()
        .iter()
        .zip(b[0].columns())
        .map(|(f, c)| {
            let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Int64).expect("cast");
            (f.name().clone(), c.as_primitive::<Int64Type>().value(0))
        })
        .collect()
}

async fn verify(loc: &StoreLocation) -> VerifyReport {
    verify_store(loc, &TableRegistry::core(), None, &|_, _| {})
        .await
        .expect("verify runs")
}

fn events_report(r: &VerifyReport) -> &TableReport {
    r.tables
        .iter()
        .find(|t| t.table == "events")
        .expect("events table verified")
}

/// Data files of the events table, with the version that added them.
async fn data_files(dir: &Path) -> Vec<(u64, PathBuf)> {
    let table = dir.join("events");
    let store: Arc<dyn object_store::ObjectStore> = Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(&table).expect("local store"),
    );
    let root = object_store::path::Path::from("");
    let mut out = Vec::new();
    for v in list_versions(store.as_ref(), &root).await.expect("log") {
        for a in read_commit(store.as_ref(), &root, v)
            .await
            .expect("commit")
            .adds
        {
            out.push((v, table.join(&a.path)));
        }
    }
    out
}

fn read_parquet(path: &Path) -> RecordBatch {
    let f = std::fs::File::open(path).expect("open data file");
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat")
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let f = std::fs::File::create(path).expect("create data file");
    let mut w = ArrowWriter::try_new(f, batch.schema(), None).expect("writer");
    w.write(batch).expect("write");
    w.close().expect("close");
}

fn replace_column(batch: &RecordBatch, name: &str, col: ArrayRef) -> RecordBatch {
    let i = batch.schema().index_of(name).expect("column");
    let mut cols = batch.columns().to_vec();
    cols[i] = col;
    RecordBatch::try_new(batch.schema(), cols).expect("valid")
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = arrow::compute::cast(
        batch.column_by_name(name).expect("column"),
        &arrow::datatypes::DataType::Utf8,
    )
    .expect("cast");
    c.as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect()
}

/// The largest data file (at least 3 rows, to have a middle row).
async fn big_file(dir: &Path) -> (u64, PathBuf, RecordBatch) {
    let mut best = None;
    for (v, p) in data_files(dir).await {
        let b = read_parquet(&p);
        if best
            .as_ref()
            .is_none_or(|(_, _, x): &(u64, PathBuf, RecordBatch)| b.num_rows() > x.num_rows())
        {
            best = Some((v, p, b));
        }
    }
    let best = best.expect("a data file");
    assert!(
        best.2.num_rows() >= 3,
        "fixture too small: {} rows",
        best.2.num_rows()
    );
    best
}

#[tokio::test]
async fn an_untouched_store_verifies_clean_and_queries_through_datafusion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let events = sample_events();
    let days: std::collections::BTreeSet<i32> = events.iter().map(|e| day_of(e.time)).collect();
    assert!(days.len() >= 2, "samples span one day only");
    let w = write_three_commits(&loc, &events).await;
    assert_eq!(w.events().head().next_seq, events.len() as i64);

    let r = verify(&loc).await;
    assert!(
        r.is_intact(),
        "{:#?}",
        r.tables.iter().map(|t| &t.problems).collect::<Vec<_>>()
    );
    let t = events_report(&r);
    assert_eq!(t.rows, events.len() as u64);
    assert_eq!(t.chains.len(), 1);
    assert_eq!(t.chains[0].chain_id, "test-writer");
    assert_eq!(t.chains[0].commits, 3);
    assert_eq!(t.chains[0].head, w.events().head().head);
    assert_eq!(t.key_column, "event_uid");

    // The data through DataFusion: every event once, partitioned by day, values round-trip.
    let ctx = SessionContext::new();
    let tables = register_tables(&loc, &TableRegistry::core(), &ctx)
        .await
        .expect("register");
    assert!(tables.contains(&"events".to_owned()));
    let row = one_row(
        &ctx,
        "SELECT count(*) AS n, count(DISTINCT event_uid) AS u, count(DISTINCT day) AS d, max(chain_seq) AS s FROM events",
    )
    .await;
    let get = |c: &str| row[c];
    assert_eq!(get("n"), events.len() as i64);
    assert_eq!(get("u"), events.len() as i64);
    assert_eq!(get("d"), days.len() as i64);
    assert_eq!(get("s"), events.len() as i64 - 1);
    let first = &events[0];
    let b = ctx
        .table("events")
        .await
        .expect("events")
        .filter(col("event_uid").eq(lit(first.event_uid.as_str())))
        .expect("filter")
        .select(vec![
            col("vendor"),
            col("action"),
            col("message"),
            cast(col("day"), arrow::datatypes::DataType::Utf8).alias("day"),
        ])
        .expect("select")
        .collect()
        .await
        .expect("collect");
    assert_eq!(
        strings(&b[0], "vendor")[0].as_deref(),
        Some(first.vendor.as_str())
    );
    assert_eq!(
        strings(&b[0], "action")[0].as_deref(),
        Some(first.action.as_str())
    );
    assert_eq!(
        strings(&b[0], "message")[0].as_deref(),
        Some(first.message.as_str())
    );
    assert_eq!(
        strings(&b[0], "day")[0].as_deref(),
        Some(first.time.format("%Y-%m-%d").to_string().as_str())
    );
}

#[tokio::test]
async fn a_reopened_writer_continues_its_chain_and_skips_stored_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let events = sample_events();
    let half = events.len() / 2;
    {
        let mut w = AuditWriter::open(&loc, WriterOptions::new("w1"))
            .await
            .expect("open");
        w.append(events[..half].to_vec(), vec![], vec![])
            .await
            .expect("append");
    }
    // A second process with the same writer id while the first is open is refused.
    let held = AuditWriter::open(&loc, WriterOptions::new("w1"))
        .await
        .expect("reopen");
    let err = AuditWriter::open(&loc, WriterOptions::new("w1"))
        .await
        .expect_err("locked");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("--writer-id"), "{err}");
    drop(held);

    let mut w = AuditWriter::open(&loc, WriterOptions::new("w1"))
        .await
        .expect("reopen");
    assert_eq!(w.events().head().next_seq, half as i64);
    // Everything again (a retried batch plus new events): only the new half is stored.
    let s = w
        .append(events.clone(), vec![], vec![])
        .await
        .expect("append");
    assert_eq!(s.stored as usize, events.len() - half);
    assert_eq!(s.duplicates as usize, half);
    // Repeats inside one batch count as duplicates too.
    let s = w
        .append(vec![events[0].clone(), events[0].clone()], vec![], vec![])
        .await
        .expect("append");
    assert_eq!((s.stored, s.duplicates), (0, 2));
    // A second writer chains separately.
    let mut w2 = AuditWriter::open(&loc, WriterOptions::new("w2"))
        .await
        .expect("open w2");
    let mut extra = events[0].clone();
    extra.event_uid = "extra-event-of-writer-2".into();
    assert_eq!(
        w2.append(vec![extra], vec![], vec![])
            .await
            .expect("append")
            .stored,
        1
    );

    let r = verify(&loc).await;
    assert!(r.is_intact(), "{:#?}", events_report(&r).problems);
    let t = events_report(&r);
    assert_eq!(t.rows as usize, events.len() + 1);
    let mut chains: Vec<(String, u64)> = t
        .chains
        .iter()
        .map(|c| (c.chain_id.clone(), c.rows))
        .collect();
    chains.sort();
    assert_eq!(
        chains,
        vec![("w1".into(), events.len() as u64), ("w2".into(), 1)]
    );
}

#[tokio::test]
async fn dead_letters_and_episodes_are_stored_and_chained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let mut w = AuditWriter::open(&loc, WriterOptions::new("w"))
        .await
        .expect("open");
    let dead = DeadLetter {
        ingest_time: chrono::Utc::now(),
        source: "jamf".into(),
        reason: "not JSON".into(),
        origin: Some("POST /v1/events line 3".into()),
        raw: b"{broken".to_vec(),
    };
    let events = sample_events();
    let ep = EpisodeRecord {
        episode_id: "ep-1".into(),
        episode_kind: "admin_session".into(),
        reason: "3 actions by a@b within 10 min".into(),
        actor: Some("a@b".into()),
        device: None,
        first_time: events[0].time,
        last_time: events[2].time,
        event_count: 3,
        device_count: 0,
        event_uids: events[..3].iter().map(|e| e.event_uid.clone()).collect(),
        devices: vec![],
        risk_tags: vec![],
        max_risk_score: 0,
        updated_time: chrono::Utc::now(),
    };
    let s = w
        .append(vec![], vec![dead.clone()], vec![ep])
        .await
        .expect("append");
    assert_eq!((s.dead_lettered, s.episodes), (1, 1));
    // The same bad line in a retried request is not dead-lettered twice.
    let s = w.append(vec![], vec![dead], vec![]).await.expect("append");
    assert_eq!((s.dead_lettered, s.dead_letter_duplicates), (0, 1));

    let ctx = SessionContext::new();
    register_tables(&loc, &TableRegistry::core(), &ctx)
        .await
        .expect("register");
    let b = ctx
        .sql("SELECT reason, origin, raw FROM dead_letters")
        .await
        .expect("sql")
        .collect()
        .await
        .expect("collect");
    assert_eq!(b.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    assert_eq!(strings(&b[0], "reason")[0].as_deref(), Some("not JSON"));
    let raw = arrow::compute::cast(
        b[0].column_by_name("raw").expect("raw"),
        &arrow::datatypes::DataType::Binary,
    )
    .expect("cast");
    assert_eq!(raw.as_binary::<i32>().value(0), b"{broken");
    let r = verify(&loc).await;
    assert!(r.is_intact(), "{:#?}", r);
    let names: Vec<&str> = r.tables.iter().map(|t| t.table.as_str()).collect();
    assert!(
        names.contains(&"dead_letters") && names.contains(&"episodes"),
        "{names:?}"
    );
}
