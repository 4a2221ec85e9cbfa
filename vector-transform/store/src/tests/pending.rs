//! Events held for a commit as Arrow batches (`PendingEvents`), and a commit of several batches: one
//! commit, one file per day, one unbroken chain.

use super::*;

/// `n` events cycling through the samples, each with its own `event_uid`, a minute apart from
/// 2026-03-02 08:00 (so 8,200 of them span six days).
fn many_events(n: usize) -> Vec<NormalizedEvent> {
    let samples = sample_events();
    let start = samples[0].time;
    (0..n)
        .map(|i| {
            let mut e = samples[i % samples.len()].clone();
            e.event_uid = format!("many-{i:06}");
            e.time = start + chrono::Duration::minutes(i as i64);
            e
        })
        .collect()
}

#[test]
fn events_are_turned_into_batches_of_a_chunk_in_order_with_their_keys() {
    let events = many_events(2 * PendingEvents::CHUNK + 5);
    let mut p = PendingEvents::new();
    p.extend(events.clone()).expect("held");
    assert_eq!(p.len(), events.len());
    let expected: Vec<(i32, u128)> = events
        .iter()
        .map(|e| (day_of(e.time), crate::dedupe::digest(&e.event_uid)))
        .collect();
    assert_eq!(p.keys(), expected.as_slice());
    let (batches, keys) = p.into_parts();
    let batches = batches.expect("batches");
    assert_eq!(keys, expected);
    let sizes: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
    assert_eq!(sizes, [PendingEvents::CHUNK, PendingEvents::CHUNK, 5]);
    let uids: Vec<Option<String>> = batches
        .iter()
        .flat_map(|b| strings(b, "event_uid"))
        .collect();
    let want: Vec<Option<String>> = events.iter().map(|e| Some(e.event_uid.clone())).collect();
    assert_eq!(uids, want, "rows keep their order across batches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_of_several_batches_is_one_commit_one_file_per_day_and_one_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let events = many_events(2 * PendingEvents::CHUNK + 8);
    let days: std::collections::BTreeSet<i32> = events.iter().map(|e| day_of(e.time)).collect();
    let mut w = AuditWriter::open(&loc, WriterOptions::new("test-writer"))
        .await
        .expect("opens");
    let s = w
        .append(events.clone(), vec![], vec![])
        .await
        .expect("append");
    assert_eq!(s.stored as usize, events.len());
    assert_eq!(s.commits.len(), 1, "{:?}", s.commits);
    let receipt = &s.commits[0].1;
    assert_eq!(receipt.rows, events.len());
    assert_eq!(receipt.files, days.len());
    assert_eq!(receipt.chain.first_seq, 0);
    assert_eq!(receipt.chain.last_seq, events.len() as i64 - 1);

    let r = verify(&loc).await;
    assert!(r.is_intact(), "{:#?}", events_report(&r).problems);
    let t = events_report(&r);
    assert_eq!(t.rows, events.len() as u64);
    assert_eq!(t.files, days.len() as u64);
    assert_eq!(t.chains[0].commits, 1);
    assert_eq!(t.chains[0].head, w.events().head().head);
}

/// `time`, read by every query, is stored uncompressed (parquet-rs builds zstd contexts for every
/// compressed column chunk it reads); the other columns stay zstd.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_column_is_stored_uncompressed_the_rest_zstd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let mut w = AuditWriter::open(&loc, WriterOptions::new("test-writer"))
        .await
        .expect("opens");
    w.append(many_events(100), vec![], vec![])
        .await
        .expect("append");
    let files = data_files(dir.path()).await;
    assert!(!files.is_empty());
    for (_, path) in files {
        let f = std::fs::File::open(&path).expect("open data file");
        let reader = ParquetRecordBatchReaderBuilder::try_new(f).expect("parquet");
        let rg = reader.metadata().row_group(0);
        for c in rg.columns() {
            let name = c.column_path().string();
            let zstd = matches!(c.compression(), parquet::basic::Compression::ZSTD(_));
            if name == "time" {
                assert_eq!(c.compression(), parquet::basic::Compression::UNCOMPRESSED);
            } else {
                assert!(zstd, "{name}: {:?}", c.compression());
            }
        }
    }
}
