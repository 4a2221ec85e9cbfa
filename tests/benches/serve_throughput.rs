//! Sustained events/s through `mdm-audit serve` on loopback with durable (fsynced) group commits, and
//! the p50 / p99 acknowledgement latency seen by clients that post batches as Vector's http sink does
//! (NDJSON, gzip, one request in flight per client).
//!
//! Run: `cargo bench -p mdm-audit-tests --bench serve_throughput` (release: `--release` builds the
//! binary it starts in the same profile). Environment:
//! `MDM_BENCH_EVENTS` (events to send, default 200000), `MDM_BENCH_BATCH` (events per request, 1000),
//! `MDM_BENCH_CLIENTS` (concurrent clients, 8), `MDM_BENCH_WINDOW_MS` (commit window, 200),
//! `MDM_BENCH_SOURCE_EVENTS` (generated estate size the events are drawn from, 20000; event_uids are
//! made unique per copy so every event is stored), `MDM_BENCH_SEED` (99) and `MDM_BENCH_DAYS` (30) of
//! that estate. `MDM_BENCH_NODES` (1): serve processes, each with its own writer id, on one store,
//! the clients spread over them. `MDM_BENCH_S3=1`: the store is `s3://bench/trail` on moto's S3
//! server on 127.0.0.1 (`MDM_TEST_PYTHON` with moto, see scripts/test) instead of a local directory.
//! After the run `verify` counts the commits (commits/s) and checks every chain.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mdm_audit_tests::s3::S3Server;
use mdm_audit_tests::{ServeProcess, normalized_estate};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let total = env("MDM_BENCH_EVENTS", 200_000);
    let batch = env("MDM_BENCH_BATCH", 1000).max(1);
    let clients = env("MDM_BENCH_CLIENTS", 8).max(1);
    let window = env("MDM_BENCH_WINDOW_MS", 200);
    let source_events = env("MDM_BENCH_SOURCE_EVENTS", 20_000);
    let source_seed = env("MDM_BENCH_SEED", 99);
    let source_days = env("MDM_BENCH_DAYS", 30);
    let source: Vec<serde_json::Value> = std::fs::read_to_string(normalized_estate(
        source_seed as u64,
        source_events as u64,
        source_days as u32,
    ))
    .expect("events")
    .lines()
    .map(|l| serde_json::from_str(l).expect("event json"))
    .collect();
    // Bodies prepared up front (gzip included), so the clients measure the server.
    let mut bodies = Vec::new();
    let mut distinct = std::collections::HashSet::new();
    let mut n = 0usize;
    while n < total {
        let mut text = String::new();
        for _ in 0..batch.min(total - n) {
            let mut e = source[n % source.len()].clone();
            let copy = n / source.len();
            if let Some(u) = e["event_uid"].as_str() {
                e["event_uid"] = serde_json::Value::String(format!("{u}-c{copy}"));
            }
            distinct.insert(e["event_uid"].to_string());
            text.push_str(&e.to_string());
            text.push('\n');
            n += 1;
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).expect("gzip");
        bodies.push(enc.finish().expect("gzip"));
    }
    let nodes = env("MDM_BENCH_NODES", 1).max(1);
    let s3 = (std::env::var("MDM_BENCH_S3").as_deref() == Ok("1")).then(|| {
        S3Server::start(&["bench"]).expect("MDM_BENCH_S3=1 needs MDM_TEST_PYTHON with moto")
    });
    let (store, s3_env) = match &s3 {
        Some(s) => ("s3://bench/trail".to_owned(), s.env()),
        None => ("../data".to_owned(), Vec::new()),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let servers: Vec<ServeProcess> = (0..nodes)
        .map(|i| {
            let node_dir = dir.path().join(format!("node-{i}"));
            std::fs::create_dir_all(&node_dir).expect("node dir");
            ServeProcess::start_with_env(
                &node_dir,
                &store,
                &[
                    "--writer-id",
                    &format!("bench-{i}"),
                    "--commit-window-ms",
                    &window.to_string(),
                    "--max-pending",
                    &(batch * clients * 4).to_string(),
                ],
                &s3_env,
            )
        })
        .collect();
    let urls: Vec<String> = servers.iter().map(|s| s.url("/v1/events")).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let latencies: Vec<Duration> = rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, url, bodies, next) = (
                client.clone(),
                urls[c % urls.len()].clone(),
                bodies.clone(),
                next.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = Instant::now();
                    loop {
                        let r = client
                            .post(&url)
                            .header("content-encoding", "gzip")
                            .body(body.clone())
                            .send()
                            .await;
                        match r {
                            Ok(r) if r.status().is_success() => break,
                            Ok(r) if r.status().as_u16() == 503 => {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                            Ok(r) => panic!("serve answered {}", r.status()),
                            Err(e) => panic!("request failed: {e}"),
                        }
                    }
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("client task"));
        }
        all
    });
    let secs = started.elapsed().as_secs_f64();
    let mut lat = latencies;
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    for server in servers {
        let status = server.terminate();
        assert!(status.success(), "serve exited with {status}");
    }
    let mut verify = std::process::Command::new(mdm_audit_tests::cli_binary());
    verify
        .args(["verify", "--json", "--store", &store])
        .envs(s3_env.iter().cloned())
        .current_dir(dir.path().join("node-0"));
    let out = verify.output().expect("run verify");
    assert!(
        out.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify json");
    let events = report["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["table"] == "events"))
        .expect("events table");
    let commits: u64 = events["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .filter_map(|c| c["commits"].as_u64())
        .sum();
    // The estate's Intune twins (one audit event from Graph and from diagnostic logs) share an
    // event_uid: each distinct one is stored once per node that took it; verify lists the copies
    // two nodes stored (twins sent to different nodes), which queries count once.
    let copies: u64 = events["copies"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["hidden"].as_array().map_or(0, Vec::len) as u64)
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(
        events["rows"].as_u64().map(|r| r - copies),
        Some(distinct.len() as u64),
        "every distinct event stored, once per node that took it"
    );
    println!(
        "serve_throughput: {total} events ({} distinct) in {} requests of {batch} from {clients} clients to {nodes} node(s) on {}, window {window} ms: {:.0} events/s sustained, {commits} commits ({:.1}/s), {copies} cross-node copies, ack p50 {:.0} ms, p99 {:.0} ms",
        distinct.len(),
        lat.len(),
        if s3.is_some() {
            "moto S3"
        } else {
            "local disk"
        },
        total as f64 / secs,
        commits as f64 / secs,
        q(0.50).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3
    );
}
