//! Jamf Pro management history through the Classic API, which has it where the Jamf Pro API has not:
//! a device's *History* pane, per device, unpaged, in JSON with `Accept: application/json`
//! (<https://developer.jamf.com/jamf-pro/reference/computerhistory>,
//! <https://developer.jamf.com/jamf-pro/reference/mobiledevicehistory>):
//! - `GET /JSSResource/computers` / `/JSSResource/mobiledevices`: the devices (`id`, `name`);
//! - `GET /JSSResource/computerhistory/id/{id}/subset/General&Audits&PolicyLogs&Commands`:
//!   `{"computer_history": {"general", "audits": [...], "policy_logs": [...],
//!   "commands": {"completed", "pending", "failed"}}}`;
//! - `GET /JSSResource/mobiledevicehistory/id/{id}/subset/General&Audits&ManagementCommands`:
//!   `{"mobile_device_history": {"general", "audits": [...],
//!   "management_commands": {"completed", "pending", "failed"}}}`.
//!
//! Each entry is one record, as sent, with `@mdmAudit.historySection` (`audits`, `policy_logs`,
//! `commands.completed`, ...) and the device (`@mdmAudit.deviceId`, `@mdmAudit.deviceName`,
//! `@mdmAudit.deviceSerial`) appended; `api_device_history.vrl` maps them. Entries older than the
//! stream's window (its checkpoint, the start of the last complete read, minus `--overlap`) are
//! skipped by their `*_epoch` times; the rest is deduplicated by event_uid.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::{JamfPuller, SOURCE, json_text};
use crate::pull::stream;
use crate::pull::{CheckpointStore, PullError, Sink};

/// One device kind's Classic API management history.
struct DeviceHistory {
    stream: &'static str,
    list: &'static str,
    list_key: &'static str,
    history: &'static str,
    subsets: &'static str,
    root: &'static str,
    commands: &'static str,
    privilege: &'static str,
}

const KINDS: [DeviceHistory; 2] = [
    DeviceHistory {
        stream: "computerHistory",
        list: "/JSSResource/computers",
        list_key: "computers",
        history: "/JSSResource/computerhistory/id",
        subsets: "General&Audits&PolicyLogs&Commands",
        root: "computer_history",
        commands: "commands",
        privilege: "Read Computers",
    },
    DeviceHistory {
        stream: "mobileDeviceHistory",
        list: "/JSSResource/mobiledevices",
        list_key: "mobile_devices",
        history: "/JSSResource/mobiledevicehistory/id",
        subsets: "General&Audits&ManagementCommands",
        root: "mobile_device_history",
        commands: "management_commands",
        privilege: "Read Mobile Devices",
    },
];

/// The latest `*_epoch` (milliseconds) of an entry.
fn entry_time(entry: &Value) -> Option<DateTime<Utc>> {
    entry
        .as_object()?
        .iter()
        .filter(|(k, _)| k.ends_with("_epoch"))
        .filter_map(|(_, v)| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
        .filter(|ms| *ms > 0)
        .max()
        .and_then(DateTime::from_timestamp_millis)
}

/// The entries of one history document: (section, entry) pairs.
fn entries<'a>(kind: &DeviceHistory, doc: &'a Value) -> Vec<(String, &'a Value)> {
    let root = &doc[kind.root];
    let mut out = Vec::new();
    let mut section = |name: String, v: &'a Value| {
        if let Some(list) = v.as_array() {
            out.extend(list.iter().map(|e| (name.clone(), e)));
        }
    };
    section("audits".into(), &root["audits"]);
    section("policy_logs".into(), &root["policy_logs"]);
    for state in ["completed", "pending", "failed"] {
        section(
            format!("{}.{state}", kind.commands),
            &root[kind.commands][state],
        );
    }
    out
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

impl JamfPuller {
    /// Computer and mobile device management history when the last complete read is older than
    /// `every`.
    pub(super) async fn device_history(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
        every: Duration,
    ) -> Result<(), PullError> {
        for kind in &KINDS {
            let Some(now) =
                stream::snapshot_due(checkpoints, SOURCE, &self.tenant, kind.stream, every).await?
            else {
                continue;
            };
            let last = checkpoints
                .load(SOURCE, &self.tenant, kind.stream)
                .await?
                .and_then(|c| c.watermark);
            let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
            let start = last.map_or(self.config.since, |w| w - overlap);
            let what = format!("jamf {}", kind.stream);
            self.progress.say(&format!(
                "{what}: from {}",
                start.to_rfc3339_opts(SecondsFormat::Millis, true)
            ));
            let list_url = self.api(kind.list, &[])?;
            let body = self.client.get(&list_url, &what, kind.privilege).await?;
            let list: Value = serde_json::from_str(&body).map_err(|e| PullError::Paging {
                what: what.clone(),
                reason: format!("{} is not a Classic API list: {e}", kind.list),
            })?;
            let ids: Vec<String> = list[kind.list_key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|d| text_of(&d["id"]))
                        .filter(|i| !i.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let (mut pages, mut records) = (0u64, 0u64);
            for id in ids {
                let path = format!("{}/{id}/subset/{}", kind.history, kind.subsets);
                let body = self
                    .client
                    .get(&self.api(&path, &[])?, &what, kind.privilege)
                    .await?;
                let doc: Value = serde_json::from_str(&body).map_err(|e| PullError::Paging {
                    what: what.clone(),
                    reason: format!("the history of device {id} is not JSON: {e}"),
                })?;
                let general = &doc[kind.root]["general"];
                let device = [
                    ("@mdmAudit.deviceId", json_text(&id)?),
                    (
                        "@mdmAudit.deviceName",
                        json_text(&text_of(&general["name"]))?,
                    ),
                    (
                        "@mdmAudit.deviceSerial",
                        json_text(&text_of(&general["serial_number"]))?,
                    ),
                ];
                let mut page = Vec::new();
                for (section, entry) in entries(kind, &doc) {
                    if entry_time(entry).is_some_and(|t| t < start) {
                        continue;
                    }
                    let text = serde_json::to_string(entry)
                        .map_err(|e| PullError::Setup(e.to_string()))?;
                    let mut extra = vec![("@mdmAudit.historySection", json_text(&section)?)];
                    extra.extend(device.iter().cloned());
                    page.extend(self.annotate(&what, kind.stream, &[text], &extra)?);
                }
                if !page.is_empty() {
                    stream::store_page(
                        sink,
                        &self.progress,
                        &what,
                        &page,
                        &mut pages,
                        &mut records,
                    )
                    .await?;
                }
            }
            self.save_checkpoint(checkpoints, kind.stream, Some(now), pages, records, true)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_from_every_section_with_their_latest_epoch() {
        let doc: Value = serde_json::from_str(
            r#"{"mobile_device_history": {"general": {"id": 7},
                "audits": [{"event": "Lock", "date_time_epoch": 1772438400000}],
                "management_commands": {"completed": [{"name": "ClearPasscode",
                    "issued_epoch": 1772438400000, "completed_epoch": 1772438460000}],
                    "pending": [], "failed": []}}}"#,
        )
        .expect("json");
        let got = entries(&KINDS[1], &doc);
        let sections: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(sections, ["audits", "management_commands.completed"]);
        assert_eq!(
            entry_time(got[1].1).map(|t| t.to_rfc3339()),
            Some("2026-03-02T08:01:00+00:00".into())
        );
    }
}
