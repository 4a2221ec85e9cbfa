//! The store on S3-compatible object storage (issue 17): moto's S3 server on 127.0.0.1
//! (`tests/s3/moto_server.py`), configured through the usual AWS environment variables. Every
//! command reads and writes `s3://bucket/prefix`; two `serve` nodes commit to one table at once
//! (Delta's optimistic commits over S3's conditional put); an event both nodes took counts once;
//! killing one node leaves the other going; an independent Delta reader (Python `deltalake`) finds
//! the same rows and chain heads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use grafana_plugin_sdk::pluginv2;
use mdm_audit_tests::plugin;
use mdm_audit_tests::s3::S3Server;
use mdm_audit_tests::{ServeProcess, normalized_estate, workspace_root};
use serde_json::Value;

const STORE: &str = "s3://audit/trail";
/// A range holding every generated event.
const FROM: &str = "2020-01-01";
/// See [`FROM`].
const TO: &str = "2030-01-01";

/// `command --store STORE --from FROM --to TO extra...`: a reading command over the whole estate.
fn over_all<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command, "--store", STORE, "--from", FROM, "--to", TO];
    args.extend(extra);
    args
}

fn lines() -> Vec<String> {
    std::fs::read_to_string(normalized_estate(11, 600, 2))
        .expect("events")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn uid(line: &str) -> String {
    let v: Value = serde_json::from_str(line).expect("event json");
    v["event_uid"].as_str().expect("event_uid").to_owned()
}

/// `verify --json` of the store, asserting it is intact; the events table's report.
fn verify_events(s3: &S3Server, dir: &Path) -> Value {
    let out = s3.run_ok(&["verify", "--store", STORE, "--json"], dir);
    let report: Value = serde_json::from_str(&out).expect("verify json");
    let events = report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == "events")
        .expect("events table")
        .clone();
    assert_eq!(events["problems"], serde_json::json!([]), "{out}");
    events
}

/// One value of `query --sql ... --format json` (one row, one column).
fn query_number(s3: &S3Server, dir: &Path, sql: &str) -> u64 {
    let out = s3.run_ok(&over_all("query", &["--sql", sql, "--format", "json"]), dir);
    let rows: Value = serde_json::from_str(&out).expect("query json");
    rows[0]
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{sql}: {out}"))
}

#[test]
fn every_command_reads_and_writes_a_store_on_s3_from_the_aws_environment() {
    let Some(s3) = S3Server::start(&["audit"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let input = normalized_estate(11, 600, 2);
    let distinct: BTreeSet<String> = lines().iter().map(|l| uid(l)).collect();

    let ingest = s3.run_cli(
        &[
            "ingest",
            "--store",
            STORE,
            "--writer-id",
            "node-a",
            input.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&ingest.stderr);
    assert!(ingest.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("stored {}", distinct.len())),
        "every distinct event is stored on S3: {stderr}"
    );
    // Nothing was written locally: the store is the bucket.
    assert!(!dir.path().join("trail").exists() && !dir.path().join("data").exists());

    let events = verify_events(&s3, dir.path());
    assert_eq!(events["rows"], distinct.len() as u64, "{events}");
    assert_eq!(events["chains"][0]["chain_id"], "node-a", "{events}");
    assert_eq!(events["copies"], serde_json::json!([]), "{events}");

    assert_eq!(
        query_number(&s3, dir.path(), "SELECT count(*) FROM events"),
        distinct.len() as u64
    );
    let narrative = s3.run_ok(&over_all("narrate", &["--no-record"]), dir.path());
    assert!(
        narrative.contains(&format!("{} events", distinct.len())) || narrative.contains("[ev"),
        "a narrative over the S3 store cites its events:\n{narrative}"
    );

    // Without the endpoint the same command goes to AWS's own host and fails with a clear
    // message, not a hang on the instance-metadata address.
    let out = Command::new(mdm_audit_tests::cli_binary())
        .args(["verify", "--store", STORE])
        .envs(
            s3.env()
                .into_iter()
                .filter(|(k, _)| *k != "AWS_ENDPOINT_URL"),
        )
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .current_dir(dir.path())
        .output()
        .expect("run verify");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("127.0.0.1:9") || stderr.to_lowercase().contains("connect"),
        "the error names the endpoint it could not reach: {stderr}"
    );
}

/// Posts `lines` to `/v1/events` of `node` in chunks; returns the event_uids of acknowledged
/// chunks.
async fn feed(node: String, chunks: Vec<Vec<String>>) -> BTreeSet<String> {
    let client = mdm_audit_tests::serve::http_client();
    let mut acked = BTreeSet::new();
    for chunk in chunks {
        let body = chunk.join("\n") + "\n";
        let resp = client
            .post(&node)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await;
        if let Ok(r) = resp
            && r.status().is_success()
        {
            acked.extend(chunk.iter().map(|l| uid(l)));
        }
    }
    acked
}

/// Two nodes take the estate's events: some on both, then node A is killed with a request in
/// flight while node B goes on, and A restarts. Returns the event_uids each node acknowledged.
async fn take_load(s3: &S3Server, dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (dir_a, dir_b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&dir_a).expect("dir a");
    std::fs::create_dir_all(&dir_b).expect("dir b");
    let node = |d: &Path, id: &str| {
        ServeProcess::start_with_env(
            d,
            STORE,
            &["--writer-id", id, "--commit-window-ms", "50"],
            &s3.env(),
        )
    };
    // Both start at once on the new store: both try to create its tables, one creates each.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| node(&dir_a, "node-a"));
        let b = s.spawn(|| node(&dir_b, "node-b"));
        (a.join().expect("node a"), b.join().expect("node b"))
    });
    let all = lines();

    // Both nodes first see one event of every day (each loads its dedupe keys of every day), so a
    // later event that reaches both is stored by both: a cross-writer copy.
    let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &all {
        let v: Value = serde_json::from_str(l).expect("json");
        let day = v["time"].as_str().expect("time")[..10].to_owned();
        by_day.entry(day).or_default().push(l.clone());
    }
    let warm_a: Vec<Vec<String>> = by_day.values().map(|d| vec![d[0].clone()]).collect();
    let warm_b: Vec<Vec<String>> = by_day.values().map(|d| vec![d[1].clone()]).collect();
    let (mut acked_a, mut acked_b) = tokio::join!(
        feed(a.url("/v1/events"), warm_a),
        feed(b.url("/v1/events"), warm_b)
    );

    // Then both take load at once; every fourth chunk goes to both nodes.
    let cut = all.len() * 2 / 3;
    let chunks: Vec<Vec<String>> = all[..cut].chunks(40).map(<[String]>::to_vec).collect();
    let (mut to_a, mut to_b) = (Vec::new(), Vec::new());
    for (i, c) in chunks.iter().enumerate() {
        if i % 2 == 0 { &mut to_a } else { &mut to_b }.push(c.clone());
        if i % 4 == 1 {
            to_a.push(c.clone());
        }
    }
    let (got_a, got_b) = tokio::join!(
        feed(a.url("/v1/events"), to_a),
        feed(b.url("/v1/events"), to_b)
    );
    acked_a.extend(got_a);
    acked_b.extend(got_b);

    // Node A dies while taking a request; node B keeps committing meanwhile.
    let rest: Vec<Vec<String>> = all[cut..].chunks(40).map(<[String]>::to_vec).collect();
    let (dying, for_b) = rest.split_at(rest.len() / 2);
    let in_flight = tokio::spawn(feed(a.url("/v1/events"), dying.to_vec()));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    a.kill();
    acked_a.extend(in_flight.await.expect("task"));
    acked_b.extend(feed(b.url("/v1/events"), for_b.to_vec()).await);
    // Restarted with its id, node A continues its own chain.
    let a = node(&dir_a, "node-a");
    acked_a.extend(feed(a.url("/v1/events"), dying.to_vec()).await);
    assert!(a.terminate().success());
    assert!(b.terminate().success());

    (acked_a, acked_b)
}

#[test]
fn two_serve_nodes_share_one_s3_table_a_copy_on_both_counts_once_and_one_dying_stops_nothing() {
    let Some(s3) = S3Server::start(&["audit"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (acked_a, acked_b) = rt.block_on(take_load(&s3, dir.path()));
    let both: BTreeSet<&String> = acked_a.intersection(&acked_b).collect();
    let union: BTreeSet<&String> = acked_a.union(&acked_b).collect();
    assert!(!both.is_empty(), "the test sent some events to both nodes");

    let events = verify_events(&s3, dir.path());
    let chains: BTreeMap<String, u64> = events["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .map(|c| {
            (
                c["chain_id"].as_str().expect("id").to_owned(),
                c["rows"].as_u64().expect("rows"),
            )
        })
        .collect();
    assert_eq!(
        chains,
        BTreeMap::from([
            ("node-a".to_owned(), acked_a.len() as u64),
            ("node-b".to_owned(), acked_b.len() as u64)
        ]),
        "every acknowledged event is stored once per node that took it: {events}"
    );
    let copies: BTreeSet<String> = events["copies"]
        .as_array()
        .expect("copies")
        .iter()
        .map(|c| c["key"].as_str().expect("key").to_owned())
        .collect();
    assert_eq!(
        copies,
        both.iter().map(|s| (*s).clone()).collect(),
        "verify lists exactly the events both nodes stored, as copies"
    );

    // Every query counts each event once.
    let sql = "SELECT count(*) FROM events";
    assert_eq!(query_number(&s3, dir.path(), sql), union.len() as u64);
    let sql = "SELECT count(DISTINCT event_uid) FROM events";
    assert_eq!(query_number(&s3, dir.path(), sql), union.len() as u64);
    let out = s3.run_ok(
        &over_all("query", &["--limit", "10000", "--format", "ndjson"]),
        dir.path(),
    );
    assert_eq!(
        out.lines().count(),
        union.len(),
        "the timeline shows each event once"
    );

    // The evidence pack's narrative counts each event once too.
    let pack = s3.run_ok(&over_all("report", &[]), dir.path());
    assert!(
        pack.contains(&format!("the trail holds {} events", union.len())),
        "{}",
        &pack[..pack.len().min(600)]
    );

    // The Grafana plugin over the same bucket (its settings from the datasource, as provisioned
    // in deploy/scale-out/) counts each event once.
    let mut ctx = plugin::context(STORE);
    if let Some(ds) = ctx.data_source_instance_settings.as_mut() {
        ds.json_data = serde_json::to_vec(&serde_json::json!({
            "storeUri": STORE,
            "narrativeMode": "template",
            "storageOptions": {
                "aws_endpoint": s3.endpoint, "aws_region": "us-east-1", "aws_allow_http": "true"
            }
        }))
        .expect("json");
        ds.decrypted_secure_json_data.extend([
            ("storageAccessKey".to_owned(), "mdm-audit-test".to_owned()),
            (
                "storageSecretKey".to_owned(),
                "mdm-audit-test-secret".to_owned(),
            ),
        ]);
    }
    let expected = format!("{} events", union.len());
    plugin::run_plugin(|endpoint| async move {
        let h = pluginv2::diagnostics_client::DiagnosticsClient::connect(endpoint)
            .await
            .expect("connect")
            .check_health(pluginv2::CheckHealthRequest {
                plugin_context: Some(ctx),
                ..Default::default()
            })
            .await
            .expect("health")
            .into_inner();
        assert!(h.message.contains(&expected), "{}", h.message);
    });

    // An independent reader finds the same rows and chain heads.
    let Ok(python) = std::env::var("MDM_TEST_PYTHON") else {
        return;
    };
    let out = Command::new(python)
        .arg(workspace_root().join("tests/s3/read_delta.py"))
        .arg(format!("{STORE}/events"))
        .arg("event_uid")
        .envs(s3.env())
        .output()
        .expect("run read_delta.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).expect("reader json");
    for c in events["chains"].as_array().expect("chains") {
        let id = c["chain_id"].as_str().expect("id");
        assert_eq!(theirs["chains"][id]["rows"], c["rows"], "{id}");
        assert_eq!(theirs["chains"][id]["head"], c["head"], "{id}'s head");
    }
    let ours = s3.run_ok(
        &over_all(
            "query",
            &[
                "--limit",
                "10000",
                "--sql",
                "SELECT event_uid, chain_id, chain_seq, hash FROM events",
                "--format",
                "ndjson",
            ],
        ),
        dir.path(),
    );
    let mut ours: BTreeSet<String> = ours
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("row");
            format!(
                "{} {} {} {}",
                v["event_uid"], v["chain_id"], v["chain_seq"], v["hash"]
            )
        })
        .collect();
    for c in events["copies"].as_array().expect("copies") {
        for h in c["hidden"].as_array().expect("hidden") {
            ours.insert(format!("{} {} {} hidden", c["key"], h[0], h[1]));
        }
    }
    let theirs_rows: BTreeSet<String> = theirs["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| format!("{} {} {} {}", r[0], r[1], r[2], r[3]))
        .collect();
    let ours_shown: BTreeSet<&String> = ours.iter().filter(|r| !r.ends_with(" hidden")).collect();
    assert!(
        ours_shown.iter().all(|r| theirs_rows.contains(*r)),
        "every row we show, with its hash, is what the Delta reader reads"
    );
    assert_eq!(
        theirs_rows.len(),
        ours.len(),
        "the Delta reader reads our rows plus the hidden copies, nothing else"
    );
}
