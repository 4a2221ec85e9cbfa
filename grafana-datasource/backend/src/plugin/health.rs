//! CheckHealth: the store is reachable, how many events it holds, the newest event's time, and what
//! to fix when something is wrong.

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMicrosecondType};
use chrono::DateTime;
use grafana_plugin_sdk::backend;

use arrow::array::RecordBatch;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::prelude::col;

use crate::engine::{Engine, EngineError};
use crate::plugin::{Instance, MdmPlugin};

/// One row: `n` (events) and `newest` (the newest event's time).
async fn summary(engine: &Engine) -> Result<Vec<RecordBatch>, EngineError> {
    let df = engine.context().table("events").await?.aggregate(
        vec![],
        vec![count_all().alias("n"), max(col("time")).alias("newest")],
    )?;
    engine.collect(df).await
}

/// The health of the instance's store: `(ok, message, details)`.
pub async fn check(plugin: &MdmPlugin, instance: &Instance) -> (bool, String, serde_json::Value) {
    let uri = instance.settings.store_uri().to_owned();
    let engine = match plugin.engine(instance).await {
        Ok(e) => e,
        Err(e) => {
            return (
                false,
                format!(
                    "cannot open the store at {uri}: {e}. Check storeUri in the datasource settings \
                     (a directory readable by the Grafana server, or s3://bucket/prefix with storage keys)"
                ),
                serde_json::json!({"storeUri": uri}),
            );
        }
    };
    let location = engine.location();
    if let Err(e) = engine.require("events").await {
        return (
            false,
            format!(
                "store {location} is reachable but has no events table: {e}. Point storeUri at the \
                 directory given to `mdm-audit ingest --store` or `mdm-audit serve --store`"
            ),
            serde_json::json!({"store": location}),
        );
    }
    let batches = match summary(&engine).await {
        Ok(b) => b,
        Err(e) => {
            return (
                false,
                format!("store {location}: reading events failed: {e}"),
                serde_json::json!({"store": location}),
            );
        }
    };
    let (mut n, mut newest) = (0_i64, None);
    if let Some(b) = batches.first().filter(|b| b.num_rows() > 0) {
        if let Ok(c) = cast(b.column(0), &DataType::Int64) {
            n = c.as_primitive::<Int64Type>().value(0);
        }
        if let Ok(c) = cast(
            b.column(1),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        ) {
            let c = c.as_primitive::<TimestampMicrosecondType>();
            if !c.is_null(0) {
                newest = DateTime::from_timestamp_micros(c.value(0));
            }
        }
    }
    let details = serde_json::json!({
        "store": location,
        "events": n,
        "newestEvent": newest.map(|t| t.to_rfc3339()),
    });
    match newest {
        Some(t) => (
            true,
            format!(
                "store {location}: {n} events, newest {}",
                t.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            details,
        ),
        None => (
            false,
            format!(
                "store {location} is reachable but holds no events: ingest some \
                 (mdm-audit ingest --store <dir> <files>, or run mdm-audit serve behind Vector)"
            ),
            details,
        ),
    }
}

#[backend::async_trait]
impl backend::DiagnosticsService for MdmPlugin {
    type CheckHealthError = std::convert::Infallible;

    async fn check_health(
        &self,
        request: backend::CheckHealthRequest<Self>,
    ) -> Result<backend::CheckHealthResponse, Self::CheckHealthError> {
        let instance = match Instance::from_context(&request.plugin_context) {
            Ok(i) => i,
            Err(m) => return Ok(backend::CheckHealthResponse::error(m)),
        };
        let (ok, message, details) = check(self, &instance).await;
        Ok(if ok {
            backend::CheckHealthResponse::ok(message).with_json_details(details)
        } else {
            backend::CheckHealthResponse::error(message).with_json_details(details)
        })
    }

    type CollectMetricsError = std::convert::Infallible;

    async fn collect_metrics(
        &self,
        _request: backend::CollectMetricsRequest<Self>,
    ) -> Result<backend::CollectMetricsResponse, Self::CollectMetricsError> {
        Ok(backend::CollectMetricsResponse::new(None))
    }
}
