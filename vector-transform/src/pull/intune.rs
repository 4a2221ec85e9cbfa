//! `mdm-audit pull intune`: Microsoft Intune through Microsoft Graph.
//!
//! - Token: OAuth 2.0 client credentials, `POST {login}/{tenant}/oauth2/v2.0/token` with scope
//!   `{graph}/.default` (<https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>).
//! - Audit events: `GET {graph}/{version}/deviceManagement/auditEvents` with
//!   `$filter=activityDateTime ge {start}` and `$orderby=activityDateTime asc`
//!   (<https://learn.microsoft.com/en-us/graph/api/intune-auditing-auditevent-list>), following
//!   `@odata.nextLink` (<https://learn.microsoft.com/en-us/graph/paging>). The checkpoint is the
//!   latest `activityDateTime` of the pages stored; a run starts `--overlap` before it.
//! - Managed devices: `GET .../deviceManagement/managedDevices`, a full snapshot every
//!   `devices_every` (<https://learn.microsoft.com/en-us/graph/api/intune-devices-manageddevice-list>).
//!
//! - Role assignments with their definitions and members ([`roles`]), a snapshot every `roles_every`.
//!
//! Records go to the [`Sink`] as Graph returns them (one element of `value` each): the VRL mappings
//! `microsoft_intune/graph_audit_event.vrl` and `graph_managed_device.vrl` read them.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

mod roles;

pub use roles::{RETRIEVED, ROLES_PERMISSION};

use super::{
    ApiClient, Auth, Checkpoint, CheckpointStore, Progress, PullError, RetryPolicy, Secret, Sink,
    stream,
};

/// The permission `auditEvents` needs (Graph application permission).
pub const AUDIT_PERMISSION: &str = "DeviceManagementApps.Read.All";
/// The permission `managedDevices` needs.
pub const DEVICES_PERMISSION: &str = "DeviceManagementManagedDevices.Read.All";
/// This source's name in checkpoints.
pub const SOURCE: &str = "intune";

/// Settings of the Intune puller.
#[derive(Debug, Clone)]
pub struct IntuneConfig {
    /// Microsoft identity platform base (`https://login.microsoftonline.com`).
    pub login_url: Url,
    /// Graph base (`https://graph.microsoft.com`).
    pub graph_url: Url,
    /// `v1.0` or `beta`.
    pub graph_version: String,
    /// Entra tenant id.
    pub tenant_id: String,
    /// App registration's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret,
    /// Where the first run starts (no checkpoint yet).
    pub since: DateTime<Utc>,
    /// How far before the checkpoint a run starts again.
    pub overlap: Duration,
    /// Most pages one stream reads in a run (a next link that never ends stops there).
    pub max_pages: u64,
    /// How often a managedDevices snapshot is taken; `None`: never.
    pub devices_every: Option<Duration>,
    /// How often a role assignments snapshot is taken; `None`: never.
    pub roles_every: Option<Duration>,
    /// Retries.
    pub retry: RetryPolicy,
}

/// One page of a Graph collection: `{"@odata.context", "value": [...], "@odata.nextLink"}`.
#[derive(Deserialize)]
struct GraphPage<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct AuditTime {
    #[serde(rename = "activityDateTime")]
    activity_date_time: Option<String>,
}

fn activity_time(record: &str) -> Option<DateTime<Utc>> {
    let t: AuditTime = serde_json::from_str(record).ok()?;
    DateTime::parse_from_rfc3339(&t.activity_date_time?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Follows `@odata.nextLink` from a first URL; stops with a clear error on a link that repeats, a
/// link to another origin, or more than `max_pages` pages. A page is returned before the problem with
/// its link is reported (on the next call), so it is still stored.
struct Pager<'c> {
    client: &'c ApiClient,
    what: String,
    permission: &'static str,
    origin: url::Origin,
    next: Option<Url>,
    seen: HashSet<String>,
    pages: u64,
    max_pages: u64,
    problem: Option<PullError>,
}

impl<'c> Pager<'c> {
    fn new(
        client: &'c ApiClient,
        what: String,
        permission: &'static str,
        first: Url,
        max_pages: u64,
    ) -> Self {
        let mut seen = HashSet::new();
        seen.insert(first.to_string());
        Self {
            client,
            what,
            permission,
            origin: first.origin(),
            next: Some(first),
            seen,
            pages: 0,
            max_pages,
            problem: None,
        }
    }

    fn done(&self) -> bool {
        self.next.is_none() && self.problem.is_none()
    }

    fn paging_error(&self, reason: String) -> PullError {
        PullError::Paging {
            what: self.what.clone(),
            reason,
        }
    }

    async fn next_page(&mut self) -> Result<Option<Vec<String>>, PullError> {
        if let Some(p) = self.problem.take() {
            return Err(p);
        }
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let body = self.client.get(&url, &self.what, self.permission).await?;
        let page: GraphPage<'_> = serde_json::from_str(&body).map_err(|e| {
            self.paging_error(format!(
                "page {} is not a Graph collection page ({{\"value\": [...]}}): {e}",
                self.pages + 1
            ))
        })?;
        self.pages += 1;
        let records = page.value.iter().map(|r| r.get().to_owned()).collect();
        if let Some(link) = page.next_link {
            if !self.seen.insert(link.clone()) {
                self.problem = Some(self.paging_error(format!(
                    "@odata.nextLink of page {} repeats an earlier link ({link}): the paging loops; \
                     stopped, the checkpoint stays at the last page stored",
                    self.pages
                )));
            } else if self.pages >= self.max_pages {
                self.problem = Some(self.paging_error(format!(
                    "still a next link after {} pages (--max-pages): the paging does not end; \
                     stopped, the checkpoint stays at the last page stored",
                    self.pages
                )));
            } else {
                match Url::parse(&link) {
                    Ok(u) if u.origin() == self.origin => self.next = Some(u),
                    Ok(_) => {
                        self.problem = Some(self.paging_error(format!(
                            "@odata.nextLink points to another server ({link}); not followed"
                        )));
                    }
                    Err(e) => {
                        self.problem =
                            Some(self.paging_error(format!(
                                "@odata.nextLink is not a URL ({link}): {e}"
                            )));
                    }
                }
            }
        }
        Ok(Some(records))
    }
}

/// The Intune puller.
#[derive(Debug)]
pub struct IntunePuller {
    config: IntuneConfig,
    client: ApiClient,
    progress: Progress,
}

/// `base` with a trailing slash, so `join` appends.
fn as_base(url: &Url) -> Url {
    let mut u = url.clone();
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u
}

impl IntunePuller {
    /// A puller for `config`, reporting to `progress`.
    pub fn new(config: IntuneConfig, progress: Progress) -> Result<Self, PullError> {
        let token_url = as_base(&config.login_url)
            .join(&format!("{}/oauth2/v2.0/token", config.tenant_id))
            .map_err(|e| PullError::Setup(format!("--login-url: {e}")))?;
        let scope = format!(
            "{}/.default",
            config.graph_url.as_str().trim_end_matches('/')
        );
        let auth = Auth::ClientCredentials {
            token_url,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            scope: Some(scope),
        };
        let client = ApiClient::new(auth, config.retry, progress.clone())?;
        Ok(Self {
            config,
            client,
            progress,
        })
    }

    fn graph(&self, path: &str) -> Result<Url, PullError> {
        as_base(&self.config.graph_url)
            .join(&format!("{}/{path}", self.config.graph_version))
            .map_err(|e| PullError::Setup(format!("--graph-url: {e}")))
    }

    /// One run: the audit events since the checkpoint, then the managedDevices and role assignments
    /// snapshots when due.
    pub async fn run_once(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
    ) -> Result<(), PullError> {
        self.audit_events(sink, checkpoints).await?;
        if let Some(every) = self.config.devices_every {
            self.devices_snapshot(sink, checkpoints, every).await?;
        }
        if let Some(every) = self.config.roles_every {
            self.roles_snapshot(sink, checkpoints, every).await?;
        }
        Ok(())
    }

    fn checkpoint(
        &self,
        stream: &str,
        watermark: Option<DateTime<Utc>>,
        pages: u64,
        records: u64,
        complete: bool,
    ) -> Checkpoint {
        stream::checkpoint(
            SOURCE,
            &self.config.tenant_id,
            stream,
            watermark,
            pages,
            records,
            complete,
        )
    }

    async fn audit_events(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
    ) -> Result<(), PullError> {
        const STREAM: &str = "auditEvents";
        let cp = checkpoints
            .load(SOURCE, &self.config.tenant_id, STREAM)
            .await?;
        let mut watermark = cp.as_ref().and_then(|c| c.watermark);
        let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
        let start = watermark.map_or(self.config.since, |w| w - overlap);
        let mut url = self.graph("deviceManagement/auditEvents")?;
        let start_text = start.to_rfc3339_opts(SecondsFormat::Micros, true);
        url.set_query(Some(&format!(
            "$filter=activityDateTime%20ge%20{start_text}&$orderby=activityDateTime%20asc"
        )));
        let what = format!("intune {STREAM}");
        self.progress.say(&format!("{what}: from {start_text}"));
        let mut pager = Pager::new(
            &self.client,
            what.clone(),
            AUDIT_PERMISSION,
            url,
            self.config.max_pages,
        );
        let (mut pages, mut records) = (0u64, 0u64);
        while let Some(page) = pager.next_page().await? {
            let newest = page.iter().filter_map(|r| activity_time(r)).max();
            self.store_page(sink, &what, &page, &mut pages, &mut records)
                .await?;
            let advanced = newest.is_some_and(|n| watermark.is_none_or(|w| n > w));
            if advanced {
                watermark = newest;
            }
            // A page that moved nothing is not worth a commit, unless the stream just ended.
            if advanced || pager.done() {
                checkpoints
                    .save(&self.checkpoint(STREAM, watermark, pages, records, pager.done()))
                    .await?;
            }
        }
        Ok(())
    }

    /// `Some(now)` when `stream`'s last complete snapshot is older than `every` (or there is none).
    async fn snapshot_due(
        &self,
        checkpoints: &mut CheckpointStore,
        stream: &str,
        every: Duration,
    ) -> Result<Option<DateTime<Utc>>, PullError> {
        stream::snapshot_due(checkpoints, SOURCE, &self.config.tenant_id, stream, every).await
    }

    /// Stores one page through the sink, counts it and shows it.
    async fn store_page(
        &self,
        sink: &mut Sink,
        what: &str,
        page: &[String],
        pages: &mut u64,
        records: &mut u64,
    ) -> Result<(), PullError> {
        stream::store_page(sink, &self.progress, what, page, pages, records).await
    }

    async fn devices_snapshot(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
        every: Duration,
    ) -> Result<(), PullError> {
        const STREAM: &str = "managedDevices";
        let Some(now) = self.snapshot_due(checkpoints, STREAM, every).await? else {
            return Ok(());
        };
        let url = self.graph("deviceManagement/managedDevices")?;
        let what = format!("intune {STREAM}");
        let mut pager = Pager::new(
            &self.client,
            what.clone(),
            DEVICES_PERMISSION,
            url,
            self.config.max_pages,
        );
        let (mut pages, mut records) = (0u64, 0u64);
        while let Some(page) = pager.next_page().await? {
            self.store_page(sink, &what, &page, &mut pages, &mut records)
                .await?;
        }
        // The snapshot is complete: its start time is the stream's checkpoint.
        checkpoints
            .save(&self.checkpoint(STREAM, Some(now), pages, records, true))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_time_reads_graph_seven_digit_fractions() {
        let t = activity_time(r#"{"id":"x","activityDateTime":"2026-03-04T22:17:03.5520981Z"}"#)
            .expect("time");
        assert_eq!(t.timestamp_micros() % 1_000_000, 552_098);
        assert_eq!(activity_time(r#"{"id":"x"}"#), None);
    }

    #[test]
    fn bases_keep_their_path() {
        let u = Url::parse("http://127.0.0.1:9/graph").expect("url");
        assert_eq!(
            as_base(&u)
                .join("v1.0/deviceManagement/auditEvents")
                .expect("join")
                .as_str(),
            "http://127.0.0.1:9/graph/v1.0/deviceManagement/auditEvents"
        );
    }
}
