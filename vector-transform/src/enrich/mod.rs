//! Entity resolution from directory files: who an admin account is, and whose a device is.
//!
//! A directory is a folder with two CSV files (header row required, columns in any order, extra
//! columns ignored):
//!
//! - `people.csv`: `id,person,email,department,manager,time_zone,business_hours`. `id` is an account
//!   identifier as the MDM logs name it (UPN, e-mail, console account name, Entra object id); a person
//!   with several accounts has one row per account. `time_zone` is a TZ database name and
//!   `business_hours` local hours `HH-HH` (`08-18`; `00-24` for service accounts that work around the
//!   clock, never off hours); both may be empty (the correlation defaults apply).
//! - `devices.csv`: `id,serial,name,asset_tag,owner,department`. A device is found by its serial
//!   number, else by its MDM id, else by its name.
//!
//! Matching ignores case. An event whose actor or device is not in the directory keeps its ids as they
//! are and gets `actor` / `device` in its `unresolved` column. [`DirectoryWatcher`] checks the files'
//! modification times at most every [`RELOAD_CHECK`] and reloads them when they change, so edits are
//! picked up without a restart; a file that fails to load keeps the previous directory in force and
//! logs why.
//!
//! [`EnrichStage`] is the pipeline stage that fills the columns; later stages that need to know a
//! person (correlation: time zone and business hours) read the same directory through a
//! [`DirectoryHandle`], which the stage updates when it reloads.

mod stage;
mod watcher;

pub use stage::{EnrichStage, EnrichStats};
pub use watcher::{DirectoryHandle, DirectoryWatcher};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::NormalizedEvent;

/// People file name in the directory.
pub const PEOPLE_FILE: &str = "people.csv";
/// Devices file name in the directory.
pub const DEVICES_FILE: &str = "devices.csv";
/// How often the watcher looks at the files' modification times.
pub const RELOAD_CHECK: Duration = Duration::from_secs(2);

/// A directory file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The file could not be opened or read.
    #[error("reading directory file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A row is not valid.
    #[error("{path} line {line}: {reason}")]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based line (the header is line 1).
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

/// A person behind one or more admin accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Full name.
    pub person: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Manager's name.
    pub manager: Option<String>,
    /// Home time zone.
    pub time_zone: Option<Tz>,
    /// Local business hours (start hour, end hour), end exclusive.
    pub business_hours: Option<(u32, u32)>,
}

/// A device as the asset register knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEntry {
    /// Asset tag.
    pub asset_tag: Option<String>,
    /// Owner's name.
    pub owner: Option<String>,
    /// Department.
    pub department: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PersonRow {
    id: String,
    person: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    manager: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    business_hours: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DeviceRow {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    serial: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    asset_tag: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    department: Option<String>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Parses `HH-HH` (`08-18`, `8-18`); the end may be 24.
pub fn parse_business_hours(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("business hours {s:?}: expected HH-HH, e.g. 08-18"))?;
    let hour = |h: &str| {
        h.trim()
            .parse::<u32>()
            .map_err(|_| format!("business hours {s:?}: {h:?} is not an hour"))
    };
    let (a, b) = (hour(a)?, hour(b)?);
    if a >= b || b > 24 {
        return Err(format!(
            "business hours {s:?}: the start must be before the end, within 0-24"
        ));
    }
    Ok((a, b))
}

/// What entity resolution found for one event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resolution<'a> {
    /// The actor's person, if found.
    pub person: Option<&'a Person>,
    /// The device, if found.
    pub device: Option<&'a DeviceEntry>,
}

/// The loaded directory.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: HashMap<String, Person>,
    devices: HashMap<String, DeviceEntry>,
}

impl Directory {
    /// Loads `people.csv` and `devices.csv` from `dir`; a missing file is an empty table.
    pub fn load(dir: &Path) -> Result<Self, DirectoryError> {
        let mut d = Directory::default();
        let people = dir.join(PEOPLE_FILE);
        if people.exists() {
            for (line, row) in read_rows::<PersonRow>(&people)? {
                let row_err = |reason: String| DirectoryError::Row {
                    path: people.clone(),
                    line,
                    reason,
                };
                let time_zone = match nonempty(row.time_zone) {
                    Some(z) => Some(
                        z.parse::<Tz>()
                            .map_err(|_| row_err(format!("unknown time zone {z:?}")))?,
                    ),
                    None => None,
                };
                let business_hours = match nonempty(row.business_hours) {
                    Some(h) => Some(parse_business_hours(&h).map_err(row_err)?),
                    None => None,
                };
                let id = key(&row.id);
                if id.is_empty() {
                    return Err(row_err("empty id".to_owned()));
                }
                let person = Person {
                    person: row.person.trim().to_owned(),
                    email: nonempty(row.email),
                    department: nonempty(row.department),
                    manager: nonempty(row.manager),
                    time_zone,
                    business_hours,
                };
                if let Some(email) = &person.email {
                    d.people.entry(key(email)).or_insert_with(|| person.clone());
                }
                d.people.insert(id, person);
            }
        }
        let devices = dir.join(DEVICES_FILE);
        if devices.exists() {
            for (line, row) in read_rows::<DeviceRow>(&devices)? {
                let entry = DeviceEntry {
                    asset_tag: nonempty(row.asset_tag),
                    owner: nonempty(row.owner),
                    department: nonempty(row.department),
                };
                let keys: Vec<String> = [row.serial, row.id, row.name]
                    .into_iter()
                    .filter_map(nonempty)
                    .map(|k| key(&k))
                    .collect();
                if keys.is_empty() {
                    return Err(DirectoryError::Row {
                        path: devices.clone(),
                        line,
                        reason: "a device needs a serial, an id or a name".to_owned(),
                    });
                }
                for k in keys {
                    d.devices.insert(k, entry.clone());
                }
            }
        }
        Ok(d)
    }

    /// Identifiers known for people.
    pub fn people_len(&self) -> usize {
        self.people.len()
    }

    /// Identifiers known for devices.
    pub fn devices_len(&self) -> usize {
        self.devices.len()
    }

    /// The person behind the event's actor: by UPN, then id, then name.
    pub fn person_of(&self, e: &NormalizedEvent) -> Option<&Person> {
        [&e.actor_upn, &e.actor_id, &e.actor_name]
            .into_iter()
            .flatten()
            .find_map(|k| self.people.get(&key(k)))
    }

    /// The device of the event: by serial, then id, then name.
    pub fn device_of(&self, e: &NormalizedEvent) -> Option<&DeviceEntry> {
        [&e.device_serial, &e.device_id, &e.device_name]
            .into_iter()
            .flatten()
            .find_map(|k| self.devices.get(&key(k)))
    }

    /// Fills the event's person, department and asset columns from the directory; ids not found are
    /// left as they are and flagged in `unresolved`. Returns what was found.
    pub fn enrich<'a>(&'a self, e: &mut NormalizedEvent) -> Resolution<'a> {
        let person = self.person_of(e);
        let has_actor = e.actor_upn.is_some() || e.actor_id.is_some() || e.actor_name.is_some();
        let human = !matches!(e.actor_kind.as_deref(), Some("system"));
        match person {
            Some(p) => {
                e.actor_person = Some(p.person.clone());
                if p.department.is_some() {
                    e.actor_department.clone_from(&p.department);
                }
            }
            None if has_actor && human => push_unique(&mut e.unresolved, "actor"),
            None => {}
        }
        let device = self.device_of(e);
        let has_device =
            e.device_serial.is_some() || e.device_id.is_some() || e.device_name.is_some();
        match device {
            Some(d) => {
                if e.asset_tag.is_none() {
                    e.asset_tag.clone_from(&d.asset_tag);
                }
                if d.department.is_some() {
                    e.device_department.clone_from(&d.department);
                }
                if e.device_user.is_none() {
                    e.device_user.clone_from(&d.owner);
                }
            }
            None if has_device => push_unique(&mut e.unresolved, "device"),
            None => {}
        }
        Resolution { person, device }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<(u64, T)>, DirectoryError> {
    let file = std::fs::File::open(path).map_err(|source| DirectoryError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(file);
    let mut rows = Vec::new();
    for (i, rec) in reader.deserialize::<T>().enumerate() {
        let line = i as u64 + 2;
        let row = rec.map_err(|e| DirectoryError::Row {
            path: path.to_owned(),
            line,
            reason: e.to_string(),
        })?;
        rows.push((line, row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn event() -> NormalizedEvent {
        serde_json::from_value(serde_json::json!({
            "event_uid": "u1", "time": "2026-03-02T10:00:00Z", "vendor": "microsoft",
            "product": "intune", "feed": "graph_audit", "native_action": "wipe ManagedDevice",
            "ocsf_class_uid": 3004, "ocsf_activity_id": 99, "category": "device_action",
            "action": "wipe", "outcome": "success", "actor_kind": "user",
            "actor_upn": "Mallory.Admin@Contoso.com", "device_id": "dev-1",
            "device_serial": "C02ABC", "message": "m", "raw": "{}"
        }))
        .expect("event")
    }

    pub(super) fn write(dir: &Path, people: &str, devices: &str) {
        std::fs::write(dir.join(PEOPLE_FILE), people).expect("people");
        std::fs::write(dir.join(DEVICES_FILE), devices).expect("devices");
    }

    #[test]
    fn actors_and_devices_resolve_ignoring_case_and_unknown_ones_are_flagged() {
        let dir = tempfile::tempdir().expect("tmp");
        write(
            dir.path(),
            "id,person,email,department,manager,time_zone,business_hours\n\
             mallory.admin@contoso.com,Mallory Admin,,IT,Ivan Boss,Europe/Berlin,07-16\n",
            "id,serial,name,asset_tag,owner,department\n,c02abc,,AT-00042,Anna Meyer,Finance\n",
        );
        let d = Directory::load(dir.path()).expect("load");
        let mut e = event();
        let r = d.enrich(&mut e);
        let p = r.person.expect("person");
        assert_eq!(p.time_zone, Some(chrono_tz::Europe::Berlin));
        assert_eq!(p.business_hours, Some((7, 16)));
        assert_eq!(e.actor_person.as_deref(), Some("Mallory Admin"));
        assert_eq!(e.actor_department.as_deref(), Some("IT"));
        assert_eq!(e.asset_tag.as_deref(), Some("AT-00042"));
        assert_eq!(e.device_department.as_deref(), Some("Finance"));
        assert!(e.unresolved.is_empty());

        let mut other = event();
        other.actor_upn = Some("eve@evil.example".into());
        other.device_serial = Some("NOPE".into());
        other.device_id = Some("dev-9".into());
        d.enrich(&mut other);
        assert_eq!(other.actor_upn.as_deref(), Some("eve@evil.example"));
        assert_eq!(other.actor_person, None);
        assert_eq!(
            other.unresolved,
            vec!["actor".to_owned(), "device".to_owned()]
        );
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tmp");
        write(
            dir.path(),
            "id,person,time_zone,business_hours\na,A,UTC,08-18\nb,B,Mars/Base,08-18\n",
            "id,serial\n",
        );
        let e = Directory::load(dir.path()).expect_err("bad zone");
        let msg = e.to_string();
        assert!(
            msg.contains("people.csv line 3") && msg.contains("Mars/Base"),
            "{msg}"
        );
        assert!(parse_business_hours("18-08").is_err());
        assert_eq!(parse_business_hours("8-18"), Ok((8, 18)));
    }
}
