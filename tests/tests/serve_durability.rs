//! Durability of `mdm-audit serve` under SIGKILL: a client sends events in batches as Vector's http
//! sink does (the same batch again until it gets a 2xx), while the server is killed with SIGKILL at
//! seeded random moments and restarted on the same store. Afterwards every acknowledged event is in
//! the store exactly once.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mdm_audit_tests::query::{event_uid_counts, open_store};
use mdm_audit_tests::{ServeProcess, normalized_estate, run_cli};

/// xorshift64*: the kill schedule is reproducible from the seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

const KILLS: usize = 6;
const BATCH: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stdout)] // the kills and events are this test's report (`--no-capture` shows it)
async fn serve_keeps_every_acknowledged_event_exactly_once_across_sigkills() {
    let seed: u64 = std::env::var("MDM_DURABILITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026);
    let lines: Vec<String> = std::fs::read_to_string(normalized_estate(11, 600, 2))
        .expect("events")
        .lines()
        .map(str::to_owned)
        .collect();
    let batches: Vec<(Vec<String>, String)> = lines
        .chunks(BATCH)
        .map(|c| {
            let uids = c
                .iter()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).expect("json")["event_uid"]
                        .as_str()
                        .expect("uid")
                        .to_owned()
                })
                .collect();
            (uids, c.join("\n") + "\n")
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    let args = ["--writer-id", "durable", "--commit-window-ms", "30"];
    let server = ServeProcess::start(&root, "data", &args);
    let addr = Arc::new(Mutex::new(server.addr.clone()));

    // The client: Vector's retry loop (same body until 2xx), following the server's port across
    // restarts as Vector would follow a fixed address.
    let acked: Arc<Mutex<Vec<usize>>> = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicU64::new(0));
    let kills_done = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicBool::new(false));
    let waiting = Arc::new(AtomicBool::new(false));
    let n_batches = batches.len();
    let client_task = {
        let in_flight = in_flight.clone();
        let waiting = waiting.clone();
        let (addr, acked, done, attempts, kills_done) = (
            addr.clone(),
            acked.clone(),
            done.clone(),
            attempts.clone(),
            kills_done.clone(),
        );
        let bodies: Vec<String> = batches.iter().map(|(_, b)| b.clone()).collect();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client");
            for (i, body) in bodies.into_iter().enumerate() {
                // Spread the kills over the run: batch i waits for kill i * KILLS / batches.
                while kills_done.load(Ordering::SeqCst) < (i * KILLS / n_batches) as u64 {
                    waiting.store(true, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                waiting.store(false, Ordering::SeqCst);
                loop {
                    attempts.fetch_add(1, Ordering::Relaxed);
                    let url = format!("http://{}/v1/events", addr.lock().expect("addr"));
                    in_flight.store(true, Ordering::SeqCst);
                    let r = client.post(&url).body(body.clone()).send().await;
                    in_flight.store(false, Ordering::SeqCst);
                    match r {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().expect("acked").push(i);
                            break;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };

    let mut rng = Rng(seed);
    let mut server = Some(server);
    let mut kills = 0;
    let started = Instant::now();
    while kills < KILLS {
        tokio::time::sleep(Duration::from_millis(rng.range(50, 400))).await;
        // Aim at a request in flight (parsing, waiting for its group, committing, fsyncing).
        let aim = Instant::now();
        while !in_flight.load(Ordering::SeqCst)
            && !waiting.load(Ordering::SeqCst)
            && aim.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.range(0, 120))).await;
        if let Some(s) = server.take() {
            s.kill();
        }
        kills += 1;
        let r = root.clone();
        let s = tokio::task::spawn_blocking(move || ServeProcess::start(&r, "data", &args))
            .await
            .expect("restart");
        *addr.lock().expect("addr") = s.addr.clone();
        server = Some(s);
        kills_done.store(kills as u64, Ordering::SeqCst);
    }
    tokio::time::timeout(Duration::from_secs(120), client_task)
        .await
        .expect("the client finishes")
        .expect("client task");
    let status = server.take().expect("server").terminate();
    assert_eq!(status.code(), Some(0));

    let acked: Vec<usize> = acked.lock().expect("acked").clone();
    let acked_uids: BTreeSet<String> = acked
        .iter()
        .flat_map(|i| batches[*i].0.iter().cloned())
        .collect();
    let (ctx, _) = open_store(&root.join("data")).await;
    let stored = event_uid_counts(&ctx).await;
    let missing: Vec<&String> = acked_uids
        .iter()
        .filter(|u| !stored.contains_key(*u))
        .collect();
    let twice: Vec<(&String, &u64)> = stored.iter().filter(|(_, n)| **n != 1).collect();
    println!(
        "durability: seed {seed:#x}, {kills} SIGKILLs, {} batches acknowledged ({} attempts, so {} requests cut or refused), {} events sent, {} distinct acknowledged, {} stored, {:.1} s",
        acked.len(),
        attempts.load(Ordering::Relaxed),
        attempts.load(Ordering::Relaxed) - acked.len() as u64,
        lines.len(),
        acked_uids.len(),
        stored.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        kills >= 5,
        "only {kills} kills happened before the client finished; make batches smaller"
    );
    assert_eq!(
        acked.len(),
        batches.len(),
        "every batch was acknowledged in the end"
    );
    assert!(
        missing.is_empty(),
        "{} acknowledged events missing: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    assert_eq!(
        stored.keys().cloned().collect::<BTreeSet<_>>(),
        acked_uids,
        "nothing but the acknowledged events"
    );
    // The hash chains survived the kills: verify recomputes them from the files.
    let out = run_cli(&["verify", "--store", "data"], &root);
    assert!(
        out.status.success(),
        "verify after the kills: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
