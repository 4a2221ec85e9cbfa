//! The named objects the admins edit in each console: Jamf groups, policies, profiles and scripts,
//! Intune configurations, compliance policies, apps, groups and filters, Workspace ONE profiles, smart
//! groups and apps.

use crate::buf::v4;
use crate::rng::Rng;

use super::Obj;

/// The named objects of every console (the fields of the same names in [`super::Fleet`]).
#[derive(Debug)]
pub(super) struct Catalog {
    pub(super) jamf_computer_groups: Vec<Obj>,
    pub(super) jamf_mobile_groups: Vec<Obj>,
    pub(super) jamf_policies: Vec<Obj>,
    pub(super) jamf_mac_profiles: Vec<Obj>,
    pub(super) jamf_mobile_profiles: Vec<Obj>,
    pub(super) jamf_scripts: Vec<Obj>,
    pub(super) jamf_patch_policies: Vec<(Obj, u32)>,
    pub(super) intune_configs: Vec<Obj>,
    pub(super) intune_settings: Vec<Obj>,
    pub(super) intune_compliance: Vec<Obj>,
    pub(super) intune_apps: Vec<Obj>,
    pub(super) intune_groups: Vec<Obj>,
    pub(super) intune_filters: Vec<Obj>,
    pub(super) ws1_profiles: Vec<Obj>,
    pub(super) ws1_smart_groups: Vec<Obj>,
    pub(super) ws1_apps: Vec<Obj>,
}

/// Creates the catalog (after the devices: the draws follow them in the fleet's generator).
pub(super) fn catalog(rng: &mut Rng) -> Catalog {
    let obj = |rng: &mut Rng, num: u32, name: &str| Obj {
        num,
        guid: v4(rng.next_u128()),
        name: name.to_owned(),
    };
    let objs = |rng: &mut Rng, start: u32, names: &[&str]| -> Vec<Obj> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| obj(rng, start + i as u32 * (1 + (i as u32 % 3)), n))
            .collect()
    };
    let jamf_computer_groups = objs(
        rng,
        12,
        &[
            "FileVault Not Enabled",
            "macOS below 15",
            "Defender Not Reporting",
            "Finance Macs",
            "Engineering Macs",
            "Check-in older than 7 days",
            "Rosetta Required",
            "Low Disk Space",
        ],
    );
    let jamf_mobile_groups = objs(
        rng,
        20,
        &[
            "iPadOS below 18",
            "Shared iPads - Stores",
            "Executive iPhones",
            "Supervised iPhones",
        ],
    );
    let jamf_policies = objs(
        rng,
        41,
        &[
            "Update Inventory",
            "Install Microsoft Defender",
            "Install Rosetta 2",
            "Install Google Chrome",
            "Enable FileVault 2",
            "Reset Dock - Staff",
            "Install Slack",
            "Rename Computer",
            "Install Zoom",
            "Software Update - Nudge",
        ],
    );
    let jamf_mac_profiles = objs(
        rng,
        21,
        &[
            "Wi-Fi - Corporate",
            "FileVault - Escrow Recovery Key",
            "Passcode - 12 characters",
            "Privacy Preferences - Defender",
            "Software Update Deferral",
            "Login Window - Staff",
        ],
    );
    let jamf_mobile_profiles = objs(
        rng,
        61,
        &[
            "Wi-Fi - Stores",
            "Passcode - iOS 6 digits",
            "Restrictions - Shared iPad",
            "VPN - Always On",
        ],
    );
    let jamf_scripts = objs(
        rng,
        8,
        &[
            "Rename to Asset Tag",
            "Clear Teams Cache",
            "Collect Diagnostics",
            "Set Time Server",
        ],
    );
    let jamf_patch_policies = vec![
        (obj(rng, 14, "Google Chrome - Latest"), 6),
        (obj(rng, 15, "Microsoft Edge - Latest"), 7),
        (obj(rng, 17, "Zoom - Latest"), 9),
        (obj(rng, 18, "Slack - Latest"), 11),
    ];
    let intune_configs = objs(
        rng,
        0,
        &[
            "iOS - Device restrictions",
            "Win - Wi-Fi Corporate",
            "Android - Work profile restrictions",
            "iOS - Wi-Fi Corporate",
            "Win - VPN Always On",
        ],
    );
    let intune_settings = objs(
        rng,
        0,
        &[
            "Win - Defender Antivirus",
            "Win - Windows Update Ring (Broad)",
            "macOS - Privacy Preferences",
            "Win - Edge Baseline",
        ],
    );
    let intune_compliance = objs(
        rng,
        0,
        &[
            "Windows - Compliance",
            "iOS - Baseline compliance",
            "Android - Compliance",
            "macOS - Compliance",
        ],
    );
    let intune_apps = objs(
        rng,
        0,
        &[
            "Microsoft 365 Apps",
            "Company Portal",
            "Zoom Workplace",
            "Adobe Acrobat Reader",
            "Microsoft Teams",
            "Northwind Expenses",
        ],
    );
    let intune_groups = objs(
        rng,
        0,
        &[
            "All Finance Devices",
            "Windows Pilot Ring",
            "Sales Mobile",
            "Engineering Workstations",
            "Intune Admins - Tier 1",
            "Intune Admins - Privileged",
        ],
    );
    let intune_filters = objs(rng, 0, &["Corporate Windows 11", "Personal iOS"]);
    let ws1_profiles = objs(
        rng,
        380,
        &[
            "Passcode Policy - iOS",
            "Corporate Wi-Fi (iOS)",
            "Work Profile Restrictions - Android",
            "Exchange ActiveSync",
            "VPN - Field Ops",
        ],
    );
    let ws1_smart_groups = objs(
        rng,
        90,
        &[
            "Field iPhones",
            "Sales Android",
            "Non-compliant Devices",
            "Executives",
        ],
    );
    let ws1_apps = objs(
        rng,
        230,
        &[
            "Workspace ONE Intelligent Hub",
            "Boxer",
            "Field Service Pro",
            "Microsoft Outlook",
        ],
    );

    Catalog {
        jamf_computer_groups,
        jamf_mobile_groups,
        jamf_policies,
        jamf_mac_profiles,
        jamf_mobile_profiles,
        jamf_scripts,
        jamf_patch_policies,
        intune_configs,
        intune_settings,
        intune_compliance,
        intune_apps,
        intune_groups,
        intune_filters,
        ws1_profiles,
        ws1_smart_groups,
        ws1_apps,
    }
}
