//! Compiling the vendors' VRL programs: only the ones a run needs, several at once, each at most once
//! per process.
//!
//! Compiling is the slow part of a start: VRL 0.33's type checker clones its state at every
//! expression, so one vendor's program takes about half a second in release (Vector pays the same
//! at every start and config reload; vrl-mappings/README.md says how mappings keep it down). A run
//! with `--source jamf` therefore compiles Jamf's program only; `--source auto` compiles every
//! vendor's, one thread per program. Compiled programs are kept
//! for the life of the process by the SHA-256 of their text, so every normalizer of a process (one
//! per input file in `ingest`, a pool in `serve`) shares one compilation, even when they start at
//! the same moment.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use sha2::Digest;
use vrl::compiler::{Program, compile};
use vrl::diagnostic::Formatter;

use super::{MappingSet, Source};
use crate::TransformError;

/// One program's slot: filled once; a thread compiling it holds the lock, so that threads which
/// need the same program at the same time (one reader per input file in `ingest`) wait for that
/// compilation instead of repeating it.
type Slot = Arc<Mutex<Option<Arc<Program>>>>;
static COMPILED: LazyLock<Mutex<HashMap<[u8; 32], Slot>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// One vendor's program and how long this call took to compile it (zero when this process had
/// compiled it already).
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The vendor.
    pub source: Source,
    /// The program.
    pub program: Arc<Program>,
    /// Time spent compiling it in this call.
    pub took: Duration,
}

/// Compiles `sources`' programs from `mappings`, the ones not compiled before in parallel (one
/// thread per program). The first compile error is returned, with the file table to find its line.
pub fn compile_sources(
    mappings: &MappingSet,
    sources: &[Source],
) -> Result<Vec<Compiled>, TransformError> {
    let jobs: Vec<(Source, String, Slot)> = {
        let mut cache = COMPILED.lock().map_err(|_| poisoned())?;
        sources
            .iter()
            .map(|s| {
                let text = mappings.program_source(*s);
                let key: [u8; 32] = sha2::Sha256::digest(text.as_bytes()).into();
                (*s, text, cache.entry(key).or_default().clone())
            })
            .collect()
    };
    let results: Vec<Result<Compiled, TransformError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(source, text, slot)| {
                scope.spawn(move || {
                    let mut slot = slot.lock().map_err(|_| poisoned())?;
                    if let Some(program) = slot.as_ref() {
                        return Ok(Compiled {
                            source: *source,
                            program: program.clone(),
                            took: Duration::ZERO,
                        });
                    }
                    let compiled = compile_one(mappings, *source, text)?;
                    *slot = Some(compiled.program.clone());
                    Ok(compiled)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(TransformError::Internal(
                        "a VRL compile thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    results.into_iter().collect()
}

fn compile_one(
    mappings: &MappingSet,
    source: Source,
    text: &str,
) -> Result<Compiled, TransformError> {
    let started = Instant::now();
    let functions = vrl::stdlib::all();
    let result = compile(text, &functions).map_err(|diags| TransformError::VrlCompile {
        source_name: source.name().to_owned(),
        diagnostics: format!(
            "{}\nline numbers above count through the concatenated files:\n{}",
            Formatter::new(text, diags),
            line_table(mappings, source)
        ),
    })?;
    let took = started.elapsed();
    tracing::debug!(
        source = source.name(),
        millis = took.as_millis() as u64,
        "compiled the VRL program"
    );
    Ok(Compiled {
        source,
        program: Arc::new(result.program),
        took,
    })
}

fn poisoned() -> TransformError {
    TransformError::Internal("the compiled-program cache is poisoned".into())
}

/// "first-last  path" for each file of the program, to find a diagnostic's file.
fn line_table(mappings: &MappingSet, source: Source) -> String {
    let mut out = String::new();
    let mut first = 1;
    for path in mappings.program_files(source) {
        let content = mappings.get(path).unwrap_or_default();
        let lines = content.lines().count().max(1);
        out.push_str(&format!("  {first:>5}-{:<5} {path}\n", first + lines - 1));
        first += lines;
    }
    out
}
