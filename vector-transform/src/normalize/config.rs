//! What an operator sets for normalization.

use std::path::PathBuf;

use serde::Deserialize;

/// Normalization settings (`mdm-audit normalize` flags; `[normalize]` in a config file later).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeConfig {
    /// Directory holding an edited copy of `vrl-mappings/`; `None` uses the files built into the binary.
    #[serde(default)]
    pub mappings_dir: Option<PathBuf>,
    /// Time zone for vendor timestamps that carry none (Jamf Log Stream, Workspace ONE syslog), as
    /// Vector's remap `timezone` option. A TZ database name; default `UTC`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

/// The default time zone for zone-less vendor timestamps.
pub fn default_timezone() -> String {
    "UTC".to_owned()
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        Self {
            mappings_dir: None,
            timezone: default_timezone(),
        }
    }
}
