//! `mdm-audit pull jamf`: the Jamf Pro settings of `pull` (flags and environment) and the credentials,
//! which come only from environment variables or files named by them, never from a flag's value.

use clap::Args;
use mdm_audit_transform::pull::Secret;
use mdm_audit_transform::pull::jamf::{JamfAuth, JamfConfig};

use super::CliError;
use super::pull::{Common, duration, env_or_file, secret_env};

/// The Jamf Pro options of `pull`.
#[derive(Debug, Args)]
pub struct JamfArgs {
    /// The Jamf Pro server (jamf), e.g. https://example.jamfcloud.com.
    #[arg(long, env = "MDM_AUDIT_JAMF_URL", value_name = "URL")]
    jamf_url: Option<url::Url>,
    /// Records per page of every Jamf Pro API request (jamf; `page-size`).
    #[arg(long, default_value_t = 100, value_name = "N")]
    jamf_page_size: u64,
    /// How often the object history (scripts, PreStage enrollments, categories) and the computer and
    /// mobile device management history (Classic API) are read (jamf).
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    history_every: String,
    /// Read no object or management history (jamf).
    #[arg(long)]
    no_history: bool,
}

/// The credentials: an API client (`MDM_AUDIT_JAMF_CLIENT_ID`, `MDM_AUDIT_JAMF_CLIENT_SECRET`) or a
/// user account (`MDM_AUDIT_JAMF_USERNAME`, `MDM_AUDIT_JAMF_PASSWORD`); each secret also from a
/// file named by `..._FILE`.
fn credentials() -> Result<JamfAuth, CliError> {
    let client_id = env_or_file("MDM_AUDIT_JAMF_CLIENT_ID")?;
    let username = env_or_file("MDM_AUDIT_JAMF_USERNAME")?;
    match (client_id, username) {
        (Some(_), Some(_)) => Err(CliError::Usage(
            "both MDM_AUDIT_JAMF_CLIENT_ID and MDM_AUDIT_JAMF_USERNAME are set: use an API client \
             or a user account, not both"
                .into(),
        )),
        (Some(client_id), None) => Ok(JamfAuth::Client {
            client_id,
            client_secret: Secret::new(secret_env("MDM_AUDIT_JAMF_CLIENT_SECRET")?),
        }),
        (None, Some(username)) => Ok(JamfAuth::Account {
            username,
            password: Secret::new(secret_env("MDM_AUDIT_JAMF_PASSWORD")?),
        }),
        (None, None) => Err(CliError::Usage(
            "MDM_AUDIT_JAMF_CLIENT_ID and MDM_AUDIT_JAMF_CLIENT_SECRET (an API client), or \
             MDM_AUDIT_JAMF_USERNAME and MDM_AUDIT_JAMF_PASSWORD (a user account), are not set \
             (credentials come only from the environment or a file)"
                .into(),
        )),
    }
}

impl JamfArgs {
    /// The puller's settings.
    pub fn config(&self, common: &Common) -> Result<JamfConfig, CliError> {
        let url = self.jamf_url.clone().ok_or_else(|| {
            CliError::Usage("pull jamf needs --jamf-url (or MDM_AUDIT_JAMF_URL)".into())
        })?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(CliError::Usage(format!(
                "--jamf-url {url}: expected https://host"
            )));
        }
        if self.jamf_page_size == 0 {
            return Err(CliError::Usage(
                "--jamf-page-size must be at least 1".into(),
            ));
        }
        Ok(JamfConfig {
            url,
            auth: credentials()?,
            since: common.since,
            overlap: common.overlap,
            max_pages: common.max_pages,
            page_size: self.jamf_page_size,
            inventory_every: common.devices_every,
            history_every: if self.no_history {
                None
            } else {
                Some(duration("--history-every", &self.history_every)?)
            },
            retry: common.retry,
        })
    }
}
