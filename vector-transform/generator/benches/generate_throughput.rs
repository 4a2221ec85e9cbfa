//! Generator throughput on one core (issue 3 target: at least 200,000 records/s, release profile) and
//! peak memory, which must not grow with the number of records.
//!
//! `cargo bench -p mdm-audit-generate --bench generate_throughput`. Two runs per invocation: records
//! formatted into a discarding sink (the generator alone), then written to one file per feed in a
//! temporary directory (what `mdm-audit generate --out` does). Environment:
//! `MDM_BENCH_N` records (default 2,000,000), `MDM_BENCH_DAYS` (30), `MDM_BENCH_DEVICES` (1,500),
//! `MDM_BENCH_SEED` (1), `MDM_BENCH_MODE` = `null` | `files` | `both` (default both). Peak RSS is the
//! process's VmHWM after each run (run once with `MDM_BENCH_N=100000` and once with 2,000,000 to see
//! that it stays flat). Results go to BENCHMARKS.md by hand, with the machine.
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::time::Instant;

use mdm_audit_generate::{self as generate, DirSink, FeedSink, GenerateConfig, NullSink};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn print_row(label: &str, records: u64, secs: f64, bytes: u64) {
    println!(
        "{label:<20} {records:>11} {secs:>9.2} {:>13.0} {:>10.1} {:>13}",
        records as f64 / secs,
        bytes as f64 / secs / 1e6,
        peak_rss_mib().map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1}")),
    );
}

fn main() {
    let config = GenerateConfig {
        seed: env("MDM_BENCH_SEED", 1),
        events: env("MDM_BENCH_N", 2_000_000),
        days: env("MDM_BENCH_DAYS", 30),
        devices: env("MDM_BENCH_DEVICES", 1_500),
        ..GenerateConfig::default()
    };
    let mode = std::env::var("MDM_BENCH_MODE").unwrap_or_else(|_| "both".into());
    println!(
        "{:<20} {:>11} {:>9} {:>13} {:>10} {:>13}",
        "sink", "records", "seconds", "records/s", "MB/s", "peak RSS MiB"
    );
    if mode == "null" || mode == "both" {
        let mut sink = NullSink::default();
        let started = Instant::now();
        let report = generate::generate(&config, &mut sink, &mut |_, _| {}).expect("generate");
        print_row(
            "null (format only)",
            report.total,
            started.elapsed().as_secs_f64(),
            sink.bytes,
        );
    }
    if mode == "files" || mode == "both" {
        let dir = tempfile::tempdir().expect("tempdir");
        let started = Instant::now();
        let mut sink = DirSink::create(dir.path()).expect("create feed files");
        let report = generate::generate(&config, &mut sink, &mut |_, _| {}).expect("generate");
        sink.finish().expect("flush");
        let secs = started.elapsed().as_secs_f64();
        let bytes = std::fs::read_dir(dir.path())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        print_row("files (BufWriter)", report.total, secs, bytes);
    }
}
