//! The ground-truth file (`ground_truth.json`): what the estate contains and, for every planted
//! scenario, which native records belong to it and what normalization and correlation should make of
//! them. Tests and benchmarks of later stages (store, correlation, narratives) measure against it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::GenerateError;

/// The file name in `--out`.
pub const GROUND_TRUTH_FILE: &str = "ground_truth.json";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Version of this layout.
    pub format_version: u32,
    /// Options the estate was generated with (same options + same version => same bytes).
    pub options: GtOptions,
    /// Zone-less vendor timestamps (Jamf Log Stream headers, Workspace ONE syslog) are written in this
    /// zone: normalize with `--timezone` set to it (the default, UTC).
    pub zoneless_timestamps_zone: String,
    /// Records written in total.
    pub records_total: u64,
    /// Records of ordinary activity (not part of a scenario).
    pub noise_records: u64,
    /// Records that belong to planted scenarios.
    pub scenario_records: u64,
    /// One entry per feed file.
    pub feeds: Vec<GtFeed>,
    /// The planted scenarios.
    pub scenarios: Vec<GtScenario>,
}

/// Generation options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GtOptions {
    /// `--seed`.
    pub seed: u64,
    /// `--events` (records asked for).
    pub events: u64,
    /// `--days`.
    pub days: u32,
    /// `--start` (RFC 3339).
    pub start: String,
    /// `--devices`.
    pub devices: u32,
    /// Scenario kinds planted.
    pub scenarios: Vec<String>,
    /// `--wipe-count`.
    pub wipe_count: u32,
    /// `--bulk-delete-count`.
    pub bulk_delete_count: u32,
    /// `--rollout-devices`.
    pub rollout_devices: u32,
    /// `--rollout-fail-pct`.
    pub rollout_fail_pct: u32,
}

/// One feed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GtFeed {
    /// Feed name (`jamf_webhooks`).
    pub feed: String,
    /// File name in `--out`.
    pub file: String,
    /// `jamf`, `microsoft`, `omnissa`.
    pub vendor: String,
    /// Wire format.
    pub format: String,
    /// Records in the file (one per line).
    pub records: u64,
}

/// One planted scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GtScenario {
    /// `S1`, `S2`, ... in planting order.
    pub id: String,
    /// Scenario kind (`compromised_admin_mass_wipe`, ...).
    pub kind: String,
    /// The episode correlation should make of these records (checked by tests/tests/detection.rs):
    /// `bulk_destructive`, `policy_rollout`, `admin_session`, `device_lifecycle`.
    pub episode_kind: String,
    /// Tags only correlation can give (stateful: `off_hours`, `bulk_destructive`, `new_actor`), for
    /// the scenario as a whole (checked by tests/tests/detection.rs).
    pub correlation_tags: Vec<String>,
    /// What happened, in one paragraph.
    pub summary: String,
    /// Who acted, as the logs name them.
    pub actors: Vec<String>,
    /// Devices involved (names).
    pub devices: Vec<String>,
    /// First record time (RFC 3339).
    pub start: String,
    /// Last record time.
    pub end: String,
    /// The scenario's native records, in time order.
    pub records: Vec<GtRecord>,
}

/// One native record of a scenario and what normalization must make of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GtRecord {
    /// Feed name.
    pub feed: String,
    /// File in `--out`.
    pub file: String,
    /// 0-based record (line) index in that file; in `--stdout` mode the index within its feed.
    pub index: u64,
    /// The vendor's own id of the record, where it has one (Intune `id` / `AuditEventId`, which the
    /// normalized `event_uid` equals).
    pub vendor_id: Option<String>,
    /// SHA-256 (hex) of the record as written (the line without its end): finds the record in any
    /// framing, and equals the SHA-256 of the normalized `raw` when nothing in it was redacted.
    pub sha256: String,
    /// The event time as the record states it (RFC 3339, the record's precision).
    pub time: String,
    /// The record's part in the scenario (`role_grant`, `wipe`, `key_read`, ...).
    pub role: String,
    /// Normalized fields the record must produce (from `vrl-mappings/README.md` vocabularies).
    pub expect: GtExpect,
    /// Risk tags a single event shows, per the rules in `vrl-mappings/risk/` (sorted).
    pub risk_tags: Vec<String>,
    /// Name of a secret field the raw record carries (must be redacted in the normalized `raw`).
    pub secret_field: Option<String>,
}

/// Normalized fields a scenario record must produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GtExpect {
    /// `native_action`.
    pub native_action: String,
    /// `action`.
    pub action: String,
    /// `actor_kind` (null when the feed names no actor).
    pub actor_kind: Option<String>,
    /// `target_type`.
    pub target_type: Option<String>,
}

impl GroundTruth {
    /// Writes the file (pretty JSON).
    pub fn write(&self, path: &Path) -> Result<(), GenerateError> {
        let file = std::fs::File::create(path)
            .map_err(|e| GenerateError::io(format!("creating {}", path.display()), e))?;
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut w, self)?;
        std::io::Write::write_all(&mut w, b"\n")
            .and_then(|()| std::io::Write::flush(&mut w))
            .map_err(|e| GenerateError::io(format!("writing {}", path.display()), e))
    }

    /// Reads a file written by [`GroundTruth::write`].
    pub fn read(path: &Path) -> Result<Self, GenerateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| GenerateError::io(format!("reading {}", path.display()), e))?;
        Ok(serde_json::from_str(&text)?)
    }
}
