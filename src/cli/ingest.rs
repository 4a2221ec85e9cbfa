//! `mdm-audit ingest`: normalize files and store them in one go.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mdm_audit_store::{WriterOptions, default_writer_id};
use mdm_audit_transform::ingest::{self, IngestConfig, Input};

use super::correlate_args::CorrelateArgs;
use super::store_args::{SigningArgs, StoreArgs, runtime};
use super::{CliError, MappingArgs};

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// This writer's chain id; each process that writes a store needs its own.
    #[arg(long, env = "MDM_AUDIT_WRITER_ID", value_name = "ID")]
    writer_id: Option<String>,
    #[command(flatten)]
    signing: SigningArgs,
    /// Which feed raw records are: auto recognizes each record by its shape (normalized events,
    /// as `mdm-audit normalize` writes them, are always recognized); else a vendor's name (jamf,
    /// intune, ws1, or one that --mappings adds).
    #[arg(long, default_value = "auto")]
    source: String,
    /// Events per commit (each commit writes one Parquet file per day it covers).
    #[arg(long, default_value_t = ingest::DEFAULT_COMMIT_EVENTS, value_name = "N")]
    commit_events: usize,
    /// How far (in events) a file may be out of time order; events are merged across files by time.
    #[arg(long, default_value_t = ingest::DEFAULT_REORDER_WINDOW, value_name = "N")]
    reorder_window: usize,
    /// Threads that run the VRL mappings, shared by all input files (default: one per core).
    /// Events keep their order whatever the number.
    #[arg(long, env = "MDM_AUDIT_THREADS", value_name = "N")]
    threads: Option<usize>,
    /// Skip fsync of data files and commits (faster; a power cut may lose the last commits).
    #[arg(long)]
    no_fsync: bool,
    /// Exit with status 3 if any record was dead-lettered.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    mapping: MappingArgs,
    #[command(flatten)]
    correlate: CorrelateArgs,
    /// Input files (vendor records or normalized NDJSON); `-` reads stdin.
    #[arg(value_name = "FILE", required = true)]
    inputs: Vec<PathBuf>,
}

pub fn run(args: IngestArgs) -> Result<ExitCode, CliError> {
    if args.commit_events == 0 {
        return Err(CliError::Usage("--commit-events must be at least 1".into()));
    }
    let location = args.store.location()?;
    let inputs: Vec<Input> = args
        .inputs
        .iter()
        .map(|p| Input::parse(p.as_os_str()))
        .collect();
    let mut total = 0u64;
    for i in &inputs {
        if let Input::File(p) = i {
            let meta = std::fs::metadata(p)
                .map_err(|e| CliError::Usage(format!("cannot read input {}: {e}", p.display())))?;
            total += meta.len();
        }
    }
    let mut writer = WriterOptions::new(args.writer_id.clone().unwrap_or_else(default_writer_id));
    writer.fsync = !args.no_fsync;
    writer.signer = args.signing.signer()?;
    let config = IngestConfig {
        normalize: args.mapping.config(),
        source: args.mapping.source_choice(&args.source)?,
        writer,
        commit_events: args.commit_events,
        reorder_window: args.reorder_window.max(1),
        workers: match args.threads {
            Some(0) => return Err(CliError::Usage("--threads must be at least 1".into())),
            Some(n) => n,
            None => ingest::default_workers(),
        },
    };
    let bar = (std::io::stderr().is_terminal() && total > 4 << 20).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "ingest [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    // Option problems (directory, hours, zone) show before anything is read.
    args.correlate.config()?;
    let started = std::time::Instant::now();
    let rt = runtime()?;
    let stage = rt.block_on(args.correlate.stage(&location))?;
    let summary = rt.block_on(ingest::ingest(&location, inputs, config, stage, &|pos| {
        if let Some(b) = &bar {
            b.set_position(pos);
        }
    }))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "ingest: {} into {} in {secs:.1} s",
        summary.line(),
        location.display()
    );
    if args.strict && summary.store.dead_lettered + summary.store.dead_letter_duplicates > 0 {
        return Ok(ExitCode::from(super::normalize::EXIT_DEAD_LETTERS));
    }
    Ok(ExitCode::SUCCESS)
}
