//! `mdm-audit demo`: the quick-start job. It needs nothing but this binary: the sample records of
//! every feed are built in. They run through the same path as `normalize` (auto-detection, VRL,
//! validation, Arrow) and are written as NDJSON, Parquet and OCSF into the output directory.
#![allow(
    clippy::print_stdout,
    reason = "the demo report is the command's output on stdout"
)]

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mdm_audit_transform::normalize::sniff;
use mdm_audit_transform::output::{self, Format};
use mdm_audit_transform::{MappingSet, NormalizedEvent, Normalizer, TransformError};

use super::{CliError, MappingArgs};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the outputs.
    #[arg(long, default_value = "out/demo", value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    mapping: MappingArgs,
}

pub fn run(args: DemoArgs) -> Result<ExitCode, CliError> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| TransformError::io(format!("creating {}", args.out.display()), e))?;
    let mut normalizer = Normalizer::from_config(&args.mapping.config())?;
    let samples = MappingSet::embedded_samples();
    eprintln!(
        "demo: normalizing {} built-in sample records of Jamf Pro, Intune and Workspace ONE",
        samples.len()
    );
    let mut events: Vec<NormalizedEvent> = Vec::new();
    let mut dead = Vec::new();
    for (path, content) in samples {
        let record = content.trim_end_matches(['\n', '\r']);
        let Some(source) = sniff(record) else {
            dead.push(format!("{path}: no source recognized"));
            continue;
        };
        match normalizer.normalize(source, record) {
            Ok(n) => events.push(n.event),
            Err(reason) => dead.push(format!("{path}: {reason}")),
        }
    }
    events.sort_by_key(|e| e.time);
    let mut written = Vec::new();
    for (format, name) in [
        (Format::Ndjson, "events.ndjson"),
        (Format::Parquet, "events.parquet"),
        (Format::Ocsf, "events.ocsf.ndjson"),
    ] {
        let path = args.out.join(name);
        let file = File::create(&path)
            .map_err(|e| TransformError::io(format!("creating {}", path.display()), e))?;
        let mut sink = output::sink(format, Box::new(BufWriter::new(file)))?;
        for e in &events {
            sink.write(e)?;
        }
        sink.finish()?;
        written.push(path);
    }
    let mut by_vendor = std::collections::BTreeMap::<&str, usize>::new();
    for e in &events {
        *by_vendor.entry(e.product.as_str()).or_default() += 1;
    }
    println!(
        "Normalized {} events ({} dead-lettered):",
        events.len(),
        dead.len()
    );
    for (product, n) in &by_vendor {
        println!("  {product:<14} {n}");
    }
    let mut risky: Vec<&NormalizedEvent> = events.iter().filter(|e| e.risk_score > 0).collect();
    risky.sort_by(|a, b| b.risk_score.cmp(&a.risk_score).then(a.time.cmp(&b.time)));
    println!("\nHighest-risk events ({} risk-tagged):", risky.len());
    for e in risky.iter().take(12) {
        println!(
            "  {:>3} {:<8} {}  {:<14} {}",
            e.risk_score,
            e.risk_level,
            e.time.format("%Y-%m-%d %H:%M"),
            e.product,
            e.risk_reasons
                .first()
                .map_or(e.message.as_str(), String::as_str)
        );
    }
    for d in &dead {
        println!("  dead letter: {d}");
    }
    println!("\nWrote:");
    for p in &written {
        println!("  {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
