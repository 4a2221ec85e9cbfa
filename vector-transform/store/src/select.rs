//! Which events: a time range and filters, as the Grafana plugin's queries, the narrative engine and
//! reports select them. The filters' serde form is the query model's `filters` object
//! (`grafana-datasource/QUERY_MODEL.md`): camelCase fields, snake_case risk levels, unknown keys
//! refused. The time range also bounds the `day` partition column, so whole days are pruned.

use chrono::{DateTime, Utc};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{contains, lower};
use datafusion::functions_nested::expr_fn::array_has;
use datafusion::prelude::{Expr, col, lit};
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
        let day = |t: DateTime<Utc>| lit(ScalarValue::Date32(Some(day_of(t))));
        col(DAY)
            .gt_eq(day(self.from))
            .and(col(DAY).lt_eq(day(self.to)))
            .and(col("time").gt_eq(ts(self.from)))
            .and(col("time").lt_eq(ts(self.to)))
    }
}

/// A UTC timestamp literal of the store's `Timestamp(Microsecond, UTC)` type.
pub fn ts(t: DateTime<Utc>) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(t.timestamp_micros()),
        Some("UTC".into()),
    ))
}

/// `column IN (values)` for any of `columns`.
fn any_in(columns: &[&str], values: &[String]) -> Expr {
    let list: Vec<Expr> = values.iter().map(|v| lit(v.as_str())).collect();
    or_all(columns.iter().map(|c| col(*c).in_list(list.clone(), false)))
}

fn or_all(e: impl IntoIterator<Item = Expr>) -> Expr {
    e.into_iter().reduce(Expr::or).unwrap_or_else(|| lit(false))
}

impl Filters {
    /// The filters as one condition over the `events` columns (`None`: no filter). Values are
    /// literals, never SQL text; `text` is a plain case-insensitive substring (`%`, `_` and `\`
    /// match themselves).
    pub fn expr(&self) -> Option<Expr> {
        let mut c = Vec::new();
        let nonempty = |v: &Option<Vec<String>>| v.as_ref().filter(|v| !v.is_empty()).cloned();
        if let Some(v) = nonempty(&self.vendors) {
            c.push(any_in(&["vendor"], &v));
        }
        if let Some(v) = nonempty(&self.actors) {
            c.push(any_in(&["actor_upn", "actor_name", "actor_id"], &v));
        }
        if let Some(v) = nonempty(&self.devices) {
            c.push(any_in(&["device_id", "device_serial", "device_name"], &v));
        }
        if let Some(v) = nonempty(&self.actions) {
            c.push(any_in(&["action"], &v));
        }
        if let Some(v) = self.risk_levels.as_ref().filter(|v| !v.is_empty()) {
            let v: Vec<String> = v.iter().map(|l| l.as_str().to_owned()).collect();
            c.push(any_in(&["risk_level"], &v));
        }
        if let Some(v) = nonempty(&self.event_uids) {
            // A textbox variable arrives as one comma-separated value: uids hold no commas or spaces.
            let uids: Vec<String> = v
                .iter()
                .flat_map(|s| s.split([',', ' ', '\n']))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !uids.is_empty() {
                c.push(any_in(&["event_uid"], &uids));
            }
        }
        if let Some(v) = nonempty(&self.risk_tags) {
            c.push(or_all(
                v.iter()
                    .map(|t| array_has(col("risk_tags"), lit(t.as_str()))),
            ));
        }
        if let Some(t) = self.text.as_deref().filter(|t| !t.is_empty()) {
            let t = t.to_lowercase();
            let cols = [
                "message",
                "actor_upn",
                "actor_name",
                "actor_id",
                "target_name",
                "device_name",
            ];
            c.push(or_all(
                cols.iter()
                    .map(|c| contains(lower(col(*c)), lit(t.as_str()))),
            ));
        }
        c.into_iter().reduce(Expr::and)
    }
}

/// Range plus filters, over `events`.
pub fn events_expr(range: &Range, f: &Filters) -> Expr {
    match f.expr() {
        Some(e) => range.expr().and(e),
        None => range.expr(),
    }
}
