//! The generation loop: every stream of ordinary activity and every planted scenario is a process with
//! a next-event time; a binary heap holds one entry per process, so records come out in time order
//! across all feeds while memory stays bounded by the number of processes (fixed by the fleet and the
//! scenario sizes), never by `--events`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::config::{GenerateConfig, ScenarioKind};
use super::engine::Engine;
use super::feeds::{Feed, FeedSink};
use super::fleet::{Fleet, Needs};
use super::ground_truth::{GroundTruth, GtFeed, GtOptions};
use super::noise::{self, NoiseStream};
use super::scenarios::{self, ScenarioRun, rfc3339};
use crate::GenerateError;
use crate::error::EstateGenerated;

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct GenerateReport {
    /// Records per feed (in [`Feed::ALL`] order).
    pub records: [u64; Feed::ALL.len()],
    /// Records in total.
    pub total: u64,
    /// The ground truth (scenarios with their record indices).
    pub ground_truth: GroundTruth,
}

impl GenerateReport {
    /// Records of one feed.
    pub fn feed(&self, feed: Feed) -> u64 {
        self.records[feed.index()]
    }
}

enum Process {
    Noise(NoiseStream),
    Scenario(ScenarioRun),
}

impl Process {
    fn next(&self) -> Option<i64> {
        match self {
            Process::Noise(n) => n.next,
            Process::Scenario(s) => s.next(),
        }
    }

    fn step(&mut self, eng: &mut Engine<'_>) -> Result<(), GenerateError> {
        match self {
            Process::Noise(n) => n.step(eng),
            Process::Scenario(s) => s.step(eng),
        }
    }
}

/// An estate planned and checked (fleet built, scenarios placed, noise budget split), not yet written:
/// every option problem shows here, before any output is created.
pub struct Prepared {
    config: GenerateConfig,
    fleet: Fleet,
    scenarios: Vec<ScenarioRun>,
    noise: Vec<NoiseStream>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("records", &self.records())
            .finish_non_exhaustive()
    }
}

/// Plans the estate for `config`; the error names the option to change.
pub fn prepare(config: &GenerateConfig) -> Result<Prepared, GenerateError> {
    config.validate()?;
    let needs = Needs {
        finance_intune: if config
            .scenarios
            .contains(ScenarioKind::FinanceBaselineRollout)
        {
            config.sizes.rollout_devices
        } else {
            0
        },
    };
    let mut fleet = Fleet::build(config, needs);
    let scenarios = scenarios::plan(&mut fleet, config)?;
    let scenario_records: u64 = scenarios.iter().map(ScenarioRun::records).sum();
    if scenario_records > config.events {
        tracing::warn!(
            events = config.events,
            scenario_records,
            "--events is smaller than the planted scenarios: the estate holds only their records"
        );
    }
    let budget = config.events.saturating_sub(scenario_records);
    let noise = noise::plan(&fleet, config.seed, config.start, config.days, budget);
    Ok(Prepared {
        config: config.clone(),
        fleet,
        scenarios,
        noise,
    })
}

/// Generates the estate described by `config` into `sink` ([`prepare`], then [`Prepared::generate`]).
pub fn generate(
    config: &GenerateConfig,
    sink: &mut dyn FeedSink,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<GenerateReport, GenerateError> {
    prepare(config)?.generate(sink, progress)
}

impl Prepared {
    /// Writes the estate's directory files (people and devices, for entity resolution) into `dir`.
    pub fn write_directory(&self, dir: &std::path::Path) -> Result<(), GenerateError> {
        super::directory::write(&self.fleet, dir)
    }

    /// Records the estate will hold.
    pub fn records(&self) -> u64 {
        self.scenarios.iter().map(ScenarioRun::records).sum::<u64>()
            + self.noise.iter().map(|n| n.records).sum::<u64>()
    }

    /// Writes the estate into `sink`. `progress(written, planned)` is called once before the first
    /// record, every 65,536 records and at the end.
    pub fn generate(
        self,
        sink: &mut dyn FeedSink,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<GenerateReport, GenerateError> {
        let started = Instant::now();
        let planned = self.records();
        let Prepared {
            config,
            fleet,
            scenarios,
            noise,
        } = self;
        let config = &config;
        let scenario_records: u64 = scenarios.iter().map(ScenarioRun::records).sum();

        let mut procs: Vec<Process> = scenarios
            .into_iter()
            .map(Process::Scenario)
            .chain(noise.into_iter().map(Process::Noise))
            .collect();
        let mut heap: BinaryHeap<Reverse<(i64, usize)>> = procs
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.next().map(|t| Reverse((t, i))))
            .collect();
        let mut eng = Engine::new(fleet, sink);
        progress(0, planned);
        let mut next_report = 1u64 << 16;
        while let Some(Reverse((_, i))) = heap.pop() {
            procs[i].step(&mut eng)?;
            if let Some(t) = procs[i].next() {
                heap.push(Reverse((t, i)));
            }
            if eng.written >= next_report {
                progress(eng.written, planned);
                next_report = eng.written + (1 << 16);
            }
        }
        eng.finish()?;
        progress(eng.written, planned);
        if eng.written != planned {
            return Err(GenerateError::Internal(format!(
                "generator planned {planned} records but wrote {}",
                eng.written
            )));
        }

        let scenarios: Vec<_> = procs
            .into_iter()
            .filter_map(|p| match p {
                Process::Scenario(s) => Some(s.truth),
                Process::Noise(_) => None,
            })
            .collect();
        let records = eng.counts;
        let total = eng.written;
        EstateGenerated {
            records: total,
            scenarios: scenarios.len(),
            seconds: started.elapsed().as_secs_f64(),
        }
        .emit();
        let ground_truth = GroundTruth {
            format_version: 1,
            options: GtOptions {
                seed: config.seed,
                events: config.events,
                days: config.days,
                start: rfc3339(config.start),
                devices: config.devices,
                scenarios: config
                    .scenarios
                    .0
                    .iter()
                    .map(|k| k.name().to_owned())
                    .collect(),
                wipe_count: config.sizes.wipe_count,
                bulk_delete_count: config.sizes.bulk_delete_count,
                rollout_devices: config.sizes.rollout_devices,
                rollout_fail_pct: config.sizes.rollout_fail_pct,
            },
            zoneless_timestamps_zone: "UTC".into(),
            records_total: total,
            noise_records: total - scenario_records,
            scenario_records,
            feeds: Feed::ALL
                .iter()
                .map(|f| GtFeed {
                    feed: f.name().to_owned(),
                    file: f.file_name().to_owned(),
                    vendor: f.vendor().to_owned(),
                    format: f.description().to_owned(),
                    records: records[f.index()],
                })
                .collect(),
            scenarios,
        };
        Ok(GenerateReport {
            records,
            total,
            ground_truth,
        })
    }
}
