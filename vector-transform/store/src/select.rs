//! Which events: a time range and filters, as the Grafana plugin's queries, the narrative engine and
//! reports select them. The filters' serde form is the query model's `filters` object
//! (`grafana-datasource/QUERY_MODEL.md`): camelCase fields, snake_case risk levels, unknown keys
//! refused. The time range also bounds the `day` partition column, so whole days are pruned.

use chrono::{DateTime, Utc};
use datafusion::common::ScalarValue;
use datafusion::prelude::{Expr, col};
use serde::Deserialize;

use crate::dedupe::day_of;
use crate::tables::DAY;

/// `risk_level` of a normalized event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// No risk.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl RiskLevel {
    /// The value stored in `risk_level`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// Event filters: values within a field are alternatives, fields combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filters {
    /// `vendor`.
    pub vendors: Option<Vec<String>>,
    /// `actor_upn`, `actor_name` or `actor_id`.
    pub actors: Option<Vec<String>>,
    /// `device_id`, `device_serial` or `device_name`.
    pub devices: Option<Vec<String>>,
    /// `action`.
    pub actions: Option<Vec<String>>,
    /// `risk_level`.
    pub risk_levels: Option<Vec<RiskLevel>>,
    /// Any of these in `risk_tags`.
    pub risk_tags: Option<Vec<String>>,
    /// Case-insensitive substring of message, actor, target or device names.
    pub text: Option<String>,
    /// `event_uid`: exactly these events (a narrative citation's evidence set).
    pub event_uids: Option<Vec<String>>,
}

/// A time range in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Start, inclusive.
    pub from: DateTime<Utc>,
    /// End, inclusive.
    pub to: DateTime<Utc>,
}

impl Range {
    /// `time` within the range plus the `day` partition bounds for pruning, as an expression.
    pub fn expr(&self) -> Expr {
        let day = |t: DateTime<Utc>| datafusion::prelude::lit(ScalarValue::Date32(Some(day_of(t))));
        let ts = |t: DateTime<Utc>| {
            datafusion::prelude::lit(ScalarValue::TimestampMicrosecond(
                Some(t.timestamp_micros()),
                Some("UTC".into()),
            ))
        };
        col(DAY)
            .gt_eq(day(self.from))
            .and(col(DAY).lt_eq(day(self.to)))
            .and(col("time").gt_eq(ts(self.from)))
            .and(col("time").lt_eq(ts(self.to)))
    }

    /// `time` within the range plus the `day` partition bounds for pruning, as SQL.
    pub fn sql(&self, prefix: &str) -> String {
        format!(
            "{prefix}day >= '{}' AND {prefix}day <= '{}' AND {prefix}time >= {} AND {prefix}time <= {}",
            self.from.format("%Y-%m-%d"),
            self.to.format("%Y-%m-%d"),
            ts_literal(self.from),
            ts_literal(self.to)
        )
    }
}

/// A UTC timestamp literal (DataFusion compares it with the store's `Timestamp(Microsecond, UTC)`).
pub fn ts_literal(t: DateTime<Utc>) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
}

/// A SQL string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn list(values: &[String]) -> String {
    values.iter().map(|v| lit(v)).collect::<Vec<_>>().join(", ")
}

/// The `WHERE` conditions of the filters (empty: none), over the `events` columns.
pub fn filter_sql(f: &Filters) -> Vec<String> {
    let mut c = Vec::new();
    let nonempty = |v: &Option<Vec<String>>| v.as_ref().filter(|v| !v.is_empty()).cloned();
    if let Some(v) = nonempty(&f.vendors) {
        c.push(format!("vendor IN ({})", list(&v)));
    }
    if let Some(v) = nonempty(&f.actors) {
        let l = list(&v);
        c.push(format!(
            "(actor_upn IN ({l}) OR actor_name IN ({l}) OR actor_id IN ({l}))"
        ));
    }
    if let Some(v) = nonempty(&f.devices) {
        let l = list(&v);
        c.push(format!(
            "(device_id IN ({l}) OR device_serial IN ({l}) OR device_name IN ({l}))"
        ));
    }
    if let Some(v) = nonempty(&f.actions) {
        c.push(format!("action IN ({})", list(&v)));
    }
    if let Some(v) = f.risk_levels.as_ref().filter(|v| !v.is_empty()) {
        let v: Vec<String> = v.iter().map(|l| l.as_str().to_owned()).collect();
        c.push(format!("risk_level IN ({})", list(&v)));
    }
    if let Some(v) = nonempty(&f.event_uids) {
        // A textbox variable arrives as one comma-separated value: uids hold no commas or spaces.
        let uids: Vec<String> = v
            .iter()
            .flat_map(|s| s.split([',', ' ', '\n']))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !uids.is_empty() {
            c.push(format!("event_uid IN ({})", list(&uids)));
        }
    }
    if let Some(v) = nonempty(&f.risk_tags) {
        let ors: Vec<String> = v
            .iter()
            .map(|t| format!("array_has(risk_tags, {})", lit(t)))
            .collect();
        c.push(format!("({})", ors.join(" OR ")));
    }
    if let Some(t) = f.text.as_deref().filter(|t| !t.is_empty()) {
        let pat = lit(&format!(
            "%{}%",
            t.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        ));
        let cols = [
            "message",
            "actor_upn",
            "actor_name",
            "actor_id",
            "target_name",
            "device_name",
        ];
        let ors: Vec<String> = cols
            .iter()
            .map(|col| format!("lower({col}) LIKE {pat}"))
            .collect();
        c.push(format!("({})", ors.join(" OR ")));
    }
    c
}

/// The `WHERE` clause of range plus filters.
pub fn where_sql(range: &Range, f: &Filters) -> String {
    let mut c = vec![range.sql("")];
    c.extend(filter_sql(f));
    c.join(" AND ")
}
