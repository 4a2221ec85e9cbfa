//! Unit tests of the fleet.

use std::collections::HashSet;

use crate::config::GenerateConfig;

use super::{DeviceClass, FINANCE, Fleet, Mdm, Needs, OFFICES};

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
