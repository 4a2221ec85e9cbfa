//! The HTTP side: routes, authentication, backpressure, group commit hand-off, and the lifecycle
//! (start, graceful shutdown). Bodies are decoded and parsed in `body.rs`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::ServeConfig;
use super::auth::{Refusal, WritePath};
use super::body::{Parsed, decode_body, parse_events, parse_raw};
use super::commit::{CommitSettings, Job, JobOutcome, Msg, run_committer};
use super::metrics::Metrics;
use super::peer::ClientCertificate;
use crate::normalize::{MappingSet, SourceChoice, VendorRegistry};
use crate::pipeline::Stage;
use crate::{Normalizer, TransformError};
use mdm_audit_store::{AuditWriter, StoreError, StoreLocation};

/// Errors that stop the service.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store cannot be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mappings cannot be loaded.
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// Listening failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`listening on 127.0.0.1:8686`).
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS certificate, key or client CA cannot be used.
    #[error(transparent)]
    Tls(#[from] super::tls::TlsError),
    /// A credential names a write path no vendor answers to.
    #[error("credentials: {0}")]
    Credentials(String),
    /// A bug: a task of the service panicked.
    #[error("internal error (a bug): {0}")]
    Internal(String),
}

/// What a `serve` run did, reported at shutdown.
#[derive(Debug, Clone)]
pub struct ServeSummary {
    /// Where it listened.
    pub addr: SocketAddr,
    /// Events stored, duplicates skipped, lines dead-lettered over the whole run.
    pub totals: JobOutcome,
}

/// State shared by the handlers.
struct Shared {
    tx: mpsc::UnboundedSender<Msg>,
    metrics: Arc<Metrics>,
    config: ServeConfig,
    normalizers: Mutex<Vec<Normalizer>>,
    /// The vendors of the mapping set: what `/v1/raw/<source>` accepts.
    vendors: VendorRegistry,
    draining: AtomicBool,
}

/// Opens the store, listens on `config.listen`, calls `on_ready` with the bound address, and serves
/// until `shutdown` resolves; then stops accepting, commits what is pending, answers those requests
/// and returns.
pub async fn serve(
    location: &StoreLocation,
    config: ServeConfig,
    stage: Box<dyn Stage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(SocketAddr) -> Result<(), std::io::Error>,
) -> Result<ServeSummary, ServeError> {
    let vendors = MappingSet::load(&config.normalize)?.vendors().clone();
    if let Some(auth) = &config.auth {
        for (name, source) in auth.raw_sources() {
            if !source.eq_ignore_ascii_case("auto") && vendors.get(&source).is_none() {
                return Err(ServeError::Credentials(format!(
                    "credential {name:?} names path raw/{source}, but {}",
                    vendors.parse(&source).err().unwrap_or_default()
                )));
            }
        }
    }
    let tls = config.tls.as_ref().map(|t| t.server_config()).transpose()?;
    let writer = AuditWriter::open(location, config.writer.clone()).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Io {
            context: format!("listening on {}", config.listen),
            source: e,
        })?;
    let addr = listener.local_addr().map_err(|e| ServeError::Io {
        context: "reading the bound address".into(),
        source: e,
    })?;
    let metrics = Arc::new(Metrics::default());
    let (tx, rx) = mpsc::unbounded_channel();
    // If the committer stops on its own (the store cannot be reopened after a failure), the
    // service stops too instead of answering 503 forever.
    let (stopped_tx, stopped_rx) = oneshot::channel::<()>();
    let committer_run = run_committer(
        location.clone(),
        config.writer.clone(),
        writer,
        stage,
        rx,
        CommitSettings {
            window: config.commit_window,
            max_events: config.commit_events.max(1),
        },
        metrics.clone(),
    );
    let committer = tokio::spawn(async move {
        let r = committer_run.await;
        let _ = stopped_tx.send(());
        r
    });
    let shared = Arc::new(Shared {
        tx,
        metrics,
        config: config.clone(),
        normalizers: Mutex::new(Vec::new()),
        vendors,
        draining: AtomicBool::new(false),
    });
    // Write paths need a credential (checked before the body is read); health and metrics stay open.
    let writes = Router::new()
        .route("/v1/events", post(post_events))
        .route("/v1/raw/:source", post(post_raw))
        .route_layer(middleware::from_fn_with_state(shared.clone(), authenticate));
    let app = writes
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(shared.clone());
    on_ready(addr).map_err(|e| ServeError::Io {
        context: "announcing the bound address".into(),
        source: e,
    })?;
    tracing::info!(%addr, writer_id = %config.writer.chain_id, "Serving.");
    let s = shared.clone();
    let stop = async move {
        tokio::select! {
            () = shutdown => {}
            _ = stopped_rx => {
                tracing::error!("The committer stopped; shutting down.");
            }
        }
        s.draining.store(true, Ordering::SeqCst);
        tracing::info!("Shutting down: no new connections; committing what is pending.");
        // The group being gathered is committed now, not at the end of its window; requests
        // still in flight are answered from it (or, if later, with 503: shutting down).
        let _ = s.tx.send(Msg::Shutdown);
    };
    let served = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                stop.await;
                h.graceful_shutdown(None);
            });
            match listener.into_std() {
                Ok(l) => {
                    axum_server::from_tcp_rustls(
                        l,
                        axum_server::tls_rustls::RustlsConfig::from_config(tls),
                    )
                    .map(super::peer::PeerAcceptor)
                    .handle(handle)
                    .serve(app.into_make_service())
                    .await
                }
                Err(e) => Err(e),
            }
        }
    };
    served.map_err(|e| ServeError::Io {
        context: "serving HTTP".into(),
        source: e,
    })?;
    drop(shared);
    let totals = committer
        .await
        .map_err(|e| ServeError::Internal(format!("the committer task: {e}")))??;
    tracing::info!(
        stored = totals.stored,
        duplicates = totals.duplicates,
        dead_lettered = totals.dead_lettered,
        "Stopped."
    );
    Ok(ServeSummary { addr, totals })
}

fn answer(s: &Shared, path: &'static str, code: StatusCode, body: serde_json::Value) -> Response {
    s.metrics.request(path, code.as_u16());
    (code, axum::Json(body)).into_response()
}

fn unavailable(s: &Shared, path: &'static str, reason: &str) -> Response {
    let mut r = answer(
        s,
        path,
        StatusCode::SERVICE_UNAVAILABLE,
        json!({ "error": reason }),
    );
    if let Ok(v) = HeaderValue::from_str(&s.config.retry_after_secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Queues a parsed request for the next group commit and answers once it is durable.
async fn submit(
    s: Arc<Shared>,
    path: &'static str,
    received: Instant,
    credential: Option<Admitted>,
    parsed: Parsed,
) -> Response {
    let Parsed {
        events,
        dead,
        failed,
    } = parsed;
    let received_n = events.len() + dead.len();
    s.metrics
        .records_received
        .fetch_add(received_n as u64, Ordering::Relaxed);
    if received_n == 0 {
        return answer(
            &s,
            path,
            StatusCode::OK,
            json!({"received": 0, "stored": 0, "duplicates": 0, "dead_lettered": 0, "failed": []}),
        );
    }
    let weight = received_n as u64;
    let before = s.metrics.pending.fetch_add(weight, Ordering::SeqCst);
    // A batch larger than the limit is still taken when nothing else waits, or it could never pass.
    if before > 0 && before + weight > s.config.max_pending as u64 {
        s.metrics.pending.fetch_sub(weight, Ordering::SeqCst);
        s.metrics.overload(before, weight);
        return unavailable(
            &s,
            path,
            &format!(
                "overloaded: {before} events wait for a commit (limit {}); retry after {} s",
                s.config.max_pending, s.config.retry_after_secs
            ),
        );
    }
    let (reply, wait) = oneshot::channel();
    let job = Job {
        events,
        dead,
        received,
        weight,
        credential: credential.map(|a| a.0),
        reply,
    };
    if s.tx.send(Msg::Job(job)).is_err() {
        s.metrics.pending.fetch_sub(weight, Ordering::SeqCst);
        return unavailable(&s, path, "shutting down");
    }
    match wait.await {
        Ok(Ok(outcome)) => {
            s.metrics.ack_seconds.observe(received.elapsed());
            answer(
                &s,
                path,
                StatusCode::OK,
                json!({
                    "received": received_n,
                    "stored": outcome.stored,
                    "duplicates": outcome.duplicates,
                    "dead_lettered": outcome.dead_lettered,
                    "failed": failed,
                }),
            )
        }
        Ok(Err(msg)) => answer(
            &s,
            path,
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": msg }),
        ),
        Err(_) => unavailable(&s, path, "the committer stopped; retry"),
    }
}

async fn post_events(
    State(s): State<Arc<Shared>>,
    credential: Option<axum::Extension<Admitted>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const PATH: &str = "/v1/events";
    let received = Instant::now();
    if s.draining.load(Ordering::SeqCst) {
        return unavailable(&s, PATH, "shutting down");
    }
    let body = match decode_body(&headers, body, s.config.max_body_bytes) {
        Ok(b) => b,
        Err((code, msg)) => return answer(&s, PATH, code, json!({ "error": msg })),
    };
    let parsed = match tokio::task::spawn_blocking(move || parse_events(&body)).await {
        Ok(p) => p,
        Err(e) => {
            return answer(
                &s,
                PATH,
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": format!("internal error (a bug): {e}") }),
            );
        }
    };
    submit(s, PATH, received, credential.map(|c| c.0), parsed).await
}

async fn post_raw(
    State(s): State<Arc<Shared>>,
    Path(source): Path<String>,
    credential: Option<axum::Extension<Admitted>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const PATH: &str = "/v1/raw";
    let received = Instant::now();
    if s.draining.load(Ordering::SeqCst) {
        return unavailable(&s, PATH, "shutting down");
    }
    let choice = if source.eq_ignore_ascii_case("auto") {
        None
    } else {
        match s.vendors.parse(&source) {
            Ok(src) => Some(src),
            Err(e) => {
                return answer(
                    &s,
                    PATH,
                    StatusCode::NOT_FOUND,
                    json!({ "error": format!("{e} (or auto)") }),
                );
            }
        }
    };
    let body = match decode_body(&headers, body, s.config.max_body_bytes) {
        Ok(b) => b,
        Err((code, msg)) => return answer(&s, PATH, code, json!({ "error": msg })),
    };
    let sh = s.clone();
    let origin = format!("/v1/raw/{source}");
    let parsed = tokio::task::spawn_blocking(move || -> Result<Parsed, TransformError> {
        let pooled = sh.normalizers.lock().ok().and_then(|mut p| p.pop());
        let mut normalizer = match pooled {
            Some(n) => n,
            None => Normalizer::from_config_for(
                &sh.config.normalize,
                choice.map_or(SourceChoice::Auto, SourceChoice::Fixed),
            )?,
        };
        let parsed = parse_raw(&mut normalizer, choice, &origin, &body);
        if let Ok(mut p) = sh.normalizers.lock() {
            p.push(normalizer);
        }
        Ok(parsed)
    })
    .await;
    match parsed {
        Ok(Ok(p)) => submit(s, PATH, received, credential.map(|c| c.0), p).await,
        Ok(Err(e)) => answer(
            &s,
            PATH,
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": format!("the VRL mappings do not load: {e}") }),
        ),
        Err(e) => answer(
            &s,
            PATH,
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": format!("internal error (a bug): {e}") }),
        ),
    }
}

/// The name of the credential that admitted a request (a request extension).
#[derive(Debug, Clone)]
struct Admitted(String);

/// Checks the request's credential before its body is read. Refused: 401 (none or unknown, with
/// `WWW-Authenticate`), 403 (valid, not for this path) or 503 (the credentials file is unusable);
/// counted and logged with the credential's name at most, never its secret.
async fn authenticate(State(s): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let Some(auth) = &s.config.auth else {
        // Without credentials, a verified client certificate (mutual TLS) is what admitted it:
        // named by its subject (`certificate:<common name>`).
        if s.config.tls.as_ref().is_some_and(|t| t.client_ca.is_some()) {
            let name = req
                .extensions()
                .get::<ClientCertificate>()
                .map_or_else(|| "unnamed".to_owned(), |c| c.0.clone());
            req.extensions_mut()
                .insert(Admitted(format!("certificate:{name}")));
        }
        return next.run(req).await;
    };
    let uri_path = req.uri().path().to_owned();
    let (label, path) = match uri_path.strip_prefix("/v1/raw/") {
        Some(source) => ("/v1/raw", WritePath::Raw(source)),
        None => ("/v1/events", WritePath::Events),
    };
    match auth.admit(path, req.headers()) {
        Ok(name) => {
            req.extensions_mut().insert(Admitted(name));
            next.run(req).await
        }
        Err(refusal) => {
            s.metrics.refused(label, refusal.reason());
            let remote = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            match &refusal {
                Refusal::Missing | Refusal::Unknown => {
                    tracing::warn!(path = %uri_path, reason = refusal.reason(), forwarded_for = %remote, "Write refused: no valid credential.");
                    let mut r = answer(
                        &s,
                        label,
                        StatusCode::UNAUTHORIZED,
                        json!({ "error": "a valid credential is required (Authorization: Bearer, Basic, or the source's header secret)" }),
                    );
                    r.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(
                            "Bearer realm=\"mdm-audit\", Basic realm=\"mdm-audit\"",
                        ),
                    );
                    r
                }
                Refusal::Forbidden(name) => {
                    tracing::warn!(path = %uri_path, credential = %name, forwarded_for = %remote, "Write refused: the credential is not allowed on this path.");
                    answer(
                        &s,
                        label,
                        StatusCode::FORBIDDEN,
                        json!({ "error": format!("credential {name:?} may not write to {uri_path}") }),
                    )
                }
                Refusal::Unavailable(why) => {
                    tracing::error!(path = %uri_path, error = %why, "Write refused: the credentials file is unusable.");
                    unavailable(
                        &s,
                        label,
                        "the service's credentials file is unusable; the operator must fix it",
                    )
                }
            }
        }
    }
}

async fn health(State(s): State<Arc<Shared>>) -> Response {
    let pending = s.metrics.pending.load(Ordering::Relaxed);
    if s.draining.load(Ordering::SeqCst) {
        return unavailable(&s, "/health", "shutting down");
    }
    answer(
        &s,
        "/health",
        StatusCode::OK,
        json!({
            "status": "ok",
            "writer_id": s.config.writer.chain_id,
            "pending_events": pending,
            "commits": s.metrics.commits.load(Ordering::Relaxed),
        }),
    )
}

async fn metrics_text(State(s): State<Arc<Shared>>) -> Response {
    s.metrics.request("/metrics", 200);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        s.metrics.render(),
    )
        .into_response()
}
