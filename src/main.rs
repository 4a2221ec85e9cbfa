//! `mdm-audit`: the command line. Wiring only: parse arguments, call the libraries, report.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, as Vector uses jemalloc: normalize (VRL) is bound by small short-lived allocations, where
/// mimalloc needs 17-26 % fewer instructions than the system allocator (BENCHMARKS.md, "Normalize throughput").
/// The feature `system-allocator` leaves it out, for heap profilers that hook malloc (heaptrack).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal, not in a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MDM_AUDIT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
