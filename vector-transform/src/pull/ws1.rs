//! `mdm-audit pull ws1`: Workspace ONE UEM (Omnissa, formerly VMware AirWatch) through its REST API.
//!
//! - Token: OAuth 2.0 client credentials against the region's Workspace ONE token service,
//!   `POST https://{region}.uemauth.workspaceone.com/connect/token` (`grant_type=client_credentials`,
//!   `client_id`, `client_secret`; the answer `{"access_token", "expires_in", "token_type"}`), as
//!   "Datacenter and Token URLs for OAuth 2.0 Support" documents
//!   (<https://docs.vmware.com/en/VMware-Workspace-ONE-UEM/2209/UEM_ConsoleBasics/GUID-BF20C949-5065-4DCF-889D-1E0151016B5A.html>,
//!   now <https://docs.omnissa.com/WorkspaceONE-UEM-Console-Basics-VSaaS/UsingUEMFunctionalityWithRESTAPI>).
//! - Every API call sends `Authorization: Bearer ...`, the tenant's REST API key in `aw-tenant-code`
//!   (Groups & Settings > All Settings > System > Advanced > API > REST API) and
//!   `Accept: application/json;version=1`.
//! - Streams: the event log's device events and console (admin) events,
//!   `GET {api}/api/system/eventlog?eventtype={Device|Console}&startdate=..&enddate=..&orderby=TimeStamp&sortorder=ASC&page=N&pagesize=M`.
//!   UEM search answers are `{"<Entries>": [...], "Page": N, "PageSize": M, "Total": T}` with 0-based
//!   pages; the records are the one array member. The window ends at the run's start, so pages stay
//!   put while new events arrive. A page that answers another page number, repeats an earlier page's
//!   records, or still leaves more after `--max-pages` stops the run with a clear error.
//! - Checkpoint per stream: the newest `TimeStamp` stored; a run starts `--overlap` before it.
//!
//! Records go to the [`Sink`] as UEM returns them (one array element each); the VRL mapping
//! `omnissa_workspace_one/api_event_log.vrl` reads them.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::value::RawValue;
use url::Url;

use super::stream::{self, checkpoint};
use super::{ApiClient, Auth, CheckpointStore, Progress, PullError, RetryPolicy, Secret, Sink};

/// This source's name in checkpoints.
pub const SOURCE: &str = "ws1";
/// What a 401 or 403 from the event log lacks: the OAuth client's admin role needs the REST API
/// read permission of the event log, and the key must be the tenant's REST API key.
pub const EVENTLOG_PERMISSION: &str = "to read the event log through the REST API (admin role of the OAuth \
     client, Groups & Settings > Configurations > OAuth Client Management: API > REST > System, Read), \
     and the aw-tenant-code header must hold the tenant's REST API key (MDM_AUDIT_WS1_TENANT_CODE)";
/// The `Accept` header of the event log calls (UEM selects the API version by it).
pub const ACCEPT: &str = "application/json;version=1";
/// The event log path under the API server.
pub const EVENTLOG_PATH: &str = "api/system/eventlog";

/// The regional token URLs (Omnissa: "Datacenter and Token URLs for OAuth 2.0 Support").
pub fn region_token_url(region: &str) -> Option<&'static str> {
    Some(match region {
        "uat" => "https://uat.uemauth.workspaceone.com/connect/token",
        "na" => "https://na.uemauth.workspaceone.com/connect/token",
        "emea" => "https://emea.uemauth.workspaceone.com/connect/token",
        "apac" => "https://apac.uemauth.workspaceone.com/connect/token",
        _ => return None,
    })
}

/// The event log streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Device events (commands, enrollment, compliance...).
    Device,
    /// Console events (admin sign-ins and changes in the console or through the API).
    Console,
}

impl Stream {
    /// `eventtype` in the query.
    fn event_type(self) -> &'static str {
        match self {
            Stream::Device => "Device",
            Stream::Console => "Console",
        }
    }

    /// The stream's name in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Device => "deviceEvents",
            Stream::Console => "consoleEvents",
        }
    }
}

/// Settings of the Workspace ONE puller.
#[derive(Debug, Clone)]
pub struct Ws1Config {
    /// The API server (`https://as1234.awmdm.com`).
    pub api_url: Url,
    /// The token endpoint.
    pub token_url: Url,
    /// The OAuth client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret,
    /// The tenant's REST API key (`aw-tenant-code`).
    pub tenant_code: Secret,
    /// Where the first run starts (no checkpoint yet).
    pub since: DateTime<Utc>,
    /// How far before the checkpoint a run starts again.
    pub overlap: Duration,
    /// Most pages one stream reads in a run.
    pub max_pages: u64,
    /// Records per page (`pagesize`).
    pub page_size: u32,
    /// The streams to read, in order.
    pub streams: Vec<Stream>,
    /// Retries.
    pub retry: RetryPolicy,
}

/// One page as UEM answers it.
#[derive(Debug)]
struct Page {
    records: Vec<String>,
    page: Option<u64>,
    total: Option<u64>,
}

/// Reads a UEM search answer: the one array member holds the records; `Page` and `Total` beside it.
fn parse_page(body: &str) -> Result<Page, String> {
    let members: HashMap<String, &RawValue> =
        serde_json::from_str(body).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut records = None;
    let mut page = None;
    let mut total = None;
    for (k, v) in members {
        match k.as_str() {
            "Page" => page = serde_json::from_str::<u64>(v.get()).ok(),
            "Total" => total = serde_json::from_str::<u64>(v.get()).ok(),
            "PageSize" => {}
            _ => {
                if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(v.get()) {
                    if records.is_some() {
                        return Err(format!("more than one array member ({k} and another)"));
                    }
                    records = Some(items.iter().map(|r| r.get().to_owned()).collect());
                }
            }
        }
    }
    Ok(Page {
        // A search with no result may answer without the array (or with 204 and no body).
        records: records.unwrap_or_default(),
        page,
        total,
    })
}

#[derive(serde::Deserialize)]
struct Stamp {
    #[serde(rename = "TimeStamp")]
    time_stamp: Option<String>,
}

/// An entry's `TimeStamp`: ISO 8601, UTC when it carries no zone.
fn entry_time(record: &str) -> Option<DateTime<Utc>> {
    let t = serde_json::from_str::<Stamp>(record).ok()?.time_stamp?;
    let t = t.trim();
    if let Ok(z) = DateTime::parse_from_rfc3339(t) {
        return Some(z.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// A page's fingerprint, to see a page that repeats an earlier one.
fn fingerprint(records: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    records.hash(&mut h);
    h.finish()
}

/// The Workspace ONE puller.
#[derive(Debug)]
pub struct Ws1Puller {
    config: Ws1Config,
    client: ApiClient,
    progress: Progress,
    tenant: String,
}

impl Ws1Puller {
    /// A puller for `config`, reporting to `progress`.
    pub fn new(config: Ws1Config, progress: Progress) -> Result<Self, PullError> {
        let auth = Auth::ClientCredentials {
            token_url: config.token_url.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            scope: None,
        };
        let client = ApiClient::new(auth, config.retry, progress.clone())?
            .with_header("aw-tenant-code", config.tenant_code.expose(), true)?
            .with_header("accept", ACCEPT, false)?
            .with_denied_hint("grant it to the role, check the REST API key, and retry");
        let tenant = match (config.api_url.host_str(), config.api_url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return Err(PullError::Setup("--ws1-url has no host".into())),
        };
        Ok(Self {
            config,
            client,
            progress,
            tenant,
        })
    }

    /// The tenant checkpoints are kept under: the API server's host (the tenant code is a secret).
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// One run: each stream since its checkpoint.
    pub async fn run_once(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
    ) -> Result<(), PullError> {
        let end = Utc::now();
        for s in &self.config.streams {
            self.stream(*s, end, sink, checkpoints).await?;
        }
        Ok(())
    }

    fn url(&self, stream: Stream, start: &str, end: &str, page: u64) -> Result<Url, PullError> {
        let mut base = self.config.api_url.clone();
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let mut url = base
            .join(EVENTLOG_PATH)
            .map_err(|e| PullError::Setup(format!("--ws1-url: {e}")))?;
        url.query_pairs_mut()
            .append_pair("eventtype", stream.event_type())
            .append_pair("startdate", start)
            .append_pair("enddate", end)
            .append_pair("orderby", "TimeStamp")
            .append_pair("sortorder", "ASC")
            .append_pair("page", &page.to_string())
            .append_pair("pagesize", &self.config.page_size.to_string());
        Ok(url)
    }

    async fn stream(
        &self,
        stream: Stream,
        end: DateTime<Utc>,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
    ) -> Result<(), PullError> {
        let name = stream.name();
        let cp = checkpoints.load(SOURCE, &self.tenant, name).await?;
        let mut watermark = cp.as_ref().and_then(|c| c.watermark);
        let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
        let start = watermark.map_or(self.config.since, |w| w - overlap);
        let start_text = start.to_rfc3339_opts(SecondsFormat::Millis, true);
        let end_text = end.to_rfc3339_opts(SecondsFormat::Millis, true);
        let what = format!("ws1 {name}");
        self.progress
            .say(&format!("{what}: from {start_text} to {end_text}"));
        let paging = |reason: String| PullError::Paging {
            what: what.clone(),
            reason,
        };
        let mut seen: HashMap<u64, u64> = HashMap::new();
        let (mut pages, mut records) = (0u64, 0u64);
        let mut number = 0u64;
        loop {
            let url = self.url(stream, &start_text, &end_text, number)?;
            let body = self.client.get(&url, &what, EVENTLOG_PERMISSION).await?;
            let page = if body.trim().is_empty() {
                Page {
                    records: Vec::new(),
                    page: Some(number),
                    total: None,
                }
            } else {
                parse_page(&body).map_err(|e| {
                    paging(format!(
                        "page {number} is not a UEM search answer ({{\"...\": [...], \"Page\", \"PageSize\", \"Total\"}}): {e}"
                    ))
                })?
            };
            if let Some(p) = page.page.filter(|p| *p != number) {
                return Err(paging(format!(
                    "asked for page {number}, the server answered page {p}: the paging repeats; \
                     stopped, the checkpoint stays at the last page stored"
                )));
            }
            if !page.records.is_empty()
                && let Some(earlier) = seen.insert(fingerprint(&page.records), number)
            {
                return Err(paging(format!(
                    "page {number} holds the same records as page {earlier}: the paging repeats; \
                     stopped, the checkpoint stays at the last page stored"
                )));
            }
            let size = self.config.page_size as u64;
            let got = page.records.len() as u64;
            let last =
                got == 0 || got < size || page.total.is_some_and(|t| (number + 1) * size >= t);
            // An empty page is the last one (`last`), so the checkpoint is saved complete.
            let mut advanced = false;
            if got > 0 {
                let newest = page.records.iter().filter_map(|r| entry_time(r)).max();
                stream::store_page(
                    sink,
                    &self.progress,
                    &what,
                    &page.records,
                    &mut pages,
                    &mut records,
                )
                .await?;
                advanced = newest.is_some_and(|n| watermark.is_none_or(|w| n > w));
                if advanced {
                    watermark = newest;
                }
            }
            if advanced || last {
                checkpoints
                    .save(&checkpoint(
                        SOURCE,
                        &self.tenant,
                        name,
                        watermark,
                        pages,
                        records,
                        last,
                    ))
                    .await?;
            }
            if last {
                return Ok(());
            }
            if pages >= self.config.max_pages {
                return Err(paging(format!(
                    "still more pages after {pages} pages (--max-pages; Total {}): the paging does \
                     not end; stopped, the checkpoint stays at the last page stored",
                    page.total.map_or("not given".to_owned(), |t| t.to_string())
                )));
            }
            number += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_answer_gives_its_one_array_and_page_numbers() {
        let p = parse_page(
            r#"{"DeviceEventLogEntries":[{"Id":1},{"Id":2}],"Page":3,"PageSize":2,"Total":9}"#,
        )
        .expect("page");
        assert_eq!(p.records, [r#"{"Id":1}"#, r#"{"Id":2}"#]);
        assert_eq!((p.page, p.total), (Some(3), Some(9)));
        assert!(parse_page(r#"{"A":[1],"B":[2]}"#).is_err());
        assert!(parse_page("[1]").is_err());
        assert!(
            parse_page(r#"{"Page":0,"Total":0}"#)
                .expect("empty")
                .records
                .is_empty()
        );
    }

    #[test]
    fn timestamps_without_a_zone_are_utc() {
        let t = entry_time(r#"{"TimeStamp":"2026-03-02T08:00:05.123"}"#).expect("time");
        assert_eq!(
            t.to_rfc3339_opts(SecondsFormat::Millis, true),
            "2026-03-02T08:00:05.123Z"
        );
        let t = entry_time(r#"{"TimeStamp":"2026-03-02T09:00:05+01:00"}"#).expect("time");
        assert_eq!(t.to_rfc3339(), "2026-03-02T08:00:05+00:00");
        assert_eq!(entry_time(r#"{"Id":1}"#), None);
    }

    #[test]
    fn regions_have_their_token_urls() {
        assert_eq!(
            region_token_url("emea"),
            Some("https://emea.uemauth.workspaceone.com/connect/token")
        );
        assert_eq!(region_token_url("mars"), None);
    }
}
