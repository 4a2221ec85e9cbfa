//! The datasource plugin as Grafana runs it: a generated estate is ingested into a store through the
//! real CLI, the built `gpx_mdm_audit` binary is started with Grafana's environment, the handshake
//! line is read from stdout, and CheckHealth, QueryData (every query type but the narrative, which
//! `plugin_narrative.rs` runs) and CallResource are called over gRPC with the SDK's generated
//! clients. Frames are decoded from Arrow IPC and checked against the generator's ground truth.

use std::collections::{BTreeMap, BTreeSet};

use arrow::datatypes::{DataType, TimeUnit};
use grafana_plugin_sdk::pluginv2;
use mdm_audit_tests::json::{find, has, strs};
use mdm_audit_tests::plugin::{
    Store, call_resource, context, decode, fixture_store, numbers, query, query_data, run_plugin,
    strings, times,
};

#[test]
fn grafana_runs_the_plugin_over_the_fixture_store() {
    let fx = fixture_store();
    run_plugin(|endpoint| async move { talk(&endpoint, &fx).await });
}

/// GET `url` of the plugin's resources.
async fn get(endpoint: &str, ctx: &pluginv2::PluginContext, url: &str) -> (i32, serde_json::Value) {
    call_resource(endpoint, ctx, "GET", url, None).await
}

/// CheckHealth in `ctx`.
async fn health(endpoint: &str, ctx: &pluginv2::PluginContext) -> pluginv2::CheckHealthResponse {
    pluginv2::diagnostics_client::DiagnosticsClient::connect(endpoint.to_owned())
        .await
        .expect("connect")
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(ctx.clone()),
            ..Default::default()
        })
        .await
        .expect("health")
        .into_inner()
}

async fn talk(endpoint: &str, fx: &Store) {
    let ctx = context(&fx.store);

    // CheckHealth: reachable, event count, newest event.
    let h = health(endpoint, &ctx).await;
    assert_eq!(
        h.status,
        pluginv2::check_health_response::HealthStatus::Ok as i32,
        "{}",
        h.message
    );
    assert!(
        h.message.contains(&format!("{} events", fx.stored)),
        "{}",
        h.message
    );
    assert!(h.message.contains("newest 2026-03-0"), "{}", h.message);
    // A store that does not exist: an error saying what to fix.
    let h = health(endpoint, &context("/nonexistent/mdm-store")).await;
    assert_eq!(
        h.status,
        pluginv2::check_health_response::HealthStatus::Error as i32
    );
    assert!(
        h.message.contains("storeUri") || h.message.contains("ingest"),
        "{}",
        h.message
    );

    // Ground truth per vendor.
    let mut per_vendor: BTreeMap<String, u64> = BTreeMap::new();
    for f in &fx.truth.feeds {
        *per_vendor.entry(f.vendor.clone()).or_default() += f.records;
    }
    // The only records that collapse are Intune's: the Graph and diagnostic-log copies of one audit
    // event share its event_uid, so Microsoft has one event fewer per duplicate skipped.
    if let Some(m) = per_vendor.get_mut("microsoft") {
        *m -= fx.skipped;
    }
    let wipe_times: BTreeSet<i64> = fx
        .truth
        .scenarios
        .iter()
        .flat_map(|s| &s.records)
        .filter(|r| r.expect.action == "wipe")
        .map(|r| {
            chrono::DateTime::parse_from_rfc3339(&r.time)
                .expect("gt time")
                .timestamp_nanos_opt()
                .expect("ns")
        })
        .collect();
    assert!(!wipe_times.is_empty(), "the estate plants wipes");

    let queries = vec![
        query(
            "A",
            serde_json::json!({"refId": "A", "queryType": "timeline", "limit": 5}),
        ),
        query(
            "W",
            serde_json::json!({"refId": "W", "queryType": "timeline", "filters": {"actions": ["wipe"]}}),
        ),
        query(
            "S",
            serde_json::json!({"refId": "S", "queryType": "sql",
            "sql": "SELECT vendor, count(*) AS n FROM events GROUP BY vendor ORDER BY vendor"}),
        ),
        query(
            "D",
            serde_json::json!({"refId": "D", "queryType": "sql", "sql": "DROP TABLE events"}),
        ),
        query(
            "C",
            serde_json::json!({"refId": "C", "queryType": "stats", "stats": {"metric": "count"}}),
        ),
        query(
            "V",
            serde_json::json!({"refId": "V", "queryType": "stats", "stats": {"metric": "count", "groupBy": "vendor"}}),
        ),
        query(
            "E",
            serde_json::json!({"refId": "E", "queryType": "episodes"}),
        ),
        query(
            "N",
            serde_json::json!({"refId": "N", "queryType": "annotations", "filters": {"riskLevels": ["high", "critical"]}}),
        ),
        query(
            "X",
            serde_json::json!({"refId": "X", "queryType": "timeline", "filters": {"riskLevels": ["severe"]}}),
        ),
    ];
    let resp = query_data(endpoint, &ctx, queries).await;
    let r = |id: &str| resp.get(id).unwrap_or_else(|| panic!("response {id}"));
    for id in ["A", "W", "S", "C", "V", "E", "N"] {
        assert_eq!(r(id).error, "", "{id}");
        assert_eq!(r(id).frames.len(), 1, "{id}");
    }

    // Timeline: 5 newest, capped with a notice, links to the device and actor dashboards.
    let a = decode(&r("A").frames[0]);
    assert_eq!(a.meta.get("refId").map(String::as_str), Some("A"));
    assert_eq!(a.batch.num_rows(), 5);
    let t = times(&a.batch, "time");
    assert!(t.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(
        a.meta
            .get("meta")
            .is_some_and(|m| m.contains("showing the first 5")),
        "{:?}",
        a.meta
    );
    let schema = a.batch.schema();
    let cfg = |name: &str| {
        schema
            .field_with_name(name)
            .expect(name)
            .metadata()
            .get("config")
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        cfg("device").contains("/d/mdm-audit-device?var-device=${__value.raw}&${__url_time_range}"),
        "{}",
        cfg("device")
    );
    assert!(
        cfg("actor").contains("/d/mdm-audit-admin?var-actor="),
        "{}",
        cfg("actor")
    );
    assert!(matches!(
        schema
            .field_with_name("risk_score")
            .expect("score")
            .data_type(),
        DataType::Int64
    ));
    assert!(matches!(
        schema.field_with_name("time").expect("time").data_type(),
        DataType::Timestamp(TimeUnit::Nanosecond, None)
    ));

    // Timeline of wipes: only wipes, every planted wipe present.
    let w = decode(&r("W").frames[0]);
    assert!(
        strings(&w.batch, "action")
            .iter()
            .all(|a| a.as_deref() == Some("wipe"))
    );
    let seen: BTreeSet<i64> = times(&w.batch, "time").into_iter().collect();
    assert!(
        wipe_times.is_subset(&seen),
        "planted wipes {wipe_times:?} not all in {seen:?}"
    );

    // SQL: per vendor counts equal the ground truth; DDL refused with a clear message.
    let s = decode(&r("S").frames[0]);
    let got: BTreeMap<String, u64> = strings(&s.batch, "vendor")
        .into_iter()
        .zip(numbers(&s.batch, 1))
        .map(|(v, n)| (v.expect("vendor"), n as u64))
        .collect();
    assert_eq!(got, per_vendor);
    assert_ne!(r("D").status, 200);
    assert!(
        r("D").error.contains("query D") && r("D").error.contains("DROP statements are refused"),
        "{}",
        r("D").error
    );

    // Stats: one series summing to every event; per vendor labelled series summing to the truth.
    let c = decode(&r("C").frames[0]);
    assert_eq!(c.batch.num_columns(), 2);
    let total: f64 = numbers(&c.batch, 1).iter().sum();
    assert_eq!(total as u64, fx.stored);
    let tt = times(&c.batch, "time");
    assert!(
        tt.windows(2).all(|w| w[1] - w[0] == 3_600_000_000_000),
        "hourly buckets"
    );
    let v = decode(&r("V").frames[0]);
    let mut by_label = BTreeMap::new();
    for (i, f) in v.batch.schema().fields().iter().enumerate().skip(1) {
        let labels = f.metadata().get("labels").cloned().unwrap_or_default();
        let l: serde_json::Value = serde_json::from_str(&labels).expect("labels json");
        let vendor = l["vendor"].as_str().expect("vendor label").to_owned();
        by_label.insert(vendor, numbers(&v.batch, i).iter().sum::<f64>() as u64);
    }
    assert_eq!(by_label, per_vendor);

    // Episodes: the frame's shape (rows depend on correlation).
    let e = decode(&r("E").frames[0]);
    for col in [
        "episode_id",
        "episode_kind",
        "first_time",
        "last_time",
        "actors",
        "event_count",
    ] {
        assert!(
            e.batch.column_by_name(col).is_some(),
            "episodes column {col}"
        );
    }

    // Annotations: Grafana's fields, only high and critical events.
    let n = decode(&r("N").frames[0]);
    assert!(n.batch.num_rows() > 0);
    for col in ["time", "title", "text", "tags"] {
        assert!(
            n.batch.column_by_name(col).is_some(),
            "annotation column {col}"
        );
    }
    for tags in strings(&n.batch, "tags") {
        let tags = tags.expect("tags");
        let level = tags.split(',').next().unwrap_or("");
        assert!(level == "high" || level == "critical", "{tags}");
    }

    // Bad query: names the problem.
    assert!(
        r("X").error.contains("query X") && r("X").error.contains("severe"),
        "{}",
        r("X").error
    );
    assert_ne!(r("X").status, 200);

    // CallResource: suggestions and the schema.
    let call = |url: &'static str| get(endpoint, &ctx, url);
    let (code, body) = call("suggest/vendors").await;
    assert_eq!(code, 200, "{body}");
    let vendors: BTreeSet<String> = body["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| v.as_str().expect("s").to_owned())
        .collect();
    assert_eq!(vendors, per_vendor.keys().cloned().collect());
    let (_, body) = call("suggest/risk_tags").await;
    let tags: BTreeSet<&str> = strs(&body["values"]).into_iter().collect();
    let planted: BTreeSet<&str> = fx
        .truth
        .scenarios
        .iter()
        .flat_map(|s| &s.records)
        .flat_map(|r| r.risk_tags.iter().map(String::as_str))
        .collect();
    assert!(planted.is_subset(&tags), "{planted:?} not in {tags:?}");
    let (_, body) = call("suggest/actions?q=WIP").await;
    let actions: Vec<&str> = strs(&body["values"]);
    assert!(
        actions.contains(&"wipe") && actions.iter().all(|a| a.contains("wip")),
        "{actions:?}"
    );
    let (code, body) = call("suggest/colours").await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("vendors, actors")),
        "{body}"
    );
    let (code, body) = call("schema").await;
    assert_eq!(code, 200);
    let events = find(&body, "tables", "name", "events");
    let time = find(events, "columns", "name", "time");
    assert!(has(&time["type"], "Timestamp"), "{time}");
}
