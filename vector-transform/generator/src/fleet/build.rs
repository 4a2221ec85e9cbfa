//! Building the organisation from the seed: people, admin accounts and API clients here, then the
//! devices and the catalog of named objects, all drawn in order from one generator.

use std::collections::HashSet;

use crate::buf::v4;
use crate::config::GenerateConfig;
use crate::rng::Rng;
use crate::time::TzTable;

use super::catalog::{Catalog, catalog};
use super::devices::devices;
use super::names::{FIRST, LAST, f_lower};
use super::{
    Admin, ApiClient, DEPARTMENTS, DOMAIN, EXECUTIVE, FINANCE, Fleet, IT, Mdm, Needs, OFFICES,
    PARTNER_TZ, User,
};

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

        let n_users = (config.devices as usize * 4 / 5).max(60);
        let users = people(&mut rng, n_users, needs);
        let admins = admins(&mut rng);
        let api_clients = api_clients(&mut rng);
        let (devices, by_class) = devices(&mut rng, config, needs, &users);
        let Catalog {
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
        } = catalog(&mut rng);

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
}

/// The people: the executives first, then a guaranteed Finance team, then the departments by share.
fn people(rng: &mut Rng, n_users: usize, needs: Needs) -> Vec<User> {
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
    users
}

/// The admin accounts of every console (with the local break-glass account of Jamf Pro).
fn admins(rng: &mut Rng) -> Vec<Admin> {
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
        admins.push(new_admin(rng, Mdm::Jamf, role, office));
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
        admins.push(new_admin(rng, Mdm::Intune, role, office));
    }
    for (role, office) in [
        ("System Administrator", 0),
        ("Console Administrator", 4),
        ("Helpdesk", 0),
        ("Helpdesk", 1),
    ] {
        admins.push(new_admin(rng, Mdm::Ws1, role, office));
    }
    admins
}

/// The API clients of Jamf Pro and Intune.
fn api_clients(rng: &mut Rng) -> Vec<ApiClient> {
    vec![
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
    ]
}
