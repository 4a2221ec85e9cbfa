//! `mdm-audit pull jamf` against the Jamf Pro emulator (tests/src/jamf_api.rs): both ways to get a
//! token (API client, user account), `page` / `page-size` paging, throttling with and without
//! Retry-After, 5xx, a token that expires mid-run (renewed once on a 401, and before it expires),
//! paging that repeats or does not end, a page that keeps failing (checkpoint at the last complete
//! page, the next run resumes), missing privileges named, inventory snapshots normalized, stdout for
//! Vector, and SIGKILLs that lose and duplicate nothing. History streams: pull_jamf_history.rs.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use mdm_audit_tests::count_after;
use mdm_audit_tests::emulator::{Fault, Served, served_to};
use mdm_audit_tests::jamf_api::{JamfEmulator, computers, mdm_commands, mobile_devices, pull_jamf};
use mdm_audit_tests::pull::{
    assert_verified_with_checkpoints, kill_four_runs, run_pull, stderr, stored_once, summary,
};
use mdm_audit_tests::pull_scenario::{
    self, StreamUnderTest, a_failing_page_stops_at_the_last_complete_page_and_the_next_run_resumes,
};
use mdm_audit_tests::query::{open_store, present_texts, sql};
use mdm_audit_transform::pull::Checkpoint;
use serde_json::Value;

const ONLY_COMMANDS: &[&str] = &["--no-devices", "--no-history"];

async fn checkpoint(store: &Path, emulator: &JamfEmulator, stream: &str) -> Option<Checkpoint> {
    pull_scenario::checkpoint(store, "jamf", &emulator.url(), stream).await
}

/// The event_uid of each command as `api_mdm_command.vrl` derives it is not known here; the store
/// is checked by the commands' uuids in `raw` instead.
async fn stored_uuids(store: &Path) -> BTreeSet<String> {
    stored_once(store).await;
    let (ctx, _) = open_store(store).await;
    let rows = sql(
        &ctx,
        "SELECT raw FROM events WHERE native_action = 'DEVICE_LOCK' OR native_action = 'ERASE_DEVICE'",
    )
    .await;
    present_texts(&rows, "raw")
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_str(r).expect("raw is the record");
            v["uuid"].as_str().expect("uuid").to_owned()
        })
        .collect()
}

fn uuids(commands: &[Value]) -> BTreeSet<String> {
    commands
        .iter()
        .map(|c| c["uuid"].as_str().expect("uuid").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_client_paging_throttling_server_errors_and_an_expired_token_store_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let commands = mdm_commands(12, "2026-03-02T08:00:00Z");
    let emu = JamfEmulator::start(commands.clone()).await;
    emu.set(|s| {
        s.faults = [
            Fault::Throttle(Some(1)),
            Fault::Throttle(None),
            Fault::Server(503),
            Fault::ExpireToken,
        ]
        .into()
    });
    let out = run_pull(pull_jamf(&emu, &store, ONLY_COMMANDS)).await;
    let err = stderr(&out);
    assert!(out.status.success(), "pull failed:\n{err}");
    assert_eq!(stored_uuids(&store).await, uuids(&commands));

    let served = emu.served();
    let pages = served_to(&served, "mdmCommands");
    let statuses: Vec<u16> = pages.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [429, 429, 503, 401, 200, 200, 200]);
    // The API client's token, renewed once after the 401; no user-account token.
    assert_eq!(served_to(&served, "oauth").len(), 2);
    assert!(served_to(&served, "auth").is_empty());
    // Retry-After: 1 is honoured; without it the backoff starts at --retry-delay (20 ms).
    let after_retry_after = pages[1].at - pages[0].at;
    assert!(
        after_retry_after >= Duration::from_millis(990),
        "{after_retry_after:?}"
    );
    let backoff = pages[2].at - pages[1].at;
    assert!(backoff < Duration::from_millis(900), "{backoff:?}");
    // The query as Jamf documents it: page from 0, page-size, sort, RSQL filter.
    let q = |i: usize, k: &str| pages[i].query.get(k).cloned().unwrap_or_default();
    assert_eq!(q(0, "filter"), "dateSent>=\"2026-03-01T00:00:00.000Z\"");
    assert_eq!(q(0, "sort"), "dateSent:asc");
    assert_eq!(q(0, "page-size"), "5");
    let ok_pages: Vec<String> = pages[4..].iter().map(|p| p.query["page"].clone()).collect();
    assert_eq!(ok_pages, ["0", "1", "2"]);
    assert!(
        err.contains("rate-limited") && err.contains("waiting 1.0 s"),
        "{err}"
    );
    // Neither the client secret nor a token reaches the output.
    let all = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        !all.contains(&emu.credentials(true)[1].1) && !all.contains("jamf-emulated-"),
        "{all}"
    );

    // Through api_mdm_command.vrl: the two ERASE_DEVICE commands are wipes of mobile devices.
    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT action, outcome, category, tenant, device_id FROM events \
         WHERE native_action = 'ERASE_DEVICE' ORDER BY device_id",
    )
    .await;
    assert_eq!(present_texts(&rows, "action"), ["wipe", "wipe"]);
    assert_eq!(present_texts(&rows, "outcome"), ["success", "success"]);
    assert_eq!(present_texts(&rows, "category"), ["command", "command"]);
    let host = emu.addr.to_string();
    assert_eq!(
        present_texts(&rows, "tenant"),
        [host.as_str(), host.as_str()]
    );
    assert_eq!(
        present_texts(&rows, "device_id"),
        [
            "9a4e2c61-0000-4000-8000-000000000003",
            "9a4e2c61-0000-4000-8000-000000000010"
        ]
    );
    let cp = checkpoint(&store, &emu, "mdmCommands")
        .await
        .expect("a checkpoint");
    assert!(cp.complete);
    assert_eq!(cp.pages, 3);
    assert_eq!(
        cp.watermark.map(|w| w.to_rfc3339()),
        Some("2026-03-02T08:11:07+00:00".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_account_token_is_renewed_before_it_expires() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let commands = mdm_commands(15, "2026-03-02T08:00:00Z");
    let emu = JamfEmulator::start(commands.clone()).await;
    // Tokens live 2 s; three pages take about 2.1 s, so the token is due for renewal mid-run.
    emu.set(|s| {
        s.token_lifetime = 2;
        s.page_delay = Duration::from_millis(700);
    });
    let mut cmd = pull_jamf(&emu, &store, ONLY_COMMANDS);
    cmd.env_remove("MDM_AUDIT_JAMF_CLIENT_ID")
        .env_remove("MDM_AUDIT_JAMF_CLIENT_SECRET");
    for (k, v) in emu.credentials(false) {
        cmd.env(k, v);
    }
    let out = run_pull(cmd).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(stored_uuids(&store).await, uuids(&commands));
    let served = emu.served();
    assert!(served_to(&served, "oauth").is_empty());
    let tokens = served_to(&served, "auth");
    assert_eq!(tokens.len(), 2, "renewed once, before expiry");
    assert!(tokens.iter().all(|t| t.status == 200));
    // Renewed before it expired: no request was refused.
    assert!(served.iter().all(|s| s.status == 200), "{served:?}");
    assert!(!err.contains(&emu.credentials(false)[1].1), "{err}");
}

/// Jamf Pro's MDM commands as a [`StreamUnderTest`]: `page` / `page-size`, an RSQL `filter` on
/// dateSent.
struct MdmCommands {
    emu: JamfEmulator,
    commands: Vec<Value>,
}

impl StreamUnderTest for MdmCommands {
    const ENDPOINT: &'static str = "mdmCommands";

    fn pull(&self, store: &Path, extra: &[&str]) -> std::process::Command {
        let mut args = ONLY_COMMANDS.to_vec();
        args.extend(extra);
        pull_jamf(&self.emu, store, &args)
    }

    fn fail_third_page(&self, fail: bool) {
        self.emu.set(|s| {
            if fail {
                s.failing_pages.insert(2);
            } else {
                s.failing_pages.clear();
            }
        });
    }

    fn is_third_page(&self, request: &Served) -> bool {
        request.query.get("page").map(String::as_str) == Some("2")
    }

    fn assert_resumes_from_the_overlap(&self, first: &Served) {
        assert_eq!(
            first.query.get("filter").map(String::as_str),
            Some("dateSent>=\"2026-03-02T07:54:07.000Z\"")
        );
        assert_eq!(first.query.get("page").map(String::as_str), Some("0"));
    }

    fn served(&self) -> Vec<Served> {
        self.emu.served()
    }

    async fn stored(&self, store: &Path) -> BTreeSet<String> {
        stored_uuids(store).await
    }

    fn first(&self, n: usize) -> BTreeSet<String> {
        uuids(&self.commands[..n])
    }

    async fn checkpoint(&self, store: &Path) -> Option<Checkpoint> {
        checkpoint(store, &self.emu, Self::ENDPOINT).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_keeps_failing_stops_the_run_at_the_last_complete_page_and_the_next_run_resumes()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let commands = mdm_commands(15, "2026-03-02T08:00:00Z");
    let emu = JamfEmulator::start(commands.clone()).await;
    a_failing_page_stops_at_the_last_complete_page_and_the_next_run_resumes(
        &MdmCommands { emu, commands },
        &dir.path().join("store"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_page_or_paging_past_max_pages_stops_the_run_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let commands = mdm_commands(15, "2026-03-02T08:00:00Z");
    let emu = JamfEmulator::start(commands.clone()).await;
    emu.set(|s| s.ignore_page = true);
    let out = run_pull(pull_jamf(&emu, &store, ONLY_COMMANDS)).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("page 1 repeats page 0"), "{err}");
    assert_eq!(stored_uuids(&store).await, uuids(&commands[..5]));
    assert_eq!(served_to(&emu.served(), "mdmCommands").len(), 2);

    emu.set(|s| s.ignore_page = false);
    let mut extra = ONLY_COMMANDS.to_vec();
    extra.extend(["--max-pages", "2"]);
    let out = run_pull(pull_jamf(&emu, &store, &extra)).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("still more after 2 pages (--max-pages"),
        "{err}"
    );
    assert_eq!(stored_uuids(&store).await, uuids(&commands[..10]));

    let out = run_pull(pull_jamf(&emu, &store, ONLY_COMMANDS)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored_uuids(&store).await, uuids(&commands));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_and_missing_privileges_are_named_and_secrets_come_from_env_or_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = JamfEmulator::start(mdm_commands(3, "2026-03-02T08:00:00Z")).await;
    emu.set(|s| {
        s.computers = computers(2);
        s.refuse_tokens = true;
    });
    let out = run_pull(pull_jamf(&emu, &store, &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("401") && err.contains("View MDM command information in Jamf Pro API"),
        "{err}"
    );
    assert!(err.contains("API roles and clients"), "{err}");
    let served = emu.served();
    assert_eq!(served_to(&served, "oauth").len(), 2, "one renewal, no loop");
    assert_eq!(served_to(&served, "mdmCommands").len(), 2);

    emu.set(|s| {
        s.refuse_tokens = false;
        s.forbidden.insert("computersInventory".into());
    });
    let out = run_pull(pull_jamf(&emu, &store, &["--no-history"])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("403") && err.contains("Read Computers"),
        "{err}"
    );

    // A wrong client secret: the token endpoint's error, without the secret sent.
    let mut cmd = pull_jamf(&emu, &store, ONLY_COMMANDS);
    cmd.env("MDM_AUDIT_JAMF_CLIENT_SECRET", "wrong~jamf~secret");
    let out = run_pull(cmd).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("wrong~jamf~secret"), "{err}");

    // The secret from a file named by ..._FILE.
    let secret_file = dir.path().join("jamf-secret");
    std::fs::write(&secret_file, format!("{}\n", emu.credentials(true)[1].1)).expect("write");
    let mut cmd = pull_jamf(&emu, &store, ONLY_COMMANDS);
    cmd.env_remove("MDM_AUDIT_JAMF_CLIENT_SECRET")
        .env("MDM_AUDIT_JAMF_CLIENT_SECRET_FILE", &secret_file);
    let out = run_pull(cmd).await;
    assert!(out.status.success(), "{}", stderr(&out));

    // Without credentials: a usage error naming the variables.
    let mut cmd = pull_jamf(&emu, &store, ONLY_COMMANDS);
    cmd.env_remove("MDM_AUDIT_JAMF_CLIENT_SECRET");
    let out = run_pull(cmd).await;
    assert!(
        stderr(&out).contains(
            "MDM_AUDIT_JAMF_CLIENT_SECRET is not set, nor MDM_AUDIT_JAMF_CLIENT_SECRET_FILE"
        ),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_snapshots_are_stored_normalized_and_keep_their_interval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = JamfEmulator::start(vec![]).await;
    emu.set(|s| {
        s.computers = computers(7);
        s.mobile_devices = mobile_devices(2);
    });
    let out = run_pull(pull_jamf(&emu, &store, &["--no-history"])).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(stored_once(&store).await.len(), 9);
    // Seven computers in two pages, the second short.
    let pages = served_to(&emu.served(), "computersInventory");
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[0].query.get("sort").map(String::as_str),
        Some("id:asc")
    );

    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT message, device_platform, device_serial FROM events \
         WHERE native_action = 'ComputerInventory' AND device_id = '101'",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "message"),
        [
            "Computer inventory snapshot of MBP-0001 (101): FileVault UNENCRYPTED, MDM capable true, last check-in 2026-03-02T07:11:41.456Z."
        ]
    );
    assert_eq!(present_texts(&rows, "device_platform"), ["macos"]);
    assert_eq!(present_texts(&rows, "device_serial"), ["C02XK0000001"]);
    let rows = sql(
        &ctx,
        "SELECT device_name, device_platform, category, action FROM events \
         WHERE native_action = 'MobileDeviceInventory' ORDER BY device_name",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "device_name"),
        ["WARD3-CART-00", "WARD3-CART-01"]
    );
    assert_eq!(
        present_texts(&rows, "device_platform"),
        ["ipados", "ipados"]
    );
    assert_eq!(present_texts(&rows, "action"), ["inventory", "inventory"]);

    // The next run: the snapshots (hourly) are not due; with --devices-every 0s they are, and the
    // unchanged devices are not stored again.
    let before = emu.served().len();
    let out = run_pull(pull_jamf(&emu, &store, &["--no-history"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(served_to(&emu.served()[before..], "computersInventory").is_empty());
    let out = run_pull(pull_jamf(
        &emu,
        &store,
        &["--no-history", "--devices-every", "0s"],
    ))
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let summary = summary(&err);
    assert_eq!(count_after(&summary, "stored"), 0, "{summary}");
    assert_eq!(count_after(&summary, "duplicates skipped"), 9, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_writes_the_records_as_jamf_returns_them_with_their_annotations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let commands = mdm_commands(7, "2026-03-02T08:00:00Z");
    let devices = computers(2);
    let emu = JamfEmulator::start(commands.clone()).await;
    emu.set(|s| s.computers = devices.clone());
    let out = run_pull(pull_jamf(&emu, &state, &["--stdout", "--no-history"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON record per line"))
        .collect();
    assert_eq!(lines.len(), 9);
    let mut bare = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut v = line.clone();
        let obj = v.as_object_mut().expect("object");
        let stream = obj.remove("@mdmAudit.jamfStream").expect("stream");
        assert_eq!(
            stream,
            if i < 7 {
                "mdmCommands"
            } else {
                "computersInventory"
            }
        );
        assert_eq!(
            obj.remove("@mdmAudit.jamfServer").expect("server"),
            emu.addr.to_string().as_str()
        );
        assert_eq!(obj.remove("@mdmAudit.retrievedDateTime").is_some(), i >= 7);
        bare.push(v);
    }
    let expected: Vec<Value> = commands.iter().chain(&devices).cloned().collect();
    assert_eq!(bare, expected);
    let (_, tables) = open_store(&state).await;
    assert!(!tables.contains(&"events".to_owned()), "{tables:?}");
    assert!(
        checkpoint(&state, &emu, "mdmCommands")
            .await
            .expect("checkpoint")
            .complete
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_pulls_lose_nothing_and_store_every_command_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let commands = mdm_commands(100, "2026-03-02T08:00:00Z");
    let emu = JamfEmulator::start(commands.clone()).await;
    emu.set(|s| s.page_delay = Duration::from_millis(40));
    // Kill after 1, 2, 3 and 4 pages of a run, a little later each time (mid-commit, mid-request).
    kill_four_runs(dir.path(), || pull_jamf(&emu, &store, ONLY_COMMANDS)).await;
    let partial = stored_uuids(&store).await;
    assert!(partial.len() < commands.len(), "the kills came too late");
    let out = run_pull(pull_jamf(&emu, &store, ONLY_COMMANDS)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored_uuids(&store).await, uuids(&commands));
    assert_verified_with_checkpoints(&store, dir.path());
}
