//! `mdm-audit demo`: the quick-start job. It needs nothing but this binary: it generates an estate
//! with planted incidents (or reads the given files), normalizes it with the built-in VRL mappings,
//! stores it in a fresh Delta store, verifies the hash chains, and prints the risk it found, read
//! back from the store with DataFusion.
#![allow(
    clippy::print_stdout,
    reason = "the demo report is the command's output on stdout"
)]

use mdm_audit_narrative::store_tables;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mdm_audit_generate::{self as generate, DirSink, FeedSink, GROUND_TRUTH_FILE, GenerateConfig};
use mdm_audit_store::{
    HeadSigner, StoreLocation, TrustedKeys, VerifyReport, WriterOptions, verify_store,
};
use mdm_audit_transform::TransformError;
use mdm_audit_transform::ingest::{self, IngestConfig, IngestSummary, Input};

use super::correlate_args::CorrelateArgs;
use super::store_args::runtime;
use super::{CliError, MappingArgs};

/// Records the demo estate holds by default: big enough for every planted incident to stand out
/// of a month of ordinary activity, small enough to run in well under a minute.
pub const DEMO_EVENTS: u64 = 20_000;
/// Devices in the demo fleet.
pub const DEMO_DEVICES: u32 = 300;
/// The file in `--out` that marks a directory as the demo's own (so a re-run may replace it).
const MARKER: &str = ".mdm-audit-demo";
/// The demo's evidence report, in `--out`.
pub const REPORT_FILE: &str = "report.html";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for everything the demo writes (the estate, the store, the report). A re-run
    /// replaces what an earlier demo wrote there; any other non-empty directory is refused.
    #[arg(long, default_value = "out/demo", value_name = "DIR")]
    out: PathBuf,
    /// Records to generate.
    #[arg(long, default_value_t = DEMO_EVENTS, value_name = "N")]
    events: u64,
    /// Seed of the generated estate.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Days of activity to generate.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Devices in the generated fleet.
    #[arg(long, default_value_t = DEMO_DEVICES)]
    devices: u32,
    #[command(flatten)]
    mapping: MappingArgs,
    #[command(flatten)]
    correlate: CorrelateArgs,
    /// Vendor files to use instead of a generated estate (as `mdm-audit ingest` takes them).
    #[arg(value_name = "FILE")]
    inputs: Vec<PathBuf>,
}

/// What the demo did, for the summary.
struct Outcome {
    ingest: IngestSummary,
    verify: VerifyReport,
    store: PathBuf,
}

fn step(n: u32, what: &str) {
    eprintln!("demo [{n}/4] {what}");
}

fn spinner(template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Makes `out` ready: creates it, or clears what an earlier demo wrote; refuses anything else.
fn prepare_out(out: &Path) -> Result<(), CliError> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| TransformError::io(format!("reading {}", out.display()), e))?
            .next()
            .is_none();
        if !empty && !out.join(MARKER).exists() {
            return Err(CliError::Usage(format!(
                "{} exists and was not written by `mdm-audit demo`: choose another --out",
                out.display()
            )));
        }
        for sub in ["estate", "store", "keys"] {
            let p = out.join(sub);
            if p.exists() {
                std::fs::remove_dir_all(&p)
                    .map_err(|e| TransformError::io(format!("clearing {}", p.display()), e))?;
            }
        }
    }
    std::fs::create_dir_all(out)
        .map_err(|e| TransformError::io(format!("creating {}", out.display()), e))?;
    std::fs::write(
        out.join(MARKER),
        "written by mdm-audit demo; a re-run replaces this directory's estate/, store/, keys/ and report\n",
    )
    .map_err(|e| TransformError::io(format!("writing {}", out.display()), e))?;
    Ok(())
}

/// The demo writer's signing key: a new one, written to `<out>/keys/` (private key readable by its
/// owner only, public key beside it) so that the signed chain heads can be checked again later.
fn demo_key(out: &Path) -> Result<Arc<HeadSigner>, CliError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = out.join("keys");
    std::fs::create_dir_all(&dir)
        .map_err(|e| TransformError::io(format!("creating {}", dir.display()), e))?;
    let signer = HeadSigner::generate();
    let private = dir.join("demo-writer.pem");
    std::fs::write(&private, signer.private_pem()?)
        .and_then(|()| std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)))
        .map_err(|e| TransformError::io(format!("writing {}", private.display()), e))?;
    let public = dir.join("demo-writer.pem.pub");
    std::fs::write(&public, signer.public_pem()?)
        .map_err(|e| TransformError::io(format!("writing {}", public.display()), e))?;
    Ok(Arc::new(signer))
}

/// Generates the estate into `dir`; returns its feed files.
fn generate_estate(args: &DemoArgs, dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let config = GenerateConfig {
        seed: args.seed,
        events: args.events,
        days: args.days,
        devices: args.devices,
        ..GenerateConfig::default()
    };
    let estate = generate::prepare(&config)?;
    estate.write_directory(&dir.join(generate::DIRECTORY_DIR))?;
    let bar = spinner("generate [{bar:30}] {human_pos}/{human_len} records");
    let mut sink = DirSink::create(dir)?;
    let report = estate.generate(&mut sink, &mut |done, planned| {
        bar.set_length(planned);
        bar.set_position(done);
    })?;
    sink.finish()?;
    bar.finish_and_clear();
    report.ground_truth.write(&dir.join(GROUND_TRUTH_FILE))?;
    eprintln!(
        "  {} records, {} planted incidents ({})",
        report.total,
        report.ground_truth.scenarios.len(),
        report
            .ground_truth
            .scenarios
            .iter()
            .map(|s| s.kind.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(report
        .ground_truth
        .feeds
        .iter()
        .filter(|f| f.records > 0)
        .map(|f| dir.join(&f.file))
        .collect())
}

pub fn run(mut args: DemoArgs) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    args.correlate.config()?;
    prepare_out(&args.out)?;
    let inputs = if args.inputs.is_empty() {
        step(
            1,
            "generating an MDM estate (Jamf Pro, Intune, Workspace ONE) with planted incidents",
        );
        let estate = args.out.join("estate");
        let files = generate_estate(&args, &estate)?;
        if args.correlate.directory.is_none() {
            args.correlate.directory = Some(estate.join(generate::DIRECTORY_DIR));
        }
        files
    } else {
        step(1, "reading the given files");
        for p in &args.inputs {
            if !p.is_file() {
                return Err(CliError::Usage(format!(
                    "cannot read input {}",
                    p.display()
                )));
            }
        }
        args.inputs.clone()
    };
    let store = args.out.join("store");
    let location = StoreLocation::parse(&store.display().to_string(), Default::default())?;
    let rt = runtime()?;

    step(
        2,
        "normalizing (VRL), resolving people and devices, correlating episodes, storing in a hash-chained Delta store",
    );
    let total: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = spinner("ingest [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}");
    bar.set_length(total);
    let mut config = IngestConfig::new("demo");
    config.normalize = args.mapping.config();
    let signer = demo_key(&args.out)?;
    config.writer = WriterOptions::new("demo").with_signer(Some(signer.clone()));
    let summary = rt.block_on(ingest::ingest(
        &location,
        inputs.iter().map(|p| Input::File(p.clone())).collect(),
        config,
        rt.block_on(args.correlate.stage(&location))?,
        &|pos| bar.set_position(pos),
    ))?;
    bar.finish_and_clear();
    eprintln!("  {}", summary.line());

    step(3, "verifying every hash chain from the files on disk");
    let trusted = TrustedKeys::from_pem(&signer.public_pem()?, "the demo's key")?;
    let verify = rt.block_on(verify_store(
        &location,
        &store_tables(),
        Some(&trusted),
        &|_, _| {},
    ))?;
    let found = rt.block_on(risk_found(&location))?;
    step(4, "writing the evidence report");
    let report = args.out.join(REPORT_FILE);
    let html = rt.block_on(mdm_audit_narrative::report::demo::demo_html(
        &location, &verify,
    ))?;
    std::fs::write(&report, html)
        .map_err(|e| TransformError::io(format!("writing {}", report.display()), e))?;
    let outcome = Outcome {
        ingest: summary,
        verify,
        store,
    };
    print_summary(&outcome, started.elapsed().as_secs_f64());
    print!("{found}");
    println!("\nReport: {}", report.display());
    Ok(if outcome.verify.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::verify::EXIT_BROKEN)
    })
}

/// The risk in the store, as the analyst's first queries would show it: events per risk level and
/// the riskiest events.
async fn risk_found(location: &StoreLocation) -> Result<String, CliError> {
    use std::fmt::Write;
    let ctx = datafusion::prelude::SessionContext::new();
    let tables = mdm_audit_store::register_tables(location, &store_tables(), &ctx).await?;
    let mut text = String::new();
    let queries = [
        (
            "Events per risk level:",
            "SELECT risk_level, COUNT(*) AS events, MAX(risk_score) AS top_score FROM events \
             GROUP BY risk_level ORDER BY top_score DESC",
        ),
        (
            "Episodes per kind:",
            "SELECT episode_kind, COUNT(DISTINCT episode_id) AS episodes, MAX(max_risk_score) AS top_score \
             FROM episodes GROUP BY episode_kind ORDER BY top_score DESC, episode_kind",
        ),
        (
            "Bulk-destructive and policy-rollout episodes:",
            "SELECT first_time, episode_kind, reason FROM (SELECT *, row_number() OVER \
             (PARTITION BY episode_id ORDER BY updated_time DESC, chain_seq DESC) AS rn FROM episodes) \
             WHERE rn = 1 AND episode_kind IN ('bulk_destructive', 'policy_rollout') \
             ORDER BY first_time LIMIT 12",
        ),
        (
            "Highest-risk events:",
            "SELECT risk_score, time, product, message FROM events WHERE risk_score > 0 \
             ORDER BY risk_score DESC, time LIMIT 12",
        ),
    ];
    for (title, sql) in queries {
        if sql.contains("FROM episodes") && !tables.iter().any(|t| t == "episodes") {
            continue;
        }
        let (_, found) = mdm_audit_narrative::report::sql_rows(&ctx, sql).await?;
        let _ = writeln!(text, "\n{title}");
        for cells in found {
            let _ = writeln!(text, "  {}", cells.join("  "));
        }
    }
    Ok(text)
}

fn print_summary(o: &Outcome, secs: f64) {
    println!(
        "mdm-audit demo: {} events stored ({} duplicates skipped, {} dead-lettered) in {secs:.1} s",
        o.ingest.store.stored, o.ingest.store.duplicates, o.ingest.store.dead_lettered
    );
    println!(
        "Hash chains: {} ({} rows rehashed)",
        if o.verify.is_intact() {
            "intact"
        } else {
            "BROKEN"
        },
        o.verify.rows()
    );
    println!("Store: {}", o.store.display());
}
