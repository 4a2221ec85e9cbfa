//! `mdm-audit`: the command line. Wiring only: parse arguments, call the libraries, report.

mod cli;
#[cfg(all(not(feature = "system-allocator"), target_os = "linux"))]
mod mimalloc_options;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, as Vector uses jemalloc: normalize (VRL) is bound by small short-lived allocations, where
/// mimalloc needs 17-26 % fewer instructions than the system allocator (BENCHMARKS.md, "Normalize throughput").
/// The feature `system-allocator` leaves it out, for heap profilers that hook malloc (heaptrack).
/// On Linux its options are set before `main` (`mimalloc_options`), so that a long run's resident
/// memory stays near what it uses.
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

#[cfg(all(test, not(feature = "system-allocator"), target_os = "linux"))]
mod tests {
    use super::mimalloc_options::{OPTIONS, describe};

    /// The constructor ran before the first allocation, and the option numbers are the ones
    /// mimalloc names as intended (its own listing, not our constants, says which is which).
    #[test]
    fn mimalloc_options_are_set_before_main() {
        let listing = describe();
        assert!(listing.contains("option 'purge_delay'"), "{listing}");
        for (expected, (_, env, value)) in
            ["option 'arena_eager_commit': ", "option 'purge_delay': "]
                .into_iter()
                .zip(OPTIONS)
        {
            let env = env.to_str().expect("ASCII");
            let want = std::env::var(env).unwrap_or_else(|_| value.to_string());
            assert!(
                listing.contains(&format!("{expected}{want} ")),
                "{expected}{want} not in mimalloc's listing:\n{listing}"
            );
        }
    }
}
