//! `mdm-audit pull ws1` against the Workspace ONE UEM emulator (tests/src/ws1_api.rs): the
//! `aw-tenant-code` header and versioned `Accept` on every call, `page` / `pagesize` paging, throttling
//! with and without Retry-After, 5xx, a token that expires mid-run, paging that repeats or never ends,
//! a page that keeps failing (checkpoint at the last complete page, the next run resumes), missing
//! permissions named, stdout for Vector, and SIGKILLs that lose and duplicate nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use mdm_audit_tests::emulator::{Fault, Served, served_to};
use mdm_audit_tests::pull::{
    assert_verified_with_checkpoints, free_addr, kill_four_runs, metrics_after_two_runs, run_pull,
    stderr, stored_once,
};
use mdm_audit_tests::pull_scenario::{
    self, StreamUnderTest, a_failing_page_stops_at_the_last_complete_page_and_the_next_run_resumes,
};
use mdm_audit_tests::query::{open_store, present_texts, sql};
use mdm_audit_tests::ws1_api::{Ws1Emulator, console_events, device_events, pull_ws1};
use mdm_audit_transform::pull::Checkpoint;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The event_uid of each entry, as `api_event_log.vrl` makes it: the hash of its type and Id.
fn uids(entries: &[Value]) -> BTreeSet<String> {
    entries
        .iter()
        .map(|e| {
            let basis = format!(
                "ws1-api|{}|{}",
                e["EventType"].as_str().expect("type"),
                e["Id"]
            );
            hex::encode(Sha256::digest(basis.as_bytes()))[..32].to_owned()
        })
        .collect()
}

async fn checkpoint(store: &Path, emu: &Ws1Emulator, stream: &str) -> Option<Checkpoint> {
    pull_scenario::checkpoint(store, "ws1", &emu.tenant(), stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_server_errors_and_an_expired_token_are_retried_and_every_page_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let devices = device_events(12, "2026-03-02T08:00:00Z");
    let consoles = console_events(3, "2026-03-02T09:00:00Z");
    let emu = Ws1Emulator::start(devices.clone(), consoles.clone()).await;
    emu.set(|s| {
        s.faults = [
            Fault::Throttle(Some(1)),
            Fault::Throttle(None),
            Fault::Server(503),
            Fault::ExpireToken,
        ]
        .into()
    });
    let out = run_pull(pull_ws1(&emu, &store, &[])).await;
    let err = stderr(&out);
    assert!(out.status.success(), "pull failed:\n{err}");
    let all: Vec<Value> = devices.iter().chain(&consoles).cloned().collect();
    assert_eq!(stored_once(&store).await, uids(&all));

    let served = emu.served();
    let dev = served_to(&served, "eventlog/Device");
    let statuses: Vec<u16> = dev.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [429, 429, 503, 401, 200, 200, 200]);
    assert_eq!(served_to(&served, "eventlog/Console").len(), 1);
    // Renewed once after the 401, not in a loop.
    assert_eq!(served_to(&served, "token").len(), 2);
    // Retry-After: 1 is honoured; without it the backoff starts at --retry-delay (20 ms).
    let waited = dev[1].at - dev[0].at;
    assert!(waited >= Duration::from_millis(990), "{waited:?}");
    let backoff = dev[2].at - dev[1].at;
    assert!(backoff < Duration::from_millis(900), "{backoff:?}");
    // Paging as UEM documents it: 0-based page, pagesize, the time window, oldest first.
    let pages: Vec<&str> = dev[4..].iter().map(|s| s.query["page"].as_str()).collect();
    assert_eq!(pages, ["0", "1", "2"]);
    let q = &dev[4].query;
    assert_eq!(q["pagesize"], "5");
    assert_eq!(q["eventtype"], "Device");
    assert_eq!(q["startdate"], "2026-03-01T00:00:00.000Z");
    assert!(q.contains_key("enddate"));
    assert_eq!(
        (q["orderby"].as_str(), q["sortorder"].as_str()),
        ("TimeStamp", "ASC")
    );
    // Every call carried the tenant's key and the versioned Accept.
    for s in &dev {
        assert_eq!(s.headers["aw-tenant-code"], "(present)");
        assert_eq!(s.headers["accept"], "application/json;version=1");
    }
    assert!(
        err.contains("rate-limited") && err.contains("waiting 1.0 s"),
        "{err}"
    );
    // Neither the client secret, the REST API key nor a token reaches the output.
    let text = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
    for (_, secret) in &emu.credentials()[1..] {
        assert!(!text.contains(secret.as_str()), "{text}");
    }
    assert!(!text.contains("uem-emulated-"), "{text}");

    // The entries went through api_event_log.vrl.
    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT feed, native_action, action, actor_name, device_id, target_id, device_name \
         FROM events WHERE native_action = 'EnterpriseWipe' ORDER BY time LIMIT 1",
    )
    .await;
    assert_eq!(present_texts(&rows, "feed"), ["api"]);
    assert_eq!(present_texts(&rows, "action"), ["retire"]);
    assert_eq!(present_texts(&rows, "actor_name"), ["CORP\\jsmith"]);
    assert_eq!(present_texts(&rows, "device_id"), ["4001"]);
    assert_eq!(present_texts(&rows, "target_id"), ["4001"]);
    assert_eq!(
        present_texts(&rows, "device_name"),
        ["user01 iPhone 15 F2LX0001"]
    );
    let cp = checkpoint(&store, &emu, "deviceEvents")
        .await
        .expect("checkpoint");
    assert!(cp.complete);
    assert_eq!(cp.pages, 3);
    assert_eq!(
        cp.watermark.map(|w| w.to_rfc3339()),
        Some("2026-03-02T08:11:07+00:00".into())
    );
    assert!(
        checkpoint(&store, &emu, "consoleEvents")
            .await
            .expect("cp")
            .complete
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_code_is_required_and_missing_permissions_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = Ws1Emulator::start(device_events(3, "2026-03-02T08:00:00Z"), vec![]).await;

    // A wrong REST API key: 401, renewed once, then an error naming the header and the permission.
    let mut cmd = pull_ws1(&emu, &store, &[]);
    cmd.env("MDM_AUDIT_WS1_TENANT_CODE", "not-the-tenant-key");
    let out = run_pull(cmd).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("401") && err.contains("aw-tenant-code") && err.contains("API > REST"),
        "{err}"
    );
    assert!(!err.contains("not-the-tenant-key"), "{err}");
    let served = emu.served();
    assert_eq!(served_to(&served, "token").len(), 2, "one renewal, no loop");
    assert_eq!(served_to(&served, "eventlog/Device").len(), 2);

    // No key at all: a usage error naming the variable, before any request.
    let before = emu.served().len();
    let mut cmd = pull_ws1(&emu, &store, &[]);
    cmd.env_remove("MDM_AUDIT_WS1_TENANT_CODE");
    let out = run_pull(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("MDM_AUDIT_WS1_TENANT_CODE is not set"),
        "{}",
        stderr(&out)
    );
    assert_eq!(emu.served().len(), before);

    // The key from a file works.
    let key_file = dir.path().join("tenant-code");
    std::fs::write(&key_file, format!("{}\n", emu.credentials()[2].1)).expect("write");
    let mut cmd = pull_ws1(&emu, &store, &[]);
    cmd.env_remove("MDM_AUDIT_WS1_TENANT_CODE")
        .env("MDM_AUDIT_WS1_TENANT_CODE_FILE", &key_file);
    let out = run_pull(cmd).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored_once(&store).await.len(), 3);

    // A role that may not read console events: 403 naming the permission.
    emu.set(|s| {
        s.forbidden.insert("Console".into());
    });
    let out = run_pull(pull_ws1(&emu, &store, &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ws1 consoleEvents")
            && err.contains("403")
            && err.contains("API > REST > System"),
        "{err}"
    );

    // A wrong client secret: the token service's error, without the secret.
    let mut cmd = pull_ws1(&emu, &store, &[]);
    cmd.env("MDM_AUDIT_WS1_CLIENT_SECRET", "wrong~secret~value");
    let out = run_pull(cmd).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("wrong~secret~value"), "{err}");
}

/// UEM's device event log as a [`StreamUnderTest`]: `page` / `pagesize`, `startdate`.
struct DeviceEvents {
    emu: Ws1Emulator,
    devices: Vec<Value>,
}

impl StreamUnderTest for DeviceEvents {
    const ENDPOINT: &'static str = "eventlog/Device";

    fn pull(&self, store: &Path, extra: &[&str]) -> std::process::Command {
        let mut args = vec!["--no-console-events"];
        args.extend(extra);
        pull_ws1(&self.emu, store, &args)
    }

    fn fail_third_page(&self, fail: bool) {
        self.emu.set(|s| {
            if fail {
                s.failing_pages.insert(("Device".into(), 2));
            } else {
                s.failing_pages.clear();
            }
        });
    }

    fn is_third_page(&self, request: &Served) -> bool {
        request.query["page"] == "2"
    }

    fn assert_resumes_from_the_overlap(&self, first: &Served) {
        assert_eq!(first.query["startdate"], "2026-03-02T07:54:07.000Z");
        assert_eq!(first.query["page"], "0");
    }

    fn served(&self) -> Vec<Served> {
        self.emu.served()
    }

    async fn stored(&self, store: &Path) -> BTreeSet<String> {
        stored_once(store).await
    }

    fn first(&self, n: usize) -> BTreeSet<String> {
        uids(&self.devices[..n])
    }

    async fn checkpoint(&self, store: &Path) -> Option<Checkpoint> {
        checkpoint(store, &self.emu, "deviceEvents").await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_keeps_failing_stops_the_run_at_the_last_complete_page_and_the_next_run_resumes()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let devices = device_events(15, "2026-03-02T08:00:00Z");
    let emu = Ws1Emulator::start(devices.clone(), vec![]).await;
    a_failing_page_stops_at_the_last_complete_page_and_the_next_run_resumes(
        &DeviceEvents { emu, devices },
        &dir.path().join("store"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_repeats_or_paging_that_never_ends_stops_the_run_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let devices = device_events(15, "2026-03-02T08:00:00Z");
    let emu = Ws1Emulator::start(devices.clone(), vec![]).await;
    emu.set(|s| s.repeat_page = true);
    let out = run_pull(pull_ws1(&emu, &store, &["--no-console-events"])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("asked for page 2, the server answered page 1: the paging repeats"),
        "{err}"
    );
    // The two pages read before the repeat are stored; the repeated one is not read again.
    assert_eq!(stored_once(&store).await, uids(&devices[..10]));
    assert_eq!(served_to(&emu.served(), "eventlog/Device").len(), 3);

    // The same entries again under the next page number: caught by their content.
    emu.set(|s| {
        s.repeat_page = false;
        s.repeat_entries = true;
    });
    let out = run_pull(pull_ws1(
        &emu,
        &dir.path().join("other"),
        &["--no-console-events"],
    ))
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("page 2 holds the same records as page 1: the paging repeats"),
        "{err}"
    );

    emu.set(|s| {
        s.repeat_entries = false;
        s.endless = true;
    });
    let out = run_pull(pull_ws1(
        &emu,
        &store,
        &["--no-console-events", "--max-pages", "4"],
    ))
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("still more pages after 4 pages (--max-pages"),
        "{err}"
    );
    let stored = stored_once(&store).await;
    assert!(
        stored.is_superset(&uids(&devices)),
        "the real entries are all stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_writes_the_entries_as_uem_returns_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("checkpoints");
    let devices = device_events(7, "2026-03-02T08:00:00Z");
    let consoles = console_events(4, "2026-03-02T08:00:00Z");
    let emu = Ws1Emulator::start(devices.clone(), consoles.clone()).await;
    let out = run_pull(pull_ws1(&emu, &store, &["--stdout"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON record per line"))
        .collect();
    let expected: Vec<Value> = devices.iter().chain(&consoles).cloned().collect();
    assert_eq!(lines, expected);
    let (_, tables) = open_store(&store).await;
    assert!(!tables.contains(&"events".to_owned()), "{tables:?}");
    assert!(
        checkpoint(&store, &emu, "deviceEvents")
            .await
            .expect("cp")
            .complete
    );
    assert!(
        checkpoint(&store, &emu, "consoleEvents")
            .await
            .expect("cp")
            .complete
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_pulls_lose_nothing_and_store_every_event_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let devices = device_events(120, "2026-03-02T08:00:00Z");
    let consoles = console_events(40, "2026-03-02T08:00:00Z");
    let emu = Ws1Emulator::start(devices.clone(), consoles.clone()).await;
    emu.set(|s| s.page_delay = Duration::from_millis(40));
    // Kill after 1, 2, 3 and 4 pages of a run, a little later each time (mid-commit, mid-request).
    kill_four_runs(dir.path(), || pull_ws1(&emu, &store, &[])).await;
    let all: Vec<Value> = devices.iter().chain(&consoles).cloned().collect();
    let partial = stored_once(&store).await;
    assert!(partial.len() < all.len(), "the kills came too late");
    let out = run_pull(pull_ws1(&emu, &store, &[])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored_once(&store).await, uids(&all));
    assert_verified_with_checkpoints(&store, dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_map_to_the_same_vocabulary_as_the_syslog_feed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = Ws1Emulator::start(vec![], console_events(2, "2026-03-02T08:00:00Z")).await;
    let out = run_pull(pull_ws1(&emu, &store, &["--no-device-events"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT action, target_type, target_name, target_id, message FROM events ORDER BY time",
    )
    .await;
    assert_eq!(present_texts(&rows, "action"), ["update", "login"]);
    assert_eq!(
        present_texts(&rows, "target_type"),
        ["configuration_profile", "admin_account"]
    );
    assert_eq!(present_texts(&rows, "target_id"), ["1100"]);
    assert_eq!(
        present_texts(&rows, "message"),
        [
            "akumar@contoso.com modified configuration profile 'Wi-Fi 0' in the Workspace ONE UEM console.",
            "akumar@contoso.com signed in to the Workspace ONE UEM console.",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_keeps_pulling_and_exposes_its_counters_labelled_ws1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let devices = device_events(4, "2026-03-02T08:00:00Z");
    let emu = Ws1Emulator::start(devices.clone(), vec![]).await;
    emu.set(|s| s.faults = [Fault::Throttle(None)].into());
    let listen = free_addr();
    let log = dir.path().join("every.log");
    let cmd = pull_ws1(
        &emu,
        &store,
        &["--every", "1s", "--metrics-listen", &listen],
    );
    let metrics = metrics_after_two_runs(cmd, &listen, &log, "ws1").await;
    let value = |name: &str| metrics.counter(name);
    assert_eq!(value("stored_events"), 4, "{metrics}");
    assert!(value("duplicate_events") >= 4, "{metrics}");
    assert_eq!(value("rate_limit_waits"), 1, "{metrics}");
    assert_eq!(value("failed_runs"), 0, "{metrics}");
    assert_eq!(stored_once(&store).await, uids(&devices));
}
