//! The estate's directory files (`people.csv`, `devices.csv`), as an HR system and an asset register
//! would export them, for entity resolution (the write path's `enrich` stage reads the same file names;
//! `tests/tests/generate.rs` keeps the names in step).
//!
//! Staff admins, device owners and API clients are listed; the managed-service partner's admins are
//! not (they are not the organisation's people), so their events stay unresolved, as in real life.

use std::io::Write;
use std::path::Path;

use super::buf::guid_string;
use super::fleet::{DEPARTMENTS, DeviceClass, Fleet, Mdm, OFFICES};
use crate::GenerateError;

/// Sub-directory of the generator's output holding the directory files.
pub const DIRECTORY_DIR: &str = "directory";

/// The people file (the enrich stage's `PEOPLE_FILE`).
pub const PEOPLE_FILE: &str = "people.csv";

/// The device register (the enrich stage's `DEVICES_FILE`).
pub const DEVICES_FILE: &str = "devices.csv";

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn line(cells: &[&str]) -> String {
    let mut l = cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    l.push('\n');
    l
}

/// Writes `people.csv` and `devices.csv` of `fleet` into `dir` (created if missing).
pub(super) fn write(fleet: &Fleet, dir: &Path) -> Result<(), GenerateError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| GenerateError::io(format!("creating {}", dir.display()), e))?;
    let mut people = line(&[
        "id",
        "person",
        "email",
        "department",
        "manager",
        "time_zone",
        "business_hours",
    ]);
    let head = fleet
        .admins
        .iter()
        .find(|a| a.tz < OFFICES.len())
        .map(|a| format!("{} {}", a.first, a.last))
        .unwrap_or_default();
    for a in fleet.admins.iter().filter(|a| a.tz < OFFICES.len()) {
        let name = format!("{} {}", a.first, a.last);
        let email = if a.account.contains('@') {
            a.account.clone()
        } else {
            String::new()
        };
        let manager = if name == head {
            "Chief Information Officer".to_owned()
        } else {
            head.clone()
        };
        let hours = format!("{:02}-{:02}", a.hours.0, a.hours.1);
        let zone = OFFICES[a.tz].1;
        let mut ids = vec![a.account.clone()];
        if a.mdm == Mdm::Intune && a.object_id != 0 {
            ids.push(guid_string(a.object_id));
        }
        for id in ids {
            people.push_str(&line(&[&id, &name, &email, "IT", &manager, zone, &hours]));
        }
    }
    for u in &fleet.users {
        let name = format!("{} {}", u.first, u.last);
        let dept = DEPARTMENTS[usize::from(u.dept)].0;
        let zone = OFFICES[usize::from(u.office) % OFFICES.len()].1;
        for id in [&u.upn, &u.username] {
            people.push_str(&line(&[id, &name, &u.upn, dept, "", zone, "09-17"]));
        }
    }
    for c in &fleet.api_clients {
        let mut ids = vec![guid_string(c.id)];
        if c.sp_object_id != 0 {
            ids.push(guid_string(c.sp_object_id));
        }
        ids.push(c.name.to_owned());
        for id in ids {
            people.push_str(&line(&[&id, c.name, "", "IT", &head, "", ""]));
        }
    }
    // Service accounts the consoles run automated work under: known, and at work around the clock.
    for (id, name) in [
        ("sysadmin", "Workspace ONE system account"),
        ("svc-munki-sync", "Munki inventory sync service account"),
    ] {
        people.push_str(&line(&[id, name, "", "IT", &head, "UTC", "00-24"]));
    }
    let mut devices = line(&["id", "serial", "name", "asset_tag", "owner", "department"]);
    for d in &fleet.devices {
        let id = match d.class.mdm() {
            Mdm::Jamf => d.jss_id.to_string(),
            Mdm::Intune => guid_string(d.intune_id),
            Mdm::Ws1 => d.ws1_id.to_string(),
        };
        let owner = d
            .owner
            .and_then(|o| fleet.users.get(o as usize))
            .map(|u| format!("{} {}", u.first, u.last))
            .unwrap_or_default();
        let tag = format!(
            "AT-{}{:05}",
            if matches!(d.class, DeviceClass::JamfMac | DeviceClass::IntuneMac) {
                "M"
            } else {
                "D"
            },
            d.jss_id
        );
        let dept = DEPARTMENTS[usize::from(d.dept)].0;
        devices.push_str(&line(&[&id, &d.serial, &d.name, &tag, &owner, dept]));
    }
    for (name, text) in [(PEOPLE_FILE, people), (DEVICES_FILE, devices)] {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| GenerateError::io(format!("writing {}", path.display()), e))?;
    }
    Ok(())
}
