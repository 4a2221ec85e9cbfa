//! `mdm-audit pull jamf`'s history streams against the Jamf Pro emulator (tests/src/jamf_api.rs):
//! object history through the Jamf Pro API (per object, `{id}/history`), and computer and mobile
//! device management history through the Classic API (`computerhistory`, `mobiledevicehistory`),
//! normalized by `api_object_history.vrl` and `api_device_history.vrl`, each stored once.

use mdm_audit_tests::count_after;
use mdm_audit_tests::emulator::served_to;
use mdm_audit_tests::jamf_api::{
    JamfEmulator, computer_history, history_entries, mobile_device_history, pull_jamf, scripts,
};
use mdm_audit_tests::pull::{run_pull, stderr, stored_once, summary};
use mdm_audit_tests::query::{open_store, present_texts, sql};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_history_is_read_per_object_and_normalized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = JamfEmulator::start(vec![]).await;
    let list = scripts(2);
    emu.set(|s| {
        s.scripts = vec![
            (
                list[0].clone(),
                history_entries(0, 3, "2026-03-02T09:00:00Z"),
            ),
            (
                list[1].clone(),
                history_entries(1, 2, "2026-03-03T09:00:00Z"),
            ),
        ];
    });
    let out = run_pull(pull_jamf(&emu, &store, &["--no-devices"])).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(stored_once(&store).await.len(), 5);
    let histories = served_to(&emu.served(), "scriptHistory");
    assert_eq!(histories.len(), 2, "one request per script");
    assert_eq!(
        histories[0].query.get("filter").map(String::as_str),
        Some("date>=\"2026-03-01T00:00:00.000Z\"")
    );
    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT message, action, actor_name, target_type, category FROM events \
         WHERE native_action = 'Script history' AND target_id = '10' ORDER BY time",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "message"),
        [
            "jssadmin created Script 'Rotate local admin 0' (ID 10) in Jamf Pro: Created.",
            "jssadmin updated Script 'Rotate local admin 0' (ID 10) in Jamf Pro: Updated.",
            "jssadmin updated Script 'Rotate local admin 0' (ID 10) in Jamf Pro: Updated.",
        ]
    );
    assert_eq!(
        present_texts(&rows, "action"),
        ["create", "update", "update"]
    );
    assert_eq!(present_texts(&rows, "target_type"), ["script"; 3]);
    assert_eq!(present_texts(&rows, "category"), ["script"; 3]);

    // Read again at once (--history-every 0s): the window starts at the last read minus the
    // overlap, so nothing old comes back and nothing is stored twice.
    let out = run_pull(pull_jamf(
        &emu,
        &store,
        &["--no-devices", "--history-every", "0s"],
    ))
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let summary = summary(&err);
    assert_eq!(count_after(&summary, "stored"), 0, "{summary}");
    assert_eq!(stored_once(&store).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_management_history_comes_from_the_classic_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let emu = JamfEmulator::start(vec![]).await;
    emu.set(|s| {
        s.computer_histories = vec![
            computer_history(117, "MBP-FIN-0042", "2026-03-02T08:00:00Z"),
            computer_history(118, "MBP-FIN-0043", "2026-03-02T09:00:00Z"),
        ];
        s.mobile_histories = vec![mobile_device_history(
            1187,
            "WARD3-CART-07",
            "2026-03-03T10:00:00Z",
        )];
        // The old entries of the first computer are before --since: skipped.
        s.computer_histories[0]["computer_history"]["audits"][0]["date_time_epoch"] =
            serde_json::json!(1_700_000_000_000_i64);
    });
    let out = run_pull(pull_jamf(&emu, &store, &["--no-devices"])).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // 2 computers x 4 entries - 1 before --since, 1 mobile device x 3 entries.
    assert_eq!(stored_once(&store).await.len(), 10);
    let served = emu.served();
    assert_eq!(served_to(&served, "classicComputers").len(), 1);
    assert_eq!(served_to(&served, "computerHistory").len(), 2);
    assert_eq!(served_to(&served, "mobileDeviceHistory").len(), 1);

    let (ctx, _) = open_store(&store).await;
    let rows = sql(
        &ctx,
        "SELECT message, action, outcome, actor_name FROM events \
         WHERE feed = 'api' AND device_id = '118' AND category = 'command' ORDER BY time",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "message"),
        [
            "jssadmin: Remote Desktop session started on the computer 'MBP-FIN-0043' (ID 118) (management history).",
            "jssadmin sent the MDM command DeviceLock to the computer 'MBP-FIN-0043' (ID 118); it completed.",
            "jssadmin sent the MDM command EraseDevice to the computer 'MBP-FIN-0043' (ID 118); it failed.",
        ]
    );
    assert_eq!(present_texts(&rows, "action"), ["other", "lock", "wipe"]);
    assert_eq!(
        present_texts(&rows, "outcome"),
        ["success", "success", "failure"]
    );
    let rows = sql(
        &ctx,
        "SELECT action, outcome FROM events WHERE device_id = '1187' ORDER BY time",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "action"),
        ["clear_passcode", "clear_passcode", "enable_lost_mode"]
    );
    assert_eq!(
        present_texts(&rows, "outcome"),
        ["success", "success", "unknown"]
    );
    let rows = sql(
        &ctx,
        "SELECT target_name, device_user FROM events WHERE native_action = 'PolicyLog' ORDER BY device_id",
    )
    .await;
    assert_eq!(
        present_texts(&rows, "target_name"),
        ["Rotate local admin", "Rotate local admin"]
    );

    // Read again at once: the window starts at the last read minus the overlap; nothing is stored twice.
    let out = run_pull(pull_jamf(
        &emu,
        &store,
        &["--no-devices", "--history-every", "0s"],
    ))
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let summary = summary(&err);
    assert_eq!(count_after(&summary, "stored"), 0, "{summary}");
    assert_eq!(served_to(&emu.served(), "computerHistory").len(), 4);
    assert_eq!(stored_once(&store).await.len(), 10);
}
