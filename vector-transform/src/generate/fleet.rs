//! The simulated organisation: people (with departments, offices and home time zones), administrators
//! of each MDM with their roles and business hours, API clients, and the managed devices of five
//! platforms spread over Jamf Pro, Intune and Workspace ONE, with the groups, policies and profiles the
//! admins edit. Built once from the seed; only device state changes while the estate is generated.

use std::collections::HashSet;

use super::buf::{guid_string, v4};
use super::config::GenerateConfig;
use super::rng::Rng;
use super::time::{DAY, Micros, TzTable};

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

const FIRST: [&str; 64] = [
    "Anna",
    "Omar",
    "Sara",
    "Priya",
    "Marco",
    "Lidia",
    "Megan",
    "Adele",
    "Diego",
    "Joni",
    "Lee",
    "Patti",
    "Alex",
    "Isaiah",
    "Nestor",
    "Grady",
    "Lynne",
    "Miriam",
    "Pradeep",
    "Johanna",
    "Henrietta",
    "Irvin",
    "Raul",
    "Emily",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farah",
    "George",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Laura",
    "Mateo",
    "Nadia",
    "Oscar",
    "Paula",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bianca",
    "Carlos",
    "Dana",
    "Ethan",
    "Fiona",
    "Gabriel",
    "Helen",
    "Igor",
    "Jasmine",
    "Karl",
    "Leila",
    "Mohammed",
    "Nora",
    "Olivia",
];
const LAST: [&str; 64] = [
    "Meyer",
    "Hassan",
    "Lindqvist",
    "Natarajan",
    "Rossi",
    "Holloway",
    "Bowen",
    "Vance",
    "Siciliani",
    "Sherman",
    "Gu",
    "Fernandez",
    "Wilber",
    "Langer",
    "Wilke",
    "Archie",
    "Robinson",
    "Graham",
    "Gupta",
    "Lauren",
    "Gerhart",
    "Kerr",
    "Castillo",
    "Chen",
    "Okafor",
    "Dubois",
    "Novak",
    "Petrov",
    "Ahmed",
    "Brennan",
    "Sato",
    "Ivanova",
    "Kowalski",
    "Tanaka",
    "Moreau",
    "Garcia",
    "Haddad",
    "Larsen",
    "Silva",
    "Murphy",
    "Alvarez",
    "Nakamura",
    "Schmidt",
    "Costa",
    "Okonkwo",
    "Park",
    "Nguyen",
    "Lopez",
    "Yilmaz",
    "Berg",
    "Fischer",
    "Kaur",
    "Reyes",
    "Walsh",
    "Kim",
    "Jensen",
    "Rahman",
    "Santos",
    "Weber",
    "Popescu",
    "Horvat",
    "Lindgren",
    "Mensah",
    "Oyelaran",
];

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

const MAC_OS: &[(&str, &str)] = &[
    ("15.3.1", "24D70"),
    ("15.2", "24C101"),
    ("14.7.4", "23H420"),
];
const IOS_OS: &[(&str, &str)] = &[
    ("18.3.1", "22D72"),
    ("18.2.1", "22C161"),
    ("17.7.2", "21H221"),
];
const IPAD_OS: &[(&str, &str)] = &[("18.3", "22D63"), ("17.7", "21H16")];
const WIN_OS: &[(&str, &str)] = &[
    ("10.0.22631.4890", "22631"),
    ("10.0.26100.3194", "26100"),
    ("10.0.19045.5487", "19045"),
];
const ANDROID_OS: &[(&str, &str)] = &[("14", "AP2A.240805.005"), ("15", "AP4A.250205.002")];

const MACS: [Model; 4] = [
    Model {
        name: "MacBook Pro (14-inch, M3, 2023)",
        product: "Mac15,3",
        manufacturer: "Apple",
        short: "MBP",
        os: MAC_OS,
    },
    Model {
        name: "MacBook Air (M2, 2022)",
        product: "Mac14,2",
        manufacturer: "Apple",
        short: "MBA",
        os: MAC_OS,
    },
    Model {
        name: "iMac (24-inch, M1, 2021)",
        product: "iMac21,1",
        manufacturer: "Apple",
        short: "IMAC",
        os: MAC_OS,
    },
    Model {
        name: "Mac mini (M2, 2023)",
        product: "Mac14,3",
        manufacturer: "Apple",
        short: "MINI",
        os: MAC_OS,
    },
];
const IPHONES: [Model; 3] = [
    Model {
        name: "iPhone 15 Pro",
        product: "iPhone16,1",
        manufacturer: "Apple",
        short: "iPhone 15 Pro",
        os: IOS_OS,
    },
    Model {
        name: "iPhone 14",
        product: "iPhone14,7",
        manufacturer: "Apple",
        short: "iPhone 14",
        os: IOS_OS,
    },
    Model {
        name: "iPhone 16",
        product: "iPhone17,3",
        manufacturer: "Apple",
        short: "iPhone 16",
        os: IOS_OS,
    },
];
const IPADS: [Model; 2] = [
    Model {
        name: "iPad Air (5th generation)",
        product: "iPad13,16",
        manufacturer: "Apple",
        short: "iPad Air",
        os: IPAD_OS,
    },
    Model {
        name: "iPad (10th generation)",
        product: "iPad13,18",
        manufacturer: "Apple",
        short: "iPad",
        os: IPAD_OS,
    },
];
const PCS: [Model; 4] = [
    Model {
        name: "Latitude 7440",
        product: "Latitude",
        manufacturer: "Dell Inc.",
        short: "LAPTOP",
        os: WIN_OS,
    },
    Model {
        name: "ThinkPad T14 Gen 4",
        product: "21HD",
        manufacturer: "LENOVO",
        short: "LAPTOP",
        os: WIN_OS,
    },
    Model {
        name: "HP EliteBook 840 G10",
        product: "840G10",
        manufacturer: "HP",
        short: "LAPTOP",
        os: WIN_OS,
    },
    Model {
        name: "OptiPlex 7010",
        product: "OptiPlex",
        manufacturer: "Dell Inc.",
        short: "DESKTOP",
        os: WIN_OS,
    },
];
const ANDROIDS: [Model; 3] = [
    Model {
        name: "Pixel 8 Pro",
        product: "husky",
        manufacturer: "Google",
        short: "Pixel 8 Pro",
        os: ANDROID_OS,
    },
    Model {
        name: "Galaxy S24",
        product: "SM-S921B",
        manufacturer: "samsung",
        short: "Galaxy S24",
        os: ANDROID_OS,
    },
    Model {
        name: "Galaxy XCover7",
        product: "SM-G556B",
        manufacturer: "samsung",
        short: "Galaxy XCover7",
        os: ANDROID_OS,
    },
];

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

fn serial(rng: &mut Rng, prefix: &str, len: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut s = String::with_capacity(len);
    s.push_str(prefix);
    while s.len() < len {
        s.push(char::from(CHARS[rng.index(CHARS.len())]));
    }
    s
}

fn apple_udid(rng: &mut Rng, mac: bool) -> String {
    if mac {
        guid_string(rng.next_u128()).to_ascii_uppercase()
    } else {
        // 00008120-001A2C3E0E91401E
        format!(
            "0000{:04}-00{:014X}",
            8100 + rng.below(40),
            rng.next_u64() & 0x00FF_FFFF_FFFF_FFFF
        )
    }
}

fn imei(rng: &mut Rng) -> String {
    let mut s = String::from("35");
    while s.len() < 15 {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    s
}

impl Fleet {
    /// Builds the organisation for `config`.
    pub fn build(config: &GenerateConfig, needs: Needs) -> Self {
        let seed = config.seed;
        let mut rng = Rng::for_part(seed, "fleet", 0);
        let zones: Vec<&'static str> = OFFICES
            .iter()
            .map(|o| o.1)
            .chain(std::iter::once(PARTNER_TZ))
            .collect();
        let zones = TzTable::new(&zones, config.start, config.days);
        let tenant_id = v4(rng.next_u128());
        let intune_account_id = v4(rng.next_u128());

        // --- people ---------------------------------------------------------------------------
        let n_devices = config.devices as usize;
        let n_users = (n_devices * 4 / 5).max(60);
        let dept_weights: Vec<u32> = DEPARTMENTS.iter().map(|d| d.1).collect();
        let office_weights: Vec<u32> = OFFICES.iter().map(|o| o.2).collect();
        let mut taken = HashSet::new();
        let mut users = Vec::with_capacity(n_users);
        for i in 0..n_users {
            let first = *rng.pick(&FIRST);
            let last = *rng.pick(&LAST);
            let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
            let mut username = base.clone();
            let mut n = 2;
            while !taken.insert(username.clone()) {
                username = format!("{base}{n}");
                n += 1;
            }
            // The first users are the executives, then a guaranteed Finance team.
            let dept = if i < 6 {
                EXECUTIVE
            } else if i < 6 + (needs.finance_intune as usize + 8) {
                FINANCE
            } else {
                rng.weighted(&dept_weights) as u8
            };
            let position = match dept {
                EXECUTIVE => ["CEO", "CFO", "COO", "CTO", "CISO", "General Counsel"][i % 6],
                FINANCE => *rng.pick(&[
                    "Controller",
                    "Accountant",
                    "Financial Analyst",
                    "Payroll Specialist",
                ]),
                IT => *rng.pick(&[
                    "Systems Engineer",
                    "Service Desk Analyst",
                    "Endpoint Engineer",
                ]),
                _ => *rng.pick(&["Analyst", "Manager", "Specialist", "Associate", "Lead"]),
            };
            users.push(User {
                first,
                last,
                upn: format!("{username}@{DOMAIN}"),
                username,
                dept,
                office: rng.weighted(&office_weights) as u8,
                object_id: v4(rng.next_u128()),
                ws1_user_id: 40_000 + i as u32,
                position,
            });
        }

        // --- admins ---------------------------------------------------------------------------
        let mut admins = Vec::new();
        let mut admin_names = HashSet::new();
        let mut new_admin = |rng: &mut Rng, mdm: Mdm, role: &'static str, office: usize| {
            let (first, last) = loop {
                let f = *rng.pick(&FIRST);
                let l = *rng.pick(&LAST);
                if admin_names.insert((f, l)) {
                    break (f, l);
                }
            };
            let lower = format!("{}.{}", f_lower(first), f_lower(last));
            let account = match mdm {
                Mdm::Jamf | Mdm::Intune => format!("{lower}@{DOMAIN}"),
                Mdm::Ws1 => format!(
                    "CORP\\{}{}",
                    f_lower(first).chars().next().unwrap_or('x'),
                    f_lower(last)
                ),
            };
            let prefix = OFFICES[office].3;
            Admin {
                mdm,
                first,
                last,
                account,
                jamf_id: -1,
                object_id: v4(rng.next_u128()),
                role,
                tz: office,
                hours: (8 + rng.below(2) as u32, 17 + rng.below(2) as u32),
                ip: [prefix[0], prefix[1], prefix[2], 100 + rng.below(100) as u8],
                reserved: false,
            }
        };
        for (role, office) in [
            ("Administrator", 0),
            ("Administrator", 4),
            ("Site Admin", 2),
            ("Help Desk", 0),
            ("Auditor", 3),
        ] {
            admins.push(new_admin(&mut rng, Mdm::Jamf, role, office));
        }
        // The local break-glass account of Jamf Pro.
        admins.push(Admin {
            mdm: Mdm::Jamf,
            first: "Jamf",
            last: "Admin",
            account: "jssadmin".into(),
            jamf_id: 1,
            object_id: 0,
            role: "Administrator",
            tz: 0,
            hours: (9, 17),
            ip: [10, 20, 0, 15],
            reserved: false,
        });
        for (role, office) in [
            ("Intune Administrator", 0),
            ("Intune Role Administrator", 1),
            ("Policy and Profile Manager", 3),
            ("Policy and Profile Manager", 0),
            ("Help Desk Operator", 2),
            ("Help Desk Operator", 5),
        ] {
            admins.push(new_admin(&mut rng, Mdm::Intune, role, office));
        }
        for (role, office) in [
            ("System Administrator", 0),
            ("Console Administrator", 4),
            ("Helpdesk", 0),
            ("Helpdesk", 1),
        ] {
            admins.push(new_admin(&mut rng, Mdm::Ws1, role, office));
        }

        let api_clients = vec![
            ApiClient {
                mdm: Mdm::Jamf,
                id: v4(rng.next_u128()),
                name: "Inventory Sync",
                sp_object_id: 0,
                permissions: "",
                ip: [89, 160, 20, 156],
            },
            ApiClient {
                mdm: Mdm::Jamf,
                id: v4(rng.next_u128()),
                name: "Asset Lifecycle Automation",
                sp_object_id: 0,
                permissions: "",
                ip: [89, 160, 20, 157],
            },
            ApiClient {
                mdm: Mdm::Intune,
                id: v4(rng.next_u128()),
                name: "Northwind Device Lifecycle Automation",
                sp_object_id: v4(rng.next_u128()),
                permissions: "DeviceManagementManagedDevices.PrivilegedOperations.All",
                ip: [0, 0, 0, 0],
            },
            ApiClient {
                mdm: Mdm::Intune,
                id: v4(rng.next_u128()),
                name: "Northwind Intune Reporting",
                sp_object_id: v4(rng.next_u128()),
                permissions: "DeviceManagementConfiguration.Read.All",
                ip: [0, 0, 0, 0],
            },
        ];

        // --- devices --------------------------------------------------------------------------
        let mut devices = Vec::with_capacity(n_devices);
        let mut by_class = vec![Vec::new(); DeviceClass::MIX.len()];
        let mut names = HashSet::new();
        let total_share: u32 = DeviceClass::MIX.iter().map(|c| c.1).sum();
        let mut jss_computer = 400u32;
        let mut jss_mobile = 1100u32;
        let mut ws1_id = 19_000u32;
        let finance_users: Vec<u32> = (0..users.len() as u32)
            .filter(|u| users[*u as usize].dept == FINANCE)
            .collect();
        let exec_users: Vec<u32> = (0..users.len() as u32)
            .filter(|u| users[*u as usize].dept == EXECUTIVE)
            .collect();
        let mut finance_assigned = 0u32;
        for (ci, (class, share)) in DeviceClass::MIX.iter().enumerate() {
            let mut count =
                (n_devices as u64 * u64::from(*share) / u64::from(total_share)) as usize;
            if ci == 0 {
                // Rounding leftovers go to the largest class.
                let sum: usize = DeviceClass::MIX
                    .iter()
                    .map(|(_, s)| {
                        (n_devices as u64 * u64::from(*s) / u64::from(total_share)) as usize
                    })
                    .sum();
                count += n_devices - sum;
            }
            for k in 0..count {
                let platform = class.platform();
                let model: &'static Model = match platform {
                    Platform::MacOs => rng.pick(&MACS),
                    Platform::Ios => rng.pick(&IPHONES),
                    Platform::IpadOs => rng.pick(&IPADS),
                    Platform::Windows => rng.pick(&PCS),
                    Platform::Android => rng.pick(&ANDROIDS),
                };
                let shared = *class == DeviceClass::JamfIpad;
                // Finance devices first among Intune Windows and Macs; executives get iPhones in WS1 and
                // Macs in Jamf first.
                let owner: Option<u32> = if shared {
                    None
                } else if matches!(class, DeviceClass::IntuneWindows | DeviceClass::IntuneMac)
                    && finance_assigned < needs.finance_intune.max(4)
                    && !finance_users.is_empty()
                {
                    finance_assigned += 1;
                    Some(finance_users[(finance_assigned as usize - 1) % finance_users.len()])
                } else if matches!(class, DeviceClass::Ws1Ios | DeviceClass::JamfMac)
                    && k < exec_users.len()
                {
                    Some(exec_users[k])
                } else {
                    Some(rng.below(users.len() as u64) as u32)
                };
                let user = owner.map(|u| &users[u as usize]);
                let dept = user.map_or(8, |u| u.dept);
                let mac_addr = {
                    let r = rng.next_u64().to_be_bytes();
                    [0x3c, r[1], r[2], r[3], r[4], r[5]]
                };
                let office = user.map_or(0, |u| u.office as usize);
                let ip = {
                    let p = OFFICES[office].3;
                    if rng.chance(0.5) {
                        [
                            10,
                            20 + office as u8,
                            rng.below(16) as u8,
                            2 + rng.below(250) as u8,
                        ]
                    } else {
                        [p[0], p[1], p[2], 2 + rng.below(250) as u8]
                    }
                };
                let (serial_no, udid) = match platform {
                    Platform::MacOs => {
                        let prefix = if rng.chance(0.5) { "C02" } else { "FVF" };
                        (serial(&mut rng, prefix, 12), apple_udid(&mut rng, true))
                    }
                    Platform::Ios | Platform::IpadOs => (
                        serial(
                            &mut rng,
                            if platform == Platform::Ios {
                                "G6T"
                            } else {
                                "DMP"
                            },
                            12,
                        ),
                        apple_udid(&mut rng, false),
                    ),
                    Platform::Windows => (serial(&mut rng, "PF", 8), String::new()),
                    Platform::Android => (
                        if model.manufacturer == "Google" {
                            serial(&mut rng, "3A", 14)
                        } else {
                            serial(&mut rng, "R5C", 11)
                        },
                        format!("{:032x}", rng.next_u128()),
                    ),
                };
                let name = device_name(&mut rng, *class, model, user, &serial_no, k, &mut names);
                let is_phone = matches!(platform, Platform::Ios | Platform::Android);
                let company = shared || platform != Platform::Android || rng.chance(0.6);
                let supervised = matches!(platform, Platform::Ios | Platform::IpadOs) && company;
                let lock_code = (class.mdm() == Mdm::Intune && supervised).then(|| {
                    let mut s = String::new();
                    for g in 0..6 {
                        if g > 0 {
                            s.push('-');
                        }
                        s.push_str(&serial(&mut rng, "", 4));
                    }
                    s
                });
                let jss_id = match class {
                    DeviceClass::JamfMac => {
                        jss_computer += 1 + rng.below(3) as u32;
                        jss_computer
                    }
                    DeviceClass::JamfIphone | DeviceClass::JamfIpad => {
                        jss_mobile += 1 + rng.below(3) as u32;
                        jss_mobile
                    }
                    _ => 0,
                };
                let ws1 = if class.mdm() == Mdm::Ws1 {
                    ws1_id += 1 + rng.below(40) as u32;
                    ws1_id
                } else {
                    0
                };
                let enrolled = config.start - (30 + rng.below(700) as i64) * DAY
                    + rng.below(DAY as u64) as i64;
                let os = rng.index(model.os.len());
                let idx = devices.len() as u32;
                devices.push(Device {
                    class: *class,
                    model,
                    os,
                    owner,
                    dept,
                    name,
                    serial: serial_no,
                    udid,
                    jss_id,
                    management_id: v4(rng.next_u128()),
                    intune_id: v4(rng.next_u128()),
                    aad_id: v4(rng.next_u128()),
                    ws1_id: ws1,
                    mac: mac_addr,
                    ip,
                    imei: if is_phone {
                        imei(&mut rng)
                    } else {
                        String::new()
                    },
                    enrolled,
                    active: true,
                    compliant: !rng.chance(0.06),
                    encrypted: !rng.chance(0.03),
                    supervised,
                    company,
                    lock_code,
                    pending_action: None,
                    reserved: false,
                });
                by_class[ci].push(idx);
            }
        }

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
            &mut rng,
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
            &mut rng,
            20,
            &[
                "iPadOS below 18",
                "Shared iPads - Stores",
                "Executive iPhones",
                "Supervised iPhones",
            ],
        );
        let jamf_policies = objs(
            &mut rng,
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
            &mut rng,
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
            &mut rng,
            61,
            &[
                "Wi-Fi - Stores",
                "Passcode - iOS 6 digits",
                "Restrictions - Shared iPad",
                "VPN - Always On",
            ],
        );
        let jamf_scripts = objs(
            &mut rng,
            8,
            &[
                "Rename to Asset Tag",
                "Clear Teams Cache",
                "Collect Diagnostics",
                "Set Time Server",
            ],
        );
        let jamf_patch_policies = vec![
            (obj(&mut rng, 14, "Google Chrome - Latest"), 6),
            (obj(&mut rng, 15, "Microsoft Edge - Latest"), 7),
            (obj(&mut rng, 17, "Zoom - Latest"), 9),
            (obj(&mut rng, 18, "Slack - Latest"), 11),
        ];
        let intune_configs = objs(
            &mut rng,
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
            &mut rng,
            0,
            &[
                "Win - Defender Antivirus",
                "Win - Windows Update Ring (Broad)",
                "macOS - Privacy Preferences",
                "Win - Edge Baseline",
            ],
        );
        let intune_compliance = objs(
            &mut rng,
            0,
            &[
                "Windows - Compliance",
                "iOS - Baseline compliance",
                "Android - Compliance",
                "macOS - Compliance",
            ],
        );
        let intune_apps = objs(
            &mut rng,
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
            &mut rng,
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
        let intune_filters = objs(&mut rng, 0, &["Corporate Windows 11", "Personal iOS"]);
        let ws1_profiles = objs(
            &mut rng,
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
            &mut rng,
            90,
            &[
                "Field iPhones",
                "Sales Android",
                "Non-compliant Devices",
                "Executives",
            ],
        );
        let ws1_apps = objs(
            &mut rng,
            230,
            &[
                "Workspace ONE Intelligent Hub",
                "Boxer",
                "Field Service Pro",
                "Microsoft Outlook",
            ],
        );

        Self {
            tenant_id,
            intune_account_id,
            users,
            admins,
            api_clients,
            devices,
            by_class,
            zones,
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
            ws1_org_groups: vec!["Northwind - US", "Northwind - EMEA", "Northwind - Field"],
        }
    }

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

fn f_lower(s: &str) -> String {
    s.to_lowercase()
}

fn device_name(
    rng: &mut Rng,
    class: DeviceClass,
    model: &Model,
    user: Option<&User>,
    serial: &str,
    k: usize,
    taken: &mut HashSet<String>,
) -> String {
    let base = match (class, user) {
        (DeviceClass::JamfMac, Some(u)) => {
            let initial = u.first.chars().next().unwrap_or('X');
            let mut last: String = u
                .last
                .to_uppercase()
                .chars()
                .filter(char::is_ascii_alphabetic)
                .collect();
            last.truncate(8);
            format!("NW-{}-{}{}", model.short, initial, last)
        }
        (DeviceClass::JamfIphone | DeviceClass::IntuneIos, Some(u)) => {
            format!("{}'s iPhone", u.first)
        }
        (DeviceClass::JamfIpad, _) => format!("STORE{:02}-IPAD-{:02}", 1 + k / 12, 1 + k % 12),
        (DeviceClass::IntuneWindows, _) => {
            const C: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
            let mut s = format!("{}-", model.short);
            for _ in 0..7 {
                s.push(char::from(C[rng.index(C.len())]));
            }
            s
        }
        (DeviceClass::IntuneMac, Some(u)) => {
            let dept: String = DEPARTMENTS[u.dept as usize].0.chars().take(3).collect();
            format!("MBP-{}-{:04}", dept.to_uppercase(), 1 + rng.below(200))
        }
        (DeviceClass::IntuneAndroid, _) => model.name.to_owned(),
        (DeviceClass::Ws1Ios | DeviceClass::Ws1Android, Some(u)) => {
            // WS1 friendly name: "<user> <model> <serial>".
            format!(
                "{}{} {} {}",
                &u.first[..1].to_lowercase(),
                u.last.to_lowercase(),
                model.short,
                serial
            )
        }
        (_, _) => format!("{} {}", model.short, serial),
    };
    // Intune Android names repeat in real tenants; other consoles keep names unique.
    if class == DeviceClass::IntuneAndroid {
        return base;
    }
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = if class == DeviceClass::JamfIphone || class == DeviceClass::IntuneIos {
            format!("{base} ({n})")
        } else {
            format!("{base}{n}")
        };
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_has_every_platform_console_and_zone() {
        let config = GenerateConfig::default();
        let fleet = Fleet::build(&config, Needs { finance_intune: 24 });
        assert_eq!(fleet.devices.len(), config.devices as usize);
        let platforms: HashSet<String> = fleet
            .devices
            .iter()
            .map(|d| format!("{:?}", d.platform()))
            .collect();
        assert_eq!(platforms.len(), 5, "{platforms:?}");
        for mdm in [Mdm::Jamf, Mdm::Intune, Mdm::Ws1] {
            assert!(fleet.admins_of(mdm).len() >= 3, "{mdm:?} admins");
            assert!(fleet.devices.iter().any(|d| d.class.mdm() == mdm));
        }
        let offices: HashSet<u8> = fleet.users.iter().map(|u| u.office).collect();
        assert_eq!(offices.len(), OFFICES.len());
        let finance = fleet
            .devices
            .iter()
            .filter(|d| {
                matches!(d.class, DeviceClass::IntuneWindows | DeviceClass::IntuneMac)
                    && fleet.owner(d).is_some_and(|u| u.dept == FINANCE)
            })
            .count();
        assert!(finance >= 24, "{finance} Finance devices in Intune");
        // Ids are unique where the vendors make them unique (Jamf numbers computers and mobile devices
        // separately).
        for computers in [true, false] {
            let of_kind = || {
                fleet
                    .devices
                    .iter()
                    .filter(move |d| d.jss_id > 0 && (d.class == DeviceClass::JamfMac) == computers)
            };
            let ids: HashSet<u32> = of_kind().map(|d| d.jss_id).collect();
            assert_eq!(ids.len(), of_kind().count());
        }
        let users: HashSet<&str> = fleet.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(users.len(), fleet.users.len());
        // Secrets exist only where Intune returns them.
        assert!(fleet.devices.iter().any(|d| d.lock_code.is_some()));
        assert!(
            fleet
                .devices
                .iter()
                .filter(|d| d.lock_code.is_some())
                .all(|d| d.class == DeviceClass::IntuneIos && d.supervised)
        );
    }
}
