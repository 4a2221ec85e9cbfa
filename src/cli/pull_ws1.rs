//! The Workspace ONE UEM settings of `mdm-audit pull ws1`: the API server and token URL from flags
//! (or the environment); the OAuth client id and secret and the REST API key (`aw-tenant-code`) only
//! from environment variables or files named by them, never from a flag's value.

use clap::Args;
use mdm_audit_transform::pull::Secret;
use mdm_audit_transform::pull::ws1::{Stream, Ws1Config, region_token_url};

use super::CliError;
use super::pull::{Common, secret_env};

#[derive(Debug, Args)]
pub struct Ws1Args {
    /// Workspace ONE UEM API server (ws1), e.g. https://as1234.awmdm.com.
    #[arg(long, env = "MDM_AUDIT_WS1_URL", value_name = "URL")]
    ws1_url: Option<url::Url>,
    /// Workspace ONE token service region (ws1): uat, na, emea or apac; the token comes from
    /// https://{REGION}.uemauth.workspaceone.com/connect/token.
    #[arg(long, default_value = "na", value_parser = ["uat", "na", "emea", "apac"], value_name = "REGION")]
    ws1_region: String,
    /// The full token URL (ws1), instead of --ws1-region (on-premises token service, tests).
    #[arg(long, env = "MDM_AUDIT_WS1_TOKEN_URL", value_name = "URL")]
    ws1_token_url: Option<url::Url>,
    /// Records per page of the event log (ws1).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000), value_name = "N")]
    ws1_page_size: u32,
    /// Do not read device events (ws1).
    #[arg(long)]
    no_device_events: bool,
    /// Do not read console (admin) events (ws1).
    #[arg(long)]
    no_console_events: bool,
}

impl Ws1Args {
    /// The puller's settings; the credentials from the environment.
    pub fn config(&self, common: &Common) -> Result<Ws1Config, CliError> {
        let api_url = self.ws1_url.clone().ok_or_else(|| {
            CliError::Usage(
                "pull ws1 needs the API server: --ws1-url or MDM_AUDIT_WS1_URL (e.g. https://as1234.awmdm.com)"
                    .into(),
            )
        })?;
        let token_url = match &self.ws1_token_url {
            Some(u) => u.clone(),
            None => region_token_url(&self.ws1_region)
                .and_then(|u| url::Url::parse(u).ok())
                .ok_or_else(|| {
                    CliError::Usage(format!("--ws1-region {}: unknown", self.ws1_region))
                })?,
        };
        let mut streams = Vec::new();
        if !self.no_device_events {
            streams.push(Stream::Device);
        }
        if !self.no_console_events {
            streams.push(Stream::Console);
        }
        if streams.is_empty() {
            return Err(CliError::Usage(
                "--no-device-events and --no-console-events leave nothing to pull".into(),
            ));
        }
        Ok(Ws1Config {
            api_url,
            token_url,
            client_id: secret_env("MDM_AUDIT_WS1_CLIENT_ID")?,
            client_secret: Secret::new(secret_env("MDM_AUDIT_WS1_CLIENT_SECRET")?),
            tenant_code: Secret::new(secret_env("MDM_AUDIT_WS1_TENANT_CODE")?),
            since: common.since,
            overlap: common.overlap,
            max_pages: common.max_pages,
            page_size: self.ws1_page_size,
            streams,
            retry: common.retry,
        })
    }
}
