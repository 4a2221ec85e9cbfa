//! QueryData-equivalent latency of the datasource engine (`plugin::queries::run_query`, the function
//! QueryData calls per query, without gRPC) against DuckDB over the same Parquet files, same run.
//!
//! `cargo bench --workspace --bench query_latency` (harness = false). Environment:
//! - `MDM_BENCH_STORE`: an existing store to use (else stores are generated and ingested with the CLI
//!   under `target/bench-stores/<events>`, reused on later runs);
//! - `MDM_BENCH_SIZES`: event counts, default `1000000,10000000`;
//! - `MDM_BENCH_ITERS`: queries per client, default 50;
//! - `MDM_BENCH_CLIENTS`: concurrent clients per row, default `1,16`;
//! - `MDM_BENCH_QUERIES`: which queries, default `timeline,stats`;
//! - `MDM_BENCH_DUCKDB=0`: skip the DuckDB anchor (for profiling ours alone; not for results);
//! - `MDM_TEST_PYTHON`: a Python with `duckdb` (default `target/py-venv/bin/python`, see scripts/test);
//! - `MDM_BENCH_S3=1`: also copy each store to moto's S3 server on 127.0.0.1 and time the same
//!   queries there: the first query of a freshly opened engine (metadata cache cold) and p50 / p99
//!   of the following ones (warm), next to the local disk's.
#![allow(
    clippy::print_stdout,
    reason = "the results table is the benchmark's output on stdout"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::DateTime;
use mdm_audit_datasource::engine::{Engine, Range};
use mdm_audit_datasource::plugin::Instance;
use mdm_audit_datasource::plugin::queries::{Panel, run_query};
use mdm_audit_store::StoreLocation;

const TIMELINE: &str = r#"{"queryType":"timeline","limit":1000}"#;
const STATS: &str = r#"{"queryType":"stats","stats":{"metric":"count"}}"#;
const QUERIES: [(&str, &str); 2] = [("timeline", TIMELINE), ("stats", STATS)];

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn store_for(events: u64) -> PathBuf {
    let dir = mdm_audit_tests::workspace_root().join(format!("target/bench-stores/{events}"));
    let store = dir.join("data");
    if store.join("events/_delta_log").is_dir() {
        return store;
    }
    std::fs::create_dir_all(&dir).expect("bench dir");
    let cli = mdm_audit_tests::cli_binary();
    let days = (events / 100_000).clamp(3, 60).to_string();
    let ok = Command::new(&cli)
        .args([
            "generate",
            "--seed",
            "1",
            "--events",
            &events.to_string(),
            "--days",
            &days,
            "--out",
            "estate",
        ])
        .current_dir(&dir)
        .status()
        .expect("generate");
    assert!(ok.success(), "generate failed");
    let truth = mdm_audit_generate::GroundTruth::read(&dir.join("estate/ground_truth.json"))
        .expect("truth");
    let mut args = vec![
        "ingest".to_owned(),
        "--store".into(),
        "data".into(),
        "--writer-id".into(),
        "bench".into(),
    ];
    args.extend(truth.feeds.iter().map(|f| format!("estate/{}", f.file)));
    let ok = Command::new(&cli)
        .args(&args)
        .current_dir(&dir)
        .status()
        .expect("ingest");
    assert!(ok.success(), "ingest failed");
    store
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn ours(
    engine: Arc<Engine>,
    json: &'static str,
    panel: Panel,
    clients: usize,
    iters: usize,
) -> (f64, f64) {
    let instance = Arc::new(Instance::default());
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (engine, instance) = (Arc::clone(&engine), Arc::clone(&instance));
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(iters);
            for _ in 0..iters {
                let t = Instant::now();
                let frames = run_query(&engine, &instance, "A", json.as_bytes(), panel)
                    .await
                    .expect("query");
                assert!(!frames.is_empty());
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort();
    (pct(&all, 0.5), pct(&all, 0.99))
}

const DUCKDB: &str = r#"
import duckdb, json, sys, threading, time
files, start, end, bucket_s, clients, iters, wanted = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7].split(",")
con = duckdb.connect()
con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{files}', hive_partitioning=true)")
where = f"time >= TIMESTAMPTZ '{start}' AND time <= TIMESTAMPTZ '{end}'"
queries = {
  "timeline": f"SELECT time, vendor, action, coalesce(actor_upn, actor_name, actor_id) AS actor, coalesce(device_name, device_serial, device_id) AS device, device_id, target_name, risk_level, risk_score, risk_tags, outcome, message, event_uid, episode_id FROM events WHERE {where} ORDER BY time DESC, event_uid LIMIT 1001",
  "stats": f"SELECT time_bucket(INTERVAL '{bucket_s} seconds', time) AS bucket, count(*) AS value FROM events WHERE {where} GROUP BY 1 ORDER BY 1",
}
out = {}
for name, q in queries.items():
    if name not in wanted: continue
    lat = []
    lock = threading.Lock()
    def work():
        c = con.cursor()
        for _ in range(iters):
            t = time.perf_counter(); c.execute(q).fetchall(); d = time.perf_counter() - t
            with lock: lat.append(d)
    ts = [threading.Thread(target=work) for _ in range(clients)]
    [t.start() for t in ts]; [t.join() for t in ts]
    lat.sort()
    p = lambda x: lat[min(len(lat) - 1, round((len(lat) - 1) * x))] * 1000
    out[name] = [p(0.5), p(0.99)]
print(json.dumps(out))
"#;

fn duckdb(
    python: &Path,
    store: &Path,
    range: &Range,
    bucket: Duration,
    clients: usize,
    iters: usize,
    queries: &[&str],
) -> serde_json::Value {
    // The day partitions' data files only: a store of over 100 commits also has Delta checkpoints
    // (`_delta_log/*.checkpoint.parquet`), which a `**` glob would read as data.
    let files = format!("{}/events/day=*/*.parquet", store.display());
    let out = Command::new(python)
        .args([
            "-c",
            DUCKDB,
            &files,
            &range.from.to_rfc3339(),
            &range.to.to_rfc3339(),
        ])
        .arg(bucket.as_secs().to_string())
        .arg(clients.to_string())
        .arg(iters.to_string())
        .arg(queries.join(","))
        .output()
        .expect("run python duckdb");
    assert!(
        out.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("duckdb json")
}

fn main() {
    let iters: usize = env_or("MDM_BENCH_ITERS", "50")
        .parse()
        .expect("MDM_BENCH_ITERS");
    let python = PathBuf::from(env_or(
        "MDM_TEST_PYTHON",
        &mdm_audit_tests::workspace_root()
            .join("target/py-venv/bin/python")
            .to_string_lossy(),
    ));
    let stores: Vec<(String, PathBuf)> = match std::env::var("MDM_BENCH_STORE") {
        Ok(s) => vec![("given".to_owned(), PathBuf::from(s))],
        Err(_) => env_or("MDM_BENCH_SIZES", "1000000,10000000")
            .split(',')
            .map(|n| {
                let n: u64 = n.trim().parse().expect("MDM_BENCH_SIZES");
                (n.to_string(), store_for(n))
            })
            .collect(),
    };
    let clients: Vec<usize> = env_or("MDM_BENCH_CLIENTS", "1,16")
        .split(',')
        .map(|c| c.trim().parse().expect("MDM_BENCH_CLIENTS"))
        .collect();
    let queries = env_or("MDM_BENCH_QUERIES", "timeline,stats");
    let queries: Vec<&str> = queries.split(',').map(str::trim).collect();
    for q in &queries {
        assert!(
            QUERIES.iter().any(|(n, _)| n == q),
            "MDM_BENCH_QUERIES: unknown query {q:?} (timeline, stats)"
        );
    }
    let anchor = std::env::var("MDM_BENCH_DUCKDB").as_deref() != Ok("0");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "| store | events | query | clients | ours p50 ms | ours p99 ms | duckdb p50 ms | duckdb p99 ms | p50 ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (label, store) in stores {
        let location =
            StoreLocation::parse(&store.to_string_lossy(), Default::default()).expect("store");
        let engine = Arc::new(rt.block_on(Engine::open(location)).expect("open"));
        let b = rt
            .block_on(
                engine.run("SELECT count(*) AS n, min(time) AS lo, max(time) AS hi FROM events"),
            )
            .expect("range");
        let n = cast(b[0].column(0), &DataType::Int64).expect("n");
        let n = n.as_primitive::<arrow::datatypes::Int64Type>().value(0);
        let ts = |i: usize| {
            let c = cast(
                b[0].column(i),
                &DataType::Timestamp(TimeUnit::Microsecond, None),
            )
            .expect("ts");
            let c = c.as_primitive::<TimestampMicrosecondType>();
            assert!(!c.is_null(0), "empty store");
            DateTime::from_timestamp_micros(c.value(0)).expect("time")
        };
        let range = Range {
            from: ts(1),
            to: ts(2),
        };
        let panel = Panel {
            range,
            interval: Duration::from_secs(3600),
            max_data_points: 100_000,
        };
        for &clients in &clients {
            let duck = if anchor {
                duckdb(
                    &python,
                    &store,
                    &range,
                    panel.interval,
                    clients,
                    iters,
                    &queries,
                )
            } else {
                serde_json::Value::Null
            };
            for (name, json) in QUERIES.iter().filter(|(n, _)| queries.contains(n)) {
                let (p50, p99) =
                    rt.block_on(ours(Arc::clone(&engine), json, panel, clients, iters));
                let d50 = duck[*name][0].as_f64().unwrap_or(f64::NAN);
                let d99 = duck[*name][1].as_f64().unwrap_or(f64::NAN);
                println!(
                    "| {label} | {n} | {name} | {clients} | {p50:.1} | {p99:.1} | {d50:.1} | {d99:.1} | {:.2} |",
                    p50 / d50
                );
            }
        }
        if std::env::var("MDM_BENCH_S3").as_deref() == Ok("1") {
            s3_latency(&rt, &python, &label, n, &store, &engine, panel, iters);
        }
    }
}

/// The same queries on a copy of `store` in moto's S3 server, beside the local disk's.
#[allow(clippy::too_many_arguments)]
fn s3_latency(
    rt: &tokio::runtime::Runtime,
    python: &Path,
    label: &str,
    n: i64,
    store: &Path,
    local: &Arc<Engine>,
    panel: Panel,
    iters: usize,
) {
    let s3 = mdm_audit_tests::s3::S3Server::start(&["bench"]).expect("MDM_TEST_PYTHON");
    let url = "s3://bench/store";
    let ok = Command::new(python)
        .arg(mdm_audit_tests::workspace_root().join("tests/s3/upload.py"))
        .arg(store)
        .arg(url)
        .envs(s3.env())
        .status()
        .expect("upload");
    assert!(ok.success(), "upload to S3 failed");
    let options: std::collections::HashMap<String, String> = [
        ("aws_access_key_id", "mdm-audit-test"),
        ("aws_secret_access_key", "mdm-audit-test-secret"),
        ("aws_region", "us-east-1"),
        ("aws_endpoint", s3.endpoint.as_str()),
        ("aws_allow_http", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    println!();
    println!(
        "| store | events | query | local p50 ms | S3 cold (open + first query) ms | S3 warm p50 ms | S3 warm p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, json) in QUERIES {
        let t = Instant::now();
        let location = StoreLocation::parse(url, options.clone()).expect("s3 location");
        let engine = Arc::new(rt.block_on(Engine::open(location)).expect("open s3"));
        rt.block_on(ours(Arc::clone(&engine), json, panel, 1, 1));
        let cold = t.elapsed().as_secs_f64() * 1000.0;
        let (w50, w99) = rt.block_on(ours(Arc::clone(&engine), json, panel, 1, iters));
        let (l50, _) = rt.block_on(ours(Arc::clone(local), json, panel, 1, iters));
        println!("| {label} | {n} | {name} | {l50:.1} | {cold:.0} | {w50:.1} | {w99:.1} |");
    }
}
