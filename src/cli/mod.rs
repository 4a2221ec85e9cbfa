//! Command-line arguments and the commands they run.

mod correlate_args;
mod demo;
mod generate;
mod ingest;
mod keygen;
mod narrate;
mod normalize;
mod pull;
mod pull_jamf;
mod pull_ws1;
mod query;
mod report;
mod review;
mod serve;
mod store_args;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Evidence-grade audit trail for MDM admin logs (Jamf Pro, Microsoft Intune, Workspace ONE).
#[derive(Debug, Parser)]
#[command(name = "mdm-audit", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job on built-in defaults: generate an estate with planted incidents (or read given
    /// files), normalize, store in a hash-chained Delta store, verify it, and print the risk found
    /// (no Vector, Grafana, cloud or LLM needed).
    Demo(demo::DemoArgs),
    /// Generate a realistic MDM estate in the vendors' own wire formats (Jamf Pro, Intune, Workspace
    /// ONE), with planted incidents and a ground-truth file; reproducible from --seed.
    Generate(generate::GenerateArgs),
    /// Normalize raw vendor records (files or stdin) into NDJSON, Parquet or OCSF JSON.
    Normalize(normalize::NormalizeArgs),
    /// Normalize files (vendor records or normalized NDJSON) and store them in one go, deduplicated
    /// by event_uid and chained; prints stored / duplicates skipped / dead-lettered.
    Ingest(ingest::IngestArgs),
    /// HTTP ingest for Vector's http sink (NDJSON of normalized events, gzip accepted) and raw vendor
    /// records (POST /v1/raw/{source}); group commit, 2xx only once durable, /health, /metrics.
    Serve(serve::ServeArgs),
    /// Pull audit events from a vendor's REST API (intune: Microsoft Graph auditEvents,
    /// managedDevices and role assignments; jamf: Jamf Pro API management history, inventory and
    /// object history; ws1: Workspace ONE UEM event log, device and console events), paged,
    /// throttling-aware, checkpointed in the store; into the store through the VRL mappings, or onto
    /// stdout for Vector's exec source.
    Pull(pull::PullArgs),
    /// Recompute every hash chain of the store from the files on disk and name the first broken
    /// link (exit status 2 when anything is broken).
    Verify(verify::VerifyArgs),
    /// Query the store from the command line with the Grafana plugin's engine: your read-only SQL,
    /// or the timeline with the plugin's filters; printed as a table, CSV, JSON or NDJSON.
    Query(query::QueryArgs),
    /// Write a cited, verified narrative of the store (period summary, incident timeline, change
    /// review, device lifecycle, admin activity); template narrator, or an OpenAI-compatible LLM.
    Narrate(narrate::NarrateArgs),
    /// An evidence pack for a period: event counts, high-risk events, the period narrative and the
    /// verified chain heads (Markdown, HTML or JSON).
    Report(report::ReportArgs),
    /// Record a human decision on a narrative (approve, edit with new text, reject) in the store's
    /// hash-chained reviews table; an edit keeps the history.
    Review(review::ReviewArgs),
    /// Make an Ed25519 key for a writer: a private key to sign chain heads with (--signing-key) and
    /// its public key (<file>.pub) for `verify --trusted-keys`.
    Keygen(keygen::KeygenArgs),
}

/// Options shared by every command that runs the VRL mappings.
#[derive(Debug, Args, Clone)]
pub struct MappingArgs {
    /// Directory with an edited copy of vrl-mappings/ (default: the mappings built into this binary).
    #[arg(long, env = "MDM_AUDIT_MAPPINGS", value_name = "DIR")]
    pub mappings: Option<PathBuf>,
    /// Time zone for vendor timestamps that carry none (Jamf Log Stream, Workspace ONE syslog),
    /// as Vector's remap `timezone` option: a TZ database name.
    #[arg(
        long,
        env = "MDM_AUDIT_TIMEZONE",
        default_value = "UTC",
        value_name = "TZ"
    )]
    pub timezone: String,
}

impl MappingArgs {
    fn config(&self) -> mdm_audit_transform::NormalizeConfig {
        mdm_audit_transform::NormalizeConfig {
            mappings_dir: self.mappings.clone(),
            timezone: self.timezone.clone(),
        }
    }

    /// `--source`: `auto`, or a vendor of these mappings (its name, an alias or its folder).
    fn source_choice(
        &self,
        name: &str,
    ) -> Result<mdm_audit_transform::normalize::SourceChoice, CliError> {
        use mdm_audit_transform::normalize::SourceChoice;
        if name.eq_ignore_ascii_case("auto") {
            return Ok(SourceChoice::Auto);
        }
        let set = mdm_audit_transform::MappingSet::load(&self.config())?;
        set.vendors()
            .parse(name)
            .map(SourceChoice::Fixed)
            .map_err(CliError::Usage)
    }
}

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the write path.
    #[error(transparent)]
    Transform(#[from] mdm_audit_transform::TransformError),
    /// From the estate generator.
    #[error(transparent)]
    Generate(#[from] mdm_audit_generate::GenerateError),
    /// From the store.
    #[error(transparent)]
    Store(#[from] mdm_audit_store::StoreError),
    #[error(transparent)]
    Report(#[from] mdm_audit_narrative::report::ReportError),
    /// From an ingest run.
    #[error(transparent)]
    Ingest(#[from] mdm_audit_transform::ingest::IngestError),
    /// From the ingest service.
    #[error(transparent)]
    Serve(#[from] mdm_audit_transform::serve::ServeError),
    /// A usage problem clap cannot see.
    #[error("{0}")]
    Usage(String),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Normalize(args) => normalize::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Pull(args) => pull::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Query(args) => query::run(args),
        Command::Narrate(args) => narrate::run(args),
        Command::Report(args) => report::run(args),
        Command::Review(args) => review::run(args),
        Command::Keygen(args) => keygen::run(args),
    }
}
