//! `mdm-audit pull jamf`: Jamf Pro through the Jamf Pro API
//! (<https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-overview>).
//!
//! - Token: an API client's OAuth client credentials, `POST {url}/api/oauth/token`
//!   (<https://developer.jamf.com/jamf-pro/docs/client-credentials>), or, for servers without API
//!   clients, a bearer token for a user account, `POST {url}/api/v1/auth/token` with basic
//!   authentication, answering `{"token", "expires"}`
//!   (<https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-overview>, "Authentication and
//!   authorization"). Either is renewed before it expires; a 401 renews it once.
//! - Management history (MDM commands sent to computers and mobile devices):
//!   `GET /api/v2/mdm/commands?sort=dateSent:asc&filter=dateSent>="{start}"`
//!   (<https://developer.jamf.com/jamf-pro/reference/get_v2-mdm-commands>). The checkpoint is the
//!   latest `dateSent` of the pages stored; a run starts `--overlap` before it.
//! - Inventory snapshots, every `inventory_every`: `GET /api/v1/computers-inventory` with the sections
//!   GENERAL (last check-in, MDM capability), DISK_ENCRYPTION (FileVault), HARDWARE,
//!   OPERATING_SYSTEM and USER_AND_LOCATION
//!   (<https://developer.jamf.com/jamf-pro/reference/get_v1-computers-inventory>), and
//!   `GET /api/v2/mobile-devices/detail` with GENERAL, HARDWARE, SECURITY and USER_AND_LOCATION
//!   (<https://developer.jamf.com/jamf-pro/reference/get_v2-mobile-devices-detail>).
//! - Object history ([`history`]) and, through the Classic API, computer and mobile device management
//!   history (audits, policy logs, MDM commands: [`classic`]), every `history_every`.
//!
//! Every collection is paged with `page` / `page-size` ([`paging`]). Records go to the [`Sink`] as
//! Jamf returns them (one element of `results` each) with instance annotations the record lacks:
//! `@mdmAudit.jamfStream` (which collection), `@mdmAudit.jamfServer` (the server's host, the tenant),
//! and for snapshots `@mdmAudit.retrievedDateTime`; the VRL mappings `jamf_pro/api_*.vrl` read them.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use url::Url;

mod classic;
mod history;
mod paging;

pub use history::{HISTORY_OBJECTS, HistoryObject};

use paging::PagePager;

use super::intune::RETRIEVED;
use super::record::with_members;
use super::{ApiClient, Auth, CheckpointStore, Progress, PullError, RetryPolicy, Secret, Sink};
use super::{stream, stream::checkpoint};

/// This source's name in checkpoints.
pub const SOURCE: &str = "jamf";
/// The API role privilege `GET /api/v2/mdm/commands` needs.
pub const COMMANDS_PRIVILEGE: &str = "View MDM command information in Jamf Pro API";
/// The privilege of the computer inventory.
pub const COMPUTERS_PRIVILEGE: &str = "Read Computers";
/// The privilege of the mobile device inventory.
pub const MOBILE_DEVICES_PRIVILEGE: &str = "Read Mobile Devices";
/// The annotation naming the collection a record came from.
pub const STREAM_KEY: &str = "@mdmAudit.jamfStream";
/// The annotation naming the server (host, and port when not the default).
pub const SERVER_KEY: &str = "@mdmAudit.jamfServer";
/// What a 401 / 403 tells the operator to do.
const GRANT_HINT: &str = "add this privilege to the API role of the client (Settings > System > \
     API roles and clients), or to the account's privilege set, and retry";

/// How the puller authenticates.
#[derive(Debug, Clone)]
pub enum JamfAuth {
    /// An API client (Jamf Pro 10.49 and later): OAuth client credentials.
    Client {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
    /// A user account: bearer token by basic authentication (older servers).
    Account {
        /// The account name.
        username: String,
        /// Its password.
        password: Secret,
    },
}

/// Settings of the Jamf Pro puller.
#[derive(Debug, Clone)]
pub struct JamfConfig {
    /// The server (`https://example.jamfcloud.com`).
    pub url: Url,
    /// Credentials.
    pub auth: JamfAuth,
    /// Where the first run starts (no checkpoint yet).
    pub since: DateTime<Utc>,
    /// How far before the checkpoint a run starts again.
    pub overlap: Duration,
    /// Most pages one stream reads in a run.
    pub max_pages: u64,
    /// `page-size` of every request.
    pub page_size: u64,
    /// How often the inventory snapshots are taken; `None`: never.
    pub inventory_every: Option<Duration>,
    /// How often object history is read; `None`: never.
    pub history_every: Option<Duration>,
    /// Retries.
    pub retry: RetryPolicy,
}

/// The Jamf Pro puller.
#[derive(Debug)]
pub struct JamfPuller {
    config: JamfConfig,
    client: ApiClient,
    progress: Progress,
    /// The checkpoints' tenant: the server URL without a trailing slash.
    tenant: String,
    /// `"@mdmAudit.jamfServer": "<host>"` as JSON text of the value.
    server: String,
}

#[derive(Deserialize)]
struct SentTime {
    #[serde(rename = "dateSent")]
    date_sent: Option<String>,
}

fn sent_time(record: &str) -> Option<DateTime<Utc>> {
    let t: SentTime = serde_json::from_str(record).ok()?;
    DateTime::parse_from_rfc3339(&t.date_sent?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `base` (a server URL, perhaps with a path of its own) followed by the absolute `path`.
fn join(base: &Url, path: &str) -> Result<Url, PullError> {
    Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
        .map_err(|e| PullError::Setup(format!("--jamf-url {base}: {e}")))
}

fn json_text(value: &str) -> Result<String, PullError> {
    serde_json::to_string(value).map_err(|e| PullError::Setup(e.to_string()))
}

impl JamfPuller {
    /// A puller for `config`, reporting to `progress`.
    pub fn new(config: JamfConfig, progress: Progress) -> Result<Self, PullError> {
        let api = |path: &str| join(&config.url, path);
        let auth = match &config.auth {
            JamfAuth::Client {
                client_id,
                client_secret,
            } => Auth::ClientCredentials {
                token_url: api("/api/oauth/token")?,
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                scope: None,
            },
            JamfAuth::Account { username, password } => Auth::BasicBearer {
                token_url: api("/api/v1/auth/token")?,
                username: username.clone(),
                password: password.clone(),
            },
        };
        let host = config
            .url
            .host_str()
            .ok_or_else(|| PullError::Setup(format!("--jamf-url {}: no host", config.url)))?;
        let host = match config.url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let client =
            ApiClient::new(auth, config.retry, progress.clone())?.with_denied_hint(GRANT_HINT);
        Ok(Self {
            tenant: config.url.as_str().trim_end_matches('/').to_owned(),
            server: json_text(&host)?,
            config,
            client,
            progress,
        })
    }

    /// `{url}{path}` with `query` pairs.
    fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, PullError> {
        let mut url = join(&self.config.url, path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn pager(&self, what: &str, permission: &'static str, url: Url) -> PagePager<'_> {
        PagePager::new(
            &self.client,
            what.to_owned(),
            permission,
            url,
            self.config.page_size,
            self.config.max_pages,
        )
    }

    /// `records` with the stream and server annotations (and `extra`) appended.
    fn annotate(
        &self,
        what: &str,
        stream: &str,
        records: &[String],
        extra: &[(&str, String)],
    ) -> Result<Vec<String>, PullError> {
        let stream = json_text(stream)?;
        records
            .iter()
            .map(|r| {
                let mut members = vec![
                    (STREAM_KEY, stream.clone()),
                    (SERVER_KEY, self.server.clone()),
                ];
                members.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
                with_members(r, &members).map_err(|e| PullError::Paging {
                    what: what.to_owned(),
                    reason: format!("a record is {e}"),
                })
            })
            .collect()
    }

    /// Saves the checkpoint of `stream` on this server.
    async fn save_checkpoint(
        &self,
        checkpoints: &mut CheckpointStore,
        stream: &str,
        watermark: Option<DateTime<Utc>>,
        pages: u64,
        records: u64,
        complete: bool,
    ) -> Result<(), PullError> {
        let cp = checkpoint(
            SOURCE,
            &self.tenant,
            stream,
            watermark,
            pages,
            records,
            complete,
        );
        Ok(checkpoints.save(&cp).await?)
    }

    /// One run: the management history since the checkpoint, then the inventory snapshots and the
    /// object history when due.
    pub async fn run_once(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
    ) -> Result<(), PullError> {
        self.mdm_commands(sink, checkpoints).await?;
        if let Some(every) = self.config.inventory_every {
            let computers = self.api(
                "/api/v1/computers-inventory",
                &[
                    ("section", "GENERAL"),
                    ("section", "DISK_ENCRYPTION"),
                    ("section", "HARDWARE"),
                    ("section", "OPERATING_SYSTEM"),
                    ("section", "USER_AND_LOCATION"),
                    ("sort", "id:asc"),
                ],
            )?;
            self.snapshot(
                sink,
                checkpoints,
                "computersInventory",
                COMPUTERS_PRIVILEGE,
                computers,
                every,
            )
            .await?;
            let mobile = self.api(
                "/api/v2/mobile-devices/detail",
                &[
                    ("section", "GENERAL"),
                    ("section", "HARDWARE"),
                    ("section", "SECURITY"),
                    ("section", "USER_AND_LOCATION"),
                    ("sort", "mobileDeviceId:asc"),
                ],
            )?;
            self.snapshot(
                sink,
                checkpoints,
                "mobileDevicesInventory",
                MOBILE_DEVICES_PRIVILEGE,
                mobile,
                every,
            )
            .await?;
        }
        if let Some(every) = self.config.history_every {
            self.object_history(sink, checkpoints, every).await?;
            self.device_history(sink, checkpoints, every).await?;
        }
        Ok(())
    }

    async fn mdm_commands(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
    ) -> Result<(), PullError> {
        const STREAM: &str = "mdmCommands";
        let cp = checkpoints.load(SOURCE, &self.tenant, STREAM).await?;
        let mut watermark = cp.as_ref().and_then(|c| c.watermark);
        let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
        let start = watermark.map_or(self.config.since, |w| w - overlap);
        let start_text = start.to_rfc3339_opts(SecondsFormat::Millis, true);
        let url = self.api(
            "/api/v2/mdm/commands",
            &[
                ("sort", "dateSent:asc"),
                ("filter", &format!("dateSent>=\"{start_text}\"")),
            ],
        )?;
        let what = format!("jamf {STREAM}");
        self.progress.say(&format!("{what}: from {start_text}"));
        let mut pager = self.pager(&what, COMMANDS_PRIVILEGE, url);
        let (mut pages, mut records) = (0u64, 0u64);
        while let Some(page) = pager.next_page().await? {
            let newest = page.iter().filter_map(|r| sent_time(r)).max();
            let page = self.annotate(&what, STREAM, &page, &[])?;
            stream::store_page(sink, &self.progress, &what, &page, &mut pages, &mut records)
                .await?;
            let advanced = newest.is_some_and(|n| watermark.is_none_or(|w| n > w));
            if advanced {
                watermark = newest;
            }
            if advanced || pager.done() {
                self.save_checkpoint(checkpoints, STREAM, watermark, pages, records, pager.done())
                    .await?;
            }
        }
        Ok(())
    }

    /// A full snapshot of one inventory collection when the last complete one is older than `every`.
    async fn snapshot(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
        stream_name: &str,
        permission: &'static str,
        url: Url,
        every: Duration,
    ) -> Result<(), PullError> {
        let Some(now) =
            stream::snapshot_due(checkpoints, SOURCE, &self.tenant, stream_name, every).await?
        else {
            return Ok(());
        };
        let what = format!("jamf {stream_name}");
        let stamp = json_text(&now.to_rfc3339_opts(SecondsFormat::Micros, true))?;
        let mut pager = self.pager(&what, permission, url);
        let (mut pages, mut records) = (0u64, 0u64);
        while let Some(page) = pager.next_page().await? {
            let page = self.annotate(&what, stream_name, &page, &[(RETRIEVED, stamp.clone())])?;
            stream::store_page(sink, &self.progress, &what, &page, &mut pages, &mut records)
                .await?;
        }
        self.save_checkpoint(checkpoints, stream_name, Some(now), pages, records, true)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_time_reads_jamf_dates() {
        let t = sent_time(r#"{"uuid":"x","dateSent":"2026-03-02T08:00:07.25Z"}"#).expect("time");
        assert_eq!(t.timestamp_millis() % 1000, 250);
        assert_eq!(sent_time(r#"{"uuid":"x"}"#), None);
    }

    #[test]
    fn api_paths_keep_a_server_path() {
        let base = Url::parse("https://jamf.example.com:8443/jss/").expect("url");
        assert_eq!(
            join(&base, "/api/oauth/token").expect("join").as_str(),
            "https://jamf.example.com:8443/jss/api/oauth/token"
        );
    }
}
