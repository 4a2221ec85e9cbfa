//! The demo's evidence report (`mdm-audit demo` writes it to `report.html`): one self-contained HTML file an auditor can open, built from the
//! store through DataFusion. Every value that comes from the logs is HTML-escaped (log content is
//! data: an admin can put markup in a policy name).
//!
//! Sections: first the story, the period narrative of the template narrator (findings first; every
//! sentence cites its events and is verified against them; the narrative engine's own HTML
//! rendering escapes log text) with a risk-over-time chart marking the findings; then the evidence
//! tables: the hash-chain proof (each writer's chain head per table), the risk found per level, the
//! correlated episodes with their one-line reasons and cited events, the highest-risk events.

use std::fmt::Write as _;

use datafusion::prelude::SessionContext;
use mdm_audit_store::{StoreLocation, VerifyReport, register_tables};

use super::{ReportError, sql_rows};
use crate::render::{self, escape_html};
use crate::{NarrateOptions, NarrativeKind, Scope, chart, narrate, store_tables};

fn table(html: &mut String, names: &[String], rows: &[Vec<String>]) {
    if rows.is_empty() {
        html.push_str("<p class=\"none\">None.</p>\n");
        return;
    }
    html.push_str("<table><thead><tr>");
    for n in names {
        let _ = write!(html, "<th>{}</th>", escape_html(n));
    }
    html.push_str("</tr></thead><tbody>\n");
    for r in rows {
        html.push_str("<tr>");
        for (name, c) in names.iter().zip(r) {
            if name == "cited_events" {
                // The event ids an episode rests on: folded, so the table stays readable.
                let n = c.split_whitespace().count();
                let _ = write!(
                    html,
                    "<td><details><summary>{n} events</summary><code>{}</code></details></td>",
                    escape_html(c)
                );
            } else {
                let _ = write!(html, "<td>{}</td>", escape_html(c));
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n");
}

/// The report for the store at `location`, which `verify` found as `verify` says.
pub async fn demo_html(
    location: &StoreLocation,
    verify: &VerifyReport,
) -> Result<String, ReportError> {
    let ctx = SessionContext::new();
    let tables = register_tables(location, &store_tables(), &ctx).await?;
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>mdm-audit evidence report</title>\n<style>\
         body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;color:#222}\
         table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}\
         th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;\
         max-width:36rem;overflow-wrap:anywhere}\
         th{background:#f3f3f3}.ok{color:#176317}.broken{color:#a40000;font-weight:bold}\
         .none{color:#777}code{font-size:.8rem}</style></head><body>\n",
    );
    let _ = writeln!(html, "<h1>mdm-audit evidence report</h1>");
    let _ = writeln!(
        html,
        "<p>Store <code>{}</code>, generated {} by <code>mdm-audit demo</code>.</p>",
        escape_html(&location.display()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    );

    narrative_section(&ctx, &tables, verify, &mut html).await?;
    html.push_str("<h2>Integrity</h2>\n");
    let _ = writeln!(
        html,
        "<p class=\"{}\">Hash chains {}: {} rows rehashed from the files on disk.</p>",
        if verify.is_intact() { "ok" } else { "broken" },
        if verify.is_intact() {
            "intact"
        } else {
            "BROKEN"
        },
        verify.rows()
    );
    let mut chain_rows = Vec::new();
    for t in &verify.tables {
        for c in &t.chains {
            chain_rows.push(vec![
                t.table.clone(),
                c.chain_id.clone(),
                c.rows.to_string(),
                c.commits.to_string(),
                c.last_version.to_string(),
                c.head.clone(),
            ]);
        }
        for p in &t.problems {
            chain_rows.push(vec![
                t.table.clone(),
                "PROBLEM".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                format!("{p:?}"),
            ]);
        }
    }
    let names: Vec<String> = [
        "table",
        "writer",
        "rows",
        "commits",
        "last version",
        "chain head (sha256)",
    ]
    .map(str::to_owned)
    .to_vec();
    table(&mut html, &names, &chain_rows);

    let sections: [(&str, &str, &str); 4] = [
        (
            "Risk found",
            "events",
            "SELECT risk_level, COUNT(*) AS events, MAX(risk_score) AS top_score FROM events \
             GROUP BY risk_level ORDER BY top_score DESC",
        ),
        (
            "Bulk-destructive episodes and policy rollouts",
            "episodes",
            "SELECT first_time, last_time, episode_kind, actor, event_count, device_count, max_risk_score, \
             reason, array_to_string(event_uids, ' ') AS cited_events FROM (SELECT *, row_number() OVER \
             (PARTITION BY episode_id ORDER BY updated_time DESC, chain_seq DESC) AS rn FROM episodes) \
             WHERE rn = 1 AND episode_kind IN ('bulk_destructive', 'policy_rollout') ORDER BY first_time",
        ),
        (
            "Admin sessions and device lifecycles with high-risk events",
            "episodes",
            "SELECT first_time, last_time, episode_kind, coalesce(actor, device) AS subject, event_count, \
             max_risk_score, array_to_string(risk_tags, ', ') AS risk_tags, reason FROM (SELECT *, \
             row_number() OVER (PARTITION BY episode_id ORDER BY updated_time DESC, chain_seq DESC) AS rn \
             FROM episodes) WHERE rn = 1 AND episode_kind IN ('admin_session', 'device_lifecycle') \
             AND max_risk_score >= 60 ORDER BY max_risk_score DESC, first_time LIMIT 50",
        ),
        (
            "Highest-risk events",
            "events",
            "SELECT time, risk_score, risk_level, coalesce(actor_upn, actor_name, actor_app, actor_id) AS actor, \
             action, coalesce(device_name, device_serial, target_name) AS object, \
             array_to_string(risk_tags, ', ') AS risk_tags, episode_kind, message, event_uid \
             FROM events WHERE risk_score >= 60 ORDER BY risk_score DESC, time LIMIT 100",
        ),
    ];
    for (title, needs, sql) in sections {
        let _ = writeln!(html, "<h2>{}</h2>", escape_html(title));
        if !tables.iter().any(|t| t == needs) {
            let _ = writeln!(
                html,
                "<p class=\"none\">No {} table in this store.</p>",
                escape_html(needs)
            );
            continue;
        }
        let (names, found) = sql_rows(&ctx, sql).await?;
        table(&mut html, &names, &found);
    }
    html.push_str("</body></html>\n");
    Ok(html)
}

/// The period summary narrative over the whole store (template narrator, no LLM), with the
/// risk-over-time chart and its findings marked.
async fn narrative_section(
    ctx: &SessionContext,
    tables: &[String],
    verify: &VerifyReport,
    html: &mut String,
) -> Result<(), ReportError> {
    html.push_str("<h2>Narrative: period summary</h2>\n");
    if !tables.iter().any(|t| t == "events") {
        html.push_str("<p class=\"none\">No events table in this store.</p>\n");
        return Ok(());
    }
    let (_, span) = sql_rows(
        ctx,
        "SELECT CAST(min(time) AS BIGINT) AS first, CAST(max(time) AS BIGINT) AS last FROM events",
    )
    .await?;
    let micros = |i: usize| {
        span.first()
            .and_then(|r| r.get(i))
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(chrono::DateTime::from_timestamp_micros)
    };
    let (Some(from), Some(to)) = (micros(0), micros(1)) else {
        html.push_str("<p class=\"none\">No events.</p>\n");
        return Ok(());
    };
    let scope = Scope::new(
        NarrativeKind::PeriodSummary,
        from,
        to + chrono::Duration::seconds(1),
    );
    let mut n = narrate(ctx, &scope, &NarrateOptions::default()).await?;
    n.coverage.verified = Some(verify.is_intact());
    let (_, daily) = sql_rows(
        ctx,
        "SELECT CAST(CAST(time AS DATE) AS VARCHAR) AS day, risk_level, count(*) AS n FROM events \
         WHERE risk_level IN ('medium', 'high', 'critical') GROUP BY 1, 2 ORDER BY 1",
    )
    .await?;
    let mut days: std::collections::BTreeMap<chrono::NaiveDate, chart::DayRisk> =
        std::collections::BTreeMap::new();
    for r in &daily {
        let (Some(d), Some(v)) = (
            r.first()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            r.get(2).and_then(|v| v.parse::<u64>().ok()),
        ) else {
            continue;
        };
        let e = days.entry(d).or_default();
        match r.get(1).map(String::as_str) {
            Some("critical") => e.critical += v,
            Some("high") => e.high += v,
            _ => e.medium += v,
        }
    }
    html.push_str("<h3>Risk over time</h3>\n");
    html.push_str(&chart::risk_svg(&days, &n));
    html.push_str(&render::html(&n));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_from_the_logs_is_escaped() {
        assert_eq!(
            crate::render::escape_html("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
