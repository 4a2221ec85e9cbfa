//! How long each vendor's VRL program takes to compile, as Vector's remap compiles it (the
//! concatenated files, `vrl::compiler::compile` with the whole stdlib), and how long a start that
//! needs every vendor (`--source auto`) waits when the programs compile in parallel.
//!
//! `cargo bench -p mdm-audit-transform --bench compile_time` (release profile). Results go to
//! BENCHMARKS.md by hand, with the machine. `MDM_BENCH_MAPPINGS=DIR` times an edited copy.
#![allow(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::path::Path;
use std::time::Instant;

use mdm_audit_transform::MappingSet;
use mdm_audit_transform::normalize::compile_sources;

/// Compiles per program, to take the best of (the machine may be busy).
const ROUNDS: usize = 3;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vrl-mappings");
    let dir = std::env::var("MDM_BENCH_MAPPINGS").map_or_else(|_| root, Into::into);
    let mappings = MappingSet::from_dir(&dir).expect("mappings");
    let sources = mappings.vendors().sources().to_vec();

    // First, while the process's cache is empty: every vendor at once, as `--source auto` starts.
    let started = Instant::now();
    let compiled = compile_sources(&mappings, &sources).expect("compiles");
    let parallel = started.elapsed();
    println!(
        "all {} programs, one thread each: {:.3} s wall on {} cores",
        compiled.len(),
        parallel.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    println!(
        "{:<10} {:>7} {:>9} {:>12}",
        "source", "files", "lines", "compile s"
    );
    let functions = vrl::stdlib::all();
    for source in sources {
        let text = mappings.program_source(source);
        let best = (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                vrl::compiler::compile(&text, &functions).expect("compiles");
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{:<10} {:>7} {:>9} {:>12.3}",
            source.name(),
            mappings.program_files(source).len(),
            text.lines().count(),
            best
        );
    }
}
