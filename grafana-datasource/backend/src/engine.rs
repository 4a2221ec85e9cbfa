//! The query engine: one DataFusion `SessionContext` per store, reused across queries (the Delta
//! tables' metadata stays loaded), with a memory limit, a timeout and a row cap. Queries are built
//! with DataFusion's DataFrame and `Expr` API over the registered tables (values are literals, never
//! SQL text); filters and the time range (including the `day` partition column, so whole days are
//! pruned) are filters DataFusion pushes into the Delta scan. Only the user's own `sql` query type is
//! SQL text; its `events` is restricted to the time range in the plan.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::Transformed;
use datafusion::common::{ScalarValue, TableReference, UnnestOptions};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::{avg, count_distinct, max};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{
    DataFrame, Expr, SQLOptions, SessionConfig, SessionContext, cast, col, lit,
};
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::Statement;
use mdm_audit_store::{StoreLocation, register_tables};
use tokio::sync::Mutex;

use crate::query::{Filters, StatsGroupBy, StatsMetric};
pub use mdm_audit_store::select::{Range, events_expr, ts};

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
    /// The query's schema (for an empty result).
    pub schema: SchemaRef,
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

    /// Runs fixed `sql` (no interpolated values) with the timeout; all rows.
    pub async fn run(&self, sql: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let df = self.ctx.sql(sql).await?;
        self.collect(df).await
    }

    /// `events` within `range` and the filters.
    pub async fn events(&self, range: &Range, f: &Filters) -> Result<DataFrame, EngineError> {
        Ok(self
            .ctx
            .table("events")
            .await?
            .filter(events_expr(range, f))?)
    }

    /// Collects `df` with the timeout; all rows.
    pub async fn collect(&self, df: DataFrame) -> Result<Vec<RecordBatch>, EngineError> {
        tokio::time::timeout(QUERY_TIMEOUT, df.collect())
            .await
            .map_err(|_| EngineError::Timeout(QUERY_TIMEOUT))?
            .map_err(EngineError::from)
    }

    /// Collects `df` with at most `limit` rows (and at most `MAX_ROWS`).
    pub async fn run_capped(&self, df: DataFrame, limit: u64) -> Result<Capped, EngineError> {
        let cap = usize::try_from(limit).unwrap_or(usize::MAX).min(MAX_ROWS);
        let schema: SchemaRef = std::sync::Arc::new(df.schema().as_arrow().clone());
        let mut batches = self.collect(df.limit(0, Some(cap + 1))?).await?;
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
            schema,
        })
    }

    /// The user's read-only `sql` (checked by [`read_only_sql`], then that `events` exists) as a
    /// DataFrame in which every scan of `events` is filtered to `range` (a filter in the plan, not
    /// SQL text). As before the conversion (a leading `events` CTE), only the bare name `events`
    /// is restricted: a qualified `datafusion.public.events` still reads the whole table.
    pub async fn user_sql(&self, sql: &str, range: &Range) -> Result<DataFrame, EngineError> {
        read_only_sql(sql)?;
        self.require("events").await?;
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let (state, plan) = self.ctx.sql_with_options(sql, options).await?.into_parts();
        let plan = plan
            .transform_up_with_subqueries(|p| match &p {
                LogicalPlan::TableScan(s) if s.table_name == TableReference::bare("events") => {
                    let f = LogicalPlanBuilder::from(p).filter(range.expr())?.build()?;
                    Ok(Transformed::yes(f))
                }
                _ => Ok(Transformed::no(p)),
            })?
            .data;
        Ok(DataFrame::new(state, plan))
    }
}

/// The query as shown in Grafana's query inspector: the plan unparsed to SQL (the plan itself when
/// it does not unparse).
pub fn shown(df: &DataFrame) -> String {
    datafusion::sql::unparser::plan_to_sql(df.logical_plan()).map_or_else(
        |_| df.logical_plan().display_indent().to_string(),
        |s| s.to_string(),
    )
}

/// Checks that `sql` is exactly one query (SELECT, WITH ..., VALUES), not WITH RECURSIVE.
pub fn read_only_sql(sql: &str) -> Result<(), EngineError> {
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
    let Statement::Query(query) = *stmt else {
        let kind = stmt.to_string();
        let word = kind
            .split_whitespace()
            .next()
            .unwrap_or("statement")
            .to_uppercase();
        return Err(refuse(&format!("{word} statements are refused")));
    };
    match &query.with {
        Some(w) if w.recursive => Err(refuse("WITH RECURSIVE is refused")),
        _ => Ok(()),
    }
}

/// The metric's aggregate, a DOUBLE.
pub fn metric_expr(m: StatsMetric) -> Expr {
    let double = |e: Expr| cast(e, DataType::Float64);
    match m {
        StatsMetric::Count => double(count_all()),
        StatsMetric::RiskScoreMax => double(max(col("risk_score"))),
        StatsMetric::RiskScoreAvg => avg(double(col("risk_score"))),
        StatsMetric::DistinctDevices => double(count_distinct(col("device_id"))),
    }
}

/// Who acted, most readable first: the columns an actor is shown and suggested by.
pub const ACTOR_COLUMNS: [&str; 3] = ["actor_upn", "actor_name", "actor_id"];

/// The first non-null of `cols`, else `none` when given.
pub fn first_of(cols: &[&str], none: Option<&str>) -> Expr {
    let mut e: Vec<Expr> = cols.iter().map(|c| col(*c)).collect();
    e.extend(none.map(lit));
    coalesce(e)
}

/// The group-by's series expression (over `events`; `tag` is an unnested risk tag), `None` for one
/// series.
pub fn group_expr(g: StatsGroupBy) -> Option<Expr> {
    Some(match g {
        StatsGroupBy::None => return None,
        StatsGroupBy::Vendor => col("vendor"),
        StatsGroupBy::Actor => first_of(&ACTOR_COLUMNS, Some("(unknown)")),
        StatsGroupBy::Action => col("action"),
        StatsGroupBy::RiskLevel => col("risk_level"),
        StatsGroupBy::RiskTag => col("tag"),
        StatsGroupBy::Device => first_of(
            &["device_name", "device_serial", "device_id"],
            Some("(none)"),
        ),
    })
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

/// The per-bucket stats: columns `bucket` (timestamp), `series` (string; absent for one series) and
/// `value`, ordered by bucket.
pub async fn stats_df(
    engine: &Engine,
    range: &Range,
    f: &Filters,
    (m, g): (StatsMetric, StatsGroupBy),
    b: Duration,
) -> Result<DataFrame, EngineError> {
    let nanos = i64::try_from(b.as_nanos()).unwrap_or(i64::MAX);
    let stride = lit(ScalarValue::new_interval_mdn(
        0,
        0,
        nanos / 1_000_000 * 1_000_000,
    ));
    let bin = datafusion::functions::datetime::date_bin().call(vec![stride, col("time")]);
    let mut df = engine.events(range, f).await?;
    if g == StatsGroupBy::RiskTag {
        // Every column plus `tag`, one row per tag (events without tags give no row).
        let mut cols: Vec<Expr> = df
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        cols.push(col("risk_tags").alias("tag"));
        let options = UnnestOptions::new().with_preserve_nulls(false);
        df = df
            .select(cols)?
            .unnest_columns_with_options(&["tag"], options)?;
    }
    let mut group = vec![bin.alias("bucket")];
    if let Some(s) = group_expr(g) {
        group.push(cast(s, DataType::Utf8View).alias("series"));
    }
    Ok(df
        .aggregate(group, vec![metric_expr(m).alias("value")])?
        .sort(vec![col("bucket").sort(true, false)])?)
}
