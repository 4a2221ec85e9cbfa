//! Two writers on one table store the same event (`crate::copies`): readers show it once, the same
//! copy everywhere, and `verify` lists it as a duplicate while both chains stay intact.

use super::*;

#[tokio::test]
async fn an_event_two_writers_stored_counts_once_and_verify_lists_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let events = sample_events();
    let mut w1 = AuditWriter::open(&loc, WriterOptions::new("node-b"))
        .await
        .expect("open node-b");
    let mut w2 = AuditWriter::open(&loc, WriterOptions::new("node-a"))
        .await
        .expect("open node-a");
    // Each writer first takes events of every day (loading its dedupe keys of those days), then
    // both take events 40..45 at the same moment: neither knows the other's commit.
    let stored = |s: AppendSummary| s.stored;
    assert_eq!(
        stored(
            w1.append(events[..30].to_vec(), vec![], vec![])
                .await
                .expect("w1")
        ),
        30
    );
    assert_eq!(
        stored(
            w2.append(events[30..40].to_vec(), vec![], vec![])
                .await
                .expect("w2")
        ),
        10
    );
    assert_eq!(
        stored(
            w1.append(events[40..45].to_vec(), vec![], vec![])
                .await
                .expect("w1")
        ),
        5
    );
    let s = w2
        .append(events[40..50].to_vec(), vec![], vec![])
        .await
        .expect("w2");
    assert_eq!(s.stored, 10, "node-a did not see node-b's commit of 40..45");

    let r = verify(&loc).await;
    assert!(
        r.is_intact(),
        "copies are not breaks: {:#?}",
        events_report(&r).problems
    );
    let t = events_report(&r);
    assert_eq!(t.rows, 55);
    let mut keys: Vec<&str> = t.copies.iter().map(|c| c.key.as_str()).collect();
    keys.sort_unstable();
    let mut want: Vec<&str> = events[40..45]
        .iter()
        .map(|e| e.event_uid.as_str())
        .collect();
    want.sort_unstable();
    assert_eq!(keys, want);
    for c in &t.copies {
        // node-a sorts first: its copy is the one shown, node-b's (positions 30..35) is hidden.
        assert_eq!(c.kept.0, "node-a", "{c:?}");
        assert_eq!(c.hidden.len(), 1, "{c:?}");
        assert_eq!(c.hidden[0].0, "node-b", "{c:?}");
        assert!((30..35).contains(&c.hidden[0].1), "{c:?}");
    }

    let ctx = SessionContext::new();
    register_tables(&loc, &TableRegistry::core(), &ctx)
        .await
        .expect("register");
    let row = one_row(
        &ctx,
        "SELECT count(*) AS n, count(DISTINCT event_uid) AS u, \
         sum(CASE WHEN chain_id = 'node-b' THEN 1 ELSE 0 END) AS b FROM events",
    )
    .await;
    assert_eq!((row["n"], row["u"], row["b"]), (50, 50, 35 - 5));
}

#[tokio::test]
async fn a_table_of_one_writer_is_registered_as_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    write_three_commits(&loc, &sample_events()).await;
    let table = loc
        .open_table("events")
        .await
        .expect("open")
        .expect("exists");
    let copies = find_copies(&table, &EVENTS).await.expect("copies");
    assert!(copies.is_empty());
    let ctx = SessionContext::new();
    register_tables(&loc, &TableRegistry::core(), &ctx)
        .await
        .expect("register");
    let provider = ctx.table_provider("events").await.expect("events");
    assert!(
        provider.get_logical_plan().is_none(),
        "no view over a table one writer wrote: the Delta scan itself"
    );
}
