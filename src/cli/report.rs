//! `mdm-audit report`: an evidence pack for a period (built by the narrative engine's
//! `report::pack`): event counts, the high-risk events, the period narrative (cited and verified),
//! and the chain heads `verify` recomputed, as Markdown, HTML or JSON (for GRC import).
#![allow(clippy::print_stdout, reason = "the report is the command's output")]

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use mdm_audit_datasource::engine::Engine;
use mdm_audit_narrative::report::EvidencePack;

use super::CliError;
use super::narrate::NarrativeArgs;
use super::store_args::{StoreArgs, TrustArgs, runtime};

/// Output format of `report`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// A standalone HTML page.
    Html,
    /// JSON for GRC import.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    narrative: NarrativeArgs,
    #[command(flatten)]
    trust: TrustArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    format: ReportFormat,
}

pub fn run(args: ReportArgs) -> Result<ExitCode, CliError> {
    let location = args.store.location()?;
    let (from, to) = args.narrative.range()?;
    let options = args.narrative.options();
    let trusted = args.trust.keys()?;
    let pack = runtime()?.block_on(async {
        let engine = Engine::open(location.clone())
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
        engine
            .require("events")
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
        Ok::<_, CliError>(
            EvidencePack::build(
                engine.context(),
                &location,
                from,
                to,
                &options,
                trusted.as_ref(),
            )
            .await?,
        )
    })?;
    match args.format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&pack.json())
                .map_err(|e| CliError::Usage(e.to_string()))?
        ),
        ReportFormat::Md => print!("{}", pack.markdown()),
        ReportFormat::Html => print!("{}", pack.html()),
    }
    Ok(if pack.verify.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::verify::EXIT_BROKEN)
    })
}
