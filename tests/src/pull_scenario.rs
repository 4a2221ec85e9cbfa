//! The `mdm-audit pull` scenarios every vendor's stream goes through, written once: a page that
//! keeps failing stops the run at the last complete page (its checkpoint says so), and the next run
//! resumes at the checkpoint minus the 15 minute overlap and stores only what is new. Each vendor's
//! test file describes its stream as a [`StreamUnderTest`] (its emulator, its request parameters,
//! how its records show in the store).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use mdm_audit_store::{StoreLocation, WriterOptions};
use mdm_audit_transform::pull::{Checkpoint, CheckpointStore};

use crate::count_after;
use crate::emulator::{Served, served_to};
use crate::pull::{run_pull, stderr, summary};

/// The checkpoint of `stream` of `vendor` at `source` (tenant or server), read as a reader would.
pub async fn checkpoint(
    store: &Path,
    vendor: &str,
    source: &str,
    stream: &str,
) -> Option<Checkpoint> {
    let loc = StoreLocation::parse(&store.display().to_string(), Default::default()).expect("loc");
    CheckpointStore::new(loc, WriterOptions::new("test-reader"))
        .load(vendor, source, stream)
        .await
        .expect("load the checkpoint")
}

/// One vendor stream of 15 records from 2026-03-02T08:00:00Z, a minute apart, served in pages of 5.
#[expect(
    async_fn_in_trait,
    reason = "implemented and used only by the tests of this crate"
)]
pub trait StreamUnderTest {
    /// The stream's endpoint in the emulator's request log.
    const ENDPOINT: &'static str;
    /// A pull of this stream only into `store`; `extra` follows.
    fn pull(&self, store: &Path, extra: &[&str]) -> Command;
    /// Makes every request of the third page fail with a 503 (`true`), or answer again.
    fn fail_third_page(&self, fail: bool);
    /// True for a request of the third page.
    fn is_third_page(&self, request: &Served) -> bool;
    /// Asserts that `first`, the first request of a resumed run, asks for records from
    /// 2026-03-02T07:54:07Z (the checkpoint's watermark minus 15 minutes), from the first page.
    fn assert_resumes_from_the_overlap(&self, first: &Served);
    /// The requests served so far.
    fn served(&self) -> Vec<Served>;
    /// The keys of the records stored (each stored once), and of the first `n` records served, in
    /// the same terms.
    async fn stored(&self, store: &Path) -> BTreeSet<String>;
    /// See [`Self::stored`].
    fn first(&self, n: usize) -> BTreeSet<String>;
    /// This stream's checkpoint in `store`.
    async fn checkpoint(&self, store: &Path) -> Option<Checkpoint>;
}

/// A page that keeps failing stops the run at the last complete page; the next run resumes there.
pub async fn a_failing_page_stops_at_the_last_complete_page_and_the_next_run_resumes<
    S: StreamUnderTest,
>(
    stream: &S,
    store: &Path,
) {
    stream.fail_third_page(true);
    let out = run_pull(stream.pull(store, &["--max-retries", "2"])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("failed after retries") && err.contains("503"),
        "{err}"
    );
    let third = served_to(&stream.served(), S::ENDPOINT)
        .iter()
        .filter(|s| stream.is_third_page(s))
        .count();
    assert_eq!(third, 3, "1 try + --max-retries 2");
    assert_eq!(stream.stored(store).await, stream.first(10));
    let cp = stream.checkpoint(store).await.expect("a checkpoint");
    assert!(!cp.complete);
    assert_eq!(cp.pages, 2);
    assert_eq!(
        cp.watermark.map(|w| w.to_rfc3339()),
        Some("2026-03-02T08:09:07+00:00".into())
    );

    stream.fail_third_page(false);
    let before = stream.served().len();
    let out = run_pull(stream.pull(store, &[])).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let resumed = served_to(&stream.served()[before..], S::ENDPOINT);
    stream.assert_resumes_from_the_overlap(&resumed[0]);
    let line = summary(&err);
    assert_eq!(count_after(&line, "stored"), 5, "{line}");
    assert_eq!(count_after(&line, "duplicates skipped"), 10, "{line}");
    assert_eq!(stream.stored(store).await, stream.first(15));
    assert!(stream.checkpoint(store).await.expect("checkpoint").complete);
}
