//! `mdm-audit narrate`: a cited, verified narrative of the store (template narrator by default; an
//! OpenAI-compatible LLM when `--llm-url` is given, falling back to the template).
#![allow(clippy::print_stdout, reason = "the narrative is the command's output")]

use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use mdm_audit_datasource::engine::Engine;
use mdm_audit_narrative::NarrativeKind;
use mdm_audit_narrative::{LlmConfig, NarrateOptions, Scope, narrate, provenance, render};
use mdm_audit_store::{WriterOptions, default_writer_id};

use super::CliError;
use super::store_args::{SigningArgs, StoreArgs, runtime};

/// What the narrative tells.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Period audit summary grouped by control.
    Period,
    /// The 72 hours before --to for --device or --actor.
    Incident,
    /// Changes of one policy or profile (--policy), or of all of them.
    Change,
    /// One device (--device), enrollment to retirement.
    Device,
    /// One admin (--actor): what they did, what was unusual.
    Admin,
}

impl From<Kind> for NarrativeKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Period => Self::PeriodSummary,
            Kind::Incident => Self::IncidentTimeline,
            Kind::Change => Self::ChangeReview,
            Kind::Device => Self::DeviceLifecycle,
            Kind::Admin => Self::AdminActivity,
        }
    }
}

/// Output format of `narrate`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Markdown with numbered citations.
    Md,
    /// The whole narrative as JSON (sentences, citations, dropped sentences, provenance).
    Json,
    /// An HTML fragment.
    Html,
}

/// The time range and the LLM endpoint, shared by `narrate` and `report`.
#[derive(Debug, Args, Clone)]
pub struct NarrativeArgs {
    /// Start of the range: RFC 3339 (2026-03-04T00:00:00Z) or a UTC date (2026-03-04). Default: 7 days before --to.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the range (an incident's time), as --from; a date means the end of that day. Default: now.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// OpenAI-compatible base URL (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp server), e.g.
    /// http://127.0.0.1:8080/v1. Without it the template narrator writes the narrative.
    #[arg(long, env = "MDM_AUDIT_LLM_URL", value_name = "URL")]
    pub llm_url: Option<String>,
    /// Model (or Azure deployment) name.
    #[arg(
        long,
        env = "MDM_AUDIT_LLM_MODEL",
        default_value = "gpt-4o-mini",
        value_name = "NAME"
    )]
    pub llm_model: String,
    /// Name of the environment variable that holds the API key (the key itself is never an argument).
    #[arg(long, default_value = "MDM_AUDIT_LLM_KEY", value_name = "VAR")]
    pub llm_key_env: String,
    /// Seconds per LLM request before falling back to the template.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub llm_timeout: f64,
    /// max_tokens of the answer.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub llm_max_tokens: u32,
    /// temperature.
    #[arg(long, default_value_t = 0.0, value_name = "T")]
    pub llm_temperature: f32,
}

pub(super) fn parse_time(s: &str, end_of_day: bool) -> Result<DateTime<Utc>, CliError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        CliError::Usage(format!(
            "{s:?} is not a time: use RFC 3339 (2026-03-04T12:00:00Z) or a date (2026-03-04)"
        ))
    })?;
    let t = if end_of_day {
        d.and_hms_micro_opt(23, 59, 59, 999_999)
    } else {
        d.and_hms_opt(0, 0, 0)
    };
    Ok(t.map(|t| t.and_utc()).unwrap_or_default())
}

/// `--from` and `--to` as `narrate` reads them: `to` defaults to now, `from` to 7 days before `to`.
pub(super) fn range_of(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), CliError> {
    let to = match to {
        Some(s) => parse_time(s, true)?,
        None => Utc::now(),
    };
    let from = match from {
        Some(s) => parse_time(s, false)?,
        None => to - chrono::Duration::days(7),
    };
    if from > to {
        return Err(CliError::Usage(format!(
            "--from ({from}) is after --to ({to})"
        )));
    }
    Ok((from, to))
}

impl NarrativeArgs {
    /// The range.
    pub fn range(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), CliError> {
        range_of(self.from.as_deref(), self.to.as_deref())
    }

    /// The narrate options (an LLM when --llm-url is set).
    pub fn options(&self) -> NarrateOptions {
        let llm = self
            .llm_url
            .as_ref()
            .filter(|u| !u.trim().is_empty())
            .map(|url| {
                let mut c = LlmConfig::new(url.clone(), self.llm_model.clone());
                c.api_key = std::env::var(&self.llm_key_env)
                    .ok()
                    .filter(|k| !k.is_empty());
                if self.llm_timeout > 0.0 && self.llm_timeout.is_finite() {
                    c.timeout = Duration::from_secs_f64(self.llm_timeout);
                }
                c.max_tokens = self.llm_max_tokens;
                c.temperature = self.llm_temperature;
                c
            });
        NarrateOptions { llm }
    }
}

#[derive(Debug, Args)]
pub struct NarrateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// What to narrate.
    #[arg(long, value_enum, default_value = "period")]
    kind: Kind,
    #[command(flatten)]
    narrative: NarrativeArgs,
    /// The device (id, serial or name) for --kind device or incident.
    #[arg(long, value_name = "DEVICE")]
    device: Option<String>,
    /// The actor (UPN, name or id) for --kind admin or incident.
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
    /// The policy or profile (target id or name) for --kind change.
    #[arg(long, value_name = "POLICY")]
    policy: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    format: Format,
    /// Do not record the narrative in the store's `narratives` table (provenance).
    #[arg(long)]
    no_record: bool,
    #[command(flatten)]
    signing: SigningArgs,
}

pub fn run(args: NarrateArgs) -> Result<ExitCode, CliError> {
    let location = args.store.location()?;
    let signer = args.signing.signer()?;
    let (from, to) = args.narrative.range()?;
    let mut scope = Scope::new(args.kind.into(), from, to);
    scope.device = args.device;
    scope.actor = args.actor;
    scope.policy = args.policy;
    let options = args.narrative.options();
    let record = !args.no_record;
    let params = options.llm.as_ref().map(|c| {
        serde_json::json!({"base_url": c.base_url, "max_tokens": c.max_tokens,
            "temperature": c.temperature, "timeout_s": c.timeout.as_secs_f64()})
        .to_string()
    });
    let n = runtime()?.block_on(async {
        let engine = Engine::open(location.clone())
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let n = narrate(engine.context(), &scope, &options)
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
        if record {
            let who = provenance::AskedBy {
                user: std::env::var("USER").unwrap_or_else(|_| "cli".to_owned()),
                org: None,
            };
            let writer = WriterOptions::new(format!("{}-narratives", default_writer_id()))
                .with_signer(signer);
            let id = provenance::record(&location, writer, &n, &who, params.as_deref()).await?;
            eprintln!(
                "narrate: recorded as {id} in {} (review it with `mdm-audit review --narrative {id}`)",
                location.display()
            );
        }
        Ok::<_, CliError>(n)
    })?;
    tracing::info!(
        narrator = n.narrator.narrator,
        sentences = n.sentence_count(),
        dropped = n.dropped.len(),
        events = n.evidence_events,
        latency_ms = n.latency_ms,
        "narrative written"
    );
    match args.format {
        Format::Md => print!("{}", render::markdown(&n)),
        Format::Html => print!("{}", render::html(&n)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&n).map_err(|e| CliError::Usage(e.to_string()))?
        ),
    }
    Ok(ExitCode::SUCCESS)
}
