//! A Workspace ONE UEM emulator for the `mdm-audit pull ws1` tests: an HTTP server on 127.0.0.1 port
//! 0, inside the test, answering as Omnissa documents the API, with scripted faults (throttling,
//! server errors, expired tokens, paging that repeats or never ends) and a log of what it served.
//!
//! As documented:
//! - token service, OAuth 2.0 client credentials: `POST /connect/token` (in SaaS
//!   `https://{region}.uemauth.workspaceone.com/connect/token`) with form fields `grant_type=client_credentials`,
//!   `client_id`, `client_secret`; success `{"access_token", "expires_in": 3600, "token_type": "Bearer", "scope"}`,
//!   a wrong client `400 {"error": "invalid_client"}` (RFC 6749 section 5.2). Omnissa, "Datacenter and
//!   Token URLs for OAuth 2.0 Support"
//!   (<https://docs.vmware.com/en/VMware-Workspace-ONE-UEM/2209/UEM_ConsoleBasics/GUID-BF20C949-5065-4DCF-889D-1E0151016B5A.html>,
//!   <https://docs.omnissa.com/WorkspaceONE-UEM-Console-Basics-VSaaS/UsingUEMFunctionalityWithRESTAPI>):
//!   tokens live an hour.
//! - every REST call carries `Authorization: Bearer ...`, the tenant's REST API key in `aw-tenant-code`
//!   (Groups & Settings > All Settings > System > Advanced > API > REST API) and
//!   `Accept: application/json;version=N` (same pages: "Accessing API Documentation", `/api/help`). A call
//!   without the right key or token answers 401; a role without the API permission 403. Error bodies are
//!   UEM's error model `{"errorCode", "message", "activityId"}`.
//! - searches page with `page` (0-based) and `pagesize`, and answer
//!   `{"<Entries>": [...], "Page": n, "PageSize": m, "Total": t}`; device event log entries are
//!   `DeviceEventLogEntries` (the device event log resource, `/api/mdm/devices/{id}/eventlog`, with
//!   `TimeStamp`, `Severity`, `Source`, `Event`, `AdminAccount`, ...), console entries
//!   `ConsoleEventLogEntries`. The event log is served at `GET /api/system/eventlog?eventtype=Device|Console`
//!   with `startdate`, `enddate`, `orderby`, `sortorder`; entries carry the fields of the syslog
//!   integration's template (Event Type, Event, User, Event Source, Module, Category, Event Data,
//!   Timestamp: ../shared/reference/mdm-log-formats.md section 4.6) under the API's names.
//! - throttling: 429, with `Retry-After` when the service sends one.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::emulator::{
    Emulator, Fault, Served, ServedLog, Tokens, bearer, fault_answer, parse_query,
};
use crate::pull::{pull_command, set_credentials};

/// What the UEM emulator serves and how it misbehaves.
#[derive(Debug)]
pub struct Ws1State {
    /// The OAuth client id it accepts.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The tenant's REST API key (`aw-tenant-code`).
    pub tenant_code: String,
    /// Device event log entries, in any order.
    pub device_events: Vec<Value>,
    /// Console event log entries.
    pub console_events: Vec<Value>,
    /// Delay before each event log answer (to kill a run mid-way).
    pub page_delay: Duration,
    /// `expires_in` of the tokens issued.
    pub expires_in: u64,
    /// Faults for the next event log requests, in order.
    pub faults: VecDeque<Fault>,
    /// Pages (`eventtype`, page number) that always answer 503.
    pub failing_pages: HashSet<(String, u64)>,
    /// Pages after the second answer the second one again (`Page` 1): the paging repeats.
    pub repeat_page: bool,
    /// Pages after the second hold the second one's entries, under their own page number.
    pub repeat_entries: bool,
    /// `Total` always promises one more page, which is filled with new entries: it never ends.
    pub endless: bool,
    /// Event types (`Device`, `Console`) the role may not read: 403.
    pub forbidden: HashSet<String>,
    /// Requests served.
    pub served: Vec<Served>,
    tokens: Tokens,
}

type Shared = Arc<Mutex<Ws1State>>;

/// The Workspace ONE UEM (API server and token service) emulator.
pub type Ws1Emulator = Emulator<Ws1State>;

fn uem_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorCode": code, "message": message,
            "activityId": "5c3e8a1f-0000-4000-8000-000000000001"})),
    )
        .into_response()
}

fn served(
    endpoint: &str,
    query: BTreeMap<String, String>,
    headers: &HeaderMap,
    status: u16,
) -> Served {
    let noted = ["accept", "content-type"]
        .iter()
        .filter_map(|h| {
            let v = headers.get(*h)?.to_str().ok()?;
            Some(((*h).to_owned(), v.to_owned()))
        })
        .chain(
            // Whether the key came, never its value.
            headers
                .get("aw-tenant-code")
                .map(|_| ("aw-tenant-code".to_owned(), "(present)".to_owned())),
        )
        .collect();
    Served {
        endpoint: endpoint.to_owned(),
        query,
        headers: noted,
        status,
        at: Instant::now(),
    }
}

async fn token(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let form = parse_query(Some(&body));
    let mut st = s.lock().expect("state");
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id") == Some(&st.client_id)
        && form.get("client_secret") == Some(&st.client_secret);
    let status = if ok { 200 } else { 400 };
    st.served
        .push(served("token", BTreeMap::new(), &headers, status));
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let lifetime = st.expires_in;
    let value = st.tokens.issue(
        "eyJhbGciOiJSUzI1NiJ9.uem-emulated-",
        Duration::from_secs(lifetime),
    );
    axum::Json(json!({"access_token": value, "expires_in": lifetime,
        "token_type": "Bearer", "scope": "api"}))
    .into_response()
}

async fn eventlog(
    State(s): State<Shared>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let delay = s.lock().expect("state").page_delay;
    tokio::time::sleep(delay).await;
    let query = parse_query(raw.as_deref());
    let mut st = s.lock().expect("state");
    let kind = query.get("eventtype").cloned().unwrap_or_default();
    let (status, response) = answer(&mut st, &query, &headers);
    let endpoint = format!("eventlog/{kind}");
    st.served.push(served(&endpoint, query, &headers, status));
    response
}

fn time_of(e: &Value) -> chrono::DateTime<chrono::Utc> {
    let t = e["TimeStamp"].as_str().unwrap_or_default();
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|n| n.and_utc())
        .unwrap_or_default()
}

fn parse_time(q: &BTreeMap<String, String>, key: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    q.get(key)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn answer(
    st: &mut Ws1State,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> (u16, Response) {
    let key = headers
        .get("aw-tenant-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if key != st.tenant_code {
        return (
            401,
            uem_error(
                StatusCode::UNAUTHORIZED,
                1013,
                "The aw-tenant-code header is missing or does not hold this tenant's REST API key.",
            ),
        );
    }
    let token = bearer(headers);
    if !st.tokens.valid(&token) {
        return (401, expired());
    }
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !accept.starts_with("application/json;version=") {
        return (
            406,
            uem_error(
                StatusCode::NOT_ACCEPTABLE,
                1002,
                "Unsupported Accept header.",
            ),
        );
    }
    let kind = query.get("eventtype").cloned().unwrap_or_default();
    if st.forbidden.contains(&kind) {
        return (
            403,
            uem_error(
                StatusCode::FORBIDDEN,
                1000,
                "Access denied: the admin role has no permission for this API.",
            ),
        );
    }
    if let Some(fault) = fault_answer(
        &mut st.faults,
        &mut st.tokens,
        &token,
        |status| match status {
            StatusCode::UNAUTHORIZED => expired(),
            StatusCode::TOO_MANY_REQUESTS => uem_error(status, 429, "Too many requests."),
            _ => uem_error(status, 1, "The service is unavailable."),
        },
    ) {
        return fault;
    }
    let number: u64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let size: usize = query
        .get("pagesize")
        .and_then(|p| p.parse().ok())
        .unwrap_or(500);
    if st.failing_pages.contains(&(kind.clone(), number)) {
        return (
            503,
            uem_error(
                StatusCode::SERVICE_UNAVAILABLE,
                1,
                "The service is unavailable.",
            ),
        );
    }
    let (array, source) = match kind.as_str() {
        "Device" => ("DeviceEventLogEntries", &st.device_events),
        "Console" => ("ConsoleEventLogEntries", &st.console_events),
        _ => {
            return (
                400,
                uem_error(StatusCode::BAD_REQUEST, 1003, "Invalid eventtype."),
            );
        }
    };
    let (start, end) = (parse_time(query, "startdate"), parse_time(query, "enddate"));
    let mut entries: Vec<Value> = source
        .iter()
        .filter(|e| {
            let t = time_of(e);
            start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
        })
        .cloned()
        .collect();
    if query.get("orderby").map(String::as_str) == Some("TimeStamp") {
        entries.sort_by_key(time_of);
        if query.get("sortorder").map(String::as_str) == Some("DESC") {
            entries.reverse();
        }
    }
    let shown = if st.repeat_page && number >= 2 {
        1
    } else {
        number
    };
    let from = if st.repeat_entries && number >= 2 {
        1
    } else {
        shown
    };
    let offset = from as usize * size;
    let mut page: Vec<Value> = entries.iter().skip(offset).take(size).cloned().collect();
    let mut total = entries.len();
    if st.endless {
        // Fill the page with new entries and promise another page.
        let base = time_of(entries.last().unwrap_or(&Value::Null));
        while page.len() < size {
            let n = offset + page.len();
            page.push(filler(&kind, n, base));
        }
        total = offset + 2 * size;
    }
    let body = json!({array: page, "Page": shown, "PageSize": size, "Total": total});
    (200, axum::Json(body).into_response())
}

/// An entry the endless log makes up.
fn filler(kind: &str, n: usize, after: chrono::DateTime<chrono::Utc>) -> Value {
    let t = after + chrono::Duration::seconds(n as i64 + 1);
    json!({"Id": 990_000_000u64 + n as u64, "EventType": kind, "Event": "SecurityInformationConfirmed",
        "AdminAccount": "sysadmin", "Source": "Device", "Module": "Devices", "Category": "Command",
        "Severity": "Information", "EventData": "", "TimeStamp": stamp(t), "DeviceId": 1, "DeviceFriendlyName": "filler"})
}

fn expired() -> Response {
    uem_error(
        StatusCode::UNAUTHORIZED,
        1005,
        "Unauthorized: the access token is invalid or has expired.",
    )
}

/// `2026-03-02T08:00:05.123`: the API's time, UTC without a zone.
fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

fn start_time(start: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(start)
        .expect("start time")
        .with_timezone(&chrono::Utc)
}

/// `n` device event log entries from `start`, a minute and some seconds apart: admins' device
/// commands (wipes, locks, enterprise wipes) on a handful of devices.
pub fn device_events(n: usize, start: &str) -> Vec<Value> {
    let t0 = start_time(start);
    let events = [
        "DeviceLock",
        "EnterpriseWipe",
        "ClearPasscode",
        "DeviceWipe",
    ];
    (0..n)
        .map(|i| {
            let device = format!("user{:02} iPhone 15 F2LX{:04}", i % 7, i);
            json!({"Id": 88_210_000 + i, "EventType": "Device", "Event": events[i % events.len()],
                "AdminAccount": "CORP\\jsmith", "Source": "Device", "Module": "Devices",
                "Category": "Command", "Severity": "Information",
                "EventData": format!("Device: {device} User: CORP\\jsmith EnrollmentUser: user{:02}", i % 7),
                "TimeStamp": stamp(t0 + chrono::Duration::seconds(60 * i as i64 + 7)),
                "DeviceId": 4000 + i, "DeviceFriendlyName": device})
        })
        .collect()
}

/// `n` console event log entries from `start`: profile changes and admin sign-ins.
pub fn console_events(n: usize, start: &str) -> Vec<Value> {
    let t0 = start_time(start);
    (0..n)
        .map(|i| {
            let (event, data) = if i % 2 == 0 {
                (
                    "ProfileModified",
                    format!("ProfileName=Wi-Fi {i};ProfileId={};", 1100 + i),
                )
            } else {
                ("AdminUserLoggedIn", String::new())
            };
            json!({"Id": 77_410_000 + i, "EventType": "Console", "Event": event,
                "AdminAccount": "akumar@contoso.com", "Source": "Console", "Module": "Admin",
                "Category": "Profile", "Severity": "Information", "EventData": data,
                "TimeStamp": stamp(t0 + chrono::Duration::seconds(90 * i as i64 + 3))})
        })
        .collect()
}

impl ServedLog for Ws1State {
    fn served(&self) -> &[Served] {
        &self.served
    }
}

impl Emulator<Ws1State> {
    /// Starts the emulator (on the current tokio runtime) serving these event log entries.
    pub async fn start(device_events: Vec<Value>, console_events: Vec<Value>) -> Self {
        let state = Arc::new(Mutex::new(Ws1State {
            client_id: "4a7c2d1e0f9b4c3d8e6f5a4b3c2d1e0f".into(),
            client_secret: "Emulated+UEM/Client.Secret=value".into(),
            tenant_code: "ZmFrZS1yZXN0LWFwaS1rZXktZm9yLXRlc3Rz".into(),
            device_events,
            console_events,
            page_delay: Duration::ZERO,
            expires_in: 3600,
            faults: VecDeque::new(),
            failing_pages: HashSet::new(),
            repeat_page: false,
            repeat_entries: false,
            endless: false,
            forbidden: HashSet::new(),
            served: Vec::new(),
            tokens: Tokens::default(),
        }));
        let app = Router::new()
            .route("/connect/token", post(token))
            .route("/api/system/eventlog", get(eventlog))
            .with_state(state.clone());
        Self::serve(state, app).await
    }

    /// The tenant its checkpoints are kept under (the API server's host and port).
    pub fn tenant(&self) -> String {
        self.addr.to_string()
    }

    /// The environment `mdm-audit pull ws1` reads its credentials from.
    pub fn credentials(&self) -> Vec<(&'static str, String)> {
        let st = self.state();
        vec![
            ("MDM_AUDIT_WS1_CLIENT_ID", st.client_id.clone()),
            ("MDM_AUDIT_WS1_CLIENT_SECRET", st.client_secret.clone()),
            ("MDM_AUDIT_WS1_TENANT_CODE", st.tenant_code.clone()),
        ]
    }
}

/// `mdm-audit pull ws1` against `emulator` into `store`: `--ws1-url` and `--ws1-token-url` at the
/// emulator, the credentials in its environment (the `_FILE` variants removed), pages of 5; `extra`
/// follows.
pub fn pull_ws1(
    emulator: &Ws1Emulator,
    store: &std::path::Path,
    extra: &[&str],
) -> std::process::Command {
    let url = emulator.url();
    let token_url = format!("{url}/connect/token");
    let mut args = vec![
        "--ws1-url",
        &url,
        "--ws1-token-url",
        &token_url,
        "--ws1-page-size",
        "5",
    ];
    args.extend_from_slice(extra);
    let mut cmd = pull_command("ws1", store, &args);
    for v in ["MDM_AUDIT_WS1_URL", "MDM_AUDIT_WS1_TOKEN_URL"] {
        cmd.env_remove(v);
    }
    set_credentials(&mut cmd, emulator.credentials());
    cmd
}
