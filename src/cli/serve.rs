//! `mdm-audit serve`: the HTTP ingest service for Vector's http sink.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use mdm_audit_store::default_writer_id;
use mdm_audit_transform::serve::{self, ServeConfig};

use super::correlate_args::CorrelateArgs;
use super::store_args::{SigningArgs, StoreArgs, runtime};
use super::{CliError, MappingArgs};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on (port 0 picks a free port; see --addr-file).
    #[arg(long, env = "MDM_AUDIT_LISTEN", default_value = serve::DEFAULT_LISTEN, value_name = "ADDR")]
    listen: SocketAddr,
    /// This writer's chain id; each process that writes a store needs its own.
    #[arg(long, env = "MDM_AUDIT_WRITER_ID", value_name = "ID")]
    writer_id: Option<String>,
    #[command(flatten)]
    signing: SigningArgs,
    /// Credentials every write must carry: a TOML file of named `[[credential]]` entries (bearer
    /// token, HTTP basic, or a header secret; optionally limited to some paths). Reloaded when it
    /// changes. Bearer tokens may also come from MDM_AUDIT_INGEST_TOKENS (name=token,...).
    #[arg(long, env = "MDM_AUDIT_CREDENTIALS", value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// Accept writes without any credential (only for a port no one else can reach).
    #[arg(long)]
    allow_unauthenticated: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(
        long,
        env = "MDM_AUDIT_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(
        long,
        env = "MDM_AUDIT_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Require a client certificate issued by this CA (PEM): mutual TLS, as Vector's http sink sends
    /// with tls.crt_file. Needs --tls-cert.
    #[arg(
        long,
        env = "MDM_AUDIT_TLS_CLIENT_CA",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_client_ca: Option<PathBuf>,
    /// Group-commit window: requests arriving within it (from the oldest waiting one) are committed
    /// together, then all of them are answered.
    #[arg(long, default_value_t = serve::DEFAULT_COMMIT_WINDOW_MS, value_name = "MS")]
    commit_window_ms: u64,
    /// A group is committed as soon as it holds this many events, before its window ends.
    #[arg(long, default_value_t = serve::DEFAULT_COMMIT_EVENTS, value_name = "N")]
    commit_events: usize,
    /// Events accepted but not yet committed above which requests are answered 503 with Retry-After.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_PENDING, value_name = "N")]
    max_pending: usize,
    /// Largest request body in bytes, compressed and decompressed.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    max_body_bytes: usize,
    /// Write the bound address (host:port) to this file once the service accepts requests.
    #[arg(long, value_name = "FILE")]
    addr_file: Option<PathBuf>,
    /// Skip fsync of data files and commits (faster; a power cut may lose acknowledged commits).
    #[arg(long)]
    no_fsync: bool,
    #[command(flatten)]
    mapping: MappingArgs,
    #[command(flatten)]
    correlate: CorrelateArgs,
}

/// Resolves on SIGTERM or ctrl-c.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Writes `addr` to `path` atomically (a reader never sees half of it).
fn write_addr_file(path: &std::path::Path, addr: SocketAddr) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{addr}\n"))?;
    std::fs::rename(&tmp, path)
}

pub fn run(args: ServeArgs) -> Result<ExitCode, CliError> {
    if args.commit_events == 0 || args.max_pending == 0 {
        return Err(CliError::Usage(
            "--commit-events and --max-pending must be at least 1".into(),
        ));
    }
    let location = args.store.location()?;
    let mut config = ServeConfig::new(
        args.listen,
        args.writer_id.clone().unwrap_or_else(default_writer_id),
    );
    config.commit_window = Duration::from_millis(args.commit_window_ms);
    config.commit_events = args.commit_events;
    config.max_pending = args.max_pending;
    config.max_body_bytes = args.max_body_bytes;
    config.writer.fsync = !args.no_fsync;
    config.writer.signer = args.signing.signer()?;
    config.normalize = args.mapping.config();
    let tokens = std::env::var(serve::auth::TOKENS_ENV).ok();
    config.auth = serve::auth::Authenticator::load(args.credentials.as_deref(), tokens.as_deref())
        .map_err(|e| CliError::Usage(e.to_string()))?
        .map(std::sync::Arc::new);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(serve::tls::TlsSettings {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.tls_client_ca.clone(),
        });
    }
    let mtls = args.tls_client_ca.is_some();
    if config.auth.is_none() && !mtls && !args.allow_unauthenticated {
        return Err(CliError::Usage(format!(
            "serve needs credentials for its write paths: --credentials FILE (MDM_AUDIT_CREDENTIALS), {} \
             (name=token,...) or client certificates (--tls-client-ca); or --allow-unauthenticated for a \
             port no one else can reach",
            serve::auth::TOKENS_ENV
        )));
    }
    if config.auth.is_some() && args.allow_unauthenticated {
        return Err(CliError::Usage(
            "--allow-unauthenticated contradicts the credentials given; drop one".into(),
        ));
    }
    let addr_file = args.addr_file.clone();
    let auth_note = match &config.auth {
        Some(a) => format!("; writes need one of: {}", a.names().join(", ")),
        None if mtls => "; writes need a client certificate".to_owned(),
        None => "; WRITES ARE NOT AUTHENTICATED".to_owned(),
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let shown = location.display();
    args.correlate.config()?;
    let rt = runtime()?;
    let stage = rt.block_on(args.correlate.stage(&location))?;
    let summary = rt.block_on(serve::serve(
        &location,
        config,
        stage,
        shutdown_signal(),
        move |addr| {
            eprintln!("serve: listening on {scheme}://{addr} (store {shown}){auth_note}");
            match &addr_file {
                Some(p) => write_addr_file(p, addr),
                None => Ok(()),
            }
        },
    ))?;
    eprintln!(
        "serve: stopped; stored {}, duplicates skipped {}, dead-lettered {}",
        summary.totals.stored, summary.totals.duplicates, summary.totals.dead_lettered
    );
    Ok(ExitCode::SUCCESS)
}
