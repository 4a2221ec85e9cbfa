//! The datasource plugin as Grafana runs it: a store made through the CLI, the built `gpx_mdm_audit`
//! binary started with Grafana's environment, its handshake read from stdout, and its gRPC services
//! called with the SDK's generated clients; frames decoded from Arrow IPC.

use std::collections::HashMap;
use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampNanosecondType};
use grafana_plugin_sdk::pluginv2;
use mdm_audit_generate::GroundTruth;

use crate::estate::{generate_estate, ingest, truth_feeds};
use crate::{built_binary, count_after};

/// The LLM API key the data source is configured with; it must never reach the plugin's logs.
pub const API_KEY: &str = "sk-test-secret";

/// 2026-03-01T00:00Z .. 2026-03-06T00:00Z: the whole fixture estate (3 days from 2026-03-02).
pub const FROM_MS: i64 = 1_772_323_200_000;
/// See [`FROM_MS`].
pub const TO_MS: i64 = 1_772_755_200_000;

/// The fixture store and what the generator and `ingest` said about it.
#[derive(Debug)]
pub struct Store {
    _dir: tempfile::TempDir,
    /// The store's path.
    pub store: String,
    /// The generator's ground truth.
    pub truth: GroundTruth,
    /// Events stored.
    pub stored: u64,
    /// Records skipped as the twin of one stored.
    pub skipped: u64,
}

/// A generated estate (3 days from 2026-03-02, every planted scenario) ingested into a store through
/// the CLI; every record is stored once or skipped as a twin, none dead-lettered.
pub fn fixture_store() -> Store {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let truth = generate_estate(
        root,
        "--seed 11 --events 600 --days 3 --start 2026-03-02 --devices 80 --wipe-count 4 \
         --bulk-delete-count 5 --rollout-devices 6",
    );
    let line = ingest(root, "e2e", "", &truth_feeds(&truth)).summary;
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

/// The plugin context Grafana sends: an Admin user, the data source over `store` in template mode,
/// with [`API_KEY`] as its secret.
pub fn context(store: &str) -> pluginv2::PluginContext {
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
                API_KEY.to_owned(),
            )]),
            last_updated_ms: 1_767_225_600_000,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A query of the panel's JSON over [`FROM_MS`] .. [`TO_MS`], hourly.
pub fn query(ref_id: &str, json: serde_json::Value) -> pluginv2::DataQuery {
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

/// Starts the built plugin as Grafana does, checks its handshake line, runs `talk` with its gRPC
/// endpoint on a runtime, then kills it. Afterwards nothing but the handshake reached stdout and
/// [`API_KEY`] is not in its logs; if `talk` panicked, the plugin's stderr is printed first.
pub fn run_plugin<F: Future<Output = ()>>(talk: impl FnOnce(String) -> F) {
    let mut child = Command::new(built_binary("gpx_mdm_audit"))
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
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(talk(endpoint))));

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
    assert!(!err.contains(API_KEY), "the API key never reaches the logs");
}

/// QueryData of `queries` in `ctx`: the responses by ref id.
pub async fn query_data(
    endpoint: &str,
    ctx: &pluginv2::PluginContext,
    queries: Vec<pluginv2::DataQuery>,
) -> HashMap<String, pluginv2::DataResponse> {
    let mut data = pluginv2::data_client::DataClient::connect(endpoint.to_owned())
        .await
        .expect("connect");
    data.query_data(pluginv2::QueryDataRequest {
        plugin_context: Some(ctx.clone()),
        queries,
        ..Default::default()
    })
    .await
    .expect("query_data")
    .into_inner()
    .responses
}

/// CallResource `method url` (with a JSON `body`, if any) in `ctx`: the first response's status code
/// and JSON body.
pub async fn call_resource(
    endpoint: &str,
    ctx: &pluginv2::PluginContext,
    method: &str,
    url: &str,
    body: Option<serde_json::Value>,
) -> (i32, serde_json::Value) {
    let mut res = pluginv2::resource_client::ResourceClient::connect(endpoint.to_owned())
        .await
        .expect("connect");
    let mut s = res
        .call_resource(pluginv2::CallResourceRequest {
            plugin_context: Some(ctx.clone()),
            path: url.split('?').next().unwrap_or("").into(),
            method: method.into(),
            url: url.into(),
            body: body
                .map(|b| serde_json::to_vec(&b).expect("body"))
                .unwrap_or_default()
                .into(),
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
}

/// A frame decoded from Arrow IPC: its schema's metadata and its rows.
#[derive(Debug)]
pub struct Decoded {
    /// The schema's metadata.
    pub meta: HashMap<String, String>,
    /// All rows in one batch.
    pub batch: RecordBatch,
}

/// Decodes one frame of a response.
pub fn decode(bytes: &[u8]) -> Decoded {
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

/// Column `col` as text.
pub fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    crate::query::texts(std::slice::from_ref(b), col)
}

/// Column `col` as nanosecond timestamps.
pub fn times(b: &RecordBatch, col: &str) -> Vec<i64> {
    let c = b
        .column_by_name(col)
        .unwrap_or_else(|| panic!("column {col}"));
    let c = cast(c, &DataType::Timestamp(TimeUnit::Nanosecond, None)).expect("ts");
    c.as_primitive::<TimestampNanosecondType>()
        .values()
        .to_vec()
}

/// Column `i` as numbers (null as 0).
pub fn numbers(b: &RecordBatch, i: usize) -> Vec<f64> {
    let c = cast(b.column(i), &DataType::Float64).expect("f64");
    let c = c.as_primitive::<Float64Type>();
    (0..c.len())
        .map(|r| if c.is_null(r) { 0.0 } else { c.value(r) })
        .collect()
}
