//! The HTTP side of the pullers: one [`ApiClient`] per vendor connection, with a bearer-token cache
//! (renewed shortly before it expires, and once, not in a loop, when the API answers 401) and the
//! retry policy every request goes through. Retries use the `backon` crate: exponential backoff with
//! jitter on 429 without `Retry-After`, on 5xx and on transport errors; a 429's `Retry-After` (seconds
//! or an HTTP date, RFC 9110 section 10.2.3) replaces the computed delay through backon's `adjust`.
//! Tokens and secrets never reach a log or an error message.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use url::Url;

use super::{Progress, PullError};

/// A secret (client secret, password): shown as `[REDACTED]` by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one request that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// How a connection gets its bearer token.
#[derive(Debug, Clone)]
pub enum Auth {
    /// OAuth 2.0 client credentials grant (RFC 6749 section 4.4): a form POST of `grant_type`,
    /// `client_id`, `client_secret` (and `scope` when given); the answer is
    /// `{"token_type", "expires_in", "access_token"}`.
    ClientCredentials {
        /// The token endpoint.
        token_url: Url,
        /// The client (application) id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
        /// `scope`, when the server wants one (Microsoft identity platform: `{resource}/.default`).
        scope: Option<String>,
    },
    /// A bearer token for a user name and password (Jamf Pro's `POST /api/v1/auth/token` with HTTP
    /// basic authentication, for servers without API clients); the answer is
    /// `{"token", "expires"}`, `expires` an RFC 3339 time.
    BasicBearer {
        /// The token endpoint.
        token_url: Url,
        /// The account name.
        username: String,
        /// Its password.
        password: Secret,
    },
}

/// Retry settings.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries of one request (after the first try).
    pub max_retries: usize,
    /// The first backoff delay; each next one doubles, with jitter.
    pub min_delay: Duration,
    /// The longest computed backoff delay.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured (a longer one is cut to this).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// Why one try of a request failed.
#[derive(Debug)]
enum Attempt {
    /// 429; `Retry-After` when the server sent one.
    Throttled(Option<Duration>),
    /// 5xx.
    Server(StatusCode, String),
    /// No answer (connection refused, reset, timeout).
    Transport(String),
    /// 401, with the start of the body.
    Unauthorized(String),
    /// Any other non-success status.
    Status(StatusCode, String),
}

impl Attempt {
    fn retryable(&self) -> bool {
        matches!(
            self,
            Attempt::Throttled(_) | Attempt::Server(..) | Attempt::Transport(_)
        )
    }

    fn describe(&self) -> String {
        match self {
            Attempt::Throttled(Some(d)) => format!("429 Too Many Requests, Retry-After {d:?}"),
            Attempt::Throttled(None) => "429 Too Many Requests without Retry-After".into(),
            Attempt::Server(s, body) => format!("{s}: {body}"),
            Attempt::Transport(e) => e.clone(),
            Attempt::Unauthorized(body) => format!("401 Unauthorized: {body}"),
            Attempt::Status(s, body) => format!("{s}: {body}"),
        }
    }
}

/// A cached bearer token.
struct Token {
    value: String,
    /// When to fetch a new one (some time before the server's expiry).
    renew_at: Instant,
}

/// An API connection: the HTTP client, the token cache and the retry policy.
pub struct ApiClient {
    http: reqwest::Client,
    auth: Auth,
    policy: RetryPolicy,
    token: Mutex<Option<Token>>,
    progress: Progress,
    /// Headers every API call sends besides the bearer token (Workspace ONE's `aw-tenant-code` and
    /// versioned `Accept`); sensitive values are marked so and never printed.
    headers: HeaderMap,
    /// What a [`PullError::Denied`] tells the operator to do.
    denied_hint: &'static str,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("auth", &self.auth)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The start of a response body, for an error message (bodies of errors carry no secrets; tokens are
/// only in the token endpoint's success answer, which is never quoted).
fn snippet(body: &str) -> String {
    let t = body.trim();
    match t.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &t[..i]),
        None => t.to_owned(),
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

impl ApiClient {
    /// A connection authenticating with `auth`, retrying by `policy`, counting into `progress`.
    pub fn new(auth: Auth, policy: RetryPolicy, progress: Progress) -> Result<Self, PullError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("mdm-audit/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| PullError::Setup(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            auth,
            policy,
            token: Mutex::new(None),
            progress,
            headers: HeaderMap::new(),
            denied_hint: "grant it, with admin consent, and retry",
        })
    }

    /// Sends header `name: value` with every API call (not with token requests); `Accept` replaces
    /// the default `application/json`. A `sensitive` value (an API key) is marked so: never printed.
    pub fn with_header(
        mut self,
        name: &'static str,
        value: &str,
        sensitive: bool,
    ) -> Result<Self, PullError> {
        let mut v = HeaderValue::from_str(value)
            .map_err(|_| PullError::Setup(format!("the {name} header value is not valid")))?;
        v.set_sensitive(sensitive);
        self.headers.insert(HeaderName::from_static(name), v);
        Ok(self)
    }

    /// What a 401 or 403 error tells the operator to do, after naming the missing permission
    /// (default: Entra's "grant it, with admin consent, and retry").
    pub fn with_denied_hint(mut self, hint: &'static str) -> Self {
        self.denied_hint = hint;
        self
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter()
    }

    /// Runs `send` with the retry policy; `what` names the request in progress lines.
    async fn with_retries<F, Fut>(&self, what: &str, send: F) -> Result<String, Attempt>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<String, Attempt>>,
    {
        let cap = self.policy.max_retry_after;
        send.retry(self.backoff())
            .when(Attempt::retryable)
            .adjust(move |e, computed| match e {
                // Retry-After replaces the computed delay; the retry count still bounds the tries.
                Attempt::Throttled(Some(after)) => computed.map(|_| (*after).min(cap)),
                _ => computed,
            })
            .notify(|e, wait| {
                let throttled = matches!(e, Attempt::Throttled(_));
                self.progress.retry(what, &e.describe(), wait, throttled);
            })
            .await
    }

    /// One try of a request; the body of a success.
    async fn send(request: reqwest::RequestBuilder) -> Result<String, Attempt> {
        let resp = request.send().await.map_err(transport)?;
        let status = resp.status();
        let after = retry_after(resp.headers());
        let body = resp.text().await.map_err(transport)?;
        if status.is_success() {
            Ok(body)
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            Err(Attempt::Throttled(after))
        } else if status.is_server_error() {
            Err(Attempt::Server(status, snippet(&body)))
        } else if status == StatusCode::UNAUTHORIZED {
            Err(Attempt::Unauthorized(snippet(&body)))
        } else {
            Err(Attempt::Status(status, snippet(&body)))
        }
    }

    /// A valid bearer token: the cached one, or a new one when it is near expiry or `renew`.
    async fn token(&self, renew: bool) -> Result<String, PullError> {
        if !renew
            && let Ok(guard) = self.token.lock()
            && let Some(t) = guard.as_ref()
            && Instant::now() < t.renew_at
        {
            return Ok(t.value.clone());
        }
        let (value, lifetime) = self.fetch_token().await?;
        // Renew at 90% of the lifetime, and at least a minute early when the lifetime allows.
        let early = (lifetime / 10).max(Duration::from_secs(60).min(lifetime / 2));
        let renew_at = Instant::now() + lifetime.saturating_sub(early);
        if let Ok(mut guard) = self.token.lock() {
            *guard = Some(Token {
                value: value.clone(),
                renew_at,
            });
        }
        self.progress.token_renewed();
        Ok(value)
    }

    /// The body of a token endpoint's answer, with the retries every request gets.
    async fn token_body(
        &self,
        token_url: &Url,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<String, PullError> {
        self.with_retries("token", || Self::send(request()))
            .await
            .map_err(|e| PullError::Token {
                url: token_url.to_string(),
                reason: e.describe(),
            })
    }

    async fn fetch_token(&self) -> Result<(String, Duration), PullError> {
        match &self.auth {
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "client_credentials")
                    .append_pair("client_id", client_id)
                    .append_pair("client_secret", client_secret.expose());
                if let Some(s) = scope {
                    form.append_pair("scope", s);
                }
                let form = form.finish();
                let body = self
                    .token_body(token_url, || {
                        self.http
                            .post(token_url.clone())
                            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                            .body(form.clone())
                    })
                    .await?;
                #[derive(serde::Deserialize)]
                struct Answer {
                    access_token: String,
                    #[serde(default)]
                    expires_in: Option<serde_json::Value>,
                }
                let a: Answer = serde_json::from_str(&body).map_err(|e| PullError::Token {
                    url: token_url.to_string(),
                    reason: format!("the answer is not an OAuth token response: {e}"),
                })?;
                // expires_in is a number (RFC 6749 5.1); some servers send it as a string.
                let secs = match &a.expires_in {
                    Some(serde_json::Value::Number(n)) => n.as_u64(),
                    Some(serde_json::Value::String(s)) => s.parse().ok(),
                    _ => None,
                }
                .unwrap_or(3600);
                Ok((a.access_token, Duration::from_secs(secs)))
            }
            Auth::BasicBearer {
                token_url,
                username,
                password,
            } => {
                let body = self
                    .token_body(token_url, || {
                        self.http
                            .post(token_url.clone())
                            .basic_auth(username, Some(password.expose()))
                            .header("Accept", "application/json")
                    })
                    .await?;
                #[derive(serde::Deserialize)]
                struct Answer {
                    token: String,
                    expires: Option<String>,
                }
                let a: Answer = serde_json::from_str(&body).map_err(|e| PullError::Token {
                    url: token_url.to_string(),
                    reason: format!("the answer is not a {{\"token\", \"expires\"}} token: {e}"),
                })?;
                // Jamf Pro's tokens live 20 minutes unless `expires` says otherwise.
                let lifetime = a
                    .expires
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map_or(Duration::from_secs(1200), |t| {
                        (t.with_timezone(&chrono::Utc) - chrono::Utc::now())
                            .to_std()
                            .unwrap_or(Duration::ZERO)
                    });
                Ok((a.token, lifetime))
            }
        }
    }

    /// GETs `url` with the bearer token and the retry policy; returns the body. A 401 renews the
    /// token and tries once more; a second 401, or a 403, is [`PullError::Denied`] naming
    /// `permission`.
    pub async fn get(&self, url: &Url, what: &str, permission: &str) -> Result<String, PullError> {
        let mut renewed = false;
        loop {
            let token = self.token(renewed).await?;
            let result = self
                .with_retries(what, || {
                    let mut request = self
                        .http
                        .get(url.clone())
                        .header(AUTHORIZATION, format!("Bearer {token}"));
                    if !self.headers.contains_key(ACCEPT) {
                        request = request.header(ACCEPT, "application/json");
                    }
                    Self::send(request.headers(self.headers.clone()))
                })
                .await;
            match result {
                Ok(body) => return Ok(body),
                Err(Attempt::Unauthorized(_)) if !renewed => {
                    tracing::info!(what, "401 from the API: renewing the token once.");
                    renewed = true;
                }
                Err(Attempt::Unauthorized(body)) => {
                    return Err(PullError::Denied {
                        what: what.to_owned(),
                        status: 401,
                        permission: permission.to_owned(),
                        hint: self.denied_hint,
                        detail: format!("the token was refused even after renewing it: {body}"),
                    });
                }
                Err(Attempt::Status(s, body)) if s == StatusCode::FORBIDDEN => {
                    return Err(PullError::Denied {
                        what: what.to_owned(),
                        status: 403,
                        permission: permission.to_owned(),
                        hint: self.denied_hint,
                        detail: body,
                    });
                }
                Err(e) => {
                    return Err(PullError::Request {
                        what: what.to_owned(),
                        reason: e.describe(),
                    });
                }
            }
        }
    }
}

/// A transport failure with its causes: reqwest's own message ("error sending request") says
/// nothing of why; the `source()` chain does (connection refused, DNS, TLS, timeout). No URL in it.
fn transport(e: reqwest::Error) -> Attempt {
    Attempt::Transport(with_causes(&e.without_url()))
}

/// `e` and each of its sources, joined by ": ", skipping a cause its parent already quotes.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let m = c.to_string();
        if !text.contains(&m) {
            text.push_str(": ");
            text.push_str(&m);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert!(
            !format!(
                "{:?}",
                Auth::ClientCredentials {
                    token_url: Url::parse("http://127.0.0.1/t").expect("url"),
                    client_id: "c".into(),
                    client_secret: s,
                    scope: None,
                }
            )
            .contains("hunter2")
        );
    }

    #[tokio::test]
    async fn a_transport_failure_says_why() {
        // A port nobody listens on: reqwest says "error sending request"; the cause says refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let e = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .expect_err("nothing listens");
        let Attempt::Transport(text) = transport(e) else {
            panic!("not a transport failure");
        };
        assert!(text.starts_with("error sending request"), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(!text.contains("127.0.0.1"), "no URL: {text}");
    }
}
