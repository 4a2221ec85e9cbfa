//! Vendor API emulators for the `mdm-audit pull` tests: HTTP servers on 127.0.0.1 port 0, inside the
//! test, answering as the vendors document their APIs, with scripted faults (throttling, server
//! errors, expired tokens, paging that loops) and a log of the requests they served.
//!
//! Microsoft Graph / Microsoft identity platform, as documented:
//! - token endpoint, client credentials grant: `POST /{tenant}/oauth2/v2.0/token`, form fields
//!   `client_id`, `scope` (`{resource}/.default`), `client_secret`, `grant_type=client_credentials`;
//!   success `{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token"}`,
//!   error `{"error", "error_description", "error_codes", ...}` with 400/401
//!   (<https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>);
//! - collections: `{"@odata.context", "value": [...], "@odata.nextLink"}`, the next link an opaque
//!   URL carrying `$skiptoken`, absent on the last page (<https://learn.microsoft.com/en-us/graph/paging>);
//! - `GET /{version}/deviceManagement/auditEvents` with `$filter=activityDateTime ge ...`
//!   (<https://learn.microsoft.com/en-us/graph/api/intune-auditing-auditevent-list>) and
//!   `/deviceManagement/managedDevices`
//!   (<https://learn.microsoft.com/en-us/graph/api/intune-devices-manageddevice-list>);
//! - throttling: 429, with `Retry-After` (seconds) when the service sends one; Intune's
//!   services may answer 429 without it (<https://learn.microsoft.com/en-us/graph/throttling>);
//! - errors: `{"error": {"code", "message", "innerError"}}`; an expired token gets 401
//!   `InvalidAuthenticationToken`, a missing permission 403 `Forbidden`
//!   (<https://learn.microsoft.com/en-us/graph/errors>).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

mod records;

pub use crate::emulator::{Fault, Served};
pub use records::{audit_events, managed_devices, role_assignments, role_definitions};

use crate::emulator::{Emulator, ServedLog, Tokens, bearer, fault_answer, parse_query};
use crate::pull::{pull_command, set_credentials};

/// What the Graph emulator serves and how it misbehaves.
#[derive(Debug)]
pub struct GraphState {
    /// The tenant, client id and secret it accepts.
    pub tenant: String,
    /// The client id it accepts.
    pub client_id: String,
    /// The client secret it accepts.
    pub client_secret: String,
    /// Audit events (Graph auditEvent objects), in any order.
    pub events: Vec<Value>,
    /// Managed devices (Graph managedDevice objects).
    pub devices: Vec<Value>,
    /// Intune role definitions (Graph deviceAndAppManagementRoleDefinition objects).
    pub role_definitions: Vec<Value>,
    /// Role assignments (deviceAndAppManagementRoleAssignment objects) and the id of their definition.
    pub role_assignments: Vec<(Value, String)>,
    /// Records per page.
    pub page_size: usize,
    /// Delay before each collection answer (to kill a run mid-way).
    pub page_delay: std::time::Duration,
    /// `expires_in` of the tokens issued.
    pub expires_in: u64,
    /// Faults for the next collection requests, in order.
    pub faults: VecDeque<Fault>,
    /// Pages (by their offset) that always answer 503.
    pub failing_offsets: HashSet<usize>,
    /// The next link of the second page repeats the first page's.
    pub repeat_next_link: bool,
    /// Every page has a next link (paging that never ends).
    pub endless: bool,
    /// Collections answering 403 (`managedDevices`, `auditEvents`).
    pub forbidden: HashSet<String>,
    /// Every token is refused (401).
    pub refuse_tokens: bool,
    /// Requests served.
    pub served: Vec<Served>,
    /// `http://127.0.0.1:port`, the start of next links.
    base: String,
    tokens: Tokens,
}

type Shared = Arc<Mutex<GraphState>>;

/// The Microsoft Graph (and identity platform) emulator.
pub type GraphEmulator = Emulator<GraphState>;

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message,
            "innerError": {"date": "2026-03-01T00:00:00", "request-id": "9f1c2b7e-0000-4000-8000-000000000001"}}})),
    )
        .into_response()
}

async fn token(State(s): State<Shared>, Path(tenant): Path<String>, body: String) -> Response {
    let form = parse_query(Some(&body));
    let mut st = s.lock().expect("state");
    let ok = tenant == st.tenant
        && form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id") == Some(&st.client_id)
        && form.get("client_secret") == Some(&st.client_secret)
        && form.get("scope").is_some_and(|s| s.ends_with("/.default"));
    let status = if ok { 200 } else { 401 };
    st.served.push(Served {
        endpoint: "token".into(),
        query: BTreeMap::new(),
        headers: BTreeMap::new(),
        status,
        at: Instant::now(),
    });
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
                "error_codes": [7000215]})),
        )
            .into_response();
    }
    let lifetime = st.expires_in;
    let value = st.tokens.issue(
        "eyJ0eXAiOiJKV1QifQ.emulated-",
        std::time::Duration::from_secs(lifetime),
    );
    axum::Json(json!({"token_type": "Bearer", "expires_in": lifetime,
        "ext_expires_in": lifetime, "access_token": value}))
    .into_response()
}

fn activity_time(e: &Value) -> &str {
    e["activityDateTime"].as_str().unwrap_or_default()
}

async fn collection(
    State(s): State<Shared>,
    Path((version, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let delay = s.lock().expect("state").page_delay;
    tokio::time::sleep(delay).await;
    let query = parse_query(raw.as_deref());
    let mut st = s.lock().expect("state");
    let bearer = bearer(&headers);
    let (status, response) = answer(&mut st, &version, &name, &query, &bearer);
    st.served.push(Served {
        endpoint: name,
        query,
        headers: BTreeMap::new(),
        status,
        at: Instant::now(),
    });
    response
}

async fn definition_assignments(
    State(s): State<Shared>,
    Path((version, id)): Path<(String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> Response {
    collection(
        State(s),
        Path((version, format!("roleDefinitions/{id}/roleAssignments"))),
        query,
        headers,
    )
    .await
}

fn answer(
    st: &mut GraphState,
    version: &str,
    name: &str,
    query: &BTreeMap<String, String>,
    bearer: &str,
) -> (u16, Response) {
    let valid = st.tokens.valid(bearer);
    if !valid || st.refuse_tokens {
        return (401, expired_token());
    }
    if st.forbidden.contains(name) {
        return (
            403,
            graph_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Application is not authorized to perform this operation.",
            ),
        );
    }
    if let Some(fault) = fault_answer(
        &mut st.faults,
        &mut st.tokens,
        bearer,
        |status| match status {
            StatusCode::UNAUTHORIZED => expired_token(),
            StatusCode::TOO_MANY_REQUESTS => {
                graph_error(status, "TooManyRequests", "Too many requests.")
            }
            _ => graph_error(status, "ServiceUnavailable", "The service is unavailable."),
        },
    ) {
        return fault;
    }
    let offset: usize = query
        .get("$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    if st.failing_offsets.contains(&offset) {
        return (
            503,
            graph_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is unavailable.",
            ),
        );
    }
    let records: Vec<Value> = match name {
        "auditEvents" => {
            let since = query
                .get("$filter")
                .and_then(|f| f.strip_prefix("activityDateTime ge "))
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t.trim()).ok());
            let mut v: Vec<Value> = st
                .events
                .iter()
                .filter(|e| {
                    since.is_none_or(|s| {
                        chrono::DateTime::parse_from_rfc3339(activity_time(e)).is_ok_and(|t| t >= s)
                    })
                })
                .cloned()
                .collect();
            if query.get("$orderby").map(String::as_str) == Some("activityDateTime asc") {
                v.sort_by(|a, b| activity_time(a).cmp(activity_time(b)));
            }
            v
        }
        "managedDevices" => st.devices.clone(),
        "roleDefinitions" => st.role_definitions.clone(),
        "roleAssignments" => st.role_assignments.iter().map(|(a, _)| a.clone()).collect(),
        n if n.starts_with("roleDefinitions/") => {
            // roleDefinitions/{id}/roleAssignments: the base roleAssignment type (no members).
            let def = n.split('/').nth(1).unwrap_or_default();
            st.role_assignments
                .iter()
                .filter(|(_, d)| d == def)
                .map(|(a, _)| {
                    json!({"@odata.type": "#microsoft.graph.roleAssignment", "id": a["id"],
                        "displayName": a["displayName"], "description": a["description"],
                        "resourceScopes": a["resourceScopes"]})
                })
                .collect()
        }
        _ => {
            return (
                400,
                graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "Resource not found for the segment.",
                ),
            );
        }
    };
    let page: Vec<Value> = records
        .iter()
        .skip(offset)
        .take(st.page_size)
        .cloned()
        .collect();
    let next_offset = offset + st.page_size;
    let link = |o: usize| {
        let mut q: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| *k != "$skiptoken")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        q.push(("$skiptoken".into(), o.to_string()));
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish()
            .replace('+', "%20");
        format!("{}/{version}/deviceManagement/{name}?{q}", st.base)
    };
    let mut body = json!({
        "@odata.context": format!("https://graph.microsoft.com/{version}/$metadata#deviceManagement/{name}"),
        "value": page,
    });
    let next = if st.repeat_next_link && offset == st.page_size {
        Some(link(st.page_size))
    } else if next_offset < records.len() || st.endless {
        Some(link(next_offset))
    } else {
        None
    };
    if let Some(n) = next {
        body["@odata.nextLink"] = json!(n);
    }
    (200, axum::Json(body).into_response())
}

impl ServedLog for GraphState {
    fn served(&self) -> &[Served] {
        &self.served
    }
}

impl Emulator<GraphState> {
    /// Starts the emulator (on the current tokio runtime) serving `events` and `devices`.
    pub async fn start(events: Vec<Value>, devices: Vec<Value>) -> Self {
        let state = Arc::new(Mutex::new(GraphState {
            tenant: "7f3a2c1e-0b9d-4e5f-8a6b-1c2d3e4f5a6b".into(),
            client_id: "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f".into(),
            client_secret: "s3cr3t~Emulated.Client.Secret-value".into(),
            events,
            devices,
            role_definitions: Vec::new(),
            role_assignments: Vec::new(),
            page_size: 5,
            page_delay: std::time::Duration::ZERO,
            expires_in: 3599,
            faults: VecDeque::new(),
            failing_offsets: HashSet::new(),
            repeat_next_link: false,
            endless: false,
            forbidden: HashSet::new(),
            refuse_tokens: false,
            served: Vec::new(),
            base: String::new(),
            tokens: Tokens::default(),
        }));
        let app = Router::new()
            .route("/:tenant/oauth2/v2.0/token", post(token))
            .route("/:version/deviceManagement/:name", get(collection))
            .route(
                "/:version/deviceManagement/roleDefinitions/:id/roleAssignments",
                get(definition_assignments),
            )
            .with_state(state.clone());
        let emulator = Self::serve(state, app).await;
        let url = emulator.url();
        emulator.set(|s| s.base = url);
        emulator
    }

    /// The environment `mdm-audit pull intune` reads its credentials from.
    pub fn credentials(&self) -> Vec<(&'static str, String)> {
        let st = self.state();
        vec![
            ("MDM_AUDIT_INTUNE_TENANT_ID", st.tenant.clone()),
            ("MDM_AUDIT_INTUNE_CLIENT_ID", st.client_id.clone()),
            ("MDM_AUDIT_INTUNE_CLIENT_SECRET", st.client_secret.clone()),
        ]
    }
}

/// `mdm-audit pull intune` against `emulator` into `store`, the credentials in its environment,
/// events from 2026-03-01 on, short retry delays; `extra` follows.
pub fn pull_intune(
    emulator: &GraphEmulator,
    store: &std::path::Path,
    extra: &[&str],
) -> std::process::Command {
    let url = emulator.url();
    let mut args = vec!["--login-url", &url, "--graph-url", &url];
    args.extend_from_slice(extra);
    let mut cmd = pull_command("intune", store, &args);
    set_credentials(&mut cmd, emulator.credentials());
    cmd
}

/// Graph's answer to an expired or unknown access token.
fn expired_token() -> Response {
    graph_error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        "Lifetime validation failed, the token is expired.",
    )
}
