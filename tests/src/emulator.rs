//! What the vendor API emulators ([`crate::vendor_api`]: Microsoft Graph, [`crate::jamf_api`]: Jamf
//! Pro, [`crate::ws1_api`]: Workspace ONE UEM) share: the running [`Emulator`] over a vendor's state
//! (address, state changes, request log), the scripted faults and the answer to each, the log of
//! requests served, and the bearer tokens they issue (each with its lifetime). Running `mdm-audit
//! pull` against them is [`crate::pull`]; the scenarios every stream shares are
//! [`crate::pull_scenario`].

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;

/// A fault an emulator answers one API request with, instead of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests, with `Retry-After: n` seconds when given.
    Throttle(Option<u64>),
    /// A 5xx status.
    Server(u16),
    /// 401 for an expired token: the token in use counts as expired from now on.
    ExpireToken,
}

/// One request an emulator served.
#[derive(Debug, Clone)]
pub struct Served {
    /// `token`, or the collection / stream asked for.
    pub endpoint: String,
    /// The decoded query parameters.
    pub query: BTreeMap<String, String>,
    /// Request headers the emulator notes (never a secret's value).
    pub headers: BTreeMap<String, String>,
    /// The status answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

/// Decodes a query string.
pub fn parse_query(raw: Option<&str>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The bearer tokens an emulator issued, each valid until its expiry.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: u64,
    valid_until: BTreeMap<String, Instant>,
}

impl Tokens {
    /// Issues a token (`{prefix}{n}`) valid for `lifetime`.
    pub fn issue(&mut self, prefix: &str, lifetime: Duration) -> String {
        self.issued += 1;
        let value = format!("{prefix}{}", self.issued);
        self.valid_until
            .insert(value.clone(), Instant::now() + lifetime);
        value
    }

    /// Whether `token` was issued and has not expired.
    pub fn valid(&self, token: &str) -> bool {
        self.valid_until
            .get(token)
            .is_some_and(|t| Instant::now() < *t)
    }

    /// Expires `token` now.
    pub fn expire(&mut self, token: &str) {
        self.valid_until.insert(token.to_owned(), Instant::now());
    }
}

/// The bearer token of a request (empty when there is none).
pub fn bearer(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

/// An emulator's state: it keeps a log of the requests it served.
pub trait ServedLog {
    /// The requests served so far, oldest first.
    fn served(&self) -> &[Served];
}

/// A running emulator: where it listens and its state, shared with its request handlers.
/// `GraphEmulator`, `JamfEmulator` and `Ws1Emulator` are this over their vendor's state.
#[derive(Debug)]
pub struct Emulator<S> {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<S>>,
}

impl<S: ServedLog> Emulator<S> {
    /// Serves `app` (whose handlers share `state`) on 127.0.0.1, port 0, in the background, on the
    /// current tokio runtime.
    pub async fn serve(state: Arc<Mutex<S>>, app: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the emulator");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state }
    }

    /// Its base URL (`http://127.0.0.1:port`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes its state.
    pub fn set(&self, f: impl FnOnce(&mut S)) {
        f(&mut self.state());
    }

    /// Its state, locked.
    pub fn state(&self) -> std::sync::MutexGuard<'_, S> {
        self.state.lock().expect("emulator state")
    }

    /// The requests served so far.
    pub fn served(&self) -> Vec<Served> {
        self.state().served().to_vec()
    }
}

/// The requests of `served` to `endpoint`.
pub fn served_to(served: &[Served], endpoint: &str) -> Vec<Served> {
    served
        .iter()
        .filter(|s| s.endpoint == endpoint)
        .cloned()
        .collect()
}

/// The answer to the next scripted fault of `faults`, `None` when there is none: 429 (with
/// `Retry-After` when the fault gives one), the 5xx, or 401 after `token` is expired in `tokens`.
/// `error(status)` is the vendor's error answer for that status.
pub fn fault_answer(
    faults: &mut VecDeque<Fault>,
    tokens: &mut Tokens,
    token: &str,
    error: impl Fn(StatusCode) -> Response,
) -> Option<(u16, Response)> {
    let status = match faults.pop_front()? {
        Fault::Throttle(after) => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS);
            if let Some(a) = after {
                r.headers_mut()
                    .insert("retry-after", a.to_string().parse().expect("header"));
            }
            return Some((429, r));
        }
        Fault::Server(code) => StatusCode::from_u16(code).expect("status"),
        Fault::ExpireToken => {
            tokens.expire(token);
            StatusCode::UNAUTHORIZED
        }
    };
    Some((status.as_u16(), error(status)))
}
