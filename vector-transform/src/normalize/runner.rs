//! Runs the VRL programs: the same text Vector compiles, through the same `vrl` crate.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use vrl::compiler::runtime::{Runtime, Terminate};
use vrl::compiler::state::RuntimeState;
use vrl::compiler::{Program, TargetValue, TimeZone};
use vrl::value::{Secrets, Value};

use super::compile::compile_sources;
use super::{MappingSet, NormalizeConfig, Source, SourceChoice, VendorRegistry};
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

/// Compiled programs for the sources a run needs, and a reusable VRL runtime.
pub struct Normalizer {
    mappings: Arc<MappingSet>,
    vendors: VendorRegistry,
    /// By vendor position; `None` until a record of that vendor needs it.
    programs: Vec<Option<Arc<Program>>>,
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
    /// Compiles the program of every source from `mappings` (in parallel, or reuses this process's
    /// compilation of the same text).
    pub fn new(mappings: &MappingSet, config: &NormalizeConfig) -> Result<Self, TransformError> {
        Self::for_choice(mappings, config, SourceChoice::Auto)
    }

    /// Compiles the programs `choice` needs up front: one vendor's for `Fixed`, every vendor's
    /// for `Auto`. A record of a vendor not compiled yet compiles its program on first use.
    pub fn for_choice(
        mappings: &MappingSet,
        config: &NormalizeConfig,
        choice: SourceChoice,
    ) -> Result<Self, TransformError> {
        let timezone = parse_timezone(&config.timezone)?;
        let vendors = mappings.vendors().clone();
        let wanted: Vec<Source> = match choice {
            SourceChoice::Fixed(s) => vec![s],
            SourceChoice::Auto => vendors.sources().to_vec(),
        };
        let mut programs = vec![None; vendors.sources().len()];
        for compiled in compile_sources(mappings, &wanted)? {
            if let Some(i) = vendors.position(compiled.source) {
                programs[i] = Some(compiled.program);
            }
        }
        Ok(Self {
            mappings: Arc::new(mappings.clone()),
            vendors,
            programs,
            timezone,
            runtime: Runtime::new(RuntimeState::default()),
            now: Utc::now,
        })
    }

    /// [`Self::for_choice`] on the mapping set a config names.
    pub fn from_config_for(
        config: &NormalizeConfig,
        choice: SourceChoice,
    ) -> Result<Self, TransformError> {
        Self::for_choice(&MappingSet::load(config)?, config, choice)
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
        let Some(i) = self.vendors.position(source) else {
            return Err(Terminate::Error(
                format!(
                    "no program for source {source}: these mappings have {}",
                    self.vendors.names()
                )
                .into(),
            ));
        };
        let program = match &self.programs[i] {
            Some(p) => p.clone(),
            None => {
                let compiled = compile_sources(&self.mappings, &[source])
                    .map_err(|e| Terminate::Error(e.to_string().into()))?;
                let p = compiled[0].program.clone();
                self.programs[i] = Some(p.clone());
                p
            }
        };
        let result = self.runtime.resolve(&mut target, &program, &self.timezone);
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

/// Parses a TZ database name (or `local`) as Vector's `timezone` option does.
pub fn parse_timezone(name: &str) -> Result<TimeZone, TransformError> {
    TimeZone::parse(name).ok_or_else(|| TransformError::TimeZone(name.to_owned()))
}
