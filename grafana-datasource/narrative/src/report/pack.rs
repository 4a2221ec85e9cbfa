//! The evidence pack of a period (`mdm-audit report`): event counts by risk level, the high-risk
//! events, the period narrative (cited and verified), every review on record, and the chain heads
//! `verify` recomputed; written as Markdown, a standalone HTML page, or JSON for GRC import. Queries
//! go through DataFusion's DataFrame API; log-derived text is escaped in Markdown and HTML.

use std::fmt::Write as _;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use chrono::{DateTime, Utc};
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::prelude::{Expr, SessionContext, col, lit};
use datafusion::scalar::ScalarValue;
use mdm_audit_store::select::Range;
use mdm_audit_store::{StoreLocation, TrustedKeys, VerifyReport, verify_store};
use serde_json::{Value, json};

use super::ReportError;
use crate::render::{self, escape_html, escape_md};
use crate::{NarrateOptions, Narrative, NarrativeKind, Scope, narrate, store_tables};

/// The most high-risk events listed.
pub const MAX_LISTED: usize = 1000;

/// The columns of the high-risk event list.
pub const HIGH_RISK_COLUMNS: [&str; 8] = [
    "event_uid",
    "time",
    "actor",
    "action",
    "target",
    "device",
    "risk_level",
    "risk_score",
];

/// The columns of the review list.
pub const REVIEW_COLUMNS: [&str; 11] = [
    "review_id",
    "narrative_id",
    "review_time",
    "reviewer",
    "reviewer_name",
    "reviewer_email",
    "org",
    "decision",
    "comment",
    "reviewed_output_hash",
    "edited_output_hash",
];

/// An evidence pack, built from a store.
#[derive(Debug, Clone)]
pub struct EvidencePack {
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period.
    pub to: DateTime<Utc>,
    /// The period narrative (its coverage says whether the chains verified).
    pub narrative: Narrative,
    /// (risk level, events), most events first.
    pub by_level: Vec<(String, u64)>,
    /// High and critical events, [`HIGH_RISK_COLUMNS`], in time order, at most [`MAX_LISTED`].
    pub high: Vec<Vec<String>>,
    /// Every review on record, [`REVIEW_COLUMNS`].
    pub reviews: Vec<Vec<String>>,
    /// What `verify` found.
    pub verify: VerifyReport,
}

/// Rows as strings (null: empty), by casting every column to text.
fn string_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, ReportError> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8))
            .collect::<Result<_, _>>()?;
        for r in 0..b.num_rows() {
            out.push(
                cols.iter()
                    .map(|c| {
                        let s = c.as_string::<i32>();
                        if s.is_null(r) {
                            String::new()
                        } else {
                            s.value(r).to_owned()
                        }
                    })
                    .collect(),
            );
        }
    }
    Ok(out)
}

impl EvidencePack {
    /// Reads the pack for `from..=to` from the store whose tables are registered in `ctx`, writes
    /// the period narrative and verifies every chain of `location`.
    pub async fn build(
        ctx: &SessionContext,
        location: &StoreLocation,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        options: &NarrateOptions,
        trusted: Option<&TrustedKeys>,
    ) -> Result<Self, ReportError> {
        if !ctx.table_exist("events")? {
            return Err(ReportError::NoEvents);
        }
        let in_range = ctx
            .table("events")
            .await?
            .filter(Range { from, to }.expr())?;
        let by_level = string_rows(
            &in_range
                .clone()
                .aggregate(vec![col("risk_level")], vec![count(lit(1)).alias("n")])?
                .sort(vec![col("n").sort(false, true)])?
                .collect()
                .await?,
        )?
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse::<u64>().unwrap_or(0)))
        .collect();
        let high = string_rows(
            &in_range
                .filter(col("risk_level").in_list(vec![lit("high"), lit("critical")], false))?
                .sort(vec![
                    col("time").sort(true, false),
                    col("event_uid").sort(true, false),
                ])?
                .limit(0, Some(MAX_LISTED))?
                .select(vec![
                    col("event_uid"),
                    col("time"),
                    coalesce(vec![col("actor_upn"), col("actor_name"), col("actor_id")])
                        .alias("actor"),
                    col("action"),
                    coalesce(vec![col("target_name"), col("target_id")]).alias("target"),
                    coalesce(vec![
                        col("device_name"),
                        col("device_serial"),
                        col("device_id"),
                    ])
                    .alias("device"),
                    col("risk_level"),
                    col("risk_score"),
                ])?
                .collect()
                .await?,
        )?;
        let scope = Scope::new(NarrativeKind::PeriodSummary, from, to);
        let mut narrative = narrate(ctx, &scope, options).await?;
        let verify = verify_store(location, &store_tables(), trusted, &|_, _| {}).await?;
        narrative.coverage.verified = Some(verify.is_intact());
        // Every human decision on record (none when no narrative was reviewed yet).
        let reviews = if ctx.table_exist("reviews")? {
            let table = ctx.table("reviews").await?;
            // A table no review was written to since the reviewer's name and e-mail were added
            // lacks those columns: they read as empty.
            let columns: Vec<Expr> = REVIEW_COLUMNS
                .iter()
                .map(
                    |c| match table.schema().has_column_with_unqualified_name(c) {
                        true => col(*c),
                        false => lit(ScalarValue::Utf8(None)).alias(*c),
                    },
                )
                .collect();
            string_rows(
                &table
                    .sort(vec![
                        col("review_time").sort(true, false),
                        col("review_id").sort(true, false),
                    ])?
                    .select(columns)?
                    .collect()
                    .await?,
            )?
        } else {
            Vec::new()
        };
        Ok(Self {
            from,
            to,
            narrative,
            by_level,
            high,
            reviews,
            verify,
        })
    }

    /// Events in the period.
    pub fn total(&self) -> u64 {
        self.by_level.iter().map(|(_, n)| n).sum()
    }

    /// The reviews as the Markdown and HTML packs show them: time, who (name, e-mail and login),
    /// decision, narrative, comment.
    fn review_lines(&self) -> Vec<Vec<String>> {
        let at = |r: &[String], i: usize| r.get(i).cloned().unwrap_or_default();
        self.reviews
            .iter()
            .map(|r| {
                let (login, mut name, email) = (at(r, 3), at(r, 4), at(r, 5));
                if name == login {
                    name.clear();
                }
                let who = match (name.is_empty(), email.is_empty()) {
                    (false, false) => format!("{name} <{email}> ({login})"),
                    (false, true) => format!("{name} ({login})"),
                    (true, false) => format!("<{email}> ({login})"),
                    (true, true) => login,
                };
                vec![at(r, 2), who, at(r, 7), at(r, 1), at(r, 8)]
            })
            .collect()
    }

    /// Each table whose chain is broken: its problem count and the first problem, as `verify`
    /// words it.
    fn broken(&self) -> Vec<(&str, (usize, String))> {
        self.verify
            .tables
            .iter()
            .filter_map(|t| {
                let first = t.first_broken()?;
                let at = first
                    .key
                    .as_deref()
                    .map(|k| format!(" (row {k})"))
                    .unwrap_or_default();
                Some((
                    t.table.as_str(),
                    (t.problems.len(), format!("{}{at}", first.detail)),
                ))
            })
            .collect()
    }

    /// The pack as JSON (for GRC import).
    pub fn json(&self) -> Value {
        let objects = |cols: &[&str], rows: &[Vec<String>]| -> Vec<Value> {
            rows.iter()
                .map(|r| {
                    Value::Object(
                        cols.iter()
                            .zip(r)
                            .map(|(k, v)| ((*k).to_owned(), json!(v)))
                            .collect(),
                    )
                })
                .collect()
        };
        json!({
            "report": "mdm-audit evidence pack",
            "from": self.from.to_rfc3339(),
            "to": self.to.to_rfc3339(),
            "events": {
                "total": self.total(),
                "by_risk_level": self.by_level.iter()
                    .map(|(l, n)| json!({"risk_level": l, "count": n}))
                    .collect::<Vec<_>>(),
            },
            "high_risk_events": objects(&HIGH_RISK_COLUMNS, &self.high),
            "narratives": [&self.narrative],
            "reviews": objects(&REVIEW_COLUMNS, &self.reviews),
            "chain": {"intact": self.verify.is_intact(), "verify": &self.verify},
        })
    }

    /// The pack as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Evidence pack {} to {}\n",
            self.from.to_rfc3339(),
            self.to.to_rfc3339()
        );
        md.push_str(&render::markdown(&self.narrative).replacen("## ", "## Narrative: ", 1));
        let _ = writeln!(
            md,
            "\n## Events\n\n{} events in the period.\n\n| risk level | events |\n|---|---|",
            self.total()
        );
        for (level, n) in &self.by_level {
            let _ = writeln!(md, "| {} | {n} |", escape_md(level));
        }
        let _ = writeln!(md, "\n## High-risk events ({})\n", self.high.len());
        md_table(&mut md, &HIGH_RISK_COLUMNS, &self.high);
        md.push('\n');
        let reviews = self.review_lines();
        let _ = writeln!(md, "\n## Reviews ({})\n", reviews.len());
        md_table(&mut md, &REVIEW_HEADERS, &reviews);
        let _ = writeln!(
            md,
            "\n## Chain\n\nIntact: {}.\n",
            if self.verify.is_intact() { "yes" } else { "NO" }
        );
        for (table, p) in self.broken() {
            let _ = writeln!(
                md,
                "- **{} broken** ({} problem(s)), first: {}",
                escape_md(table),
                p.0,
                escape_md(&p.1)
            );
        }
        for t in &self.verify.tables {
            for c in &t.chains {
                let _ = writeln!(
                    md,
                    "- {} chain {}: {} rows, head {}",
                    escape_md(&t.table),
                    escape_md(&c.chain_id),
                    c.rows,
                    c.head
                );
            }
        }
        md
    }

    /// The pack as a standalone HTML page.
    pub fn html(&self) -> String {
        let mut h = String::from(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>mdm-audit evidence pack</title></head><body>\n",
        );
        let _ = writeln!(
            h,
            "<h1>Evidence pack {} to {}</h1>",
            self.from.to_rfc3339(),
            self.to.to_rfc3339()
        );
        h.push_str(&render::html(&self.narrative));
        let _ = writeln!(
            h,
            "<h2>Events</h2><p>{} events.</p><table><tr><th>risk level</th><th>events</th></tr>",
            self.total()
        );
        for (level, n) in &self.by_level {
            let _ = writeln!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape_html(level));
        }
        let _ = writeln!(h, "</table><h2>High-risk events ({})</h2>", self.high.len());
        html_table(&mut h, &HIGH_RISK_COLUMNS, &self.high);
        let reviews = self.review_lines();
        let _ = writeln!(h, "<h2>Reviews ({})</h2>", reviews.len());
        html_table(&mut h, &REVIEW_HEADERS, &reviews);
        let _ = writeln!(
            h,
            "<h2>Chain</h2><p>Intact: {}</p><ul>",
            if self.verify.is_intact() { "yes" } else { "NO" }
        );
        for (table, p) in self.broken() {
            let _ = writeln!(
                h,
                "<li><strong>{} broken</strong> ({} problem(s)), first: {}</li>",
                escape_html(table),
                p.0,
                escape_html(&p.1)
            );
        }
        for t in &self.verify.tables {
            for c in &t.chains {
                let _ = writeln!(
                    h,
                    "<li>{} chain {}: {} rows, head {}</li>",
                    escape_html(&t.table),
                    escape_html(&c.chain_id),
                    c.rows,
                    escape_html(&c.head)
                );
            }
        }
        h.push_str("</ul></body></html>\n");
        h
    }
}

/// The headers of the reviews table of the Markdown and HTML packs.
const REVIEW_HEADERS: [&str; 5] = ["time", "reviewer", "decision", "narrative", "comment"];

/// A Markdown table of `rows` under `headers`, cells escaped.
fn md_table(md: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(
        md,
        "| {} |\n|{}",
        headers.join(" | "),
        "---|".repeat(headers.len())
    );
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| escape_md(c)).collect();
        let _ = writeln!(md, "| {} |", cells.join(" | "));
    }
}

/// An HTML table of `rows` under `headers`, cells escaped.
fn html_table(h: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    let head: String = headers.iter().map(|c| format!("<th>{c}</th>")).collect();
    let _ = writeln!(h, "<table><tr>{head}</tr>");
    for r in rows {
        let cells: String = r
            .iter()
            .map(|c| format!("<td>{}</td>", escape_html(c)))
            .collect();
        let _ = writeln!(h, "<tr>{cells}</tr>");
    }
    h.push_str("</table>\n");
}
