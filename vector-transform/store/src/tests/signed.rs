//! Signed chain heads against the one rewrite a hash chain cannot see: everything after some point
//! replaced, with every row hash, link and commit head recomputed by whoever can write the store.

use super::*;
use crate::signing::{HeadSigner, TrustedKeys};

async fn append_in(
    loc: &StoreLocation,
    signer: Option<Arc<HeadSigner>>,
    chunks: &[&[NormalizedEvent]],
) {
    let mut w = AuditWriter::open(loc, WriterOptions::new("test-writer").with_signer(signer))
        .await
        .expect("opens");
    for chunk in chunks {
        w.append(chunk.to_vec(), vec![], vec![])
            .await
            .expect("append");
    }
}

async fn verify_with(loc: &StoreLocation, trusted: Option<&TrustedKeys>) -> TableReport {
    let r = verify_store(loc, &TableRegistry::core(), trusted, &|_, _| {})
        .await
        .expect("verify runs");
    events_report(&r).clone()
}

/// Removes the events table's commits after `keep` (the attacker's starting point).
fn drop_commits_after(dir: &Path, keep: u64) {
    let log = dir.join("events/_delta_log");
    for entry in std::fs::read_dir(&log).expect("log") {
        let path = entry.expect("entry").path();
        let version = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .and_then(|v| v.parse::<u64>().ok());
        if version.is_some_and(|v| v > keep) {
            std::fs::remove_file(&path).expect("rm commit");
        }
    }
}

#[tokio::test]
async fn a_rewrite_with_every_hash_recomputed_is_caught_unless_made_with_a_trusted_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = location(dir.path());
    let events = sample_events();
    let third = events.len() / 3;
    let (first, rest) = events.split_at(third);
    let owner = Arc::new(HeadSigner::generate());
    let trusted = TrustedKeys::from_pem(&owner.public_pem().expect("pem"), "test").expect("keys");
    append_in(
        &loc,
        Some(owner.clone()),
        &[first, &rest[..third], &rest[third..]],
    )
    .await;

    let clean = verify_with(&loc, Some(&trusted)).await;
    assert!(clean.problems.is_empty(), "{:#?}", clean.problems);
    let chain = &clean.chains[0];
    assert_eq!(chain.signed_commits, chain.commits);
    assert_eq!(chain.signed_heads.len() as u64, chain.commits);
    assert!(
        chain.signed_heads[0]
            .message
            .contains("table events\nchain_id test-writer\n")
    );

    // The rewrite: everything after the first append is replaced by other rows, written by a writer
    // with the same id that continues the chain from the first append's head, with its own key.
    drop_commits_after(dir.path(), 1);
    let forged: Vec<NormalizedEvent> = rest
        .iter()
        .map(|e| NormalizedEvent {
            message: format!("{} (rewritten)", e.message),
            ..e.clone()
        })
        .collect();
    let attacker = Arc::new(HeadSigner::generate());
    append_in(&loc, Some(attacker.clone()), &[&forged]).await;

    // The hash chain alone holds: every hash, link and head was recomputed.
    let unchecked = verify_with(&loc, None).await;
    assert!(unchecked.problems.is_empty(), "{:#?}", unchecked.problems);
    // The signatures do not: the rewritten commit is signed by a key nobody trusts.
    let caught = verify_with(&loc, Some(&trusted)).await;
    let p = caught.first_broken().expect("rewrite detected");
    assert_eq!(
        p.kind,
        ProblemKind::HeadUntrustedKey,
        "{:#?}",
        caught.problems
    );
    assert_eq!(p.seq, Some(third as i64));
    assert!(p.detail.contains(attacker.key_id()), "{}", p.detail);
    assert_eq!(
        caught.problems.len(),
        1,
        "only the rewritten commit: {:#?}",
        caught.problems
    );

    // Rewritten again without any key: unsigned heads are refused once keys are trusted.
    drop_commits_after(dir.path(), 1);
    append_in(&loc, None, &[&forged]).await;
    let unsigned = verify_with(&loc, Some(&trusted)).await;
    assert_eq!(
        unsigned.first_broken().map(|p| p.kind),
        Some(ProblemKind::HeadUnsigned)
    );

    // A signature edited in the log no longer matches its record.
    drop_commits_after(dir.path(), 1);
    append_in(&loc, Some(owner.clone()), &[&forged]).await;
    assert!(verify_with(&loc, Some(&trusted)).await.problems.is_empty());
    let log = dir.path().join("events/_delta_log");
    let last = std::fs::read_dir(&log)
        .expect("log")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .max()
        .expect("a commit");
    let text = std::fs::read_to_string(&last).expect("commit");
    let sig = text
        .split("\"signature\":\"")
        .nth(1)
        .and_then(|s| s.get(..8))
        .expect("signed commit")
        .to_owned();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    std::fs::write(
        &last,
        text.replacen(
            &format!("\"signature\":\"{sig}"),
            &format!("\"signature\":\"{flipped}{}", &sig[1..]),
            1,
        ),
    )
    .expect("write");
    assert_eq!(
        verify_with(&loc, Some(&trusted))
            .await
            .first_broken()
            .map(|p| p.kind),
        Some(ProblemKind::HeadSignatureInvalid)
    );
}
