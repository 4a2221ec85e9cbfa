//! `mdm-audit generate`: a seeded, realistic MDM estate in the vendors' wire formats, one file per
//! feed (or every feed interleaved on stdout), with planted incidents and `ground_truth.json`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mdm_audit_generate::{
    self as generate, DirSink, Feed, FeedSink, GROUND_TRUTH_FILE, GenerateConfig, GenerateReport,
    ScenarioSelection, ScenarioSizes, StreamSink,
};

use super::CliError;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Seed of every random choice: the same seed and options give byte-identical output.
    #[arg(long, default_value_t = generate::default_seed())]
    seed: u64,
    /// Records to write in total, across all feeds, planted scenarios included.
    #[arg(long, default_value_t = generate::default_events())]
    events: u64,
    /// Days of activity to simulate.
    #[arg(long, default_value_t = generate::default_days())]
    days: u32,
    /// First day of the period (UTC), YYYY-MM-DD.
    #[arg(long, default_value = "2026-03-02", value_parser = parse_start, value_name = "DATE")]
    start: i64,
    /// Managed devices in the fleet (Jamf Pro, Intune and Workspace ONE together).
    #[arg(long, default_value_t = generate::default_devices())]
    devices: u32,
    /// Directory for one file per feed and ground_truth.json (created if missing).
    #[arg(long, default_value = "out/estate", value_name = "DIR")]
    out: PathBuf,
    /// Write every feed interleaved in time order to stdout, one record per line, instead of files.
    #[arg(long)]
    stdout: bool,
    /// Where to write the ground truth (default: ground_truth.json in --out; with --stdout, none).
    #[arg(long, value_name = "FILE")]
    ground_truth: Option<PathBuf>,
    /// Where to write the directory files for entity resolution (people.csv, devices.csv; default:
    /// directory/ in --out; with --stdout, none).
    #[arg(long, value_name = "DIR")]
    directory: Option<PathBuf>,
    /// Scenarios to plant: all, none, or a comma-separated list of compromised_admin_mass_wipe,
    /// exec_phone_unlock, filevault_key_read_off_hours, finance_baseline_rollout, api_bulk_delete,
    /// partner_compliance_change, device_lifecycle.
    #[arg(long, default_value = "all", value_name = "LIST")]
    scenarios: ScenarioSelection,
    /// Devices the compromised admin wipes.
    #[arg(long, default_value_t = ScenarioSizes::default().wipe_count)]
    wipe_count: u32,
    /// Records the API client deletes.
    #[arg(long, default_value_t = ScenarioSizes::default().bulk_delete_count)]
    bulk_delete_count: u32,
    /// Finance devices the baseline is rolled out to.
    #[arg(long, default_value_t = ScenarioSizes::default().rollout_devices)]
    rollout_devices: u32,
    /// Percentage of rollout devices that fail encryption.
    #[arg(long, default_value_t = ScenarioSizes::default().rollout_fail_pct)]
    rollout_fail_pct: u32,
}

fn parse_start(s: &str) -> Result<i64, String> {
    generate::parse_date(s).ok_or_else(|| format!("{s:?} is not a date: use YYYY-MM-DD"))
}

impl GenerateArgs {
    fn config(&self) -> GenerateConfig {
        GenerateConfig {
            seed: self.seed,
            events: self.events,
            days: self.days,
            start: self.start,
            devices: self.devices,
            scenarios: self.scenarios.clone(),
            sizes: ScenarioSizes {
                wipe_count: self.wipe_count,
                bulk_delete_count: self.bulk_delete_count,
                rollout_devices: self.rollout_devices,
                rollout_fail_pct: self.rollout_fail_pct,
            },
        }
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "generate [{bar:30}] {human_pos}/{human_len} records {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

pub fn run(args: GenerateArgs) -> Result<ExitCode, CliError> {
    // Plan first: every option problem shows before any file is created.
    let estate = generate::prepare(&args.config())?;
    let bar = progress_bar();
    let mut progress = |done: u64, planned: u64| {
        bar.set_length(planned);
        bar.set_position(done);
    };
    let started = Instant::now();
    let directory = match (&args.directory, args.stdout) {
        (Some(d), _) => Some(d.clone()),
        (None, false) => Some(args.out.join(generate::DIRECTORY_DIR)),
        (None, true) => None,
    };
    if let Some(d) = &directory {
        estate.write_directory(d)?;
    }
    let (report, outputs, truth_path) = if args.stdout {
        let stdout = std::io::stdout();
        let mut sink = StreamSink::new(stdout.lock(), "stdout");
        let report = estate.generate(&mut sink, &mut progress)?;
        drop(sink.into_inner()?);
        (report, "stdout".to_owned(), args.ground_truth.clone())
    } else {
        let mut sink = DirSink::create(&args.out)?;
        let report = estate.generate(&mut sink, &mut progress)?;
        sink.finish()?;
        let truth = args
            .ground_truth
            .clone()
            .unwrap_or_else(|| args.out.join(GROUND_TRUTH_FILE));
        (report, args.out.display().to_string(), Some(truth))
    };
    bar.finish_and_clear();
    if let Some(path) = &truth_path {
        report.ground_truth.write(path)?;
    }
    eprintln!(
        "{}",
        summary(&report, started, &outputs, truth_path.as_ref())
    );
    Ok(ExitCode::SUCCESS)
}

fn summary(
    report: &GenerateReport,
    started: Instant,
    outputs: &str,
    truth: Option<&PathBuf>,
) -> String {
    let secs = started.elapsed().as_secs_f64();
    let feeds: Vec<String> = Feed::ALL
        .iter()
        .map(|f| format!("{} {}", f.name(), report.feed(*f)))
        .collect();
    let gt = &report.ground_truth;
    let scenarios: Vec<String> = gt
        .scenarios
        .iter()
        .map(|s| format!("{} {} ({} records)", s.id, s.kind, s.records.len()))
        .collect();
    format!(
        "generate: {} records in {:.2} s ({:.0} records/s): {}; {} scenarios planted{}{} ({} scenario records, {} noise); output: {outputs}{}",
        report.total,
        secs,
        report.total as f64 / secs.max(1e-9),
        feeds.join(", "),
        scenarios.len(),
        if scenarios.is_empty() { "" } else { ": " },
        scenarios.join(", "),
        gt.scenario_records,
        gt.noise_records,
        match truth {
            Some(p) => format!("; ground truth: {}", p.display()),
            None => "; ground truth not written (use --ground-truth FILE)".to_owned(),
        }
    )
}
