//! `mdm-audit report`: an evidence pack for a period: event counts, the high-risk events, the
//! period narrative (cited and verified), and the chain heads `verify` recomputed, as Markdown, HTML
//! or JSON (for GRC import).
#![allow(clippy::print_stdout, reason = "the report is the command's output")]

use mdm_audit_narrative::store_tables;
use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use mdm_audit_datasource::engine::{Engine, Range};
use mdm_audit_narrative::NarrativeKind;
use mdm_audit_narrative::render::{escape_html, escape_md};
use mdm_audit_narrative::{Scope, narrate, render};
use mdm_audit_store::verify_store;
use serde_json::{Value, json};

use super::CliError;
use super::narrate::NarrativeArgs;
use super::store_args::{StoreArgs, runtime};

/// Output format of `report`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// A standalone HTML page.
    Html,
    /// JSON for GRC import.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    narrative: NarrativeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    format: ReportFormat,
}

/// The most high-risk events listed.
const MAX_LISTED: usize = 1000;

fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, CliError> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8))
            .collect::<Result<_, _>>()
            .map_err(|e| CliError::Usage(e.to_string()))?;
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

pub fn run(args: ReportArgs) -> Result<ExitCode, CliError> {
    let location = args.store.location()?;
    let (from, to) = args.narrative.range()?;
    let options = args.narrative.options();
    let err = |e: &dyn std::fmt::Display| CliError::Usage(e.to_string());
    let (mut n, by_level, high, verify, reviews) = runtime()?.block_on(async {
        let engine = Engine::open(location.clone()).await.map_err(|e| err(&e))?;
        engine.require("events").await.map_err(|e| err(&e))?;
        let w = Range { from, to }.sql("");
        let by_level = rows(
            &engine
                .run(&format!(
                    "SELECT risk_level, count(*) AS n FROM events WHERE {w} GROUP BY 1 ORDER BY 2 DESC"
                ))
                .await
                .map_err(|e| err(&e))?,
        )?;
        let high = rows(
            &engine
                .run(&format!(
                    "SELECT event_uid, time, coalesce(actor_upn, actor_name, actor_id) AS actor, action, \
                     coalesce(target_name, target_id) AS target, coalesce(device_name, device_serial, device_id) AS device, \
                     risk_level, risk_score FROM events WHERE {w} AND risk_level IN ('high', 'critical') \
                     ORDER BY time, event_uid LIMIT {MAX_LISTED}"
                ))
                .await
                .map_err(|e| err(&e))?,
        )?;
        let scope = Scope::new(NarrativeKind::PeriodSummary, from, to);
        let n = narrate(engine.context(), &scope, &options).await.map_err(|e| err(&e))?;
        let verify = verify_store(&location, &store_tables(), &|_, _| {}).await?;
        // Every human decision on record (none when no narrative was reviewed yet).
        let reviews = match engine
            .run(
                "SELECT review_id, narrative_id, CAST(review_time AS VARCHAR) AS review_time, reviewer, \
                 decision, comment, reviewed_output_hash, edited_output_hash FROM reviews \
                 ORDER BY review_time, review_id",
            )
            .await
        {
            Ok(b) => rows(&b)?,
            Err(_) => Vec::new(),
        };
        Ok::<_, CliError>((n, by_level, high, verify, reviews))
    })?;
    n.coverage.verified = Some(verify.is_intact());
    let review_cols = [
        "review_id",
        "narrative_id",
        "review_time",
        "reviewer",
        "decision",
        "comment",
        "reviewed_output_hash",
        "edited_output_hash",
    ];
    let reviews: Vec<Value> = reviews
        .iter()
        .map(|r| {
            Value::Object(
                review_cols
                    .iter()
                    .zip(r)
                    .map(|(k, v)| ((*k).to_owned(), json!(v)))
                    .collect(),
            )
        })
        .collect();
    let total: u64 = by_level
        .iter()
        .filter_map(|r| r[1].parse::<u64>().ok())
        .sum();
    let cols = [
        "event_uid",
        "time",
        "actor",
        "action",
        "target",
        "device",
        "risk_level",
        "risk_score",
    ];
    match args.format {
        ReportFormat::Json => {
            let high: Vec<Value> = high
                .iter()
                .map(|r| {
                    Value::Object(
                        cols.iter()
                            .zip(r)
                            .map(|(k, v)| ((*k).to_owned(), json!(v)))
                            .collect(),
                    )
                })
                .collect();
            let v = json!({
                "report": "mdm-audit evidence pack",
                "from": from.to_rfc3339(),
                "to": to.to_rfc3339(),
                "events": {"total": total, "by_risk_level": by_level.iter().map(|r| json!({"risk_level": r[0], "count": r[1].parse::<u64>().unwrap_or(0)})).collect::<Vec<_>>()},
                "high_risk_events": high,
                "narratives": [&n],
                "reviews": reviews,
                "chain": {"intact": verify.is_intact(), "verify": &verify},
            });
            println!("{}", serde_json::to_string_pretty(&v).map_err(|e| err(&e))?);
        }
        ReportFormat::Md => {
            let mut md = String::new();
            let _ = writeln!(
                md,
                "# Evidence pack {} to {}\n",
                from.to_rfc3339(),
                to.to_rfc3339()
            );
            md.push_str(&render::markdown(&n).replacen("## ", "## Narrative: ", 1));
            let _ = writeln!(
                md,
                "\n## Events\n\n{total} events in the period.\n\n| risk level | events |\n|---|---|"
            );
            for r in &by_level {
                let _ = writeln!(md, "| {} | {} |", escape_md(&r[0]), escape_md(&r[1]));
            }
            let _ = writeln!(
                md,
                "\n## High-risk events ({})\n\n| {} |\n|{}",
                high.len(),
                cols.join(" | "),
                "---|".repeat(cols.len())
            );
            for r in &high {
                let cells: Vec<String> = r.iter().map(|c| escape_md(c)).collect();
                let _ = writeln!(md, "| {} |", cells.join(" | "));
            }
            md.push('\n');
            let _ = writeln!(
                md,
                "\n## Chain\n\nIntact: {}.\n",
                if verify.is_intact() { "yes" } else { "NO" }
            );
            for t in &verify.tables {
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
            print!("{md}");
        }
        ReportFormat::Html => {
            let mut h = String::from(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>mdm-audit evidence pack</title></head><body>\n",
            );
            let _ = writeln!(
                h,
                "<h1>Evidence pack {} to {}</h1>",
                from.to_rfc3339(),
                to.to_rfc3339()
            );
            h.push_str(&render::html(&n));
            let _ = writeln!(
                h,
                "<h2>Events</h2><p>{total} events.</p><table><tr><th>risk level</th><th>events</th></tr>"
            );
            for r in &by_level {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    escape_html(&r[0]),
                    escape_html(&r[1])
                );
            }
            let _ = writeln!(
                h,
                "</table><h2>High-risk events ({})</h2><table><tr>{}</tr>",
                high.len(),
                cols.iter()
                    .map(|c| format!("<th>{c}</th>"))
                    .collect::<String>()
            );
            for r in &high {
                let _ = writeln!(
                    h,
                    "<tr>{}</tr>",
                    r.iter()
                        .map(|c| format!("<td>{}</td>", escape_html(c)))
                        .collect::<String>()
                );
            }
            h.push_str("</table>\n");
            let _ = writeln!(
                h,
                "<h2>Chain</h2><p>Intact: {}</p><ul>",
                if verify.is_intact() { "yes" } else { "NO" }
            );
            for t in &verify.tables {
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
            print!("{h}");
        }
    }
    Ok(if verify.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::verify::EXIT_BROKEN)
    })
}
