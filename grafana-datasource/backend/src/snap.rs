//! TEMPORARY: snapshot of query outputs, compared before and after the Expr conversion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::fmt::Write as _;

use arrow::array::AsArray;
use arrow::compute::cast;
use arrow::datatypes::DataType;
use chrono::{DateTime, Utc};
use mdm_audit_narrative::{NarrativeKind, Scope};
use mdm_audit_store::StoreLocation;

use crate::engine::{Engine, Range};
use crate::plugin::Instance;
use crate::plugin::queries::{Panel, run_query};
use crate::plugin::resources::{ResourceRequest, route};
use crate::query::Filters;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn distinct(engine: &Engine, c: &str) -> Vec<String> {
    let b = engine
        .run(&format!(
            "SELECT DISTINCT CAST({c} AS VARCHAR) AS v FROM events WHERE {c} IS NOT NULL ORDER BY v LIMIT 4"
        ))
        .await
        .unwrap();
    let mut out = Vec::new();
    for b in &b {
        let a = cast(b.column(0), &DataType::Utf8).unwrap();
        out.extend(a.as_string::<i32>().iter().flatten().map(str::to_owned));
    }
    out
}

async fn run_all(store: &str, out: &mut String) {
    let engine = Engine::open(StoreLocation::parse(store, HashMap::new()).unwrap())
        .await
        .unwrap();
    let inst = Instance::default();
    let actors = distinct(&engine, "actor_upn").await;
    let names = distinct(&engine, "actor_name").await;
    let devices = distinct(&engine, "device_serial").await;
    let dnames = distinct(&engine, "device_name").await;
    let uids = distinct(&engine, "event_uid").await;
    let eps = distinct(&engine, "episode_id").await;
    let targets = distinct(&engine, "target_name").await;
    let filters = vec![
        serde_json::json!({}),
        serde_json::json!({"vendors": ["jamf"]}),
        serde_json::json!({"vendors": ["jamf", "ws1"]}),
        serde_json::json!({"vendors": []}),
        serde_json::json!({"actors": [actors[0], names[1]]}),
        serde_json::json!({"devices": [devices[0], dnames[1], "o'brien'); DROP TABLE events; --"]}),
        serde_json::json!({"actions": ["wipe", "lock"]}),
        serde_json::json!({"riskLevels": ["high", "critical"]}),
        serde_json::json!({"riskTags": ["off_hours", "new_actor"]}),
        serde_json::json!({"text": "wipe"}),
        serde_json::json!({"text": "A"}),
        serde_json::json!({"text": "_"}),
        serde_json::json!({"text": "%"}),
        serde_json::json!({"text": "o'b\\r"}),
        serde_json::json!({"text": ""}),
        serde_json::json!({"eventUids": [format!("{},{} {}", uids[0], uids[1], uids[2])]}),
        serde_json::json!({"eventUids": [","]}),
        serde_json::json!({"vendors": ["jamf"], "riskLevels": ["none", "low", "medium"], "text": "e"}),
    ];
    let ranges = [
        Range {
            from: t("2026-03-01T00:00:00Z"),
            to: t("2026-03-06T00:00:00Z"),
        },
        Range {
            from: t("2026-03-03T06:30:00.123456Z"),
            to: t("2026-03-04T12:00:00Z"),
        },
    ];
    for range in ranges {
        for (iv, mdp) in [(60_000u64, 500i64), (3_600_000, 0)] {
            let panel = Panel {
                range,
                interval: std::time::Duration::from_millis(iv),
                max_data_points: mdp,
            };
            let mut queries = Vec::new();
            for f in &filters {
                queries
                    .push(serde_json::json!({"queryType": "timeline", "filters": f, "limit": 300}));
                queries.push(serde_json::json!({"queryType": "annotations", "filters": f}));
                queries.push(serde_json::json!({"queryType": "episodes", "filters": f}));
                queries.push(serde_json::json!({"queryType": "stats", "filters": f, "stats": {"metric": "count", "groupBy": "risk_tag"}}));
            }
            queries.push(serde_json::json!({"queryType": "timeline", "limit": 7}));
            for m in [
                "count",
                "risk_score_max",
                "risk_score_avg",
                "distinct_devices",
            ] {
                for g in [
                    "none",
                    "vendor",
                    "actor",
                    "action",
                    "risk_level",
                    "risk_tag",
                    "device",
                ] {
                    queries.push(serde_json::json!({"queryType": "stats", "filters": {"vendors": ["jamf", "intune", "ws1"]}, "stats": {"metric": m, "groupBy": g}, "limit": 5}));
                }
            }
            for s in [
                "SELECT vendor, count(*) AS n FROM events GROUP BY vendor ORDER BY vendor",
                "SELECT * FROM events ORDER BY time, event_uid LIMIT 20",
                "WITH w AS (SELECT event_uid, episode_id FROM events WHERE action = 'wipe') SELECT w.event_uid, e.episode_kind FROM w LEFT JOIN episodes e ON w.episode_id = e.episode_id ORDER BY 1, 2",
                "SELECT count(*) AS n FROM events a JOIN events b ON a.event_uid = b.event_uid",
                "SELECT count(*) AS n FROM dead_letters",
                "SELECT 1 AS one",
                "VALUES (1), (2)",
                "SELECT count(*) FROM datafusion.public.events",
                "DROP TABLE events",
                "WITH RECURSIVE x AS (SELECT 1) SELECT * FROM x",
                "SELECT 1; SELECT 2",
            ] {
                queries.push(serde_json::json!({"queryType": "sql", "sql": s}));
            }
            for q in queries {
                let json = serde_json::to_vec(&q).unwrap();
                let r = run_query(&engine, &inst, "A", &json, panel).await;
                let _ = writeln!(out, "== {q} {range:?} {iv} {mdp}");
                match r {
                    Ok(frames) => {
                        for mut f in frames {
                            if let Some(m) = f.meta.as_mut() {
                                m.executed_query_string = None;
                            }
                            let _ = writeln!(out, "{}", serde_json::to_string(&f).unwrap());
                        }
                    }
                    Err(e) => {
                        let _ = writeln!(out, "ERR {e:?}");
                    }
                }
            }
        }
        // suggest
        for field in [
            "vendors",
            "actors",
            "devices",
            "actions",
            "risk_tags",
            "nope",
        ] {
            for (q, withr) in [
                ("", false),
                ("a", true),
                ("O'", true),
                ("_", false),
                ("", true),
            ] {
                let mut params = HashMap::new();
                if !q.is_empty() {
                    params.insert("q".to_owned(), q.to_owned());
                }
                if withr {
                    params.insert("from".into(), range.from.timestamp_millis().to_string());
                    params.insert("to".into(), range.to.timestamp_millis().to_string());
                }
                let body = bytes::Bytes::new();
                let req = ResourceRequest {
                    method: &http::Method::GET,
                    path: vec!["suggest", field],
                    params,
                    body: &body,
                    user: None,
                    org_id: 1,
                };
                let r = route(&engine, &inst, &req).await;
                let _ = writeln!(
                    out,
                    "== suggest {field} {q} {withr}\n{:?}",
                    r.map_err(|e| format!("{e:?}"))
                );
            }
        }
        // evidence
        let mut scopes = Vec::new();
        for kind in [
            NarrativeKind::PeriodSummary,
            NarrativeKind::ChangeReview,
            NarrativeKind::DeviceLifecycle,
            NarrativeKind::AdminActivity,
            NarrativeKind::IncidentTimeline,
        ] {
            let mut s = Scope::new(kind, range.from, range.to);
            s.device = Some(devices[0].clone());
            s.actor = Some(actors[1].clone());
            scopes.push(s.clone());
            s.device = Some(dnames[0].clone());
            s.actor = None;
            s.cap = 5;
            scopes.push(s.clone());
            s.device = None;
            s.actor = Some(names[0].clone());
            s.filters = serde_json::from_value::<Filters>(
                serde_json::json!({"riskLevels": ["high", "critical", "medium"], "text": "a"}),
            )
            .unwrap();
            scopes.push(s.clone());
            s.policy = Some(targets[0].clone());
            scopes.push(s.clone());
            s.policy = Some(targets[1].clone());
            s.filters = Filters::default();
            scopes.push(s.clone());
            s.episode = Some(eps[0].clone());
            s.policy = None;
            scopes.push(s.clone());
        }
        for s in scopes {
            let r = mdm_audit_narrative::load(engine.context(), &s).await;
            let _ = writeln!(
                out,
                "== evidence {}\n{}",
                serde_json::to_string(&s).unwrap(),
                match r {
                    Ok(e) => serde_json::to_string(&e).unwrap(),
                    Err(e) => format!("ERR {e:?}"),
                }
            );
        }
    }
}

#[tokio::test]
#[ignore = "snapshot"]
async fn snapshot() {
    let mut out = String::new();
    run_all("/tmp/expr-snap/data", &mut out).await;
    run_all("/tmp/expr-snap/data-noep", &mut out).await;
    std::fs::write(std::env::var("SNAP_OUT").unwrap(), out).unwrap();
}
