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
//! that estate.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let mut n = 0usize;
    while n < total {
        let mut text = String::new();
        for _ in 0..batch.min(total - n) {
            let mut e = source[n % source.len()].clone();
            let copy = n / source.len();
            if let Some(u) = e["event_uid"].as_str() {
                e["event_uid"] = serde_json::Value::String(format!("{u}-c{copy}"));
            }
            text.push_str(&e.to_string());
            text.push('\n');
            n += 1;
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).expect("gzip");
        bodies.push(enc.finish().expect("gzip"));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServeProcess::start(
        dir.path(),
        "data",
        &[
            "--writer-id",
            "bench",
            "--commit-window-ms",
            &window.to_string(),
            "--max-pending",
            &(batch * clients * 4).to_string(),
        ],
    );
    let url = server.url("/v1/events");
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
        for _ in 0..clients {
            let (client, url, bodies, next) =
                (client.clone(), url.clone(), bodies.clone(), next.clone());
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
    let status = server.terminate();
    assert!(status.success(), "serve exited with {status}");
    println!(
        "serve_throughput: {total} events in {} requests of {batch} from {clients} clients, window {window} ms: {:.0} events/s sustained, ack p50 {:.0} ms, p99 {:.0} ms",
        lat.len(),
        total as f64 / secs,
        q(0.50).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3
    );
}
