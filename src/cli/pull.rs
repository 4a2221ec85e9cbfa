//! `mdm-audit pull <vendor>`: pull audit events from a vendor's REST API into the store (or onto
//! stdout for Vector's `exec` source), once or on an interval. Wiring only: the pullers are in
//! `mdm_audit_transform::pull`.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mdm_audit_store::{WriterOptions, default_writer_id};
use mdm_audit_transform::pull::intune::{IntuneConfig, IntunePuller};
use mdm_audit_transform::pull::jamf::JamfPuller;
use mdm_audit_transform::pull::ws1::Ws1Puller;
use mdm_audit_transform::pull::{
    CheckpointStore, Progress, PullError, RetryPolicy, Secret, Sink, parse_duration, parse_since,
    serve_metrics,
};
use mdm_audit_transform::{Normalizer, pipeline::Pipeline};

use super::correlate_args::CorrelateArgs;
use super::pull_jamf::JamfArgs;
use super::pull_ws1::Ws1Args;
use super::store_args::{SigningArgs, StoreArgs, runtime};
use super::{CliError, MappingArgs};

/// The vendor APIs `pull` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Vendor {
    /// Microsoft Intune through Microsoft Graph.
    Intune,
    /// Jamf Pro through the Jamf Pro API.
    Jamf,
    /// Workspace ONE UEM through its REST API (event log: device and console events).
    Ws1,
}

/// The puller of the chosen vendor.
enum Puller {
    Intune(IntunePuller),
    Jamf(JamfPuller),
    Ws1(Ws1Puller),
}

impl Puller {
    /// The vendor's source name (checkpoints, mappings, metrics label).
    fn source(&self) -> &'static str {
        match self {
            Puller::Intune(_) => "intune",
            Puller::Jamf(_) => "jamf",
            Puller::Ws1(_) => "ws1",
        }
    }

    async fn run_once(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
    ) -> Result<(), PullError> {
        match self {
            Puller::Intune(p) => p.run_once(sink, checkpoints).await,
            Puller::Jamf(p) => p.run_once(sink, checkpoints).await,
            Puller::Ws1(p) => p.run_once(sink, checkpoints).await,
        }
    }
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The vendor API to pull from. Credentials come only from the environment: for intune
    /// MDM_AUDIT_INTUNE_TENANT_ID, MDM_AUDIT_INTUNE_CLIENT_ID and MDM_AUDIT_INTUNE_CLIENT_SECRET; for
    /// jamf MDM_AUDIT_JAMF_CLIENT_ID and MDM_AUDIT_JAMF_CLIENT_SECRET, or MDM_AUDIT_JAMF_USERNAME and
    /// MDM_AUDIT_JAMF_PASSWORD; for ws1 MDM_AUDIT_WS1_CLIENT_ID, MDM_AUDIT_WS1_CLIENT_SECRET and
    /// MDM_AUDIT_WS1_TENANT_CODE (each also from a file named by the same name with _FILE).
    #[arg(value_enum, value_name = "VENDOR")]
    vendor: Vendor,
    #[command(flatten)]
    store: StoreArgs,
    /// Write the vendor records to stdout, one JSON per line (for Vector's `exec` source), instead
    /// of storing them; checkpoints are still kept in --store.
    #[arg(long)]
    stdout: bool,
    /// Where the first run starts when the store has no checkpoint yet: an RFC 3339 time or a
    /// duration back from now (7d, 12h).
    #[arg(long, default_value = "1d", value_name = "TIME")]
    since: String,
    /// Run once and exit (the default).
    #[arg(long, conflicts_with = "every")]
    once: bool,
    /// Run again every DURATION (30s, 5m, 1h) until stopped; a failed run is reported and the next
    /// one retries from the checkpoint.
    #[arg(long, value_name = "DURATION")]
    every: Option<String>,
    /// How far before the checkpoint each run starts again (events already stored are skipped).
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    overlap: String,
    /// Most pages one stream reads in a run: a next link that never ends stops there with an error.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    max_pages: u64,
    /// Retries of a request after a 429, a 5xx or a network error.
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_retries: usize,
    /// The first retry delay (doubling, with jitter, up to a minute); a 429's Retry-After wins.
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    retry_delay: String,
    /// Microsoft identity platform (intune): the token is requested from
    /// {URL}/{tenant}/oauth2/v2.0/token.
    #[arg(
        long,
        default_value = "https://login.microsoftonline.com",
        value_name = "URL"
    )]
    login_url: url::Url,
    /// Microsoft Graph (intune).
    #[arg(
        long,
        default_value = "https://graph.microsoft.com",
        value_name = "URL"
    )]
    graph_url: url::Url,
    /// Graph API version (intune): v1.0 or beta.
    #[arg(long, default_value = "v1.0", value_parser = ["v1.0", "beta"], value_name = "VERSION")]
    graph_version: String,
    /// How often a device snapshot is taken (intune: managedDevices; jamf: computers and mobile
    /// devices inventory); it is skipped while the last one is younger.
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    devices_every: String,
    /// Take no device snapshots (intune: managedDevices; jamf: inventory).
    #[arg(long)]
    no_devices: bool,
    /// How often a snapshot of the role assignments, with their role definitions and members, is
    /// taken (intune).
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    roles_every: String,
    /// Take no role assignments snapshots (intune).
    #[arg(long)]
    no_roles: bool,
    /// Serve the run counters (records, pages, rate-limit waits, retries, failed runs) as
    /// Prometheus text on http://ADDR/metrics, as `serve` does (port 0 picks a free port, printed).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<std::net::SocketAddr>,
    /// This writer's chain id; each process that writes a store needs its own.
    #[arg(long, env = "MDM_AUDIT_WRITER_ID", value_name = "ID")]
    writer_id: Option<String>,
    #[command(flatten)]
    signing: SigningArgs,
    /// Skip fsync of data files and commits (faster; a power cut may lose the last pages).
    #[arg(long)]
    no_fsync: bool,
    #[command(flatten)]
    jamf: JamfArgs,
    #[command(flatten)]
    ws1: Ws1Args,
    #[command(flatten)]
    mapping: MappingArgs,
    #[command(flatten)]
    correlate: CorrelateArgs,
}

pub(super) fn duration(flag: &str, text: &str) -> Result<Duration, CliError> {
    parse_duration(text).map_err(|e| CliError::Usage(format!("{flag}: {e}")))
}

/// The settings every vendor's puller takes from the common flags.
pub(super) struct Common {
    /// Where the first run starts (no checkpoint yet).
    pub since: chrono::DateTime<chrono::Utc>,
    /// `--overlap`.
    pub overlap: Duration,
    /// `--max-pages`.
    pub max_pages: u64,
    /// `--devices-every`, `None` with `--no-devices` (intune: managedDevices; jamf: inventory).
    pub devices_every: Option<Duration>,
    /// `--max-retries`, `--retry-delay`.
    pub retry: RetryPolicy,
}

/// A credential from the environment variable `name`, or from the file `{name}_FILE` names (a
/// mounted secret; trailing newline dropped); `None` when neither is set. Never from a flag.
pub(super) fn env_or_file(name: &str) -> Result<Option<String>, CliError> {
    if let Some(v) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        return Ok(Some(v));
    }
    let file_var = format!("{name}_FILE");
    let Some(path) = std::env::var_os(&file_var).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::Usage(format!(
            "{file_var}: reading {}: {e}",
            std::path::Path::new(&path).display()
        ))
    })?;
    let v = text.trim_end_matches(['\n', '\r']).to_owned();
    if v.trim().is_empty() {
        return Err(CliError::Usage(format!("{file_var}: the file is empty")));
    }
    Ok(Some(v))
}

/// A required credential: [`env_or_file`], or an error naming both variables.
pub(super) fn secret_env(name: &str) -> Result<String, CliError> {
    env_or_file(name)?.ok_or_else(|| {
        CliError::Usage(format!(
            "{name} is not set, nor {name}_FILE (credentials come only from the environment or a file)"
        ))
    })
}

pub fn run(args: PullArgs) -> Result<ExitCode, CliError> {
    // --once (the default) and --every exclude each other (clap checks it).
    let every = match (&args.every, args.once) {
        (Some(e), false) => Some(duration("--every", e)?),
        _ => None,
    };
    if every.is_some_and(|e| e.is_zero()) {
        return Err(CliError::Usage("--every must be longer than 0".into()));
    }
    let since = parse_since(&args.since, chrono::Utc::now())
        .map_err(|e| CliError::Usage(format!("--since: {e}")))?;
    let retry = RetryPolicy {
        max_retries: args.max_retries,
        min_delay: duration("--retry-delay", &args.retry_delay)?,
        ..RetryPolicy::default()
    };
    if args.max_pages == 0 {
        return Err(CliError::Usage("--max-pages must be at least 1".into()));
    }
    let common = Common {
        since,
        overlap: duration("--overlap", &args.overlap)?,
        max_pages: args.max_pages,
        devices_every: if args.no_devices {
            None
        } else {
            Some(duration("--devices-every", &args.devices_every)?)
        },
        retry,
    };
    let progress = Progress::new(|line| eprintln!("pull {line}"));
    let puller = match args.vendor {
        Vendor::Intune => Puller::Intune(intune_puller(&args, &common, &progress)?),
        Vendor::Jamf => {
            let config = args.jamf.config(&common)?;
            Puller::Jamf(JamfPuller::new(config, progress.clone()).map_err(pull_error)?)
        }
        Vendor::Ws1 => {
            let config = args.ws1.config(&common)?;
            Puller::Ws1(Ws1Puller::new(config, progress.clone()).map_err(pull_error)?)
        }
    };
    let location = args.store.location()?;
    let mut writer = WriterOptions::new(args.writer_id.clone().unwrap_or_else(default_writer_id));
    writer.fsync = !args.no_fsync;
    writer.signer = args.signing.signer()?;
    args.correlate.config()?;
    let rt = runtime()?;
    rt.block_on(async {
        if let Some(addr) = args.metrics_listen {
            let bound = serve_metrics(addr, puller.source(), progress.clone())
                .await
                .map_err(pull_error)?;
            eprintln!("pull: metrics on http://{bound}/metrics");
        }
        let mut sink = if args.stdout {
            Sink::Stdout
        } else {
            let normalizer = Normalizer::from_config(&args.mapping.config())?;
            let source = normalizer
                .vendors()
                .parse(puller.source())
                .map_err(CliError::Usage)?;
            let stage = args.correlate.stage(&location).await?;
            Sink::Store {
                pipeline: Pipeline::open(&location, writer.clone(), stage).await?,
                normalizer: Box::new(normalizer),
                source,
            }
        };
        let mut checkpoints = CheckpointStore::new(location.clone(), writer);
        let mut failed = false;
        loop {
            let started = std::time::Instant::now();
            let result = puller.run_once(&mut sink, &mut checkpoints).await;
            let c = progress.counters();
            match &result {
                Ok(()) => eprintln!(
                    "pull: run done in {:.1} s: {} records in {} pages, stored {}, duplicates skipped {}, dead-lettered {}, rate-limit waits {}, retries {}",
                    started.elapsed().as_secs_f64(),
                    c.records, c.pages, c.stored, c.duplicates, c.dead_lettered, c.rate_limit_waits, c.retries
                ),
                Err(e) => {
                    progress.run_failed();
                    eprintln!("error: {e}");
                    failed = true;
                }
            }
            let Some(every) = every else { break };
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        sink.finish().await.map_err(pull_error)?;
        Ok::<_, CliError>(if failed && every.is_none() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

fn intune_puller(
    args: &PullArgs,
    common: &Common,
    progress: &Progress,
) -> Result<IntunePuller, CliError> {
    let config = IntuneConfig {
        login_url: args.login_url.clone(),
        graph_url: args.graph_url.clone(),
        graph_version: args.graph_version.clone(),
        tenant_id: secret_env("MDM_AUDIT_INTUNE_TENANT_ID")?,
        client_id: secret_env("MDM_AUDIT_INTUNE_CLIENT_ID")?,
        client_secret: Secret::new(secret_env("MDM_AUDIT_INTUNE_CLIENT_SECRET")?),
        since: common.since,
        overlap: common.overlap,
        max_pages: common.max_pages,
        devices_every: common.devices_every,
        roles_every: if args.no_roles {
            None
        } else {
            Some(duration("--roles-every", &args.roles_every)?)
        },
        retry: common.retry,
    };
    IntunePuller::new(config, progress.clone()).map_err(pull_error)
}

fn pull_error(e: PullError) -> CliError {
    CliError::Usage(e.to_string())
}
