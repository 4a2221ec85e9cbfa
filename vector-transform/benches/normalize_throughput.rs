//! Normalize throughput per feed on one core: VRL only vs. the full path (VRL, validation into
//! `NormalizedEvent`, Arrow batches of 8192 rows). Records are the shipped samples of each feed, cycled.
//!
//! `cargo bench -p mdm-audit-transform --bench normalize_throughput` (release profile). Results go to
//! BENCHMARKS.md by hand, with the machine. `MDM_BENCH_FEED=jamf` times only matching feeds,
//! `MDM_BENCH_N` sets the records per row, `MDM_BENCH_MAPPINGS=DIR` times an edited copy of the mappings.
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::path::Path;
use std::time::Instant;

use mdm_audit_store::batch::events_to_batch;
use mdm_audit_transform::normalize::sniff;
use mdm_audit_transform::{MappingSet, NormalizeConfig, Normalizer, Source};

/// The allocator of the `mdm-audit` binary, with its options, so the bench measures what the release
/// build runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[cfg(target_os = "linux")]
#[path = "../../src/mimalloc_options.rs"]
#[allow(
    dead_code,
    reason = "only its constructor runs here; the rest serves the binary's test"
)]
mod mimalloc_options;

/// Records timed per feed and path (`MDM_BENCH_N` overrides).
const DEFAULT_N: usize = 200_000;

/// (label, glob under vrl-mappings/sources) of each feed measured.
const FEEDS: &[(&str, &str, bool)] = &[
    (
        "jamf webhook (JSON)",
        "jamf_pro/samples/webhook_*/*.input.json",
        true,
    ),
    (
        "jamf log stream (syslog line)",
        "jamf_pro/samples/logstream_*/*.input.log",
        false,
    ),
    (
        "intune graph audit (JSON)",
        "microsoft_intune/samples/graph_*/*.input.json",
        true,
    ),
    (
        "intune diagnostic (JSON)",
        "microsoft_intune/samples/diag_*/*.input.json",
        true,
    ),
    (
        "ws1 syslog (syslog line)",
        "omnissa_workspace_one/samples/syslog_*/*.input.log",
        false,
    ),
    (
        "ws1 notification (JSON)",
        "omnissa_workspace_one/samples/notification_*/*.input.json",
        true,
    ),
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vrl-mappings");
    // MDM_BENCH_MAPPINGS=DIR times an edited copy of the mappings (samples still come from the repo).
    let program_dir = std::env::var("MDM_BENCH_MAPPINGS").map_or_else(|_| root.clone(), Into::into);
    let mappings = MappingSet::from_dir(&program_dir).expect("mappings");
    let mut n = Normalizer::new(&mappings, &NormalizeConfig::default()).expect("compiles");
    println!(
        "{:<32} {:>8} {:>16} {:>18}",
        "feed", "records", "VRL only ev/s", "full path ev/s"
    );
    let n_records = std::env::var("MDM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_N);
    // MDM_BENCH_FEED=substring times only the feeds whose label contains it.
    let only = std::env::var("MDM_BENCH_FEED").unwrap_or_default();
    for (label, pattern, json) in FEEDS.iter().filter(|f| f.0.contains(only.as_str())) {
        let mut records: Vec<(Source, String)> = Vec::new();
        for p in glob::glob(&format!("{}/sources/{pattern}", root.display()))
            .expect("glob")
            .filter_map(Result::ok)
        {
            let text = std::fs::read_to_string(&p).expect("read");
            let text = text.trim_end_matches(['\n', '\r']);
            let text = if *json {
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(v) => v.to_string(),
                    Err(_) => continue,
                }
            } else {
                text.to_owned()
            };
            let Some(source) = sniff(&text) else { continue };
            if n.normalize(source, &text).is_ok() || std::env::var("MDM_BENCH_MAPPINGS").is_ok() {
                records.push((source, text));
            }
        }
        if records.is_empty() {
            println!("{label:<32} no samples");
            continue;
        }
        // Warm up.
        for (s, r) in records.iter().cycle().take(2_000) {
            let _ = n.run_vrl_only(*s, r);
        }
        let start = Instant::now();
        for (s, r) in records.iter().cycle().take(n_records) {
            std::hint::black_box(n.run_vrl_only(*s, r).ok());
        }
        let vrl = n_records as f64 / start.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut batch = Vec::with_capacity(8192);
        let mut rows = 0;
        for (s, r) in records.iter().cycle().take(n_records) {
            if let Ok(norm) = n.normalize(*s, r) {
                batch.push(norm.event);
            }
            if batch.len() == 8192 {
                rows += events_to_batch(&batch).expect("batch").num_rows();
                batch.clear();
            }
        }
        rows += events_to_batch(&batch).expect("batch").num_rows();
        let full = n_records as f64 / start.elapsed().as_secs_f64();
        if std::env::var("MDM_BENCH_MAPPINGS").is_err() {
            assert_eq!(rows, n_records, "every record normalized");
        }
        println!(
            "{label:<32} {:>8} {:>16.0} {:>18.0}",
            records.len(),
            vrl,
            full
        );
    }
}
