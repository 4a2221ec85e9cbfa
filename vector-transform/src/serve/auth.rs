//! Who may write: the named credentials `serve` checks on every write path (`/v1/events`,
//! `/v1/raw/{source}`). A credential is a bearer token (Vector's http sink, `auth.strategy =
//! "bearer"`), HTTP basic (Jamf Pro and Workspace ONE webhooks), or a secret header (Jamf Pro's header
//! authentication); each may be limited to some paths. They come from a TOML file, which is reloaded
//! when it changes (so deleting a line revokes it without a restart), and from the environment.
//! Secrets are compared in constant time (SHA-256 of both sides, compared with `subtle`); no secret
//! is ever logged, and `Debug` shows names only.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderName, header};
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The environment variable of bearer tokens: `name=token`, several separated by commas.
pub const TOKENS_ENV: &str = "MDM_AUDIT_INGEST_TOKENS";

/// A credentials file or variable that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The file cannot be read.
    #[error("reading the credentials file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file or variable is not valid (the message never quotes a secret).
    #[error("{origin}: {reason}")]
    Invalid {
        /// The file or variable.
        origin: String,
        /// What is wrong.
        reason: String,
    },
}

/// A write path, as credentials name them: `events` or `raw/<source>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath<'a> {
    /// `POST /v1/events`.
    Events,
    /// `POST /v1/raw/{source}` (`source` as given in the URL: a vendor name or `auto`).
    Raw(&'a str),
}

impl WritePath<'_> {
    fn allowed_by(&self, pattern: &str) -> bool {
        match (self, pattern) {
            (_, "*") => true,
            (Self::Events, p) => p == "events",
            (Self::Raw(_), "raw/*") => true,
            (Self::Raw(s), p) => p
                .strip_prefix("raw/")
                .is_some_and(|v| v.eq_ignore_ascii_case(s)),
        }
    }
}

/// How a credential is presented.
#[derive(Clone)]
enum Secret {
    /// `Authorization: Bearer <token>`.
    Bearer([u8; 32]),
    /// `Authorization: Basic base64(user:password)`.
    Basic([u8; 32]),
    /// `<header>: <value>`.
    Header(HeaderName, [u8; 32]),
}

fn digest(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// One named credential.
#[derive(Clone)]
struct Credential {
    name: String,
    secret: Secret,
    /// `events`, `raw/<source>`, `raw/*` or `*`.
    paths: Vec<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("name", &self.name)
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

/// The file's form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    credential: Vec<CredentialForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialForm {
    name: String,
    bearer: Option<String>,
    basic: Option<BasicForm>,
    header: Option<HeaderForm>,
    paths: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicForm {
    user: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderForm {
    name: String,
    value: String,
}

fn basic_digest(user: &str, password: &str) -> [u8; 32] {
    digest(format!("{user}:{password}").as_bytes())
}

fn check_paths(origin: &str, name: &str, paths: &[String]) -> Result<(), AuthError> {
    for p in paths {
        let ok = p == "*" || p == "events" || p.strip_prefix("raw/").is_some_and(|s| !s.is_empty());
        if !ok {
            return Err(AuthError::Invalid {
                origin: origin.to_owned(),
                reason: format!(
                    "credential {name:?}: path {p:?} is not one of events, raw/<source>, raw/*, *"
                ),
            });
        }
    }
    Ok(())
}

impl CredentialForm {
    fn build(self, origin: &str) -> Result<Credential, AuthError> {
        let invalid = |reason: String| AuthError::Invalid {
            origin: origin.to_owned(),
            reason,
        };
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err(invalid("a credential has an empty name".into()));
        }
        let secret = match (self.bearer, self.basic, self.header) {
            (Some(t), None, None) if !t.is_empty() => Secret::Bearer(digest(t.as_bytes())),
            (None, Some(b), None) if !b.user.is_empty() && !b.password.is_empty() => {
                if b.user.contains(':') {
                    return Err(invalid(format!(
                        "credential {name:?}: a basic user name cannot contain ':'"
                    )));
                }
                Secret::Basic(basic_digest(&b.user, &b.password))
            }
            (None, None, Some(h)) if !h.value.is_empty() => {
                let header = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| {
                    invalid(format!(
                        "credential {name:?}: {:?} is not a header name",
                        h.name
                    ))
                })?;
                if header == header::AUTHORIZATION {
                    return Err(invalid(format!(
                        "credential {name:?}: use bearer or basic for the Authorization header"
                    )));
                }
                Secret::Header(header, digest(h.value.as_bytes()))
            }
            _ => {
                return Err(invalid(format!(
                    "credential {name:?} needs exactly one non-empty secret: bearer = \"…\", \
                     basic = {{ user, password }} or header = {{ name, value }}"
                )));
            }
        };
        let paths = self.paths.unwrap_or_else(|| vec!["*".to_owned()]);
        check_paths(origin, &name, &paths)?;
        Ok(Credential {
            name,
            secret,
            paths,
        })
    }
}

/// Parses a credentials file's text (`origin` names it in errors).
fn parse_file(origin: &str, text: &str) -> Result<Vec<Credential>, AuthError> {
    let form: FileForm = toml::from_str(text).map_err(|e| AuthError::Invalid {
        origin: origin.to_owned(),
        // toml's message quotes the offending line, which may hold a secret: keep only its summary.
        reason: e.message().to_owned(),
    })?;
    form.credential
        .into_iter()
        .map(|c| c.build(origin))
        .collect()
}

/// Parses `name=token[,name=token]` (bearer tokens for every path).
fn parse_tokens_env(value: &str) -> Result<Vec<Credential>, AuthError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (name, token) = pair.split_once('=').ok_or_else(|| AuthError::Invalid {
                origin: TOKENS_ENV.into(),
                reason: "each entry is name=token".into(),
            })?;
            CredentialForm {
                name: name.to_owned(),
                bearer: Some(token.to_owned()),
                basic: None,
                header: None,
                paths: None,
            }
            .build(TOKENS_ENV)
        })
        .collect()
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credential was presented (401).
    Missing,
    /// A credential was presented and matches none (401).
    Unknown,
    /// The credential `name` is valid but not for this path (403).
    Forbidden(String),
    /// The credentials file became unreadable or invalid: every write is refused until it is fixed
    /// (503, so clients retry and lose nothing).
    Unavailable(String),
}

impl Refusal {
    /// The metrics label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Unknown => "unknown",
            Self::Forbidden(_) => "forbidden",
            Self::Unavailable(_) => "credentials_unavailable",
        }
    }
}

/// The file's identity when it was read: a change reloads it.
type Stamp = (Option<SystemTime>, u64);

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let m = std::fs::metadata(path)?;
    Ok((m.modified().ok(), m.len()))
}

struct Loaded {
    stamp: Option<Stamp>,
    file: Result<Vec<Credential>, String>,
}

/// The credentials `serve` admits writes with.
pub struct Authenticator {
    file: Option<PathBuf>,
    env: Vec<Credential>,
    loaded: RwLock<Loaded>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("file", &self.file)
            .field("credentials", &self.names())
            .finish()
    }
}

impl Authenticator {
    /// Credentials from `file` (TOML, `[[credential]]` tables) and from `tokens` (the value of
    /// [`TOKENS_ENV`]). Both empty: `None` (the caller decides whether writes may go unauthenticated).
    pub fn load(file: Option<&Path>, tokens: Option<&str>) -> Result<Option<Self>, AuthError> {
        let env = tokens
            .map(parse_tokens_env)
            .transpose()?
            .unwrap_or_default();
        let loaded = match file {
            Some(p) => {
                let s = stamp(p).map_err(|e| AuthError::Read {
                    path: p.display().to_string(),
                    source: e,
                })?;
                let text = std::fs::read_to_string(p).map_err(|e| AuthError::Read {
                    path: p.display().to_string(),
                    source: e,
                })?;
                Loaded {
                    stamp: Some(s),
                    file: Ok(parse_file(&p.display().to_string(), &text)?),
                }
            }
            None => Loaded {
                stamp: None,
                file: Ok(Vec::new()),
            },
        };
        if file.is_none() && env.is_empty() {
            return Ok(None);
        }
        let a = Self {
            file: file.map(Path::to_path_buf),
            env,
            loaded: RwLock::new(loaded),
        };
        tracing::info!(credentials = ?a.names(), "Writes need one of these credentials.");
        Ok(Some(a))
    }

    /// The names of the credentials in force.
    pub fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.env.iter().map(|c| c.name.clone()).collect();
        if let Ok(l) = self.loaded.read()
            && let Ok(f) = &l.file
        {
            n.extend(f.iter().map(|c| c.name.clone()));
        }
        n
    }

    /// Rereads the file if it changed since it was last read.
    fn refresh(&self) {
        let Some(path) = &self.file else { return };
        let now = stamp(path).ok();
        if self
            .loaded
            .read()
            .is_ok_and(|l| l.stamp == now && now.is_some())
        {
            return;
        }
        let origin = path.display().to_string();
        let file = std::fs::read_to_string(path)
            .map_err(|e| format!("reading the credentials file {origin}: {e}"))
            .and_then(|t| parse_file(&origin, &t).map_err(|e| e.to_string()));
        match &file {
            Ok(c) => tracing::info!(
                file = %origin,
                credentials = ?c.iter().map(|c| &c.name).collect::<Vec<_>>(),
                "Credentials file reloaded."
            ),
            Err(e) => tracing::error!(
                error = %e,
                "The credentials file is unusable; every write is refused (503) until it is fixed."
            ),
        }
        if let Ok(mut l) = self.loaded.write() {
            *l = Loaded { stamp: now, file };
        }
    }

    /// The name of the credential in `headers` that may write to `path`, or why not.
    pub fn admit(&self, path: WritePath<'_>, headers: &HeaderMap) -> Result<String, Refusal> {
        self.refresh();
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let bearer = auth
            .and_then(|a| strip_scheme(a, "bearer"))
            .map(|t| digest(t.trim().as_bytes()));
        let basic = auth
            .and_then(|a| strip_scheme(a, "basic"))
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .map(|b| digest(&b));
        let loaded = self
            .loaded
            .read()
            .map_err(|_| Refusal::Unavailable("credentials lock poisoned".into()))?;
        let file = match &loaded.file {
            Ok(f) => f.as_slice(),
            Err(e) => return Err(Refusal::Unavailable(e.clone())),
        };
        let mut presented = auth.is_some();
        // Every credential is compared (no early exit), each in constant time.
        let mut found: Option<&Credential> = None;
        for c in self.env.iter().chain(file) {
            let hit = match &c.secret {
                Secret::Bearer(d) => bearer.is_some_and(|b| bool::from(b.ct_eq(d))),
                Secret::Basic(d) => basic.is_some_and(|b| bool::from(b.ct_eq(d))),
                Secret::Header(h, d) => match headers.get(h) {
                    Some(v) => {
                        presented = true;
                        bool::from(digest(v.as_bytes()).ct_eq(d))
                    }
                    None => false,
                },
            };
            if hit && found.is_none_or(|f| !f.paths.iter().any(|p| path.allowed_by(p))) {
                found = Some(c);
            }
        }
        match found {
            Some(c) if c.paths.iter().any(|p| path.allowed_by(p)) => Ok(c.name.clone()),
            Some(c) => Err(Refusal::Forbidden(c.name.clone())),
            None if presented => Err(Refusal::Unknown),
            None => Err(Refusal::Missing),
        }
    }
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = value.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    const FILE: &str = r#"
[[credential]]
name = "vector"
bearer = "tok-vector"
paths = ["events"]

[[credential]]
name = "jamf"
basic = { user = "jamf", password = "pw:with:colons" }
paths = ["raw/jamf"]

[[credential]]
name = "ws1"
header = { name = "X-Ws1-Secret", value = "s3cret" }
paths = ["raw/ws1"]
"#;

    #[test]
    fn each_kind_admits_its_paths_only() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("creds.toml");
        std::fs::write(&p, FILE).expect("write");
        let a = Authenticator::load(Some(&p), None)
            .expect("load")
            .expect("some");
        let ev = WritePath::Events;
        let jamf = WritePath::Raw("jamf");
        let b = headers(&[("authorization", "Bearer tok-vector")]);
        assert_eq!(a.admit(ev, &b), Ok("vector".into()));
        assert_eq!(a.admit(jamf, &b), Err(Refusal::Forbidden("vector".into())));
        let basic = base64::engine::general_purpose::STANDARD.encode("jamf:pw:with:colons");
        let h = headers(&[("authorization", &format!("Basic {basic}"))]);
        assert_eq!(a.admit(jamf, &h), Ok("jamf".into()));
        assert_eq!(a.admit(WritePath::Raw("JAMF"), &h), Ok("jamf".into()));
        let h = headers(&[("x-ws1-secret", "s3cret")]);
        assert_eq!(a.admit(WritePath::Raw("ws1"), &h), Ok("ws1".into()));
        assert_eq!(
            a.admit(ev, &headers(&[("authorization", "Bearer nope")])),
            Err(Refusal::Unknown)
        );
        assert_eq!(
            a.admit(ev, &headers(&[("x-ws1-secret", "wrong")])),
            Err(Refusal::Unknown)
        );
        assert_eq!(a.admit(ev, &HeaderMap::new()), Err(Refusal::Missing));
        assert!(!format!("{a:?}").contains("tok-vector"));
    }

    #[test]
    fn bad_files_name_the_problem_never_the_secret() {
        let e = parse_file("f", "[[credential]]\nname = \"x\"\nbearer = \"TOPSECRET\"\nbasic = { user = \"u\", password = \"p\" }\n")
            .expect_err("two secrets");
        assert!(e.to_string().contains("exactly one"), "{e}");
        assert!(!e.to_string().contains("TOPSECRET"), "{e}");
        let e = parse_file(
            "f",
            "[[credential]]\nname = \"x\"\nbearer = \"TOPSECRET\"\npaths = [\"raw\"]\n",
        )
        .expect_err("bad path");
        assert!(e.to_string().contains("raw/<source>"), "{e}");
        let e = parse_file("f", "[[credential]]\nname = \"x\"\nbearer = TOPSECRET\n")
            .expect_err("toml");
        assert!(!e.to_string().contains("TOPSECRET"), "{e}");
        let env = parse_tokens_env("a=1, b=2").expect("env");
        assert_eq!(env.len(), 2);
        assert!(parse_tokens_env("nopair").is_err());
    }

    #[test]
    fn an_edited_file_is_reloaded_and_a_broken_one_refuses_everything() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("creds.toml");
        std::fs::write(&p, FILE).expect("write");
        let a = Authenticator::load(Some(&p), Some("ops=tok-ops"))
            .expect("load")
            .expect("some");
        let b = headers(&[("authorization", "Bearer tok-vector")]);
        assert!(a.admit(WritePath::Events, &b).is_ok());
        // Revoke `vector` (the file's length changes, so the change is seen whatever the clock).
        std::fs::write(&p, FILE.replace("tok-vector", "tok-vector-rotated-2")).expect("write");
        assert_eq!(a.admit(WritePath::Events, &b), Err(Refusal::Unknown));
        std::fs::write(&p, "this is not toml [").expect("write");
        assert!(matches!(
            a.admit(WritePath::Events, &b),
            Err(Refusal::Unavailable(_))
        ));
        // The environment's tokens do not depend on the file, but a broken file still stops writes.
        let ops = headers(&[("authorization", "Bearer tok-ops")]);
        assert!(matches!(
            a.admit(WritePath::Events, &ops),
            Err(Refusal::Unavailable(_))
        ));
    }
}
