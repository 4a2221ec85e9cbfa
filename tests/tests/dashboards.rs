//! Every SQL query of the provisioned dashboards (`dashboards/*.json`) runs with DataFusion against a
//! store made the way users make one: `mdm-audit generate` an estate, `mdm-audit ingest` it (with one
//! malformed record, so `dead_letters` has a row), plus correlated episodes written through the
//! library's `AuditWriter`. Variables and Grafana macros are substituted as the frontend expands them
//! (QUERY_MODEL.md, "Template variables"), and `events` is restricted to the dashboard's time range as
//! the backend restricts it. Expected values come from the generator's ground truth.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use chrono::{DateTime, Utc};
use datafusion::prelude::{Expr, SessionContext, col, lit};
use mdm_audit_generate::GroundTruth;
use mdm_audit_store::select::ts;
use mdm_audit_store::{AuditWriter, EpisodeRecord, StoreLocation, WriterOptions};
use mdm_audit_tests::estate::truth_feeds;
use mdm_audit_tests::query::{open_store, present_texts as strings};
use mdm_audit_tests::{generate_estate, ingest, workspace_root};

/// One SQL target of a dashboard panel.
#[derive(Debug, Clone)]
struct SqlQuery {
    dashboard: String,
    panel: String,
    sql: String,
}

fn dashboards() -> BTreeMap<String, serde_json::Value> {
    let dir = workspace_root().join("dashboards");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("dashboards/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("read dashboard");
            let v: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.insert(v["uid"].as_str().expect("uid").to_owned(), v);
        }
    }
    out
}

fn sql_queries() -> Vec<SqlQuery> {
    let mut out = Vec::new();
    for (uid, d) in dashboards() {
        for p in d["panels"].as_array().expect("panels") {
            for t in p["targets"].as_array().into_iter().flatten() {
                if t["queryType"] == "sql" {
                    out.push(SqlQuery {
                        dashboard: uid.clone(),
                        panel: p["title"].as_str().unwrap_or_default().to_owned(),
                        sql: t["sql"].as_str().expect("sql text").to_owned(),
                    });
                }
            }
        }
    }
    out
}

/// Values of the dashboard variables for one run.
#[derive(Clone)]
struct Vars {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// `vendor`: multi-value with All, so a list of quoted literals.
    vendors: Vec<String>,
    actor: String,
    device: String,
    target: String,
}

/// The frontend's expansion (`sqlFormat` in src/datasource.ts): a multi-value variable becomes
/// quoted literals joined by commas, a single value is inserted with single quotes doubled; Grafana's
/// `$__from` / `$__to` become epoch milliseconds.
fn expand(sql: &str, v: &Vars) -> String {
    let single = |s: &str| s.replace('\'', "''");
    let list = v
        .vendors
        .iter()
        .map(|s| format!("'{}'", single(s)))
        .collect::<Vec<_>>()
        .join(",");
    let mut out = sql
        .replace("$__from", &v.from.timestamp_millis().to_string())
        .replace("$__to", &v.to.timestamp_millis().to_string())
        .replace("$vendor", &list)
        .replace("$actor", &single(&v.actor))
        .replace("$device", &single(&v.device))
        .replace("$target", &single(&v.target));
    for known in ["${", "[["] {
        assert!(!out.contains(known), "unexpanded variable in {out}");
    }
    if let Some(at) = out.find('$') {
        panic!("unexpanded variable at {:?} in {out}", &out[at..]);
    }
    out = out.trim().to_owned();
    out
}

struct Store {
    _dir: tempfile::TempDir,
    root: PathBuf,
    truth: GroundTruth,
}

/// Generates and ingests an estate (3 days, 7 planted scenarios) with one broken record appended to
/// the Jamf webhooks feed; writes one episode per planted scenario.
async fn store() -> Store {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    let truth = generate_estate(&root, "--seed 11 --events 1500 --days 3");
    let webhooks = root.join("estate/jamf_webhooks.ndjson");
    let mut text = std::fs::read_to_string(&webhooks).expect("webhooks");
    text.push_str("{\"webhook\": {\"webhookEvent\": \"ComputerAdded\", broken\n");
    std::fs::write(&webhooks, text).expect("write");
    let err = ingest(&root, "dash-ingest", "", &truth_feeds(&truth)).stderr;
    assert!(err.contains("dead-lettered 1"), "one broken record: {err}");

    // Episodes as correlation writes them: one per planted scenario, over its actor's events.
    let loc = StoreLocation::parse(
        root.join("data").to_str().expect("utf8"),
        Default::default(),
    )
    .expect("location");
    let (ctx, _) = open_store(&root.join("data")).await;
    let mut episodes = Vec::new();
    for s in &truth.scenarios {
        let (start, end) = (parse_time(&s.start), parse_time(&s.end));
        let actor = s.actors[0].as_str();
        let of_actor = ["actor_upn", "actor_name", "actor_id"]
            .map(|c| col(c).eq(lit(actor)))
            .into_iter()
            .reduce(Expr::or)
            .expect("three columns");
        let df = ctx
            .table("events")
            .await
            .expect("events")
            .filter(
                col("time")
                    .gt_eq(ts(start))
                    .and(col("time").lt_eq(ts(end)))
                    .and(of_actor),
            )
            .and_then(|df| {
                df.select_columns(&["event_uid", "device_id", "risk_tags", "risk_score"])
            })
            .expect("scenario query");
        let rows = df.collect().await.expect("scenario events");
        let uids = strings(&rows, "event_uid");
        assert!(!uids.is_empty(), "{} has events of {actor}", s.id);
        let devices: BTreeSet<String> = strings(&rows, "device_id").into_iter().collect();
        episodes.push(EpisodeRecord {
            episode_id: format!("ep-{}", s.id),
            episode_kind: s.episode_kind.clone(),
            reason: s.summary.clone(),
            actor: Some(s.actors[0].clone()),
            device: None,
            first_time: start,
            last_time: end,
            event_count: uids.len() as i64,
            device_count: devices.len() as i64,
            event_uids: uids,
            devices: devices.into_iter().collect(),
            risk_tags: s.correlation_tags.clone(),
            max_risk_score: 90,
            updated_time: Utc::now(),
        });
    }
    let mut w = AuditWriter::open(&loc, WriterOptions::new("dash-correlate"))
        .await
        .expect("writer");
    w.append(vec![], vec![], episodes).await.expect("episodes");
    Store {
        _dir: dir,
        root,
        truth,
    }
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

async fn collect(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// The store's tables registered as the backend sees them: `events` is a view over the stored
/// table restricted to the time range; the other tables as stored.
async fn context(root: &Path, v: &Vars) -> (SessionContext, Vec<String>) {
    let (ctx, names) = open_store(&root.join("data")).await;
    let provider = ctx
        .deregister_table("events")
        .expect("deregister")
        .expect("events table");
    let millis = |t: DateTime<Utc>| {
        ts(DateTime::from_timestamp_millis(t.timestamp_millis()).expect("in range"))
    };
    let within = ctx
        .read_table(provider)
        .expect("stored events")
        .filter(
            col("time")
                .gt_eq(millis(v.from))
                .and(col("time").lt_eq(millis(v.to))),
        )
        .expect("range");
    ctx.register_table("events", within.into_view())
        .expect("view");
    (ctx, names)
}

/// Tables a statement reads (the names after FROM / JOIN).
fn tables_of(sql: &str) -> BTreeSet<String> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0].eq_ignore_ascii_case("from") || w[0].eq_ignore_ascii_case("join"))
        // `FROM (SELECT ...)` and `FROM unnest(...)` name no table.
        .filter(|w| !w[1].starts_with('(') && !w[1].contains('('))
        .map(|w| w[1].trim_matches(|c: char| !c.is_alphanumeric() && c != '_'))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dashboard_sql_query_runs_against_a_generated_store() {
    let queries = sql_queries();
    assert!(queries.len() >= 25, "found {} SQL queries", queries.len());
    let s = store().await;
    let truth = &s.truth;
    let from = parse_time(&truth.options.start);
    let s1 = truth
        .scenarios
        .iter()
        .find(|x| x.kind == "compromised_admin_mass_wipe")
        .expect("S1 planted");
    let base = Vars {
        from,
        to: Utc::now(),
        vendors: truth
            .feeds
            .iter()
            .map(|f| f.vendor.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        actor: s1.actors[0].clone(),
        device: String::new(),
        target: String::new(),
    };
    let (ctx, tables) = context(&s.root, &base).await;
    for t in ["events", "dead_letters", "episodes"] {
        assert!(tables.iter().any(|n| n == t), "store has {t}: {tables:?}");
    }
    // A device S1 wiped, and a policy or profile that was changed in the estate.
    let wiped = ctx
        .table("events")
        .await
        .expect("events")
        .filter(
            col("actor_upn")
                .eq(lit(s1.actors[0].as_str()))
                .and(col("action").eq(lit("wipe")))
                .and(col("device_id").is_not_null()),
        )
        .and_then(|df| df.select_columns(&["device_id"]))
        .and_then(|df| df.sort(vec![col("device_id").sort(true, false)]))
        .and_then(|df| df.limit(0, Some(1)))
        .expect("wiped query")
        .collect()
        .await
        .expect("wiped device");
    let device = strings(&wiped, "device_id")
        .pop()
        .expect("S1 wiped a device");
    let changed = collect(
        &ctx,
        "SELECT target_id FROM events WHERE category IN ('policy', 'profile') AND target_id IS NOT NULL \
         AND array_length(changes) > 0 ORDER BY risk_score DESC, target_id LIMIT 1",
    )
    .await
    .expect("changed target");
    let target = strings(&changed, "target_id")
        .pop()
        .expect("a changed policy");

    let runs = [
        Vars {
            device: device.clone(),
            target: target.clone(),
            ..base.clone()
        },
        // The textbox variables empty (their default): "every change in range".
        Vars {
            from,
            to: Utc::now(),
            vendors: vec!["jamf".into()],
            actor: "CORP\\fpark".into(),
            device: "nobody's device".into(),
            target: String::new(),
        },
    ];
    let mut pending = BTreeSet::new();
    let mut results: BTreeMap<(String, String), Vec<RecordBatch>> = BTreeMap::new();
    for (n, vars) in runs.iter().enumerate() {
        for q in &queries {
            let sql = expand(&q.sql, vars);
            let missing: Vec<String> = tables_of(&sql)
                .into_iter()
                .filter(|t| t != "events" && !tables.contains(t))
                .collect();
            if !missing.is_empty() {
                // Only the narrative engine's tables may be absent from this store.
                for t in &missing {
                    assert!(
                        ["narratives", "reviews"].contains(&t.as_str()),
                        "{} / {}: table {t} is not in the store",
                        q.dashboard,
                        q.panel
                    );
                }
                pending.insert(format!(
                    "{} / {} ({})",
                    q.dashboard,
                    q.panel,
                    missing.join(", ")
                ));
                continue;
            }
            let out = collect(&ctx, &sql)
                .await
                .unwrap_or_else(|e| panic!("{} / {}: {e}\n{sql}", q.dashboard, q.panel));
            if n == 0 {
                results.insert((q.dashboard.clone(), q.panel.clone()), out);
            }
        }
    }
    eprintln!(
        "{} SQL queries ran twice; not run (table not in this store yet): {pending:?}",
        queries.len() - pending.len() / 2
    );
    let get = |d: &str, p: &str| {
        results
            .get(&(d.to_owned(), p.to_owned()))
            .unwrap_or_else(|| panic!("no result for {d} / {p}"))
    };

    // Overview: coverage lists every vendor and feed file's vendor; S1's admin is a top actor with
    // high-risk events.
    let coverage = get("mdm-audit-overview", "Coverage by vendor and feed");
    let vendors: BTreeSet<String> = strings(coverage, "vendor").into_iter().collect();
    assert_eq!(vendors, base.vendors.iter().cloned().collect());
    let top = get("mdm-audit-overview", "Top actors");
    let actors = strings(top, "actor");
    let at = actors
        .iter()
        .position(|a| a == &s1.actors[0])
        .expect("S1's admin among the top actors");
    assert!(strings(top, "high_risk")[at].parse::<u64>().expect("n") > 0);

    // Admin activity of S1's admin: wipes among what they did, the wiped device among their devices.
    let did = get("mdm-audit-admin", "What $actor did");
    assert!(
        strings(did, "action").contains(&"wipe".to_owned()),
        "{:?}",
        strings(did, "action")
    );
    let touched = get("mdm-audit-admin", "Devices $actor acted on");
    assert!(strings(touched, "device_id").contains(&device));

    // Device lifecycle: exactly one row of facts; S1's admin acted on it.
    let facts = get("mdm-audit-device", "Device facts");
    assert_eq!(strings(facts, "device_id"), vec![device.clone()]);
    let who = get("mdm-audit-device", "Who acted on $device");
    assert!(strings(who, "actor").contains(&s1.actors[0]));

    // Change review of one target: every row is that target, and its settings are listed.
    let changes = get("mdm-audit-change", "Policy and profile changes");
    let ids = strings(changes, "target_id");
    assert!(
        !ids.is_empty() && ids.iter().all(|t| t == &target),
        "{ids:?}"
    );
    assert!(rows(get("mdm-audit-change", "Changed settings (old -> new)")) > 0);

    // SOC 2: CC6.1 (logical access) has evidence; the control column only names SOC 2 controls.
    let per_control = strings(get("mdm-audit-soc2", "Events per control"), "control");
    assert!(
        per_control.contains(&"SOC2-CC6.1".to_owned()),
        "{per_control:?}"
    );
    assert!(per_control.iter().all(|c| c.starts_with("SOC2-")));
    assert!(rows(get("mdm-audit-soc2", "SOC2-CC6.1 evidence")) > 0);

    // Ingest health: the one broken record, its source and the writer's chain.
    let dead = get("mdm-audit-ingest", "Newest dead letters");
    assert_eq!(rows(dead), 1);
    assert!(strings(dead, "origin")[0].contains("jamf_webhooks.ndjson"));
    assert_eq!(
        strings(get("mdm-audit-ingest", "Dead letters"), "dead_letters"),
        vec!["1".to_owned()]
    );
    assert_eq!(
        strings(
            get("mdm-audit-ingest", "Hash chains (one per writer)"),
            "chain_id"
        ),
        vec!["dash-ingest".to_owned()]
    );
    let lag = get("mdm-audit-ingest", "Lag and freshness by feed");
    assert!(
        strings(lag, "avg_lag_seconds")
            .iter()
            .all(|s| s.parse::<f64>().expect("lag") > 0.0),
        "events were ingested after they happened"
    );
}
