//! Authenticated ingest through the real `mdm-audit serve` binary over HTTP: every write path needs a
//! named credential (bearer for Vector, HTTP basic or a header secret for the vendors' webhooks); a
//! refusal is 401/403, stores nothing, is counted in `/metrics` and logged without the secret; the
//! credentials file is reloaded when edited (revocation); the name of the credential that admitted a
//! commit is recorded (and signed) in its chain record.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use mdm_audit_tests::query::{event_uid_counts, open_store};
use mdm_audit_tests::{ServeProcess, mappings_dir, normalized_estate, read_record, run_cli};
use serde_json::Value;

const VECTOR_TOKEN: &str = "vector-token-8c1f6e0d";
const JAMF_PASSWORD: &str = "jamf-hook-pw-5a9b";
const WS1_SECRET: &str = "ws1-header-secret-77d2";

fn credentials(vector_token: &str) -> String {
    format!(
        r#"[[credential]]
name = "vector"
bearer = "{vector_token}"
paths = ["events"]

[[credential]]
name = "jamf-webhooks"
basic = {{ user = "jamf", password = "{JAMF_PASSWORD}" }}
paths = ["raw/jamf"]

[[credential]]
name = "ws1-notifications"
header = {{ name = "X-MDM-Secret", value = "{WS1_SECRET}" }}
paths = ["raw/ws1"]
"#
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// POSTs `body` to `url` with `headers`; (status, JSON or text body).
async fn post(url: &str, headers: &[(&str, String)], body: String) -> (u16, Value) {
    let mut req = client().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.expect("request");
    let code = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn bearer(t: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {t}"))]
}

/// Rows of `events` (0 when the table does not exist yet).
async fn stored(store: &Path) -> u64 {
    let (ctx, tables) = open_store(store).await;
    if !tables.iter().any(|t| t == "events") {
        return 0;
    }
    event_uid_counts(&ctx).await.values().sum()
}

/// The `admitted_by` of every commit of `table` that records a chain (in log order).
fn admitted_by(store: &Path, table: &str) -> Vec<Option<String>> {
    let mut logs: Vec<_> = std::fs::read_dir(store.join(table).join("_delta_log"))
        .expect("delta log")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    logs.sort();
    let mut out = Vec::new();
    for p in logs {
        for line in std::fs::read_to_string(&p).expect("log").lines() {
            let v: Value = serde_json::from_str(line).expect("log json");
            if let Some(chain) = v["commitInfo"].get("mdm_chain") {
                out.push(chain["admitted_by"].as_str().map(str::to_owned));
            }
        }
    }
    out
}

fn refused(metrics: &str, path: &str, reason: &str) -> u64 {
    let key = format!("mdm_audit_serve_auth_refused_total{{path=\"{path}\",reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0, |n| n.parse().expect("count"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_a_credential_for_their_path_and_refusals_store_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = dir.path().join("credentials.toml");
    std::fs::write(&creds, credentials(VECTOR_TOKEN)).expect("credentials");
    let events: Vec<String> = std::fs::read_to_string(normalized_estate(11, 600, 2))
        .expect("events")
        .lines()
        .take(40)
        .map(str::to_owned)
        .collect();
    let body = events.join("\n") + "\n";
    let store = dir.path().join("data");

    // Without credentials (and without --allow-unauthenticated) serve does not start.
    let out = run_cli(
        &["serve", "--store", "data", "--listen", "127.0.0.1:0"],
        dir.path(),
    );
    assert!(
        !out.status.success(),
        "serve must refuse to start without credentials"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--credentials") && err.contains("--allow-unauthenticated"),
        "{err}"
    );

    let server = ServeProcess::start(
        dir.path(),
        "data",
        &["--writer-id", "w1", "--credentials", "credentials.toml"],
    );
    let events_url = server.url("/v1/events");

    // /health stays open.
    let h = client()
        .get(server.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(h.status().as_u16(), 200);

    // No credential, a wrong one, a wrong scheme: 401 with WWW-Authenticate; nothing stored.
    let r = client()
        .post(&events_url)
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("Bearer")),
        "{:?}",
        r.headers()
    );
    let (code, _) = post(&events_url, &bearer("not-the-token"), body.clone()).await;
    assert_eq!(code, 401);
    let basic_as_vector =
        base64::engine::general_purpose::STANDARD.encode(format!("vector:{VECTOR_TOKEN}"));
    let (code, _) = post(
        &events_url,
        &[("authorization", format!("Basic {basic_as_vector}"))],
        body.clone(),
    )
    .await;
    assert_eq!(code, 401, "a bearer token is not a basic password");
    // A valid credential on a path it is not for: 403.
    let jamf_record = read_record(
        &mappings_dir().join("sources/jamf_pro/samples/webhook_computer/computer_added.input.json"),
    );
    let (code, resp) = post(
        &server.url("/v1/raw/jamf"),
        &bearer(VECTOR_TOKEN),
        jamf_record.clone(),
    )
    .await;
    assert_eq!(code, 403, "{resp}");
    assert!(
        resp["error"].as_str().is_some_and(|e| e.contains("vector")),
        "{resp}"
    );
    let (code, _) = post(
        &events_url,
        &[("x-mdm-secret", WS1_SECRET.to_owned())],
        body.clone(),
    )
    .await;
    assert_eq!(code, 403, "the WS1 header secret is for raw/ws1 only");
    assert_eq!(stored(&store).await, 0, "nothing stored on a refusal");
    assert!(!store.join("dead_letters").exists() || stored(&store).await == 0);

    // The right credentials: stored, and the commit records who admitted it.
    let (code, resp) = post(&events_url, &bearer(VECTOR_TOKEN), body.clone()).await;
    assert_eq!(code, 200, "{resp}");
    let distinct = resp["stored"].as_u64().expect("stored");
    assert!(distinct > 0);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("jamf:{JAMF_PASSWORD}"));
    let (code, resp) = post(
        &server.url("/v1/raw/jamf"),
        &[("authorization", format!("Basic {basic}"))],
        jamf_record.clone(),
    )
    .await;
    assert_eq!(code, 200, "{resp}");
    assert_eq!(resp["stored"], 1, "{resp}");
    assert_eq!(stored(&store).await, distinct + 1);
    assert_eq!(
        admitted_by(&store, "events"),
        vec![Some("vector".to_owned()), Some("jamf-webhooks".to_owned())]
    );

    // Revocation: rotate Vector's token in the file; the old one is refused without a restart.
    std::fs::write(&creds, credentials("rotated-token-with-another-length")).expect("rotate");
    let more = std::fs::read_to_string(normalized_estate(11, 600, 2))
        .expect("events")
        .lines()
        .skip(40)
        .take(10)
        .collect::<Vec<_>>()
        .join("\n");
    let (code, _) = post(&events_url, &bearer(VECTOR_TOKEN), more.clone()).await;
    assert_eq!(code, 401, "a revoked token is refused");
    let (code, resp) = post(
        &events_url,
        &bearer("rotated-token-with-another-length"),
        more,
    )
    .await;
    assert_eq!(code, 200, "{resp}");
    let after_rotation = stored(&store).await;

    // A broken file refuses every write with 503 (clients retry; nothing is lost or let in).
    std::fs::write(&creds, "[[credential]\nname = ").expect("break");
    let (code, _) = post(
        &events_url,
        &bearer("rotated-token-with-another-length"),
        body.clone(),
    )
    .await;
    assert_eq!(code, 503);
    assert_eq!(stored(&store).await, after_rotation);

    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert_eq!(refused(&metrics, "/v1/events", "missing"), 1, "{metrics}");
    assert_eq!(refused(&metrics, "/v1/events", "unknown"), 3, "{metrics}");
    assert_eq!(refused(&metrics, "/v1/events", "forbidden"), 1, "{metrics}");
    assert_eq!(refused(&metrics, "/v1/raw", "forbidden"), 1, "{metrics}");
    assert_eq!(
        refused(&metrics, "/v1/events", "credentials_unavailable"),
        1,
        "{metrics}"
    );
    assert_eq!(server.terminate().code(), Some(0));

    // The log names refusals and credentials, never a secret.
    let log = std::fs::read_to_string(dir.path().join("serve.log")).expect("log");
    assert!(log.contains("Write refused"), "{log}");
    for secret in [
        VECTOR_TOKEN,
        JAMF_PASSWORD,
        WS1_SECRET,
        "rotated-token-with-another-length",
    ] {
        assert!(!log.contains(secret), "the log holds a secret:\n{log}");
    }
    // verify accepts the chain (admitted_by is part of the chain record, not a break).
    let v = run_cli(&["verify", "--store", "data"], dir.path());
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_environment_admit_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let line = std::fs::read_to_string(normalized_estate(11, 600, 2))
        .expect("events")
        .lines()
        .next()
        .expect("a line")
        .to_owned();
    let exe = mdm_audit_tests::cli_binary();
    let mut child = std::process::Command::new(exe)
        .args([
            "serve",
            "--store",
            "data",
            "--listen",
            "127.0.0.1:0",
            "--addr-file",
            "addr",
            "--writer-id",
            "env",
        ])
        .env(
            "MDM_AUDIT_INGEST_TOKENS",
            "ops=env-token-1, vector=env-token-2",
        )
        .env_remove("MDM_AUDIT_CREDENTIALS")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    let addr = loop {
        if let Ok(a) = std::fs::read_to_string(dir.path().join("addr"))
            && a.ends_with('\n')
        {
            break a.trim().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not start"
        );
        assert!(child.try_wait().expect("wait").is_none(), "serve exited");
        std::thread::sleep(Duration::from_millis(20));
    };
    let url = format!("http://{addr}/v1/events");
    let (code, _) = post(&url, &[], line.clone()).await;
    assert_eq!(code, 401);
    let (code, resp) = post(&url, &bearer("env-token-2"), line).await;
    assert_eq!(code, 200, "{resp}");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        admitted_by(&dir.path().join("data"), "events"),
        vec![Some("vector".to_owned())]
    );
}
