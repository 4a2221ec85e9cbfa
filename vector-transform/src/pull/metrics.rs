//! The counters of a long-running pull (`--every`) as Prometheus text on `GET /metrics`, the way
//! `mdm-audit serve` exposes its own, and `GET /health`.

use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::{Counters, Progress, PullError};

impl Counters {
    /// Prometheus text exposition of the counters, labelled with the vendor `source`.
    pub fn render(&self, source: &str) -> String {
        let mut out = String::new();
        let rows: [(&str, u64, &str); 9] = [
            ("records", self.records, "Vendor records read."),
            ("pages", self.pages, "Pages read."),
            ("stored_events", self.stored, "Events stored (new)."),
            (
                "duplicate_events",
                self.duplicates,
                "Events skipped as already stored.",
            ),
            ("dead_letters", self.dead_lettered, "Records dead-lettered."),
            (
                "rate_limit_waits",
                self.rate_limit_waits,
                "Waits after a 429 Too Many Requests.",
            ),
            (
                "retries",
                self.retries,
                "Retries after a 5xx or a network error.",
            ),
            ("tokens", self.tokens, "Bearer tokens fetched."),
            (
                "failed_runs",
                self.failed_runs,
                "Runs that stopped with an error.",
            ),
        ];
        for (name, value, help) in rows {
            let _ = writeln!(out, "# HELP mdm_audit_pull_{name}_total {help}");
            let _ = writeln!(out, "# TYPE mdm_audit_pull_{name}_total counter");
            let _ = writeln!(
                out,
                "mdm_audit_pull_{name}_total{{source=\"{source}\"}} {value}"
            );
        }
        out
    }
}

/// Serves `/metrics` and `/health` on `addr` in the background; returns the bound address.
pub async fn serve_metrics(
    addr: SocketAddr,
    source: &'static str,
    progress: Progress,
) -> Result<SocketAddr, PullError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| PullError::Setup(format!("--metrics-listen {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| PullError::Setup(format!("--metrics-listen {addr}: {e}")))?;
    let app = Router::new()
        .route(
            "/metrics",
            get(move |State(p): State<Progress>| async move { p.counters().render(source) }),
        )
        .route("/health", get(|| async { "ok" }))
        .with_state(progress);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "The pull metrics listener stopped.");
        }
    });
    Ok(bound)
}
