//! The query engine: one DataFusion `SessionContext` per store, reused across queries (the Delta
//! tables' metadata stays loaded), with a memory limit, a timeout and a row cap. Queries are built as
//! SQL over the registered views; filters and the time range (including the `day` partition column,
//! so whole days are pruned) go into the `WHERE` clause DataFusion pushes into the Delta scan.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::Statement;
use mdm_audit_store::{StoreLocation, register_tables};
use tokio::sync::Mutex;

use crate::query::{Filters, StatsGroupBy, StatsMetric};
pub use mdm_audit_store::select::{Range, filter_sql, lit, ts_literal, where_sql};

/// The most rows any query returns; a lower `limit` wins, a higher one is capped with a notice.
pub const MAX_ROWS: usize = 10_000;
/// The most series a `stats` query returns.
pub const MAX_SERIES: usize = 100;
/// Per-query time limit.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Memory the engine may use for one store (sorts and aggregations spill or fail beyond it).
pub const MEMORY_LIMIT: usize = 1 << 30;
/// How long a registered snapshot of the store is used before the tables are reloaded.
pub const REFRESH_AFTER: Duration = Duration::from_secs(5);

/// An engine failure, worded for the analyst.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store could not be opened.
    #[error("store {location}: {message}")]
    Store {
        /// Where.
        location: String,
        /// What.
        message: String,
    },
    /// `sql` is not one read-only query.
    #[error("{0}")]
    NotAQuery(String),
    /// DataFusion refused or failed the query.
    #[error("query failed: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The timeout passed.
    #[error("query timed out after {0:?}: narrow the time range or add filters")]
    Timeout(Duration),
    /// Arrow failed on a result.
    #[error("reading the result failed: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The table the query needs is not in the store.
    #[error("the store has no `{0}` table yet: ingest events first (mdm-audit ingest)")]
    MissingTable(&'static str),
}

/// The engine of one store.
pub struct Engine {
    location: StoreLocation,
    ctx: SessionContext,
    tables: Mutex<(Instant, Vec<String>)>,
    narratives: mdm_audit_narrative::NarrativeCache,
}

/// Narratives kept per store.
pub const NARRATIVE_CACHE: usize = 256;

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("location", &self.location.display())
            .finish_non_exhaustive()
    }
}

/// The result of a capped query.
#[derive(Debug)]
pub struct Capped {
    /// At most `cap` rows.
    pub batches: Vec<RecordBatch>,
    /// True when more rows existed.
    pub truncated: bool,
    /// The cap applied.
    pub cap: usize,
}

impl Engine {
    /// Opens the store (registers its tables once). A store without tables opens; queries then say
    /// what is missing.
    pub async fn open(location: StoreLocation) -> Result<Self, EngineError> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(MEMORY_LIMIT, 1.0)
            .build_arc()?;
        let config = SessionConfig::new()
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .with_information_schema(false);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let engine = Self {
            location,
            ctx,
            tables: Mutex::new((Instant::now(), Vec::new())),
            narratives: mdm_audit_narrative::NarrativeCache::new(NARRATIVE_CACHE),
        };
        let names = engine.register().await?;
        *engine.tables.lock().await = (Instant::now(), names);
        Ok(engine)
    }

    async fn register(&self) -> Result<Vec<String>, EngineError> {
        register_tables(
            &self.location,
            &mdm_audit_narrative::store_tables(),
            &self.ctx,
        )
        .await
        .map_err(|e| EngineError::Store {
            location: self.location.display(),
            message: e.to_string(),
        })
    }

    /// The store's location as shown to users.
    pub fn location(&self) -> String {
        self.location.display()
    }

    /// Narratives written over this store (evidence hash, kind, prompt version, model).
    pub fn narrative_cache(&self) -> &mdm_audit_narrative::NarrativeCache {
        &self.narratives
    }

    /// The store this engine reads.
    pub fn store(&self) -> &StoreLocation {
        &self.location
    }

    /// The shared context (for the narrative engine and resources).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The registered tables, reloading the store's snapshot when it is older than `REFRESH_AFTER`.
    pub async fn tables(&self) -> Result<Vec<String>, EngineError> {
        let mut t = self.tables.lock().await;
        if t.0.elapsed() >= REFRESH_AFTER {
            let names = self.register().await?;
            *t = (Instant::now(), names);
        }
        Ok(t.1.clone())
    }

    /// Fails unless `table` is in the store.
    pub async fn require(&self, table: &'static str) -> Result<(), EngineError> {
        if self.tables().await?.iter().any(|t| t == table) {
            Ok(())
        } else {
            Err(EngineError::MissingTable(table))
        }
    }

    /// Runs `sql` (built by us) with the timeout; all rows.
    pub async fn run(&self, sql: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let fut = async {
            let df = self.ctx.sql(sql).await?;
            df.collect().await
        };
        tokio::time::timeout(QUERY_TIMEOUT, fut)
            .await
            .map_err(|_| EngineError::Timeout(QUERY_TIMEOUT))?
            .map_err(EngineError::from)
    }

    /// Runs `sql` with at most `limit` rows (and at most `MAX_ROWS`).
    pub async fn run_capped(&self, sql: &str, limit: u64) -> Result<Capped, EngineError> {
        let cap = usize::try_from(limit).unwrap_or(usize::MAX).min(MAX_ROWS);
        let fut = async {
            let df = self.ctx.sql(sql).await?.limit(0, Some(cap + 1))?;
            df.collect().await
        };
        let mut batches = tokio::time::timeout(QUERY_TIMEOUT, fut)
            .await
            .map_err(|_| EngineError::Timeout(QUERY_TIMEOUT))??;
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let truncated = total > cap;
        if truncated {
            let mut left = cap;
            for b in &mut batches {
                let take = b.num_rows().min(left);
                *b = b.slice(0, take);
                left -= take;
            }
            batches.retain(|b| b.num_rows() > 0);
        }
        Ok(Capped {
            batches,
            truncated,
            cap,
        })
    }
}

/// Checks that `sql` is exactly one query (SELECT, WITH ..., VALUES) and returns it restricted to
/// the time range: `events` inside the statement is the store's `events` within `range`.
pub fn read_only_sql(sql: &str, range: &Range) -> Result<String, EngineError> {
    let refuse = |what: &str| {
        EngineError::NotAQuery(format!(
            "only one read-only query (SELECT ... FROM events) is allowed; {what}"
        ))
    };
    if sql.trim().is_empty() {
        return Err(refuse("the SQL is empty: write a SELECT over `events`"));
    }
    let mut statements = DFParser::parse_sql(sql)
        .map_err(|e| EngineError::NotAQuery(format!("SQL does not parse: {e}")))?;
    if statements.len() != 1 {
        return Err(refuse(&format!("found {} statements", statements.len())));
    }
    let Some(DfStatement::Statement(stmt)) = statements.pop_front() else {
        return Err(refuse("this is a DataFusion command, not a query"));
    };
    let Statement::Query(mut query) = *stmt else {
        let kind = stmt.to_string();
        let word = kind
            .split_whitespace()
            .next()
            .unwrap_or("statement")
            .to_uppercase();
        return Err(refuse(&format!("{word} statements are refused")));
    };
    let restricted = format!(
        "events AS (SELECT * FROM datafusion.public.events WHERE {})",
        range.sql("")
    );
    let ctes = match query.with.take() {
        Some(w) if w.recursive => return Err(refuse("WITH RECURSIVE is refused")),
        Some(w) => {
            let mut all = vec![restricted];
            all.extend(w.cte_tables.iter().map(ToString::to_string));
            all.join(", ")
        }
        None => restricted,
    };
    Ok(format!("WITH {ctes} {query}"))
}

/// The metric's SQL aggregate.
pub fn metric_sql(m: StatsMetric) -> &'static str {
    match m {
        StatsMetric::Count => "CAST(count(*) AS DOUBLE)",
        StatsMetric::RiskScoreMax => "CAST(max(risk_score) AS DOUBLE)",
        StatsMetric::RiskScoreAvg => "avg(CAST(risk_score AS DOUBLE))",
        StatsMetric::DistinctDevices => "CAST(count(DISTINCT device_id) AS DOUBLE)",
    }
}

/// The group-by's series expression (over `events`), `None` for one series.
pub fn group_sql(g: StatsGroupBy) -> Option<&'static str> {
    match g {
        StatsGroupBy::None => None,
        StatsGroupBy::Vendor => Some("vendor"),
        StatsGroupBy::Actor => Some("coalesce(actor_upn, actor_name, actor_id, '(unknown)')"),
        StatsGroupBy::Action => Some("action"),
        StatsGroupBy::RiskLevel => Some("risk_level"),
        StatsGroupBy::RiskTag => Some("tag"),
        StatsGroupBy::Device => Some("coalesce(device_name, device_serial, device_id, '(none)')"),
    }
}

/// The bucket width: the panel's interval, widened so the range has at most `max_points` buckets;
/// at least one second.
pub fn bucket(range: &Range, interval: Duration, max_points: i64) -> Duration {
    let span = (range.to - range.from).to_std().unwrap_or_default();
    let mut b = interval.max(Duration::from_secs(1));
    if max_points > 0 {
        let min = span.as_secs_f64() / max_points as f64;
        if b.as_secs_f64() < min {
            b = Duration::from_secs(min.ceil() as u64);
        }
    }
    b
}

/// The per-bucket stats SQL: columns `bucket` (timestamp), `series` (string or absent), `value`.
pub fn stats_sql(
    range: &Range,
    f: &Filters,
    m: StatsMetric,
    g: StatsGroupBy,
    b: Duration,
) -> String {
    let bin = format!("date_bin(INTERVAL '{} milliseconds', time)", b.as_millis());
    let w = where_sql(range, f);
    let from = if g == StatsGroupBy::RiskTag {
        format!("(SELECT *, unnest(risk_tags) AS tag FROM events WHERE {w}) AS e")
    } else {
        format!("events WHERE {w}")
    };
    match group_sql(g) {
        None => format!(
            "SELECT {bin} AS bucket, {} AS value FROM {from} GROUP BY 1 ORDER BY 1",
            metric_sql(m)
        ),
        Some(s) => format!(
            "SELECT {bin} AS bucket, CAST({s} AS VARCHAR) AS series, {} AS value FROM {from} GROUP BY 1, 2 ORDER BY 1",
            metric_sql(m)
        ),
    }
}
