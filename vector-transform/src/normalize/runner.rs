//! Runs the VRL programs: the same text Vector compiles, through the same `vrl` crate.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};
use vrl::compiler::runtime::{Runtime, Terminate};
use vrl::compiler::state::RuntimeState;
use vrl::compiler::{Program, TargetValue, TimeZone, compile};
use vrl::diagnostic::Formatter;
use vrl::value::{Secrets, Value};

use super::{MappingSet, NormalizeConfig, Source, VendorRegistry};
use crate::TransformError;
use crate::internal_events::{MappingAborted, MappingRejected};
use mdm_audit_store::event::{NormalizedEvent, to_micros};

/// A normalized event and the mapping file that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The event.
    pub event: NormalizedEvent,
    /// `<folder>/<mapping>` of the source file that handled the record.
    pub mapping: String,
}

/// Programs compiled in this process, by the SHA-256 of their source text: compiling the mappings
/// costs seconds (VRL's type checker clones type state at every expression), so every normalizer of
/// a process (one per input file in `ingest`, a pool in `serve`) shares one compilation.
type ProgramCache = Mutex<HashMap<[u8; 32], Arc<Vec<Program>>>>;
static COMPILED: LazyLock<ProgramCache> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Compiled programs for every source, and a reusable VRL runtime.
pub struct Normalizer {
    vendors: VendorRegistry,
    programs: Arc<Vec<Program>>,
    timezone: TimeZone,
    runtime: Runtime,
    now: fn() -> DateTime<Utc>,
}

impl std::fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normalizer")
            .field("timezone", &self.timezone)
            .finish_non_exhaustive()
    }
}

impl Normalizer {
    /// Compiles the program of every source from `mappings` (or reuses this process's compilation
    /// of the same text).
    pub fn new(mappings: &MappingSet, config: &NormalizeConfig) -> Result<Self, TransformError> {
        let timezone = parse_timezone(&config.timezone)?;
        let vendors = mappings.vendors().clone();
        let texts: Vec<String> = vendors
            .sources()
            .iter()
            .map(|s| mappings.program_source(*s))
            .collect();
        let key: [u8; 32] = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            for (s, t) in vendors.sources().iter().zip(&texts) {
                h.update(s.name().as_bytes());
                h.update([0]);
                h.update((t.len() as u64).to_be_bytes());
                h.update(t.as_bytes());
            }
            h.finalize().into()
        };
        let cached = COMPILED.lock().ok().and_then(|c| c.get(&key).cloned());
        let programs = match cached {
            Some(p) => p,
            None => {
                let functions = vrl::stdlib::all();
                let mut programs = Vec::with_capacity(texts.len());
                for (source, text) in vendors.sources().iter().zip(&texts) {
                    let result =
                        compile(text, &functions).map_err(|diags| TransformError::VrlCompile {
                            source_name: source.name().to_owned(),
                            diagnostics: format!(
                                "{}\nline numbers above count through the concatenated files:\n{}",
                                Formatter::new(text, diags),
                                line_table(mappings, *source)
                            ),
                        })?;
                    programs.push(result.program);
                }
                let programs = Arc::new(programs);
                if let Ok(mut c) = COMPILED.lock() {
                    c.insert(key, programs.clone());
                }
                programs
            }
        };
        Ok(Self {
            vendors,
            programs,
            timezone,
            runtime: Runtime::new(RuntimeState::default()),
            now: Utc::now,
        })
    }

    /// Builds a normalizer from a config: the mappings directory if one is set, else the embedded files.
    pub fn from_config(config: &NormalizeConfig) -> Result<Self, TransformError> {
        Self::new(&MappingSet::load(config)?, config)
    }

    /// The vendors of the mapping set this normalizer runs: sniffing, framing, `--source` names.
    pub fn vendors(&self) -> &VendorRegistry {
        &self.vendors
    }

    /// Replaces the clock used for `ingest_time` (tests).
    pub fn with_clock(mut self, now: fn() -> DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Normalizes one raw record with `source`'s program. The error is the dead-letter reason.
    pub fn normalize(&mut self, source: Source, record: &str) -> Result<Normalized, String> {
        let mut event = BTreeMap::new();
        event.insert("message".into(), Value::from(record));
        self.run(source, Value::Object(event))
    }

    /// Runs only the VRL program and returns its raw result, without validation (benchmarks compare
    /// this with the full path).
    pub fn run_vrl_only(&mut self, source: Source, record: &str) -> Result<Value, String> {
        let mut event = BTreeMap::new();
        event.insert("message".into(), Value::from(record));
        self.resolve(source, Value::Object(event))
            .map(|target| target.value)
            .map_err(|t| t.to_string())
    }

    /// Runs `source`'s program on one event and returns the target (event and metadata).
    fn resolve(&mut self, source: Source, value: Value) -> Result<TargetValue, Terminate> {
        let mut target = TargetValue {
            value,
            metadata: Value::Object(BTreeMap::new()),
            secrets: Secrets::default(),
        };
        let Some(program) = self.vendors.position(source).map(|i| &self.programs[i]) else {
            return Err(Terminate::Error(
                format!(
                    "no program for source {source}: these mappings have {}",
                    self.vendors.names()
                )
                .into(),
            ));
        };
        let result = self.runtime.resolve(&mut target, program, &self.timezone);
        self.runtime.clear();
        result.map(|_| target)
    }

    /// Normalizes an event that is already a VRL value (e.g. a decoded JSON object).
    pub fn run(&mut self, source: Source, value: Value) -> Result<Normalized, String> {
        let target = self.resolve(source, value).map_err(|terminate| {
            let reason = terminate.to_string();
            MappingAborted {
                source,
                reason: &reason,
            }
            .emit();
            reason
        })?;
        let mapping = target
            .metadata
            .as_object()
            .and_then(|m| m.get("mdm_mapping"))
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut event = super::value::event_from_vrl(target.value).map_err(|reason| {
            let reason = format!("{mapping}: {reason}");
            MappingRejected {
                source,
                reason: &reason,
            }
            .emit();
            reason
        })?;
        event.ingest_time = Some(to_micros((self.now)()));
        Ok(Normalized { event, mapping })
    }
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

/// Parses a TZ database name (or `local`) as Vector's `timezone` option does.
pub fn parse_timezone(name: &str) -> Result<TimeZone, TransformError> {
    TimeZone::parse(name).ok_or_else(|| TransformError::TimeZone(name.to_owned()))
}
