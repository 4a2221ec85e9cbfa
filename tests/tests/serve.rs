//! `mdm-audit serve` end to end: the real binary on 127.0.0.1 port 0, real HTTP, the real store read
//! back with DataFusion. Events come from a generated estate normalized by `mdm-audit normalize`; the
//! expected counts come from that input (distinct `event_uid`s), not from the service's answers.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use mdm_audit_tests::query::{event_uid_counts, open_store, present_texts, sql};
use mdm_audit_tests::{ServeProcess, mappings_dir, normalized_estate, read_record, run_cli};
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

fn lines() -> Vec<String> {
    let path = normalized_estate(11, 600, 2);
    std::fs::read_to_string(path)
        .expect("events")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Lines as an NDJSON body.
fn ndjson(lines: &[String]) -> Vec<u8> {
    (lines.join("\n") + "\n").into_bytes()
}

/// `mdm-audit serve --store data --writer-id writer --commit-window-ms window_ms` in `dir`.
fn serve(dir: &Path, writer: &str, window_ms: &str) -> ServeProcess {
    ServeProcess::start(
        dir,
        "data",
        &["--writer-id", writer, "--commit-window-ms", window_ms],
    )
}

/// The text of `GET /metrics`.
async fn metrics(server: &ServeProcess) -> String {
    client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

fn uid(line: &str) -> String {
    let v: Value = serde_json::from_str(line).expect("event json");
    v["event_uid"].as_str().expect("event_uid").to_owned()
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body).expect("gzip");
    enc.finish().expect("gzip")
}

async fn post(url: &str, body: Vec<u8>, gz: bool) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = client()
        .post(url)
        .header("content-type", "application/x-ndjson");
    let body = if gz {
        req = req.header("content-encoding", "gzip");
        gzip(&body)
    } else {
        body
    };
    let resp = req.body(body).send().await.expect("request");
    let code = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (code, json, headers)
}

/// (event_uid -> rows) of the events table and the dead letters (reason, raw) of the store.
async fn read_store(store: &Path) -> (BTreeMap<String, u64>, Vec<(String, String)>) {
    let (ctx, tables) = open_store(store).await;
    let mut uids = BTreeMap::new();
    if tables.iter().any(|t| t == "events") {
        uids = event_uid_counts(&ctx).await;
    }
    let mut dead = Vec::new();
    if tables.iter().any(|t| t == "dead_letters") {
        let batches = sql(&ctx, "SELECT reason, raw FROM dead_letters").await;
        dead = present_texts(&batches, "reason")
            .into_iter()
            .zip(present_texts(&batches, "raw"))
            .collect();
    }
    (uids, dead)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stores_ndjson_and_gzip_once_dead_letters_bad_lines_and_dedupes_across_restarts() {
    let lines = lines();
    let dir = tempfile::tempdir().expect("tempdir");
    let half = lines.len() / 2;
    let (a, b) = lines.split_at(half);
    let distinct_a: BTreeSet<String> = a.iter().map(|l| uid(l)).collect();
    let distinct_all: BTreeSet<String> = lines.iter().map(|l| uid(l)).collect();
    let distinct_b_new = distinct_all.difference(&distinct_a).count();

    let server = serve(dir.path(), "t1", "50");
    // Batch A: plain NDJSON.
    let (code, resp, _) = post(&server.url("/v1/events"), ndjson(a), false).await;
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["stored"], distinct_a.len() as u64, "{resp}");
    assert_eq!(resp["failed"].as_array().map(Vec::len), Some(0), "{resp}");

    // Batch B: gzip, with a malformed line (carrying a secret) at line 3 and a truncated one at the end.
    let mut body_b: Vec<String> = b.to_vec();
    body_b.insert(
        2,
        r#"{"event_uid": "x", "password": "hunter2-secret"}"#.to_owned(),
    );
    let truncated = &b[0][..b[0].len() / 2];
    body_b.push(truncated.to_owned());
    let bad_lines = [3u64, body_b.len() as u64];
    let body_b = ndjson(&body_b);
    let (code, resp, _) = post(&server.url("/v1/events"), body_b.clone(), true).await;
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["stored"], distinct_b_new as u64, "{resp}");
    let failed: Vec<u64> = resp["failed"]
        .as_array()
        .expect("failed list")
        .iter()
        .map(|f| f["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(failed, bad_lines, "{resp}");
    assert!(
        resp["failed"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not a valid normalized event")),
        "{resp}"
    );

    // The same batch again (a retry): nothing new is stored, nothing dead-lettered twice.
    let (code, resp, _) = post(&server.url("/v1/events"), body_b.clone(), true).await;
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["stored"], 0, "{resp}");
    assert_eq!(resp["duplicates"], b.len() as u64, "{resp}");
    assert_eq!(server.terminate().code(), Some(0), "SIGTERM exits 0");

    // After a restart the store's dedupe still knows batch A.
    let server = serve(dir.path(), "t1", "50");
    let (code, resp, _) = post(&server.url("/v1/events"), ndjson(a), true).await;
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["stored"], 0, "{resp}");
    assert_eq!(resp["duplicates"], a.len() as u64, "{resp}");
    assert_eq!(server.terminate().code(), Some(0));

    let (uids, dead) = read_store(&dir.path().join("data")).await;
    assert_eq!(
        uids.len(),
        distinct_all.len(),
        "every distinct event stored"
    );
    assert!(uids.values().all(|n| *n == 1), "no event_uid stored twice");
    assert_eq!(uids.keys().cloned().collect::<BTreeSet<_>>(), distinct_all);
    assert_eq!(
        dead.len(),
        2,
        "two malformed lines, dead-lettered once: {dead:?}"
    );
    assert!(
        dead.iter().all(|(_, raw)| !raw.contains("hunter2")),
        "secrets are redacted in dead letters: {dead:?}"
    );
    assert!(
        dead.iter().any(|(_, raw)| raw.contains("[REDACTED]")),
        "{dead:?}"
    );
    let out = run_cli(&["verify", "--store", "data"], dir.path());
    assert!(
        out.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_503_with_retry_after_when_overloaded_and_shows_health_and_metrics() {
    let lines = lines();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServeProcess::start(
        dir.path(),
        "data",
        &[
            "--writer-id",
            "t2",
            "--max-pending",
            "10",
            "--commit-window-ms",
            "1500",
        ],
    );
    let (code, health, _) = {
        let r = client()
            .get(server.url("/health"))
            .send()
            .await
            .expect("health");
        let c = r.status().as_u16();
        (c, r.json::<Value>().await.expect("json"), ())
    };
    assert_eq!(code, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["writer_id"], "t2");

    let first: Vec<String> = lines[..6].to_vec();
    let expected_first = first.iter().map(|l| uid(l)).collect::<BTreeSet<_>>().len() as u64;
    let url = server.url("/v1/events");
    let pending = tokio::spawn(async move { post(&url, ndjson(&first), false).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    // 6 pending + 8 > 10: refused.
    let (code, resp, headers) = post(&server.url("/v1/events"), ndjson(&lines[6..14]), true).await;
    assert_eq!(code, 503, "{resp}");
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let (code, resp, _) = pending.await.expect("first request");
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["stored"], expected_first);

    let metrics = metrics(&server).await;
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("{name} not in /metrics:\n{metrics}"))
            .parse()
            .expect("number")
    };
    assert_eq!(
        value("mdm_audit_serve_events_stored_total"),
        expected_first as f64
    );
    assert_eq!(value("mdm_audit_serve_overloaded_total"), 1.0);
    assert_eq!(value("mdm_audit_serve_pending_events"), 0.0);
    assert_eq!(value("mdm_audit_serve_commits_total"), 1.0);
    assert_eq!(value("mdm_audit_serve_commit_seconds_count"), 1.0);
    assert!(
        value("mdm_audit_serve_ack_seconds_sum") >= 1.0,
        "the first request waited for its window"
    );
    assert_eq!(
        value("mdm_audit_serve_requests_total{path=\"/v1/events\",code=\"503\"}"),
        1.0
    );
    assert_eq!(
        value("mdm_audit_serve_requests_total{path=\"/v1/events\",code=\"200\"}"),
        1.0
    );
    assert!(metrics.contains("# TYPE mdm_audit_serve_commit_seconds histogram"));
    assert_eq!(server.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_sigterm_commits_pending_answers_and_exits_zero() {
    let lines = lines();
    let dir = tempfile::tempdir().expect("tempdir");
    // A long window: without the shutdown the request would wait 20 s.
    let server = serve(dir.path(), "t3", "20000");
    let batch: Vec<String> = lines[..50].to_vec();
    let expected: BTreeSet<String> = batch.iter().map(|l| uid(l)).collect();
    let url = server.url("/v1/events");
    let started = Instant::now();
    let pending = tokio::spawn(async move { post(&url, ndjson(&batch), true).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("terminate");
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    let (code, resp, _) = pending.await.expect("request");
    assert_eq!(code, 200, "the pending request is answered: {resp}");
    assert_eq!(resp["stored"], expected.len() as u64);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "committed at shutdown, not at the window's end"
    );
    let (uids, _) = read_store(&dir.path().join("data")).await;
    assert_eq!(uids.keys().cloned().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_raw_endpoint_normalizes_vendor_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path(), "t4", "20");
    let sample =
        mappings_dir().join("sources/microsoft_intune/samples/graph_audit_event/retire_failure");
    let input = read_record(&sample.with_extension("input.json"));
    let expected: Value =
        serde_json::from_str(&read_record(&sample.with_extension("expected.json")))
            .expect("expected json");
    let (code, resp, _) = post(
        &server.url("/v1/raw/intune"),
        input.clone().into_bytes(),
        true,
    )
    .await;
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["stored"], 1, "{resp}");
    // A record that is no Intune record is dead-lettered with its line.
    let (code, resp, _) = post(
        &server.url("/v1/raw/intune"),
        b"{\"hello\": \"world\", \"clientSecret\": \"s3cr3t-value\"}\n".to_vec(),
        false,
    )
    .await;
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["dead_lettered"], 1, "{resp}");
    assert_eq!(resp["failed"][0]["line"], 1, "{resp}");
    let (code, _, _) = post(
        &server.url("/v1/raw/nosuchvendor"),
        input.into_bytes(),
        false,
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(server.terminate().code(), Some(0));
    let (uids, dead) = read_store(&dir.path().join("data")).await;
    let want = expected["event_uid"]
        .as_str()
        .expect("expected uid")
        .to_owned();
    assert_eq!(uids.keys().cloned().collect::<Vec<_>>(), vec![want]);
    assert_eq!(dead.len(), 1);
    assert!(!dead[0].1.contains("s3cr3t-value"), "{dead:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_group_commits_requests_of_one_window_together() {
    let lines = lines();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path(), "t5", "1500");
    let slices: Vec<Vec<String>> = lines[..80].chunks(20).map(<[String]>::to_vec).collect();
    let expected: BTreeSet<String> = lines[..80].iter().map(|l| uid(l)).collect();
    let mut tasks = Vec::new();
    for s in slices {
        let url = server.url("/v1/events");
        tasks.push(tokio::spawn(
            async move { post(&url, ndjson(&s), true).await },
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut stored = 0;
    for t in tasks {
        let (code, resp, _) = t.await.expect("request");
        assert_eq!(code, 200, "{resp}");
        stored += resp["stored"].as_u64().expect("stored");
    }
    assert_eq!(stored, expected.len() as u64);
    let metrics = metrics(&server).await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "mdm_audit_serve_commits_total 1"),
        "four requests within one window make one group commit:\n{metrics}"
    );
    assert_eq!(server.terminate().code(), Some(0));
    let (uids, _) = read_store(&dir.path().join("data")).await;
    assert_eq!(uids.keys().cloned().collect::<BTreeSet<_>>(), expected);
}

/// The rows of `sql` over the store, as a printed table (every column compared as shown).
async fn rows(store: &Path, query: &str) -> String {
    let (ctx, _) = open_store(store).await;
    let batches = sql(&ctx, query).await;
    datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .expect("format")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_and_serve_share_one_pipeline_and_store_the_same_events_and_episodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The estate's people and devices, for the enrich stage.
    let g = run_cli(
        &[
            "generate", "--seed", "11", "--events", "600", "--days", "2", "--out", "estate",
        ],
        dir.path(),
    );
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    // In time order (stable), as ingest's merge hands them to the stages.
    let mut lines = lines();
    lines.sort_by_key(|l| {
        let v: Value = serde_json::from_str(l).expect("event json");
        // Parsed: as text, "10:00:00Z" would sort after "10:00:00.5Z".
        chrono::DateTime::parse_from_rfc3339(v["time"].as_str().expect("time")).expect("rfc3339")
    });
    let body = lines.join("\n") + "\n";
    std::fs::write(dir.path().join("events.ndjson"), &body).expect("events");
    let stages = ["--writer-id", "w", "--directory", "estate/directory"];

    let mut args = vec!["ingest", "--store", "ingested"];
    args.extend(stages);
    args.push("events.ndjson");
    let out = run_cli(&args, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let server = ServeProcess::start(dir.path(), "served", &stages);
    let (code, resp, _) = post(&server.url("/v1/events"), body.into_bytes(), true).await;
    assert_eq!(code, 200, "{resp}");
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("terminate");
    assert_eq!(status.code(), Some(0));

    let events = "SELECT event_uid, actor_person, actor_department, device_department, unresolved, \
                  risk_tags, risk_score, episode_id, episode_kind FROM events ORDER BY event_uid";
    // An episode's last state (serve also stores the open states of each commit); `updated_time` is
    // the wall clock of the commit.
    let episodes = "SELECT episode_id, episode_kind, actor, device, first_time, last_time, \
                    event_count, event_uids, risk_tags, max_risk_score FROM (SELECT *, row_number() \
                    OVER (PARTITION BY episode_id ORDER BY updated_time DESC, event_count DESC) AS n \
                    FROM episodes) WHERE n = 1 ORDER BY episode_id";
    let (ingested, served) = (dir.path().join("ingested"), dir.path().join("served"));
    let stored = rows(&ingested, events).await;
    // Every distinct event once (the estate repeats some records, as vendors do), plus the table's
    // four border and header lines.
    let distinct: BTreeSet<String> = lines.iter().map(|l| uid(l)).collect();
    assert_eq!(
        stored.lines().count(),
        distinct.len() + 4,
        "every event stored once"
    );
    assert!(stored.contains("admin_session"), "correlated:\n{stored}");
    let persons = rows(&ingested, "SELECT count(actor_person) AS n FROM events").await;
    let persons: u64 = persons
        .lines()
        .nth(3)
        .and_then(|l| {
            l.trim_matches(|c: char| c == '|' || c.is_whitespace())
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("count: {persons}"));
    assert!(persons > 0, "enriched: some actors resolved to a person");
    let served_rows = rows(&served, events).await;
    let only_ingested: Vec<&str> = stored
        .lines()
        .filter(|l| !served_rows.contains(l))
        .collect();
    let only_served: Vec<&str> = served_rows
        .lines()
        .filter(|l| !stored.contains(l))
        .collect();
    assert!(
        only_ingested.is_empty() && only_served.is_empty(),
        "ingest and serve differ:\ningest only:\n{}\nserve only:\n{}",
        only_ingested.join("\n"),
        only_served.join("\n")
    );
    let eps = rows(&ingested, episodes).await;
    assert!(eps.lines().count() > 4, "episodes stored:\n{eps}");
    assert_eq!(eps, rows(&served, episodes).await);
}
