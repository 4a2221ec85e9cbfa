//! Tampering with a stored table, file by file and commit by commit: `verify` names the first broken
//! link every time.

use super::*;

/// Sets up a store, lets `tamper` change it, and returns the events report.
async fn tampered(tamper: impl AsyncFnOnce(&Path, &[NormalizedEvent])) -> TableReport {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let events = sample_events();
    drop(write_three_commits(&loc, &events).await);
    assert!(verify(&loc).await.is_intact());
    tamper(dir.path(), &events).await;
    let r = verify(&loc).await;
    events_report(&r).clone()
}

#[tokio::test]
async fn an_edited_value_is_the_first_broken_link() {
    let mut target = None;
    let report = tampered(async |dir, _| {
        let (v, path, batch) = big_file(dir).await;
        let mut actions = strings(&batch, "action");
        let row = actions.len() / 2;
        actions[row] = Some("read".into());
        let uid = strings(&batch, "event_uid")[row].clone();
        let new: ArrayRef = Arc::new(StringArray::from(actions));
        write_parquet(&path, &replace_column(&batch, "action", new));
        target = Some((v, uid));
    })
    .await;
    let (v, uid) = target.expect("tampered");
    let p = report.first_broken().expect("detected");
    assert_eq!(p.kind, ProblemKind::RowAltered, "{p:?}");
    assert_eq!(p.version, Some(v));
    assert_eq!(p.key, uid);
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

#[tokio::test]
async fn a_deleted_row_is_detected_at_the_row_after_it() {
    let mut target = None;
    let report = tampered(async |dir, _| {
        let (v, path, batch) = big_file(dir).await;
        let row = batch.num_rows() / 2;
        let seqs = batch
            .column_by_name("chain_seq")
            .expect("seq")
            .as_primitive::<Int64Type>()
            .clone();
        let keep: Vec<u32> = (0..batch.num_rows() as u32)
            .filter(|&i| i as usize != row)
            .collect();
        let kept = take_record_batch(&batch, &arrow::array::UInt32Array::from(keep)).expect("take");
        write_parquet(&path, &kept);
        target = Some((v, seqs.value(row)));
    })
    .await;
    let (v, seq) = target.expect("tampered");
    let p = report.first_broken().expect("detected");
    assert_eq!(p.kind, ProblemKind::RowsMissing, "{p:?}");
    assert_eq!(p.version, Some(v));
    assert_eq!(p.seq, Some(seq));
    assert!(p.key.is_some(), "the row after the gap is named: {p:?}");
}

#[tokio::test]
async fn a_deleted_file_is_detected() {
    let mut target = None;
    let report = tampered(async |dir, _| {
        let (v, path, _) = big_file(dir).await;
        std::fs::remove_file(&path).expect("rm");
        target = Some((v, path));
    })
    .await;
    let (v, path) = target.expect("tampered");
    let missing = report
        .problems
        .iter()
        .find(|p| p.kind == ProblemKind::FileMissing)
        .expect("file missing reported");
    assert_eq!(missing.version, Some(v));
    assert!(
        path.to_string_lossy()
            .ends_with(missing.file.as_deref().expect("file"))
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::RowsMissing),
        "{:#?}",
        report.problems
    );
    assert_eq!(report.first_broken().and_then(|p| p.version), Some(v));
}

#[tokio::test]
async fn reordered_rows_are_detected() {
    let mut target = None;
    let report = tampered(async |dir, _| {
        // Two events exchange their places in the chain: their chain columns are swapped.
        let (v, path, batch) = big_file(dir).await;
        let (a, b) = (0usize, 1usize);
        let mut cols = batch.columns().to_vec();
        for name in ["chain_seq", "prev_hash", "hash"] {
            let i = batch.schema().index_of(name).expect("col");
            let mut idx: Vec<u32> = (0..batch.num_rows() as u32).collect();
            idx.swap(a, b);
            cols[i] = arrow::compute::take(&cols[i], &arrow::array::UInt32Array::from(idx), None)
                .expect("take");
        }
        let swapped = RecordBatch::try_new(batch.schema(), cols).expect("batch");
        write_parquet(&path, &swapped);
        let seqs = batch
            .column_by_name("chain_seq")
            .expect("seq")
            .as_primitive::<Int64Type>()
            .clone();
        target = Some((v, seqs.value(a).min(seqs.value(b))));
    })
    .await;
    let (v, seq) = target.expect("tampered");
    let p = report.first_broken().expect("detected");
    assert_eq!(p.version, Some(v));
    assert_eq!(p.seq, Some(seq), "{:#?}", report.problems);
    assert_eq!(p.kind, ProblemKind::RowAltered);
}

#[tokio::test]
async fn reordered_commits_are_detected() {
    let report = tampered(async |dir, _| {
        let log = dir.join("events/_delta_log");
        let name = |v: u64| log.join(format!("{v:020}.json"));
        // Versions 1..3 are the three appends; swap the last two.
        let (a, b) = (
            std::fs::read(name(2)).expect("v2"),
            std::fs::read(name(3)).expect("v3"),
        );
        std::fs::write(name(2), b).expect("write");
        std::fs::write(name(3), a).expect("write");
    })
    .await;
    let p = report.first_broken().expect("detected");
    assert_eq!(
        p.kind,
        ProblemKind::CommitOutOfOrder,
        "{:#?}",
        report.problems
    );
    assert_eq!(p.version, Some(2));
}

#[tokio::test]
async fn a_rewritten_head_or_seq_is_detected() {
    let report = tampered(async |dir, _| {
        // Renumber a file's rows one position later, leaving hashes: content and positions disagree.
        let (_, path, batch) = big_file(dir).await;
        let seqs = batch
            .column_by_name("chain_seq")
            .expect("seq")
            .as_primitive::<Int64Type>()
            .clone();
        let shifted: ArrayRef = Arc::new(Int64Array::from_iter_values(
            seqs.values().iter().map(|s| s + 1),
        ));
        write_parquet(&path, &replace_column(&batch, "chain_seq", shifted));
    })
    .await;
    assert!(!report.problems.is_empty());
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::RowAltered)
    );
    assert!(report.problems.iter().all(|p| !p.detail.is_empty()));
    assert!(report.problems.iter().all(|p| p.version.is_some()));
}
