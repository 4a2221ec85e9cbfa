//! QueryData: one response per query, errors per query with its refId.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampNanosecondType};
use chrono::{DateTime, Utc};
use futures::stream::FuturesOrdered;
use grafana_plugin_sdk::backend;
use grafana_plugin_sdk::data::{Field, Frame, Severity};
use grafana_plugin_sdk::prelude::*;

use datafusion::functions::expr_fn::concat;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::{array_agg, count_distinct, max, min};
use datafusion::functions_nested::expr_fn::{array_distinct, array_length, array_to_string};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, in_subquery, when};
use datafusion::prelude::{DataFrame, Expr, cast as cast_to, col, lit};

use crate::engine::{
    self, ACTOR_COLUMNS, Engine, EngineError, MAX_SERIES, Range, bucket, first_of, shown, stats_df,
    ts,
};

/// A device as the timeline and annotations show it, most readable first.
const DEVICE_COLUMNS: [&str; 3] = ["device_name", "device_serial", "device_id"];
use crate::frames::{batches_to_frame, with_executed, with_notice};
use crate::plugin::narrative::{NarrativeRequest, narrative};
use crate::plugin::{Instance, MdmPlugin};
use crate::query::{Filters, MdmQuery, QueryType, StatsGroupBy, StatsMetric};

/// A failed query: the message says what to change; Grafana shows it on the panel.
#[derive(Debug, thiserror::Error)]
#[error("query {ref_id}: {message}")]
pub struct QueryError {
    /// The query's refId.
    pub ref_id: String,
    /// What went wrong.
    pub message: String,
    bad_request: bool,
}

impl backend::DataQueryError for QueryError {
    fn ref_id(self) -> String {
        self.ref_id
    }
    fn status(&self) -> backend::DataQueryStatus {
        if self.bad_request {
            backend::DataQueryStatus::BadRequest
        } else {
            backend::DataQueryStatus::Unknown
        }
    }
}

/// The panel's side of a query: time range, interval, max data points.
#[derive(Debug, Clone, Copy)]
pub struct Panel {
    /// Time range.
    pub range: Range,
    /// Grafana's interval.
    pub interval: Duration,
    /// Max data points (0: none).
    pub max_data_points: i64,
}

/// Runs one query's JSON against the engine; the frames, or a message. Used by QueryData and by the
/// benchmark (QueryData without gRPC).
pub async fn run_query(
    engine: &Engine,
    instance: &Instance,
    ref_id: &str,
    json: &[u8],
    panel: Panel,
) -> Result<Vec<Frame>, (bool, String)> {
    let q = MdmQuery::from_json(json).map_err(|e| (true, e.to_string()))?;
    let out = match q.kind() {
        QueryType::Timeline => timeline(engine, &q, &panel).await,
        QueryType::Sql => sql(engine, &q, &panel).await,
        QueryType::Stats => stats(engine, &q, &panel).await,
        QueryType::Episodes => episodes(engine, &q, &panel).await,
        QueryType::Annotations => annotations(engine, &q, &panel).await,
        QueryType::Narrative => {
            let req = NarrativeRequest {
                ref_id,
                query: &q,
                range: panel.range,
                instance,
            };
            return narrative(engine, &req).await.map_err(|m| (false, m));
        }
    };
    out.map_err(|e| (matches!(e, EngineError::NotAQuery(_)), e.to_string()))
}

fn capped_frame(
    name: &str,
    sql: &str,
    c: &engine::Capped,
    asked: u64,
) -> Result<Frame, EngineError> {
    let schema = c
        .batches
        .first()
        .map_or_else(|| c.schema.clone(), RecordBatch::schema);
    let frame = batches_to_frame(name, &schema, &c.batches)
        .map_err(|e| EngineError::NotAQuery(e.to_string()))?;
    let mut frame = with_executed(frame, sql);
    if c.truncated {
        let why = if (c.cap as u64) < asked {
            format!(
                "the backend caps results at {} rows (limit {asked} asked)",
                engine::MAX_ROWS
            )
        } else {
            format!("limit {} reached", c.cap)
        };
        frame = with_notice(
            frame,
            Severity::Warning,
            format!(
                "showing the first {} rows: {why}; narrow the filters or time range",
                c.cap
            ),
        );
    }
    Ok(frame)
}

/// Timeline columns: what an analyst reads, plus ids for links.
pub fn timeline_columns() -> Vec<Expr> {
    let mut e = vec![col("time"), col("vendor"), col("action")];
    e.push(first_of(&ACTOR_COLUMNS, None).alias("actor"));
    e.push(first_of(&DEVICE_COLUMNS, None).alias("device"));
    e.extend(
        [
            "device_id",
            "target_name",
            "risk_level",
            "risk_score",
            "risk_tags",
            "outcome",
            "message",
            "event_uid",
            "episode_id",
        ]
        .map(col),
    );
    e
}

/// Newest first (`time DESC`, then `event_uid`), as SQL orders them.
fn newest_first(df: DataFrame) -> Result<DataFrame, EngineError> {
    Ok(df.sort(vec![
        col("time").sort(false, true),
        col("event_uid").sort(true, false),
    ])?)
}

/// The timeline of `range` and `filters`, newest first: what the `timeline` query type and
/// `mdm-audit query` show.
pub async fn timeline_of(
    engine: &Engine,
    range: &Range,
    filters: &Filters,
) -> Result<DataFrame, EngineError> {
    let df = engine.events(range, filters).await?;
    newest_first(df.select(timeline_columns())?)
}

/// The first window [`timeline_capped`] reads: the range's last hour.
const FIRST_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// How much each next window grows.
const WINDOW_GROWTH: i32 = 8;

/// The newest `limit` rows of the timeline of `range` and `filters` (and whether more match),
/// exactly as one capped [`timeline_of`] query gives them, read in growing windows from the end of
/// the range: the last hour, then the last 8 hours, 64, ... until a window holds more than `limit`
/// matching rows or is the whole range. Every row outside a window is older than every row in it,
/// so a window that fills the cap holds the answer, and its `day` bounds keep older days' files
/// unread: at 10M events over 30 days, one day's files instead of all of them.
pub async fn timeline_capped(
    engine: &Engine,
    range: &Range,
    filters: &Filters,
    limit: u64,
) -> Result<engine::Capped, EngineError> {
    let mut span = FIRST_WINDOW;
    loop {
        let from = range
            .to
            .checked_sub_signed(span)
            .unwrap_or(range.from)
            .max(range.from);
        let window = Range { from, to: range.to };
        let c = engine
            .run_capped(timeline_of(engine, &window, filters).await?, limit)
            .await?;
        if c.truncated || from == range.from {
            return Ok(c);
        }
        span = span
            .checked_mul(WINDOW_GROWTH)
            .unwrap_or(chrono::TimeDelta::MAX);
    }
}

async fn timeline(engine: &Engine, q: &MdmQuery, p: &Panel) -> Result<Vec<Frame>, EngineError> {
    engine.require("events").await?;
    let filters = q.filters();
    // The query the panel means, shown as executed; it runs window by window.
    let sql = shown(&timeline_of(engine, &p.range, &filters).await?);
    let c = timeline_capped(engine, &p.range, &filters, q.limit()).await?;
    Ok(vec![capped_frame("timeline", &sql, &c, q.limit())?])
}

async fn sql(engine: &Engine, q: &MdmQuery, p: &Panel) -> Result<Vec<Frame>, EngineError> {
    let text = q.sql.as_deref().unwrap_or("");
    let df = engine.user_sql(text, &p.range).await?;
    let c = engine.run_capped(df, q.limit()).await?;
    Ok(vec![capped_frame("sql", text, &c, q.limit())?])
}

async fn annotations(engine: &Engine, q: &MdmQuery, p: &Panel) -> Result<Vec<Frame>, EngineError> {
    engine.require("events").await?;
    let text = concat(vec![
        col("message"),
        lit(" (actor "),
        first_of(&ACTOR_COLUMNS, Some("unknown")),
        lit(", device "),
        first_of(&DEVICE_COLUMNS, Some("none")),
        lit(")"),
    ]);
    let tags = when(
        array_length(col("risk_tags")).gt(lit(0)),
        concat(vec![
            col("risk_level"),
            lit(","),
            array_to_string(col("risk_tags"), lit(",")),
        ]),
    )
    .otherwise(cast_to(
        col("risk_level"),
        arrow::datatypes::DataType::Utf8View,
    ))?;
    let df = engine.events(&p.range, &q.filters()).await?.select(vec![
        col("time"),
        concat(vec![col("vendor"), lit(": "), col("action")]).alias("title"),
        text.alias("text"),
        tags.alias("tags"),
        col("event_uid"),
    ])?;
    let df = newest_first(df)?;
    let sql = shown(&df);
    let c = engine.run_capped(df, q.limit()).await?;
    Ok(vec![capped_frame("annotations", &sql, &c, q.limit())?])
}

/// The episodes of a query: the `episodes` table's newest state per episode when the store has one,
/// else episodes derived from the events' `episode_id`.
pub async fn episodes_df(
    engine: &Engine,
    q: &MdmQuery,
    range: &Range,
    has_table: bool,
) -> Result<DataFrame, EngineError> {
    let f = q.filters();
    let newest = vec![
        col("last_time").sort(false, true),
        col("episode_id").sort(true, false),
    ];
    if has_table {
        let rn = row_number()
            .partition_by(vec![col("episode_id")])
            .order_by(vec![
                col("updated_time").sort(false, true),
                col("chain_seq").sort(false, true),
            ])
            .build()?
            .alias("rn");
        let mut w = col("rn")
            .eq(lit(1_u64))
            .and(col("last_time").gt_eq(ts(range.from)))
            .and(col("first_time").lt_eq(ts(range.to)));
        if f.expr().is_some() {
            let ids = engine
                .events(range, &f)
                .await?
                .filter(col("episode_id").is_not_null())?
                .select(vec![col("episode_id")])?
                .into_unoptimized_plan();
            w = w.and(in_subquery(col("episode_id"), std::sync::Arc::new(ids)));
        }
        let cols = [
            "episode_id",
            "episode_kind",
            "reason",
            "first_time",
            "last_time",
            "event_count",
            "device_count",
            "max_risk_score",
            "risk_tags",
        ];
        let mut select: Vec<Expr> = cols.map(col).to_vec();
        select.insert(3, col("actor").alias("actors"));
        let df = engine.context().table("episodes").await?.window(vec![rn])?;
        Ok(df.filter(w)?.select(select)?.sort(newest)?)
    } else {
        let actor = first_of(&ACTOR_COLUMNS, None);
        let df = engine
            .events(range, &f)
            .await?
            .filter(col("episode_id").is_not_null())?
            .aggregate(
                vec![col("episode_id")],
                vec![
                    max(col("episode_kind")).alias("episode_kind"),
                    min(col("time")).alias("first_time"),
                    max(col("time")).alias("last_time"),
                    array_agg(actor).alias("actor_list"),
                    count_all().alias("event_count"),
                    count_distinct(col("device_id")).alias("device_count"),
                    max(col("risk_score")).alias("max_risk_score"),
                ],
            )?;
        let sorted = datafusion::functions_nested::sort::array_sort_udf()
            .call(vec![array_distinct(col("actor_list"))]);
        Ok(df
            .select(vec![
                col("episode_id"),
                col("episode_kind"),
                col("first_time"),
                col("last_time"),
                array_to_string(sorted, lit(", ")).alias("actors"),
                col("event_count"),
                col("device_count"),
                col("max_risk_score"),
            ])?
            .sort(newest)?)
    }
}

async fn episodes(engine: &Engine, q: &MdmQuery, p: &Panel) -> Result<Vec<Frame>, EngineError> {
    engine.require("events").await?;
    let has_table = engine.tables().await?.iter().any(|t| t == "episodes");
    let df = episodes_df(engine, q, &p.range, has_table).await?;
    let sql = shown(&df);
    let c = engine.run_capped(df, q.limit()).await?;
    Ok(vec![capped_frame("episodes", &sql, &c, q.limit())?])
}

/// `stats`: one wide frame, a time field and one number field per series (labelled with the
/// group-by), every bucket of the range present (count metrics 0, score metrics null when empty).
async fn stats(engine: &Engine, q: &MdmQuery, p: &Panel) -> Result<Vec<Frame>, EngineError> {
    engine.require("events").await?;
    let s = q.stats();
    let g = s.group_by.unwrap_or_default();
    let b = bucket(&p.range, p.interval, p.max_data_points);
    let df = stats_df(engine, &p.range, &q.filters(), (s.metric, g), b).await?;
    let sql = shown(&df);
    let batches = engine.collect(df).await?;
    let mut series: BTreeMap<String, HashMap<i64, f64>> = BTreeMap::new();
    for batch in &batches {
        let t = cast(
            batch.column(0),
            &DataType::Timestamp(TimeUnit::Nanosecond, None),
        )?;
        let t = t.as_primitive::<TimestampNanosecondType>();
        let v = cast(
            batch.column_by_name("value").expect("value"),
            &DataType::Float64,
        )?;
        let v = v.as_primitive::<Float64Type>();
        let names = match batch.column_by_name("series") {
            Some(c) => Some(cast(c, &DataType::Utf8)?),
            None => None,
        };
        for r in 0..batch.num_rows() {
            if v.is_null(r) {
                continue;
            }
            let name = names
                .as_ref()
                .map(|n| n.as_string::<i32>())
                .map_or(String::new(), |n| {
                    if n.is_null(r) {
                        "(none)".to_owned()
                    } else {
                        n.value(r).to_owned()
                    }
                });
            series
                .entry(name)
                .or_default()
                .insert(t.value(r), v.value(r));
        }
    }
    let counting = matches!(s.metric, StatsMetric::Count | StatsMetric::DistinctDevices);
    if g == StatsGroupBy::None {
        series.entry(String::new()).or_default();
    }
    // Largest series first, at most `limit` (and MAX_SERIES).
    let mut ranked: Vec<(String, HashMap<i64, f64>)> = series.into_iter().collect();
    let weight = |m: &HashMap<i64, f64>| {
        if counting {
            m.values().sum::<f64>()
        } else {
            m.values().copied().fold(f64::MIN, f64::max)
        }
    };
    ranked.sort_by(|a, b| weight(&b.1).total_cmp(&weight(&a.1)).then(a.0.cmp(&b.0)));
    let cap = usize::try_from(q.limit())
        .unwrap_or(usize::MAX)
        .min(MAX_SERIES);
    let dropped = ranked.len().saturating_sub(cap);
    ranked.truncate(cap);

    let step = i64::try_from(b.as_nanos()).unwrap_or(i64::MAX).max(1);
    let from = p.range.from.timestamp_nanos_opt().unwrap_or(0);
    let to = p.range.to.timestamp_nanos_opt().unwrap_or(0);
    let mut times = Vec::new();
    let mut t = from.div_euclid(step) * step;
    while t <= to {
        times.push(t);
        t += step;
    }
    let mut frame = Frame::new("stats");
    frame.add_field(
        times
            .iter()
            .map(|t| DateTime::<Utc>::from_timestamp_nanos(*t))
            .collect::<Vec<_>>()
            .into_field("time"),
    );
    let metric_name = match s.metric {
        StatsMetric::Count => "count",
        StatsMetric::RiskScoreMax => "risk_score_max",
        StatsMetric::RiskScoreAvg => "risk_score_avg",
        StatsMetric::DistinctDevices => "distinct_devices",
    };
    for (name, values) in &ranked {
        let col: Vec<Option<f64>> = times
            .iter()
            .map(|t| values.get(t).copied().or(counting.then_some(0.0)))
            .collect();
        let mut field: Field = col.into_opt_field(metric_name);
        if g != StatsGroupBy::None {
            // Labels only, no field config: grafana-plugin-sdk 0.5 writes just the config when a
            // field has both (Field::to_arrow_field swaps the two arms), which would drop the
            // labels alerting and legends key series by. Grafana names the series by its labels.
            field.labels.insert(g.as_str().to_owned(), name.clone());
        }
        frame.add_field(field);
    }
    let mut frame = with_executed(frame, &sql);
    if dropped > 0 {
        frame = with_notice(
            frame,
            Severity::Info,
            format!("{dropped} smaller series left out (limit {cap})"),
        );
    }
    Ok(vec![frame])
}

#[backend::async_trait]
impl backend::DataService for MdmPlugin {
    type Query = serde_json::Value;
    type QueryError = QueryError;
    type Stream = backend::BoxDataResponseStream<Self::QueryError>;

    async fn query_data(
        &self,
        request: backend::QueryDataRequest<Self::Query, Self>,
    ) -> Self::Stream {
        let instance = Instance::from_context(&request.plugin_context);
        let this = self.clone();
        Box::pin(
            request
                .queries
                .into_iter()
                .map(move |q| {
                    let this = this.clone();
                    let instance = instance.clone();
                    async move {
                        let ref_id = q.ref_id.clone();
                        let err = |bad: bool, message: String| QueryError {
                            ref_id: ref_id.clone(),
                            message,
                            bad_request: bad,
                        };
                        let instance = instance.map_err(|m| err(true, m))?;
                        let engine = this
                            .engine(&instance)
                            .await
                            .map_err(|e| err(false, e.to_string()))?;
                        let json =
                            serde_json::to_vec(&q.query).map_err(|e| err(true, e.to_string()))?;
                        // Grafana's own queryType wins over a missing one in the JSON.
                        let json = with_query_type(json, &q.query_type);
                        let panel = Panel {
                            range: Range {
                                from: q.time_range.from,
                                to: q.time_range.to,
                            },
                            interval: q.interval,
                            max_data_points: q.max_data_points,
                        };
                        let frames = run_query(&engine, &instance, &ref_id, &json, panel)
                            .await
                            .map_err(|(bad, m)| err(bad, m))?;
                        let checked = frames
                            .iter()
                            .map(Frame::check)
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|e| err(false, e.to_string()))?;
                        Ok(backend::DataResponse::new(ref_id.clone(), checked))
                    }
                })
                .collect::<FuturesOrdered<_>>(),
        )
    }
}

fn with_query_type(json: Vec<u8>, query_type: &str) -> Vec<u8> {
    if query_type.is_empty() {
        return json;
    }
    match serde_json::from_slice::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Object(mut m)) if !m.contains_key("queryType") => {
            m.insert("queryType".into(), query_type.into());
            serde_json::to_vec(&m).unwrap_or(json)
        }
        _ => json,
    }
}
