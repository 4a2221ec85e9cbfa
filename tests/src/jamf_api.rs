//! A Jamf Pro API emulator for the `mdm-audit pull jamf` tests: an HTTP server on 127.0.0.1 port 0,
//! inside the test, answering as Jamf documents its API, with the scripted faults every emulator has
//! ([`crate::emulator::Fault`]) and a log of the requests it served.
//!
//! Jamf Pro API, as documented:
//! - API client token: `POST /api/oauth/token`, form `grant_type=client_credentials`, `client_id`,
//!   `client_secret`; answer `{"access_token", "scope", "token_type": "Bearer", "expires_in"}`, a bad
//!   client 401 `{"error": "invalid_client"}`
//!   (<https://developer.jamf.com/jamf-pro/docs/client-credentials>);
//! - user account token: `POST /api/v1/auth/token` with HTTP basic authentication; answer
//!   `{"token", "expires"}` (`expires` an ISO 8601 time; 20 minutes by default), bad credentials 401
//!   (<https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-overview>, "Authentication and
//!   authorization"; <https://developer.jamf.com/jamf-pro/reference/post_v1-auth-token>);
//! - collections paged with `page` (from 0) and `page-size`, `sort` and an RSQL `filter`, answering
//!   `{"totalCount", "results": [...]}`
//!   (<https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-overview>, "Pagination, sorting and
//!   filtering"; <https://developer.jamf.com/jamf-pro/docs/filtering-with-rsql>);
//! - `GET /api/v2/mdm/commands` (<https://developer.jamf.com/jamf-pro/reference/get_v2-mdm-commands>),
//!   `GET /api/v1/computers-inventory` with `section` parameters
//!   (<https://developer.jamf.com/jamf-pro/reference/get_v1-computers-inventory>),
//!   `GET /api/v2/mobile-devices/detail`
//!   (<https://developer.jamf.com/jamf-pro/reference/get_v2-mobile-devices-detail>), and object
//!   lists with their `{id}/history` (`{"id", "username", "date", "note", "details"}`,
//!   <https://developer.jamf.com/jamf-pro/reference/get_v1-scripts-id-history>);
//! - Classic API management history, unpaged JSON: `GET /JSSResource/computers` (`{"computers": [{"id",
//!   "name"}]}`), `/JSSResource/computerhistory/id/{id}/subset/...` (`{"computer_history": {"general",
//!   "audits", "policy_logs", "commands": {"completed", "pending", "failed"}}}`),
//!   `/JSSResource/mobiledevices`, `/JSSResource/mobiledevicehistory/id/{id}/subset/...`
//!   (`{"mobile_device_history": {"general", "audits", "management_commands": {...}}}`)
//!   (<https://developer.jamf.com/jamf-pro/reference/computerhistory>,
//!   <https://developer.jamf.com/jamf-pro/reference/mobiledevicehistory>);
//! - errors: `{"httpStatus", "errors": [{"code", "description", "id", "field"}]}`; 401 for a missing
//!   or expired token, 403 for a privilege the API role lacks
//!   (<https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-overview>, "Response codes");
//! - throttling: 429, with `Retry-After` when the server sends one
//!   (<https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-scalability-best-practices>).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::emulator::{
    Emulator, Fault, Served, ServedLog, Tokens, bearer, fault_answer, parse_query,
};
use crate::pull::{pull_command, set_credentials};

mod records;

pub use records::{
    computer_history, computers, history_entries, mdm_commands, mobile_device_history,
    mobile_devices, scripts,
};

/// What the Jamf Pro emulator serves and how it misbehaves.
#[derive(Debug)]
pub struct JamfState {
    /// The API client it accepts.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The user account it accepts (basic authentication).
    pub username: String,
    /// Its password.
    pub password: String,
    /// MDM commands (`/api/v2/mdm/commands` results), any order.
    pub commands: Vec<Value>,
    /// Computer inventory records.
    pub computers: Vec<Value>,
    /// Mobile device inventory records.
    pub mobile_devices: Vec<Value>,
    /// Scripts (`/api/v1/scripts`) with their history entries.
    pub scripts: Vec<(Value, Vec<Value>)>,
    /// Classic API computer history documents (`{"computer_history": {"general": {"id", ...}}}`).
    pub computer_histories: Vec<Value>,
    /// Classic API mobile device history documents.
    pub mobile_histories: Vec<Value>,
    /// Lifetime of the tokens issued, seconds.
    pub token_lifetime: u64,
    /// Delay before each collection answer (to kill a run mid-way).
    pub page_delay: Duration,
    /// Faults for the next collection requests, in order.
    pub faults: VecDeque<Fault>,
    /// `page` numbers of the MDM commands that always answer 503.
    pub failing_pages: HashSet<u64>,
    /// The server ignores `page` and answers page 0 every time.
    pub ignore_page: bool,
    /// Collections answering 403 (`mdmCommands`, `computersInventory`, `mobileDevices`, `scripts`).
    pub forbidden: HashSet<String>,
    /// Every token is refused (401).
    pub refuse_tokens: bool,
    /// Requests served (`endpoint`: `oauth`, `auth`, `mdmCommands`, `computersInventory`,
    /// `mobileDevices`, `scripts`, `scriptHistory`).
    pub served: Vec<Served>,
    tokens: Tokens,
}

type Shared = Arc<Mutex<JamfState>>;

/// The Jamf Pro emulator.
pub type JamfEmulator = Emulator<JamfState>;

fn jamf_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"httpStatus": status.as_u16(), "errors": [
            {"code": code, "description": description, "id": "0", "field": null}]})),
    )
        .into_response()
}

fn served(st: &mut JamfState, endpoint: &str, query: BTreeMap<String, String>, status: u16) {
    st.served.push(Served {
        endpoint: endpoint.into(),
        query,
        headers: BTreeMap::new(),
        status,
        at: Instant::now(),
    });
}

fn issue(st: &mut JamfState) -> (String, u64) {
    let lifetime = st.token_lifetime;
    let value = st.tokens.issue(
        "eyJhbGciOiJIUzI1NiJ9.jamf-emulated-",
        Duration::from_secs(lifetime),
    );
    (value, lifetime)
}

async fn oauth_token(State(s): State<Shared>, body: String) -> Response {
    let form = parse_query(Some(&body));
    let mut st = s.lock().expect("state");
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id") == Some(&st.client_id)
        && form.get("client_secret") == Some(&st.client_secret);
    served(
        &mut st,
        "oauth",
        BTreeMap::new(),
        if ok { 200 } else { 401 },
    );
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let (token, lifetime) = issue(&mut st);
    axum::Json(json!({"access_token": token, "scope": "api-role:3",
        "token_type": "Bearer", "expires_in": lifetime}))
    .into_response()
}

async fn auth_token(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let mut st = s.lock().expect("state");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", st.username, st.password))
    );
    let ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    served(&mut st, "auth", BTreeMap::new(), if ok { 200 } else { 401 });
    if !ok {
        return jamf_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
            "Unauthorized",
        );
    }
    let (token, lifetime) = issue(&mut st);
    let expires = chrono::Utc::now() + chrono::Duration::seconds(lifetime as i64);
    axum::Json(json!({"token": token,
        "expires": expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}))
    .into_response()
}

/// `dateSent>="2026-03-01T00:00:00.000Z"` (RSQL, the value quoted or not) -> the time.
fn rsql_since(
    filter: Option<&String>,
    field: &str,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let v = filter?.strip_prefix(field)?.strip_prefix(">=")?;
    chrono::DateTime::parse_from_rfc3339(v.trim_matches('"')).ok()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

async fn api(State(s): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let delay = s.lock().expect("state").page_delay;
    tokio::time::sleep(delay).await;
    let query = parse_query(uri.query());
    let mut st = s.lock().expect("state");
    let bearer = bearer(&headers);
    let path = uri.path().to_owned();
    let endpoint = match path.as_str() {
        "/api/v2/mdm/commands" => "mdmCommands",
        "/api/v1/computers-inventory" => "computersInventory",
        "/api/v2/mobile-devices/detail" => "mobileDevices",
        "/api/v1/scripts" => "scripts",
        p if p.starts_with("/api/v1/scripts/") && p.ends_with("/history") => "scriptHistory",
        "/JSSResource/computers" => "classicComputers",
        "/JSSResource/mobiledevices" => "classicMobileDevices",
        p if p.starts_with("/JSSResource/computerhistory/id/") => "computerHistory",
        p if p.starts_with("/JSSResource/mobiledevicehistory/id/") => "mobileDeviceHistory",
        // Object types the emulated server has none of.
        p if p.starts_with("/api/") && !p.ends_with("/history") => "empty",
        _ => "unknown",
    };
    let (status, response) = answer(&mut st, endpoint, &path, &query, &bearer);
    served(&mut st, endpoint, query, status);
    response
}

fn answer(
    st: &mut JamfState,
    endpoint: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    bearer: &str,
) -> (u16, Response) {
    let valid = st.tokens.valid(bearer);
    if !valid || st.refuse_tokens {
        return (
            401,
            jamf_error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN", "Unauthorized"),
        );
    }
    if st.forbidden.contains(endpoint) {
        return (
            403,
            jamf_error(
                StatusCode::FORBIDDEN,
                "INVALID_PRIVILEGE",
                "Forbidden: the API role lacks a privilege this request needs",
            ),
        );
    }
    if let Some(fault) = fault_answer(
        &mut st.faults,
        &mut st.tokens,
        bearer,
        |status| match status {
            StatusCode::UNAUTHORIZED => {
                jamf_error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN", "Unauthorized")
            }
            StatusCode::TOO_MANY_REQUESTS => {
                jamf_error(status, "TOO_MANY_REQUESTS", "Too many requests")
            }
            _ => jamf_error(status, "SERVICE_UNAVAILABLE", "Service unavailable"),
        },
    ) {
        return fault;
    }
    if let Some(doc) = classic(st, endpoint, path) {
        return match doc {
            Some(doc) => (200, axum::Json(doc).into_response()),
            None => (
                404,
                jamf_error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "The server has not found anything matching the request URI",
                ),
            ),
        };
    }
    let page: u64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let size: usize = query
        .get("page-size")
        .and_then(|p| p.parse().ok())
        .unwrap_or(100);
    if endpoint == "mdmCommands" && st.failing_pages.contains(&page) {
        return (
            503,
            jamf_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Service unavailable",
            ),
        );
    }
    let records: Vec<Value> = match endpoint {
        "mdmCommands" => {
            let since = rsql_since(query.get("filter"), "dateSent");
            let mut v: Vec<Value> = st
                .commands
                .iter()
                .filter(|c| {
                    since.is_none_or(|s| {
                        chrono::DateTime::parse_from_rfc3339(text(c, "dateSent"))
                            .is_ok_and(|t| t >= s)
                    })
                })
                .cloned()
                .collect();
            if query.get("sort").map(String::as_str) == Some("dateSent:asc") {
                v.sort_by(|a, b| text(a, "dateSent").cmp(text(b, "dateSent")));
            }
            v
        }
        "computersInventory" => st.computers.clone(),
        "mobileDevices" => st.mobile_devices.clone(),
        "scripts" => st.scripts.iter().map(|(s, _)| s.clone()).collect(),
        "scriptHistory" => {
            let id = path.split('/').nth(4).unwrap_or_default();
            let since = rsql_since(query.get("filter"), "date");
            st.scripts
                .iter()
                .filter(|(s, _)| text(s, "id") == id)
                .flat_map(|(_, h)| h.iter())
                .filter(|e| {
                    since.is_none_or(|s| {
                        chrono::DateTime::parse_from_rfc3339(text(e, "date")).is_ok_and(|t| t >= s)
                    })
                })
                .cloned()
                .collect()
        }
        "empty" => Vec::new(),
        _ => {
            return (
                404,
                jamf_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Resource not found"),
            );
        }
    };
    let page = if st.ignore_page { 0 } else { page as usize };
    let results: Vec<Value> = records
        .iter()
        .skip(page * size)
        .take(size)
        .cloned()
        .collect();
    (
        200,
        axum::Json(json!({"totalCount": records.len(), "results": results})).into_response(),
    )
}

/// The Classic API answers (unpaged): `Some(Some(doc))`, `Some(None)` for an unknown device, `None`
/// for a Jamf Pro API path.
fn classic(st: &JamfState, endpoint: &str, path: &str) -> Option<Option<Value>> {
    let list = |docs: &[Value], root: &str, key: &str| {
        let devices: Vec<Value> = docs
            .iter()
            .map(|d| json!({"id": d[root]["general"]["id"], "name": d[root]["general"]["name"]}))
            .collect();
        Some(json!({ key: devices }))
    };
    // /JSSResource/<kind>history/id/{id}/subset/...
    let id = path.split('/').nth(4).unwrap_or_default();
    let one = |docs: &[Value], root: &str| {
        docs.iter()
            .find(|d| {
                d[root]["general"]["id"]
                    .as_u64()
                    .is_some_and(|n| n.to_string() == id)
            })
            .cloned()
    };
    match endpoint {
        "classicComputers" => Some(list(
            &st.computer_histories,
            "computer_history",
            "computers",
        )),
        "classicMobileDevices" => Some(list(
            &st.mobile_histories,
            "mobile_device_history",
            "mobile_devices",
        )),
        "computerHistory" => Some(one(&st.computer_histories, "computer_history")),
        "mobileDeviceHistory" => Some(one(&st.mobile_histories, "mobile_device_history")),
        _ => None,
    }
}

impl ServedLog for JamfState {
    fn served(&self) -> &[Served] {
        &self.served
    }
}

impl Emulator<JamfState> {
    /// Starts the emulator (on the current tokio runtime) serving `commands`.
    pub async fn start(commands: Vec<Value>) -> Self {
        let state = Arc::new(Mutex::new(JamfState {
            client_id: "3f2a7c1e-9b0d-4e5f-8a6b-7c1d2e3f4a5b".into(),
            client_secret: "jamf-Emulated-Client-Secret-4YqZ9".into(),
            username: "audit-reader".into(),
            password: "emulated~Jamf~password-7".into(),
            commands,
            computers: Vec::new(),
            mobile_devices: Vec::new(),
            scripts: Vec::new(),
            computer_histories: Vec::new(),
            mobile_histories: Vec::new(),
            token_lifetime: 1200,
            page_delay: Duration::ZERO,
            faults: VecDeque::new(),
            failing_pages: HashSet::new(),
            ignore_page: false,
            forbidden: HashSet::new(),
            refuse_tokens: false,
            served: Vec::new(),
            tokens: Tokens::default(),
        }));
        let app = Router::new()
            .route("/api/oauth/token", post(oauth_token))
            .route("/api/v1/auth/token", post(auth_token))
            .fallback(api)
            .with_state(state.clone());
        Self::serve(state, app).await
    }

    /// The environment of an API client (`client`) or a user account.
    pub fn credentials(&self, client: bool) -> Vec<(&'static str, String)> {
        let st = self.state();
        if client {
            vec![
                ("MDM_AUDIT_JAMF_CLIENT_ID", st.client_id.clone()),
                ("MDM_AUDIT_JAMF_CLIENT_SECRET", st.client_secret.clone()),
            ]
        } else {
            vec![
                ("MDM_AUDIT_JAMF_USERNAME", st.username.clone()),
                ("MDM_AUDIT_JAMF_PASSWORD", st.password.clone()),
            ]
        }
    }
}

/// `mdm-audit pull jamf` against `emulator` into `store` with an API client's credentials in its
/// environment (the user account's removed), page size 5; `extra` follows.
pub fn pull_jamf(
    emulator: &JamfEmulator,
    store: &std::path::Path,
    extra: &[&str],
) -> std::process::Command {
    let url = emulator.url();
    let mut args = vec!["--jamf-url", &url, "--jamf-page-size", "5"];
    args.extend_from_slice(extra);
    let mut cmd = pull_command("jamf", store, &args);
    for v in [
        "MDM_AUDIT_JAMF_URL",
        "MDM_AUDIT_JAMF_USERNAME",
        "MDM_AUDIT_JAMF_PASSWORD",
    ] {
        cmd.env_remove(v).env_remove(format!("{v}_FILE"));
    }
    set_credentials(&mut cmd, emulator.credentials(true));
    cmd
}
