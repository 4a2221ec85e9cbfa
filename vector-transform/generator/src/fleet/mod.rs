//! The simulated organisation: people (with departments, offices and home time zones), administrators
//! of each MDM with their roles and business hours, API clients, and the managed devices of five
//! platforms spread over Jamf Pro, Intune and Workspace ONE, with the groups, policies and profiles the
//! admins edit. Built once from the seed; only device state changes while the estate is generated.

mod build;
mod catalog;
mod devices;
mod models;
mod names;
#[cfg(test)]
mod tests;

use super::time::{Micros, TzTable};

/// E-mail / UPN domain.
pub const DOMAIN: &str = "northwindtraders.com";
/// Jamf Pro Cloud URL.
pub const JAMF_URL: &str = "https://northwind.jamfcloud.com/";
/// The Microsoft Intune portal extension (the app id of console actions).
pub const INTUNE_PORTAL_APP: &str = "5926fc8e-304e-4f59-8bed-58ca97cc39a4";
/// Its display name.
pub const INTUNE_PORTAL_NAME: &str = "Microsoft Intune portal extension";
/// Intune's "All Devices" virtual group.
pub const ALL_DEVICES_GROUP: &str = "adadadad-808e-44e2-905a-0b7873a8a531";
/// The Graph API version Intune writes into every audit event.
pub const INTUNE_API_VERSION: &str = "5025-09-01";

/// Offices: (name, TZ database zone, share of staff, public egress IP prefix).
pub const OFFICES: [(&str, &str, u32, [u8; 3]); 6] = [
    ("New York", "America/New_York", 30, [81, 2, 69]),
    ("Chicago", "America/Chicago", 12, [89, 160, 20]),
    ("San Francisco", "America/Los_Angeles", 16, [175, 16, 199]),
    ("London", "Europe/London", 16, [81, 2, 70]),
    ("Berlin", "Europe/Berlin", 14, [89, 160, 21]),
    ("Singapore", "Asia/Singapore", 12, [175, 16, 200]),
];
/// The partner's zone (a managed-service provider in India).
pub const PARTNER_TZ: &str = "Asia/Kolkata";

/// Departments and their share of staff.
pub const DEPARTMENTS: [(&str, u32); 10] = [
    ("Sales", 18),
    ("Engineering", 20),
    ("Finance", 10),
    ("Operations", 14),
    ("Marketing", 8),
    ("Support", 12),
    ("HR", 4),
    ("Legal", 3),
    ("IT", 8),
    ("Executive", 3),
];
/// Index of "Finance" in [`DEPARTMENTS`].
pub const FINANCE: u8 = 2;
/// Index of "IT".
pub const IT: u8 = 8;
/// Index of "Executive".
pub const EXECUTIVE: u8 = 9;

/// Which MDM manages a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mdm {
    /// Jamf Pro.
    Jamf,
    /// Microsoft Intune.
    Intune,
    /// Workspace ONE UEM.
    Ws1,
}

/// Device platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// macOS.
    MacOs,
    /// iOS.
    Ios,
    /// iPadOS.
    IpadOs,
    /// Windows.
    Windows,
    /// Android.
    Android,
}

/// The fleet's device classes (MDM x platform), each with its own noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceClass {
    /// Macs in Jamf Pro.
    JamfMac,
    /// iPhones in Jamf Pro.
    JamfIphone,
    /// Shared iPads in Jamf Pro.
    JamfIpad,
    /// Windows PCs in Intune.
    IntuneWindows,
    /// Macs in Intune (Finance).
    IntuneMac,
    /// Android phones in Intune.
    IntuneAndroid,
    /// iPhones in Intune.
    IntuneIos,
    /// iPhones in Workspace ONE.
    Ws1Ios,
    /// Android phones in Workspace ONE.
    Ws1Android,
}

impl DeviceClass {
    /// Every class with its share of the fleet (percent).
    pub const MIX: [(DeviceClass, u32); 9] = [
        (DeviceClass::JamfMac, 34),
        (DeviceClass::JamfIphone, 8),
        (DeviceClass::JamfIpad, 7),
        (DeviceClass::IntuneWindows, 26),
        (DeviceClass::IntuneMac, 4),
        (DeviceClass::IntuneAndroid, 4),
        (DeviceClass::IntuneIos, 3),
        (DeviceClass::Ws1Ios, 6),
        (DeviceClass::Ws1Android, 8),
    ];

    /// The MDM.
    pub fn mdm(self) -> Mdm {
        match self {
            DeviceClass::JamfMac | DeviceClass::JamfIphone | DeviceClass::JamfIpad => Mdm::Jamf,
            DeviceClass::IntuneWindows
            | DeviceClass::IntuneMac
            | DeviceClass::IntuneAndroid
            | DeviceClass::IntuneIos => Mdm::Intune,
            DeviceClass::Ws1Ios | DeviceClass::Ws1Android => Mdm::Ws1,
        }
    }

    /// The platform.
    pub fn platform(self) -> Platform {
        match self {
            DeviceClass::JamfMac | DeviceClass::IntuneMac => Platform::MacOs,
            DeviceClass::JamfIphone | DeviceClass::IntuneIos | DeviceClass::Ws1Ios => Platform::Ios,
            DeviceClass::JamfIpad => Platform::IpadOs,
            DeviceClass::IntuneWindows => Platform::Windows,
            DeviceClass::IntuneAndroid | DeviceClass::Ws1Android => Platform::Android,
        }
    }
}

/// A hardware model: (name, product identifier, manufacturer), with the OS releases it runs.
#[derive(Debug)]
pub struct Model {
    /// Marketing name (Jamf `model`, Intune `model`).
    pub name: &'static str,
    /// Product identifier (`iPhone16,1`) or a short code.
    pub product: &'static str,
    /// Manufacturer as Intune reports it.
    pub manufacturer: &'static str,
    /// Short word used in Jamf computer names (MBP, MBA, IMAC) or WS1 friendly names.
    pub short: &'static str,
    /// OS releases: (version, build).
    pub os: &'static [(&'static str, &'static str)],
}

/// A person of the organisation.
#[derive(Debug, Clone)]
pub struct User {
    /// Given name.
    pub first: &'static str,
    /// Family name.
    pub last: &'static str,
    /// Directory user name (`anna.meyer`), unique.
    pub username: String,
    /// E-mail address and UPN.
    pub upn: String,
    /// Index into [`DEPARTMENTS`].
    pub dept: u8,
    /// Index into [`OFFICES`] (and the zone table).
    pub office: u8,
    /// Entra object id.
    pub object_id: u128,
    /// Workspace ONE enrollment user id.
    pub ws1_user_id: u32,
    /// Job title.
    pub position: &'static str,
}

/// An administrator account of one MDM console.
#[derive(Debug, Clone)]
pub struct Admin {
    /// Which console.
    pub mdm: Mdm,
    /// Given and family name.
    pub first: &'static str,
    /// Family name.
    pub last: &'static str,
    /// How the vendor's logs name the account: Jamf SSO e-mail or local account name, Intune UPN,
    /// Workspace ONE `CORP\user`.
    pub account: String,
    /// Jamf change-management account id (`-1` for SSO users).
    pub jamf_id: i32,
    /// Entra object id (Intune).
    pub object_id: u128,
    /// Role as the console names it.
    pub role: &'static str,
    /// Zone index in the estate's zone table.
    pub tz: usize,
    /// Business hours, local (start hour, end hour).
    pub hours: (u32, u32),
    /// Where the admin connects from.
    pub ip: [u8; 4],
    /// Reserved by a planted scenario (no routine noise for it).
    pub reserved: bool,
}

/// A non-human identity acting through an API.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// Which MDM.
    pub mdm: Mdm,
    /// Jamf API client id / Intune application id (GUID).
    pub id: u128,
    /// Display name (Intune app registration, Jamf API integration).
    pub name: &'static str,
    /// Service principal object id (Intune).
    pub sp_object_id: u128,
    /// Graph permissions (Intune).
    pub permissions: &'static str,
    /// Where it connects from.
    pub ip: [u8; 4],
}

/// One managed device and its current state.
#[derive(Debug, Clone)]
pub struct Device {
    /// MDM x platform.
    pub class: DeviceClass,
    /// Hardware model.
    pub model: &'static Model,
    /// Index into `model.os` (changes with OS updates).
    pub os: usize,
    /// Owner (index into users); `None` for shared devices.
    pub owner: Option<u32>,
    /// Department index (owner's, or the device's for shared ones).
    pub dept: u8,
    /// The device name as its MDM shows it.
    pub name: String,
    /// Serial number.
    pub serial: String,
    /// Apple UDID / WS1 Udid.
    pub udid: String,
    /// Jamf Pro inventory id.
    pub jss_id: u32,
    /// Jamf management id / WS1 device UUID.
    pub management_id: u128,
    /// Intune managed-device id.
    pub intune_id: u128,
    /// Entra device id.
    pub aad_id: u128,
    /// Workspace ONE device id.
    pub ws1_id: u32,
    /// Wi-Fi / Ethernet MAC.
    pub mac: [u8; 6],
    /// IP address last reported.
    pub ip: [u8; 4],
    /// IMEI (phones), empty otherwise.
    pub imei: String,
    /// When the device enrolled.
    pub enrolled: Micros,
    /// Managed now (false before a planted enrollment and after wipe, delete or retirement).
    pub active: bool,
    /// Compliance state.
    pub compliant: bool,
    /// Disk encryption on.
    pub encrypted: bool,
    /// Supervised (Apple) / corporate-owned.
    pub supervised: bool,
    /// Corporate-owned.
    pub company: bool,
    /// Activation Lock bypass code (a secret Intune returns for supervised iOS devices).
    pub lock_code: Option<String>,
    /// A remote action in progress (name, since) shown in managedDevices `deviceActionResults`.
    pub pending_action: Option<(&'static str, Micros)>,
    /// Owned by a planted scenario.
    pub reserved: bool,
}

impl Device {
    /// OS version.
    pub fn os_version(&self) -> &'static str {
        self.model.os[self.os].0
    }

    /// OS build.
    pub fn os_build(&self) -> &'static str {
        self.model.os[self.os].1
    }

    /// Platform.
    pub fn platform(&self) -> Platform {
        self.class.platform()
    }
}

/// A named object an admin edits: (id, name).
#[derive(Debug, Clone)]
pub struct Obj {
    /// Numeric id (Jamf, WS1) or 0.
    pub num: u32,
    /// GUID (Intune) or 0.
    pub guid: u128,
    /// Display name.
    pub name: String,
}

/// The whole organisation and its estate.
#[derive(Debug)]
pub struct Fleet {
    /// Intune / Entra tenant id.
    pub tenant_id: u128,
    /// Intune account id.
    pub intune_account_id: u128,
    /// People.
    pub users: Vec<User>,
    /// Admin accounts of every console.
    pub admins: Vec<Admin>,
    /// API clients.
    pub api_clients: Vec<ApiClient>,
    /// Devices.
    pub devices: Vec<Device>,
    /// Device indices per class (same order as [`DeviceClass::MIX`]).
    pub by_class: Vec<Vec<u32>>,
    /// Zone table: offices first, then the partner zone.
    pub zones: TzTable,
    /// Jamf smart computer groups.
    pub jamf_computer_groups: Vec<Obj>,
    /// Jamf smart mobile-device groups.
    pub jamf_mobile_groups: Vec<Obj>,
    /// Jamf policies.
    pub jamf_policies: Vec<Obj>,
    /// Jamf macOS configuration profiles.
    pub jamf_mac_profiles: Vec<Obj>,
    /// Jamf mobile-device configuration profiles.
    pub jamf_mobile_profiles: Vec<Obj>,
    /// Jamf scripts.
    pub jamf_scripts: Vec<Obj>,
    /// Jamf patch policies: (policy, software title id).
    pub jamf_patch_policies: Vec<(Obj, u32)>,
    /// Intune device configurations (DeviceConfiguration).
    pub intune_configs: Vec<Obj>,
    /// Intune settings-catalog policies (DeviceManagementConfigurationPolicy).
    pub intune_settings: Vec<Obj>,
    /// Intune compliance policies.
    pub intune_compliance: Vec<Obj>,
    /// Intune apps.
    pub intune_apps: Vec<Obj>,
    /// Entra groups used as assignment targets.
    pub intune_groups: Vec<Obj>,
    /// Intune assignment filters.
    pub intune_filters: Vec<Obj>,
    /// Workspace ONE profiles.
    pub ws1_profiles: Vec<Obj>,
    /// Workspace ONE smart groups.
    pub ws1_smart_groups: Vec<Obj>,
    /// Workspace ONE applications.
    pub ws1_apps: Vec<Obj>,
    /// Workspace ONE organization groups.
    pub ws1_org_groups: Vec<&'static str>,
}

/// What planted scenarios need from the fleet (so it is built big enough).
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// Finance devices in Intune (Windows + macOS).
    pub finance_intune: u32,
}

impl Fleet {
    /// Device indices of a class.
    pub fn class(&self, class: DeviceClass) -> &[u32] {
        let i = DeviceClass::MIX
            .iter()
            .position(|(c, _)| *c == class)
            .unwrap_or(0);
        &self.by_class[i]
    }

    /// The owner of a device, if any.
    pub fn owner(&self, d: &Device) -> Option<&User> {
        d.owner.map(|u| &self.users[u as usize])
    }

    /// Admin indices of one console.
    pub fn admins_of(&self, mdm: Mdm) -> Vec<usize> {
        (0..self.admins.len())
            .filter(|i| self.admins[*i].mdm == mdm)
            .collect()
    }

    /// API client indices of one MDM.
    pub fn api_clients_of(&self, mdm: Mdm) -> Vec<usize> {
        (0..self.api_clients.len())
            .filter(|i| self.api_clients[*i].mdm == mdm)
            .collect()
    }

    /// The WS1 organization group of a device.
    pub fn ws1_org_group(&self, d: &Device) -> &'static str {
        let office = self.owner(d).map_or(0, |u| u.office);
        if d.class == DeviceClass::Ws1Android && d.company {
            self.ws1_org_groups[2]
        } else if matches!(office, 3 | 4) {
            self.ws1_org_groups[1]
        } else {
            self.ws1_org_groups[0]
        }
    }
}
