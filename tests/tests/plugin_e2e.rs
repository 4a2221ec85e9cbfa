//! The datasource plugin as Grafana runs it: a generated estate is ingested into a store through the
//! real CLI, the built `gpx_mdm_audit` binary is started with Grafana's environment, the handshake
//! line is read from stdout, and CheckHealth, QueryData (every query type) and CallResource are called
//! over gRPC with the SDK's generated clients. Frames are decoded from Arrow IPC and checked against
//! the generator's ground truth.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampNanosecondType};
use grafana_plugin_sdk::pluginv2;
use mdm_audit_generate::GroundTruth;
use mdm_audit_tests::{count_after, run_cli};

struct Store {
    _dir: tempfile::TempDir,
    store: String,
    truth: GroundTruth,
    stored: u64,
    skipped: u64,
}

fn fixture_store() -> Store {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let out = run_cli(
        &[
            "generate",
            "--seed",
            "11",
            "--events",
            "600",
            "--days",
            "3",
            "--start",
            "2026-03-02",
            "--devices",
            "80",
            "--wipe-count",
            "4",
            "--bulk-delete-count",
            "5",
            "--rollout-devices",
            "6",
            "--out",
            "estate",
        ],
        root,
    );
    assert!(
        out.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth = GroundTruth::read(&root.join("estate/ground_truth.json")).expect("ground truth");
    let mut args = vec!["ingest", "--store", "data", "--writer-id", "e2e"];
    let inputs: Vec<String> = truth
        .feeds
        .iter()
        .map(|f| format!("estate/{}", f.file))
        .collect();
    args.extend(inputs.iter().map(String::as_str));
    let out = run_cli(&args, root);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ingest: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("ingest: "))
        .expect("summary")
        .to_owned();
    let stored = count_after(&line, "stored");
    assert_eq!(count_after(&line, "dead-lettered"), 0, "{line}");
    // Every record is stored once or skipped as the twin of one stored (Intune's Graph and
    // diagnostic-log copies of one audit event share its event_uid).
    let skipped = count_after(&line, "duplicates skipped");
    assert_eq!(
        stored + skipped,
        truth.records_total,
        "every generated record is stored: {line}"
    );
    Store {
        store: root.join("data").to_string_lossy().into_owned(),
        _dir: dir,
        truth,
        stored,
        skipped,
    }
}

fn context(store: &str) -> pluginv2::PluginContext {
    pluginv2::PluginContext {
        org_id: 1,
        plugin_id: "mdm-audit-datasource".into(),
        user: Some(pluginv2::User {
            login: "admin".into(),
            name: "admin".into(),
            email: "admin@localhost".into(),
            role: "Admin".into(),
        }),
        data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
            id: 1,
            uid: "mdm-audit".into(),
            name: "MDM Audit".into(),
            json_data: serde_json::to_vec(&serde_json::json!({
                "storeUri": store, "narrativeMode": "template", "llmTimeoutSeconds": 30
            }))
            .expect("json"),
            decrypted_secure_json_data: HashMap::from([(
                "llmApiKey".to_owned(),
                "sk-test-secret".to_owned(),
            )]),
            last_updated_ms: 1_767_225_600_000,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// 2026-03-01T00:00Z .. 2026-03-06T00:00Z: the whole estate (3 days from 2026-03-02).
const FROM_MS: i64 = 1_772_323_200_000;
const TO_MS: i64 = 1_772_755_200_000;

fn query(ref_id: &str, json: serde_json::Value) -> pluginv2::DataQuery {
    pluginv2::DataQuery {
        ref_id: ref_id.into(),
        max_data_points: 1000,
        interval_ms: 3_600_000,
        time_range: Some(pluginv2::TimeRange {
            from_epoch_ms: FROM_MS,
            to_epoch_ms: TO_MS,
        }),
        query_type: json["queryType"].as_str().unwrap_or("").into(),
        json: serde_json::to_vec(&json).expect("json"),
    }
}

struct Decoded {
    meta: HashMap<String, String>,
    batch: RecordBatch,
}

fn decode(bytes: &[u8]) -> Decoded {
    let reader =
        arrow::ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes.to_vec()), None)
            .expect("ipc");
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    let batch = arrow::compute::concat_batches(&schema, &batches).expect("concat");
    Decoded {
        meta: schema.metadata().clone(),
        batch,
    }
}

fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    let c = b
        .column_by_name(col)
        .unwrap_or_else(|| panic!("column {col}"));
    let c = cast(c, &DataType::Utf8).expect("utf8");
    c.as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect()
}

fn times(b: &RecordBatch, col: &str) -> Vec<i64> {
    let c = b
        .column_by_name(col)
        .unwrap_or_else(|| panic!("column {col}"));
    let c = cast(c, &DataType::Timestamp(TimeUnit::Nanosecond, None)).expect("ts");
    c.as_primitive::<TimestampNanosecondType>()
        .values()
        .to_vec()
}

fn numbers(b: &RecordBatch, i: usize) -> Vec<f64> {
    let c = cast(b.column(i), &DataType::Float64).expect("f64");
    let c = c.as_primitive::<Float64Type>();
    (0..c.len())
        .map(|r| if c.is_null(r) { 0.0 } else { c.value(r) })
        .collect()
}

#[test]
fn grafana_runs_the_plugin_over_the_fixture_store() {
    let fx = fixture_store();
    let mut child = Command::new(mdm_audit_tests::built_binary("gpx_mdm_audit"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("grafana_plugin_type", "datasource")
        .env("PLUGIN_PROTOCOL_VERSIONS", "2")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("GF_VERSION", "12.2.0")
        .env("GF_EDITION", "oss")
        .env("GF_PLUGIN_VERSION", "0.1.0")
        .env("GF_INSTANCE_FEATURE_TOGGLES_ENABLE", "")
        .env("GF_PLUGIN_APP_CLIENT_SECRET", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn plugin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("handshake");
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 5, "handshake {line:?}");
    assert_eq!(
        (parts[0], parts[1], parts[2], parts[4]),
        ("1", "2", "tcp", "grpc"),
        "{line:?}"
    );
    assert!(parts[3].starts_with("127.0.0.1:"), "{line:?}");
    let endpoint = format!("http://{}", parts[3]);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(talk(&endpoint, &fx))
    }));

    child.kill().expect("kill");
    let _ = child.wait();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("rest of stdout");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    if let Err(p) = result {
        eprintln!("plugin stderr:\n{err}");
        std::panic::resume_unwind(p);
    }
    assert_eq!(rest, "", "nothing but the handshake reaches stdout");
    assert!(
        !err.contains("sk-test-secret"),
        "the API key never reaches the logs"
    );
}

async fn talk(endpoint: &str, fx: &Store) {
    use pluginv2::{
        data_client::DataClient, diagnostics_client::DiagnosticsClient,
        resource_client::ResourceClient,
    };
    let ctx = context(&fx.store);

    // CheckHealth: reachable, event count, newest event.
    let mut diag = DiagnosticsClient::connect(endpoint.to_owned())
        .await
        .expect("connect");
    let h = diag
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(ctx.clone()),
            ..Default::default()
        })
        .await
        .expect("health")
        .into_inner();
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
    let h = diag
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(context("/nonexistent/mdm-store")),
            ..Default::default()
        })
        .await
        .expect("health")
        .into_inner();
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

    let mut data = DataClient::connect(endpoint.to_owned())
        .await
        .expect("connect");
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
            "R",
            serde_json::json!({"refId": "R", "queryType": "narrative", "narrative": {"kind": "period_summary"}}),
        ),
        query(
            "X",
            serde_json::json!({"refId": "X", "queryType": "timeline", "filters": {"riskLevels": ["severe"]}}),
        ),
    ];
    let resp = data
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(ctx.clone()),
            queries,
            ..Default::default()
        })
        .await
        .expect("query_data")
        .into_inner();
    let r = |id: &str| {
        resp.responses
            .get(id)
            .unwrap_or_else(|| panic!("response {id}"))
    };
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

    // Narrative: the story (Markdown, findings first) and a citations frame whose rows link to the
    // dashboards showing the cited events; small enough for any gRPC client.
    assert_eq!(r("R").error, "", "narrative");
    assert_eq!(r("R").frames.len(), 2, "story and citations");
    let answer: usize = r("R").frames.iter().map(Vec::len).sum();
    assert!(answer < 1024 * 1024, "narrative answer {answer} bytes");
    let n = decode(&r("R").frames[0]);
    assert_eq!(n.batch.num_rows(), 1);
    let md = strings(&n.batch, "markdown")[0].clone().unwrap_or_default();
    assert!(
        md.contains("## Period audit summary") && md.contains("[1]"),
        "{md}"
    );
    let summary = md.find("### Summary").expect("summary");
    let routine = md.find("### Routine activity").expect("routine");
    assert!(summary < routine, "{md}");
    let c = decode(&r("R").frames[1]);
    assert!(c.batch.num_rows() > 1);
    for link in strings(&c.batch, "link") {
        let link = link.expect("link");
        assert!(
            link.starts_with("/d/mdm-audit-") && link.contains("from="),
            "{link}"
        );
    }
    let counts = c.batch.column_by_name("events").expect("events column");
    assert_eq!(counts.null_count(), 0);
    // A small set's link opens the evidence dashboard on exactly its events: run the query that
    // dashboard runs with the link's variable and get the cited events back, no more, no fewer.
    let events_col = numbers(&c.batch, 4);
    let (link, cited) = strings(&c.batch, "link")
        .into_iter()
        .zip(events_col)
        .find_map(|(l, n)| {
            l.filter(|l| l.starts_with("/d/mdm-audit-evidence?"))
                .map(|l| (l, n as usize))
        })
        .expect("a citation links to the evidence dashboard");
    let var: String =
        url::form_urlencoded::parse(link.split_once('?').expect("query").1.as_bytes())
            .find(|(k, _)| k == "var-events")
            .map(|(_, v)| v.into_owned())
            .expect("var-events");
    let resp = data
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(ctx.clone()),
            queries: vec![query(
                "U",
                serde_json::json!({"refId": "U", "queryType": "timeline",
                    "filters": {"eventUids": [var.clone()]}, "limit": 1000}),
            )],
            ..Default::default()
        })
        .await
        .expect("query_data")
        .into_inner();
    let u = decode(&resp.responses["U"].frames[0]);
    let got: BTreeSet<String> = strings(&u.batch, "event_uid")
        .into_iter()
        .map(|v| v.expect("uid"))
        .collect();
    let want: BTreeSet<String> = var.split(',').map(str::to_owned).collect();
    assert_eq!(got, want, "{link}");
    assert_eq!(got.len(), cited, "{link}");
    // Bad query: names the problem.
    assert!(
        r("X").error.contains("query X") && r("X").error.contains("severe"),
        "{}",
        r("X").error
    );
    assert_ne!(r("X").status, 200);

    // CallResource: suggestions and the schema.
    let mut res = ResourceClient::connect(endpoint.to_owned())
        .await
        .expect("connect");
    let mut call = async |url: &str| {
        let mut s = res
            .call_resource(pluginv2::CallResourceRequest {
                plugin_context: Some(ctx.clone()),
                path: url.split('?').next().unwrap_or("").into(),
                method: "GET".into(),
                url: url.into(),
                ..Default::default()
            })
            .await
            .expect("call_resource")
            .into_inner();
        let first = s.message().await.expect("message").expect("a response");
        (
            first.code,
            serde_json::from_slice::<serde_json::Value>(&first.body).expect("json body"),
        )
    };
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
    let tags: BTreeSet<&str> = body["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let planted: BTreeSet<&str> = fx
        .truth
        .scenarios
        .iter()
        .flat_map(|s| &s.records)
        .flat_map(|r| r.risk_tags.iter().map(String::as_str))
        .collect();
    assert!(planted.is_subset(&tags), "{planted:?} not in {tags:?}");
    let (_, body) = call("suggest/actions?q=WIP").await;
    let actions: Vec<&str> = body["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
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
    let events = body["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["name"] == "events")
        .expect("events");
    let time = events["columns"]
        .as_array()
        .expect("cols")
        .iter()
        .find(|c| c["name"] == "time")
        .expect("time");
    assert!(
        time["type"]
            .as_str()
            .is_some_and(|t| t.contains("Timestamp")),
        "{time}"
    );

    // CallResource POST reviews: a narrative recorded by `mdm-audit narrate` is reviewed by the
    // signed-in Grafana user; bad decisions and unknown narratives are refused with the reason.
    let tmp = tempfile::tempdir().expect("tempdir");
    let n = run_cli(
        &[
            "narrate",
            "--store",
            &fx.store,
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-06",
        ],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&n.stderr).into_owned();
    assert!(n.status.success(), "{err}");
    let id = err
        .split_whitespace()
        .find(|w| w.starts_with("nar-"))
        .expect("narrative id")
        .to_owned();
    let mut post = async |body: serde_json::Value| {
        let mut s = res
            .call_resource(pluginv2::CallResourceRequest {
                plugin_context: Some(ctx.clone()),
                path: "reviews".into(),
                method: "POST".into(),
                url: "reviews".into(),
                body: serde_json::to_vec(&body).expect("body").into(),
                ..Default::default()
            })
            .await
            .expect("call_resource")
            .into_inner();
        let first = s.message().await.expect("message").expect("a response");
        (
            first.code,
            serde_json::from_slice::<serde_json::Value>(&first.body).expect("json body"),
        )
    };
    let (code, body) =
        post(serde_json::json!({"narrativeId": id, "decision": "approve", "comment": "ok"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["decision"], "approve");
    assert_eq!(body["narrative_id"], id.as_str());
    let (code, body) = post(serde_json::json!({"narrativeId": id, "decision": "maybe"})).await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("approve, edit or reject"))
    );
    let (code, _) =
        post(serde_json::json!({"narrativeId": "nar-none", "decision": "reject"})).await;
    assert_eq!(code, 404);
    let v = run_cli(&["verify", "--store", &fx.store, "--json"], tmp.path());
    let v: serde_json::Value = serde_json::from_slice(&v.stdout).expect("verify json");
    let reviews = v["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == "reviews")
        .expect("reviews table")
        .clone();
    assert_eq!(reviews["rows"], 1, "{reviews}");
    assert_eq!(reviews["chains"][0]["rows"], 1);
    let who = run_cli(
        &[
            "report",
            "--store",
            &fx.store,
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-06",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let who: serde_json::Value = serde_json::from_slice(&who.stdout).expect("report json");
    assert_eq!(
        who["reviews"][0]["reviewer"], "admin",
        "the Grafana user's login"
    );
}
