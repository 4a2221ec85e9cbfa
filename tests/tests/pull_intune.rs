//! `mdm-audit pull intune` against the Microsoft Graph emulator (tests/src/vendor_api.rs): paging,
//! throttling with and without Retry-After, 5xx, a token that expires mid-run, paging that loops or
//! never ends, a page that keeps failing (checkpoint at the last complete page, the next run resumes),
//! missing permissions named, stdout for Vector, and SIGKILLs that lose and duplicate nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use mdm_audit_tests::count_after;
use mdm_audit_tests::emulator::{Served, served_to};
use mdm_audit_tests::pull::{
    assert_verified_with_checkpoints, free_addr, kill_four_runs, metrics_after_two_runs, run_pull,
    stderr, stored_once, summary,
};
use mdm_audit_tests::pull_scenario::{
    self, StreamUnderTest, a_failing_page_stops_at_the_last_complete_page_and_the_next_run_resumes,
};
use mdm_audit_tests::query::{open_store, present_texts, sql};
use mdm_audit_tests::vendor_api::{
    Fault, GraphEmulator, audit_events, managed_devices, pull_intune, role_assignments,
    role_definitions,
};
use mdm_audit_transform::pull::Checkpoint;
use serde_json::Value;

fn ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn checkpoint(store: &Path, emulator: &GraphEmulator) -> Option<Checkpoint> {
    let tenant = emulator.credentials()[0].1.clone();
    pull_scenario::checkpoint(store, "intune", &tenant, "auditEvents").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_server_errors_and_an_expired_token_are_retried_and_every_page_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let events = audit_events(12, "2026-03-02T08:00:00Z");
    let emu = GraphEmulator::start(events.clone(), vec![]).await;
    emu.set(|s| {
        s.faults = [
            Fault::Throttle(Some(1)),
            Fault::Throttle(None),
            Fault::Server(503),
            Fault::ExpireToken,
        ]
        .into()
    });
    let out = run_pull(pull_intune(&emu, &store, &["--no-devices"])).await;
    let err = stderr(&out);
    assert!(out.status.success(), "pull failed:\n{err}");
    assert_eq!(stored_once(&store).await, ids(&events));

    let served = emu.served();
    let audit = served_to(&served, "auditEvents");
    let statuses: Vec<u16> = audit.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [429, 429, 503, 401, 200, 200, 200]);
    // Renewed once after the 401, not in a loop.
    assert_eq!(served_to(&served, "token").len(), 2);
    // Retry-After: 1 is honoured; without it the backoff starts at --retry-delay (20 ms).
    let after_retry_after = audit[1].at - audit[0].at;
    assert!(
        after_retry_after >= Duration::from_millis(990),
        "{after_retry_after:?}"
    );
    let backoff = audit[2].at - audit[1].at;
    assert!(backoff < Duration::from_millis(900), "{backoff:?}");
    // The query as Graph documents it.
    assert_eq!(
        audit[0].query.get("$filter").map(String::as_str),
        Some("activityDateTime ge 2026-03-01T00:00:00.000000Z")
    );
    assert_eq!(
        audit[0].query.get("$orderby").map(String::as_str),
        Some("activityDateTime asc")
    );
    assert!(
        err.contains("rate-limited") && err.contains("waiting 1.0 s"),
        "{err}"
    );
    // Neither the client secret nor a token reaches the output.
    let all = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        !all.contains(&emu.credentials()[2].1) && !all.contains("emulated-"),
        "{all}"
    );

    // The records went through the Graph auditEvent mapping.
    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT native_action, action, actor_upn, target_name FROM events \
         WHERE event_uid = 'a0e1b2c3-0000-4000-8000-000000000003'",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "native_action"),
        ["Patch DeviceCompliancePolicy"]
    );
    assert_eq!(present_texts(&rows, "action"), ["update"]);
    assert_eq!(
        present_texts(&rows, "actor_upn"),
        ["megan.bowen@contoso.com"]
    );
    assert_eq!(present_texts(&rows, "target_name"), ["Windows baseline 3"]);
    let cp = checkpoint(&store, &emu).await.expect("a checkpoint");
    assert!(cp.complete);
    assert_eq!(
        cp.watermark.map(|w| w.to_rfc3339()),
        Some("2026-03-02T08:11:07+00:00".into())
    );
}

/// Intune's audit events as a [`StreamUnderTest`]: `$skiptoken` offsets, `$filter` on activityDateTime.
struct AuditEvents {
    emu: GraphEmulator,
    events: Vec<Value>,
}

impl StreamUnderTest for AuditEvents {
    const ENDPOINT: &'static str = "auditEvents";

    fn pull(&self, store: &Path, extra: &[&str]) -> std::process::Command {
        let mut args = vec!["--no-devices"];
        args.extend(extra);
        pull_intune(&self.emu, store, &args)
    }

    fn fail_third_page(&self, fail: bool) {
        self.emu.set(|s| {
            if fail {
                s.failing_offsets.insert(10);
            } else {
                s.failing_offsets.clear();
            }
        });
    }

    fn is_third_page(&self, request: &Served) -> bool {
        request.query.get("$skiptoken").map(String::as_str) == Some("10")
    }

    fn assert_resumes_from_the_overlap(&self, first: &Served) {
        assert_eq!(
            first.query.get("$filter").map(String::as_str),
            Some("activityDateTime ge 2026-03-02T07:54:07.000000Z")
        );
        assert_eq!(first.query.get("$skiptoken"), None);
    }

    fn served(&self) -> Vec<Served> {
        self.emu.served()
    }

    async fn stored(&self, store: &Path) -> BTreeSet<String> {
        stored_once(store).await
    }

    fn first(&self, n: usize) -> BTreeSet<String> {
        ids(&self.events[..n])
    }

    async fn checkpoint(&self, store: &Path) -> Option<Checkpoint> {
        checkpoint(store, &self.emu).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_keeps_failing_stops_the_run_at_the_last_complete_page_and_the_next_run_resumes()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = audit_events(15, "2026-03-02T08:00:00Z");
    let emu = GraphEmulator::start(events.clone(), vec![]).await;
    a_failing_page_stops_at_the_last_complete_page_and_the_next_run_resumes(
        &AuditEvents { emu, events },
        &dir.path().join("store"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_that_repeats_or_never_ends_stops_the_run_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let events = audit_events(15, "2026-03-02T08:00:00Z");
    let emu = GraphEmulator::start(events.clone(), vec![]).await;
    emu.set(|s| s.repeat_next_link = true);
    let out = run_pull(pull_intune(&emu, &store, &["--no-devices"])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("repeats an earlier link"), "{err}");
    // The two pages read before the loop showed are stored.
    assert_eq!(stored_once(&store).await, ids(&events[..10]));
    assert_eq!(served_to(&emu.served(), "auditEvents").len(), 2);

    emu.set(|s| {
        s.repeat_next_link = false;
        s.endless = true;
    });
    let out = run_pull(pull_intune(
        &emu,
        &store,
        &["--no-devices", "--max-pages", "4"],
    ))
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("after 4 pages (--max-pages)"), "{err}");
    assert_eq!(stored_once(&store).await, ids(&events));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_and_missing_permissions_are_named_and_not_retried_in_a_loop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu =
        GraphEmulator::start(audit_events(3, "2026-03-02T08:00:00Z"), managed_devices(2)).await;
    emu.set(|s| s.refuse_tokens = true);
    let out = run_pull(pull_intune(&emu, &store, &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("401") && err.contains("DeviceManagementApps.Read.All"),
        "{err}"
    );
    let served = emu.served();
    assert_eq!(served_to(&served, "token").len(), 2, "one renewal, no loop");
    assert_eq!(served_to(&served, "auditEvents").len(), 2);

    emu.set(|s| {
        s.refuse_tokens = false;
        s.forbidden.insert("managedDevices".into());
    });
    let out = run_pull(pull_intune(&emu, &store, &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("403") && err.contains("DeviceManagementManagedDevices.Read.All"),
        "{err}"
    );

    // A wrong client secret: the token endpoint's error, without the secret sent.
    let mut cmd = pull_intune(&emu, &store, &[]);
    cmd.env("MDM_AUDIT_INTUNE_CLIENT_SECRET", "wrong~secret~value");
    let out = run_pull(cmd).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("AADSTS7000215"), "{err}");
    assert!(!err.contains("wrong~secret~value"), "{err}");

    // Without the credentials in the environment: a usage error naming the variable.
    let mut cmd = pull_intune(&emu, &store, &[]);
    cmd.env_remove("MDM_AUDIT_INTUNE_CLIENT_SECRET");
    let out = run_pull(cmd).await;
    assert!(stderr(&out).contains("MDM_AUDIT_INTUNE_CLIENT_SECRET is not set"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_writes_the_vendor_records_as_graph_returns_them_and_snapshots_keep_their_interval()
{
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("checkpoints");
    let events = audit_events(7, "2026-03-02T08:00:00Z");
    let devices = managed_devices(3);
    let emu = GraphEmulator::start(events.clone(), devices.clone()).await;
    emu.set(|s| s.page_size = 2);
    let out = run_pull(pull_intune(&emu, &store, &["--stdout"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON record per line"))
        .collect();
    let expected: Vec<Value> = events.iter().chain(&devices).cloned().collect();
    assert_eq!(lines, expected);
    // Only checkpoints were stored.
    let (_, tables) = open_store(&store).await;
    assert!(!tables.contains(&"events".to_owned()), "{tables:?}");
    assert!(checkpoint(&store, &emu).await.expect("checkpoint").complete);

    // The next run re-reads the overlap window; the snapshot (hourly) is not due yet.
    let out = run_pull(pull_intune(&emu, &store, &["--stdout"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 7);
    assert_eq!(
        served_to(&emu.served(), "managedDevices").len(),
        2,
        "one snapshot of two pages"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_stored_as_snapshots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu =
        GraphEmulator::start(audit_events(2, "2026-03-02T08:00:00Z"), managed_devices(3)).await;
    let out = run_pull(pull_intune(&emu, &store, &[])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT device_name FROM events WHERE native_action = 'managedDevice' ORDER BY device_name",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "device_name"),
        ["DESKTOP-0000", "DESKTOP-0001", "DESKTOP-0002"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_pulls_lose_nothing_and_store_every_event_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let events = audit_events(200, "2026-03-02T08:00:00Z");
    let emu = GraphEmulator::start(events.clone(), vec![]).await;
    emu.set(|s| {
        s.page_size = 10;
        s.page_delay = Duration::from_millis(40);
    });
    // Kill after 1, 2, 3 and 4 pages of a run, a little later each time (mid-commit, mid-request).
    kill_four_runs(dir.path(), || pull_intune(&emu, &store, &["--no-devices"])).await;
    let partial = stored_once(&store).await;
    assert!(partial.len() < events.len(), "the kills came too late");
    let out = run_pull(pull_intune(&emu, &store, &["--no-devices"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored_once(&store).await, ids(&events));
    // The chains of every table, checkpoints included, verify.
    assert_verified_with_checkpoints(&store, dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_keeps_pulling_and_exposes_its_counters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = GraphEmulator::start(audit_events(4, "2026-03-02T08:00:00Z"), vec![]).await;
    emu.set(|s| s.faults = [Fault::Throttle(None)].into());
    let listen = free_addr();
    let log = dir.path().join("every.log");
    let cmd = pull_intune(
        &emu,
        &store,
        &["--no-devices", "--every", "1s", "--metrics-listen", &listen],
    );
    let metrics = metrics_after_two_runs(cmd, &listen, &log, "intune").await;
    let value = |name: &str| metrics.counter(name);
    // Two runs read the 4 events (one page each); the second found them stored.
    assert!(value("pages") >= 2, "{metrics}");
    assert_eq!(value("stored_events"), 4, "{metrics}");
    assert!(value("duplicate_events") >= 4, "{metrics}");
    assert_eq!(value("rate_limit_waits"), 1, "{metrics}");
    assert_eq!(value("failed_runs"), 0, "{metrics}");
    assert_eq!(
        stored_once(&store).await,
        ids(&audit_events(4, "2026-03-02T08:00:00Z"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_assignments_come_with_their_role_definition_and_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = GraphEmulator::start(vec![], vec![]).await;
    emu.set(|s| {
        s.role_definitions = role_definitions();
        s.role_assignments = role_assignments();
        s.page_size = 2;
    });
    // On stdout: each assignment as Graph returns it, its definition nested.
    let out = run_pull(pull_intune(
        &emu,
        &dir.path().join("state"),
        &["--no-devices", "--stdout"],
    ))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let defs = role_definitions();
    assert_eq!(lines.len(), 3);
    for (line, (assignment, def_id)) in lines.iter().zip(role_assignments()) {
        let mut bare = line.clone();
        let obj = bare.as_object_mut().expect("object");
        let def = obj.remove("roleDefinition").expect("roleDefinition");
        assert!(obj.remove("@mdmAudit.retrievedDateTime").is_some());
        assert_eq!(bare, assignment);
        assert_eq!(def["id"], def_id.as_str());
        assert!(defs.contains(&def));
    }

    // Into the store, through graph_role_assignment.vrl.
    let out = run_pull(pull_intune(&emu, &store, &["--no-devices"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT message FROM events WHERE native_action = 'roleAssignment' AND category = 'role' \
         AND action = 'inventory' AND target_type = 'role_assignment' ORDER BY target_name",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "message"),
        [
            "Role assignment snapshot of Help Desk EMEA (b1f0a1c2-0000-4000-8000-000000000001): role Help Desk Operator for 1 member group(s) over 1 scope group(s).",
            "Role assignment snapshot of Help Desk US (b1f0a1c2-0000-4000-8000-000000000002): role Help Desk Operator for 1 member group(s) over all scopes.",
            "Role assignment snapshot of Night Wipe Crew (b1f0a1c2-0000-4000-8000-000000000003): role Wipe Operators for 2 member group(s) over 1 scope group(s).",
        ]
    );
    // The same state read again the same day is not stored twice.
    let out = run_pull(pull_intune(
        &emu,
        &store,
        &["--no-devices", "--roles-every", "0s"],
    ))
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let summary = summary(&err);
    assert_eq!(count_after(&summary, "stored"), 0, "{summary}");
    assert_eq!(count_after(&summary, "duplicates skipped"), 3, "{summary}");
    assert_eq!(stored_once(&store).await.len(), 3);
}
