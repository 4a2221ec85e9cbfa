//! Entity resolution and correlation options, shared by every command that stores events.

use std::path::PathBuf;

use chrono::Duration;
use clap::Args;
use mdm_audit_store::StoreLocation;
use mdm_audit_transform::correlate::{Baseline, CorrelateConfig, CorrelateStage};
use mdm_audit_transform::enrich::{EnrichStage, parse_business_hours};
use mdm_audit_transform::pipeline::{PassThrough, Stage};

use super::CliError;

/// How events are resolved against the directory and correlated into episodes.
#[derive(Debug, Args, Clone)]
pub struct CorrelateArgs {
    /// Directory files for entity resolution: DIR/people.csv and DIR/devices.csv (see the README);
    /// edits are picked up while running.
    #[arg(long, env = "MDM_AUDIT_DIRECTORY", value_name = "DIR")]
    pub directory: Option<PathBuf>,
    /// Store events as they are normalized: no episodes, no stateful risk tags.
    #[arg(long)]
    pub no_correlate: bool,
    /// Longest gap (minutes) inside one admin session.
    #[arg(long, default_value_t = 30, value_name = "MIN")]
    pub idle_minutes: i64,
    /// Wipes, retires or deletions by one actor within --bulk-window-minutes that make a
    /// bulk-destructive episode.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub bulk_count: usize,
    /// The bulk-destructive window, in minutes.
    #[arg(long, default_value_t = 60, value_name = "MIN")]
    pub bulk_window_minutes: i64,
    /// Business hours (local, HH-HH) of people the directory gives none for.
    #[arg(long, default_value = "08-18", value_name = "HH-HH")]
    pub business_hours: String,
    /// Time zone of people the directory gives none for (TZ database name).
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    pub business_timezone: String,
    /// Days after the store's first event during which every actor is learned, not flagged new.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub learning_days: i64,
}

impl CorrelateArgs {
    /// The configuration these options describe.
    pub fn config(&self) -> Result<CorrelateConfig, CliError> {
        let positive = |v: i64, flag: &str| {
            if v > 0 {
                Ok(v)
            } else {
                Err(CliError::Usage(format!("{flag} must be at least 1")))
            }
        };
        if self.bulk_count == 0 {
            return Err(CliError::Usage("--bulk-count must be at least 1".into()));
        }
        if self.learning_days < 0 {
            return Err(CliError::Usage(
                "--learning-days must not be negative".into(),
            ));
        }
        Ok(CorrelateConfig {
            idle: Duration::minutes(positive(self.idle_minutes, "--idle-minutes")?),
            bulk_count: self.bulk_count,
            bulk_window: Duration::minutes(positive(
                self.bulk_window_minutes,
                "--bulk-window-minutes",
            )?),
            business_hours: parse_business_hours(&self.business_hours)
                .map_err(|e| CliError::Usage(format!("--business-hours: {e}")))?,
            time_zone: self.business_timezone.parse().map_err(|_| {
                CliError::Usage(format!(
                    "--business-timezone: unknown time zone {:?} (expected a TZ database name such as Europe/Berlin)",
                    self.business_timezone
                ))
            })?,
            learning: Duration::days(self.learning_days),
            ..CorrelateConfig::default()
        })
    }

    /// The stages to run: enrichment (with --directory), then correlation (knowing the store's
    /// history); none with --no-correlate.
    pub async fn stage(&self, location: &StoreLocation) -> Result<Box<dyn Stage>, CliError> {
        if self.no_correlate {
            return Ok(Box::new(PassThrough));
        }
        let config = self.config()?;
        let baseline = Baseline::from_store(location).await?;
        let correlate = CorrelateStage::new(config, baseline);
        Ok(match &self.directory {
            Some(dir) => {
                let enrich = EnrichStage::open(dir)
                    .map_err(|e| CliError::Usage(format!("--directory: {e}")))?;
                let correlate = correlate.with_directory(enrich.directory());
                Box::new(enrich.then(correlate))
            }
            None => Box::new(correlate),
        })
    }
}
