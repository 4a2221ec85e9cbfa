//! What a user sets for `mdm-audit generate`: size, period, seed, which incidents to plant and how big.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::time::{self, Micros};
use crate::GenerateError;

/// The default seed.
pub fn default_seed() -> u64 {
    1
}

/// The default number of records.
pub fn default_events() -> u64 {
    100_000
}

/// The default length of the simulated period in days.
pub fn default_days() -> u32 {
    30
}

/// The default first day (a Monday, so that the first week starts with business days).
pub fn default_start() -> Micros {
    time::midnight(2026, 3, 2)
}

/// The default fleet size: fixed, so memory does not grow with `events`.
pub fn default_devices() -> u32 {
    1_500
}

/// The incidents the generator can plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// An Intune admin account is added to a privileged role assignment, then wipes many devices before
    /// business hours (Graph audit + diagnostic AuditLogs, managedDevices snapshots).
    CompromisedAdminMassWipe,
    /// A help-desk admin clears the passcode of an executive's phone and lifts its lost mode, late in the
    /// evening (Workspace ONE syslog).
    ExecPhoneUnlock,
    /// A Jamf Pro admin signs in at night and views a Mac's FileVault recovery key (Jamf Log Stream).
    FilevaultKeyReadOffHours,
    /// An Intune "Finance baseline" (disk encryption profiles + compliance policy) is rolled out to the
    /// Finance devices; some fail encryption (audit events, OperationalLogs compliance, snapshots).
    FinanceBaselineRollout,
    /// A Jamf Pro API client deletes many computer and mobile-device records in a burst
    /// (Log Stream token + change management, RestAPIOperation webhooks).
    ApiBulkDelete,
    /// A delegated (GDAP) partner admin drops the passcode requirement of a compliance policy and assigns
    /// it to all devices (Intune diagnostic AuditLogs with IsDelegatedAdmin + Graph beta twin).
    PartnerComplianceChange,
    /// One Workspace ONE device from enrollment through compliance drift to enterprise wipe and MDM
    /// removal (notifications + syslog).
    DeviceLifecycle,
}

impl ScenarioKind {
    /// Every kind, in the order they are planted and listed.
    pub const ALL: [ScenarioKind; 7] = [
        ScenarioKind::CompromisedAdminMassWipe,
        ScenarioKind::ExecPhoneUnlock,
        ScenarioKind::FilevaultKeyReadOffHours,
        ScenarioKind::FinanceBaselineRollout,
        ScenarioKind::ApiBulkDelete,
        ScenarioKind::PartnerComplianceChange,
        ScenarioKind::DeviceLifecycle,
    ];

    /// The snake_case name used on the command line and in the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            ScenarioKind::CompromisedAdminMassWipe => "compromised_admin_mass_wipe",
            ScenarioKind::ExecPhoneUnlock => "exec_phone_unlock",
            ScenarioKind::FilevaultKeyReadOffHours => "filevault_key_read_off_hours",
            ScenarioKind::FinanceBaselineRollout => "finance_baseline_rollout",
            ScenarioKind::ApiBulkDelete => "api_bulk_delete",
            ScenarioKind::PartnerComplianceChange => "partner_compliance_change",
            ScenarioKind::DeviceLifecycle => "device_lifecycle",
        }
    }

    /// The episode kind correlation (issue 4) should make of the scenario's records.
    pub fn episode_kind(self) -> &'static str {
        match self {
            ScenarioKind::CompromisedAdminMassWipe | ScenarioKind::ApiBulkDelete => {
                "bulk_destructive"
            }
            // A policy change followed by its assignment is a rollout (issue 4: "create/update of a
            // policy or profile followed by its assignments"), also when only one policy changes.
            ScenarioKind::FinanceBaselineRollout | ScenarioKind::PartnerComplianceChange => {
                "policy_rollout"
            }
            ScenarioKind::ExecPhoneUnlock | ScenarioKind::FilevaultKeyReadOffHours => {
                "admin_session"
            }
            ScenarioKind::DeviceLifecycle => "device_lifecycle",
        }
    }
}

impl fmt::Display for ScenarioKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScenarioKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().replace('-', "_").to_ascii_lowercase();
        ScenarioKind::ALL
            .into_iter()
            .find(|k| k.name() == want)
            .ok_or_else(|| {
                format!(
                    "unknown scenario {s:?}: expected all, none or a comma-separated list of {}",
                    ScenarioKind::ALL.map(ScenarioKind::name).join(", ")
                )
            })
    }
}

/// Which scenarios to plant: `all`, `none` or a list (`--scenarios api_bulk_delete,device_lifecycle`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioSelection(pub Vec<ScenarioKind>);

impl ScenarioSelection {
    /// Every scenario.
    pub fn all() -> Self {
        Self(ScenarioKind::ALL.to_vec())
    }

    /// True when `kind` is selected.
    pub fn contains(&self, kind: ScenarioKind) -> bool {
        self.0.contains(&kind)
    }
}

impl Default for ScenarioSelection {
    fn default() -> Self {
        Self::all()
    }
}

impl FromStr for ScenarioSelection {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => return Ok(Self::all()),
            "none" | "" => return Ok(Self(Vec::new())),
            _ => {}
        }
        let mut kinds = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let k: ScenarioKind = part.parse()?;
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        kinds.sort();
        Ok(Self(kinds))
    }
}

/// Sizes of the planted scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioSizes {
    /// Devices wiped by the compromised admin.
    pub wipe_count: u32,
    /// Records deleted by the API client.
    pub bulk_delete_count: u32,
    /// Finance devices the baseline is rolled out to.
    pub rollout_devices: u32,
    /// Percentage of rollout devices that fail encryption.
    pub rollout_fail_pct: u32,
}

impl Default for ScenarioSizes {
    fn default() -> Self {
        Self {
            wipe_count: 25,
            bulk_delete_count: 40,
            rollout_devices: 24,
            rollout_fail_pct: 25,
        }
    }
}

/// Everything that determines a generated estate: same config (and same generator version) => same bytes.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Records to write in total, across feeds, planted scenarios included.
    pub events: u64,
    /// Length of the simulated period.
    pub days: u32,
    /// First instant of the period (UTC midnight).
    pub start: Micros,
    /// Managed devices in the fleet (across Jamf Pro, Intune and Workspace ONE).
    pub devices: u32,
    /// Scenarios to plant.
    pub scenarios: ScenarioSelection,
    /// Their sizes.
    pub sizes: ScenarioSizes,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            events: default_events(),
            days: default_days(),
            start: default_start(),
            devices: default_devices(),
            scenarios: ScenarioSelection::default(),
            sizes: ScenarioSizes::default(),
        }
    }
}

/// The largest fleet (keeps memory bounded whatever the options).
pub const MAX_DEVICES: u32 = 200_000;
/// The longest period.
pub const MAX_DAYS: u32 = 3_660;

impl GenerateConfig {
    /// Checks the options; the error says what to change.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let bad = |msg: String| Err(GenerateError::InvalidOption(msg));
        if self.days == 0 || self.days > MAX_DAYS {
            return bad(format!(
                "--days {} is out of range: use 1 to {MAX_DAYS}",
                self.days
            ));
        }
        if self.devices < 40 || self.devices > MAX_DEVICES {
            return bad(format!(
                "--devices {} is out of range: use 40 to {MAX_DEVICES}",
                self.devices
            ));
        }
        if self.sizes.rollout_fail_pct > 100 {
            return bad(format!(
                "--rollout-fail-pct {} is not a percentage: use 0 to 100",
                self.sizes.rollout_fail_pct
            ));
        }
        let s = &self.sizes;
        for (flag, v, kind) in [
            (
                "--wipe-count",
                s.wipe_count,
                ScenarioKind::CompromisedAdminMassWipe,
            ),
            (
                "--bulk-delete-count",
                s.bulk_delete_count,
                ScenarioKind::ApiBulkDelete,
            ),
            (
                "--rollout-devices",
                s.rollout_devices,
                ScenarioKind::FinanceBaselineRollout,
            ),
        ] {
            if self.scenarios.contains(kind) && v == 0 {
                return bad(format!(
                    "{flag} 0 plants an empty {kind} scenario: use at least 1, or leave {kind} out of --scenarios"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_lists_parse() {
        assert_eq!(
            "all".parse::<ScenarioSelection>(),
            Ok(ScenarioSelection::all())
        );
        assert_eq!(
            "none".parse::<ScenarioSelection>(),
            Ok(ScenarioSelection(Vec::new()))
        );
        assert_eq!(
            "device-lifecycle, api_bulk_delete,api_bulk_delete".parse::<ScenarioSelection>(),
            Ok(ScenarioSelection(vec![
                ScenarioKind::ApiBulkDelete,
                ScenarioKind::DeviceLifecycle
            ]))
        );
        let err = "wipe_everything"
            .parse::<ScenarioSelection>()
            .expect_err("unknown kind");
        assert!(err.contains("compromised_admin_mass_wipe"), "{err}");
        for k in ScenarioKind::ALL {
            assert_eq!(k.name().parse::<ScenarioKind>(), Ok(k));
        }
    }

    #[test]
    fn validation_names_the_flag() {
        let mut c = GenerateConfig {
            days: 0,
            ..GenerateConfig::default()
        };
        assert!(
            c.validate()
                .expect_err("days 0")
                .to_string()
                .contains("--days")
        );
        c.days = 7;
        c.sizes.wipe_count = 0;
        assert!(
            c.validate()
                .expect_err("empty scenario")
                .to_string()
                .contains("--wipe-count")
        );
        c.scenarios = "none".parse().expect("none");
        assert!(c.validate().is_ok());
    }
}
