//! Jamf Pro object history: the change log an object's *History* button shows (who changed it, when,
//! a note and the details), which the Jamf Pro API serves per object at `{object path}/{id}/history`,
//! paged, each entry `{"id", "username", "date", "note", "details"}`
//! (<https://developer.jamf.com/jamf-pro/reference/get_v1-scripts-id-history>, and the same
//! `HistorySearchResults` shape for the other objects below).
//!
//! The object types read are [`HISTORY_OBJECTS`]: for each, the objects are listed, then each
//! object's history since the stream's watermark (`filter=date>="{start}"`, `sort=date:asc`). The
//! entry names neither the object nor its type, so the puller appends `@mdmAudit.objectType`,
//! `@mdmAudit.objectId` and `@mdmAudit.objectName` (`api_object_history.vrl` reads them). The stream's
//! checkpoint is the start of the last complete run: entries before it are stored; a run that fails
//! half way leaves it, and the next run reads the same window again (dedupe drops what is stored).

use std::time::Duration;

use chrono::SecondsFormat;
use serde::Deserialize;

use super::{JamfPuller, SOURCE, json_text};
use crate::pull::stream;
use crate::pull::{CheckpointStore, PullError, Sink};

/// One object type with a Jamf Pro API history.
#[derive(Debug, Clone, Copy)]
pub struct HistoryObject {
    /// The type's name as Jamf Pro's change management names it (`Script`).
    pub object_type: &'static str,
    /// The collection (`/api/v1/scripts`); each object's history is `{path}/{id}/history`.
    pub path: &'static str,
    /// The member that names an object in the list.
    pub name_key: &'static str,
    /// The API role privilege reading the collection and its history needs.
    pub privilege: &'static str,
}

/// The object types whose history is read.
pub const HISTORY_OBJECTS: &[HistoryObject] = &[
    HistoryObject {
        object_type: "Script",
        path: "/api/v1/scripts",
        name_key: "name",
        privilege: "Read Scripts",
    },
    HistoryObject {
        object_type: "Computer PreStage Enrollment",
        path: "/api/v3/computer-prestages",
        name_key: "displayName",
        privilege: "Read Computer PreStage Enrollments",
    },
    HistoryObject {
        object_type: "Mobile Device PreStage Enrollment",
        path: "/api/v2/mobile-device-prestages",
        name_key: "displayName",
        privilege: "Read Mobile Device PreStage Enrollments",
    },
    HistoryObject {
        object_type: "Category",
        path: "/api/v1/categories",
        name_key: "name",
        privilege: "Read Categories",
    },
];

/// The stream's name in checkpoints.
const STREAM: &str = "objectHistory";

#[derive(Deserialize)]
struct Listed {
    id: Option<serde_json::Value>,
}

/// An object's id and name from its list entry.
fn id_and_name(record: &str, name_key: &str) -> Option<(String, String)> {
    let id = match serde_json::from_str::<Listed>(record).ok()?.id? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let value: serde_json::Value = serde_json::from_str(record).ok()?;
    let name = value
        .get(name_key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    Some((id, name))
}

impl JamfPuller {
    /// The history of every object of [`HISTORY_OBJECTS`] when the last complete read is older than
    /// `every`.
    pub(super) async fn object_history(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
        every: Duration,
    ) -> Result<(), PullError> {
        let Some(now) =
            stream::snapshot_due(checkpoints, SOURCE, &self.tenant, STREAM, every).await?
        else {
            return Ok(());
        };
        let last = checkpoints
            .load(SOURCE, &self.tenant, STREAM)
            .await?
            .and_then(|c| c.watermark);
        let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
        let start = last.map_or(self.config.since, |w| w - overlap);
        let start_text = start.to_rfc3339_opts(SecondsFormat::Millis, true);
        let filter = format!("date>=\"{start_text}\"");
        let what = format!("jamf {STREAM}");
        self.progress.say(&format!("{what}: from {start_text}"));
        let (mut pages, mut records) = (0u64, 0u64);
        for kind in HISTORY_OBJECTS {
            let list_what = format!("jamf {} list", kind.object_type);
            let mut objects = Vec::new();
            let mut pager = self.pager(
                &list_what,
                kind.privilege,
                self.api(kind.path, &[("sort", "id:asc")])?,
            );
            while let Some(page) = pager.next_page().await? {
                objects.extend(page.iter().filter_map(|r| id_and_name(r, kind.name_key)));
            }
            let object_type = json_text(kind.object_type)?;
            for (id, name) in objects {
                let path = format!("{}/{id}/history", kind.path);
                let url = self.api(&path, &[("sort", "date:asc"), ("filter", &filter)])?;
                let mut pager = self.pager(&what, kind.privilege, url);
                let extra = [
                    ("@mdmAudit.objectType", object_type.clone()),
                    ("@mdmAudit.objectId", json_text(&id)?),
                    ("@mdmAudit.objectName", json_text(&name)?),
                ];
                while let Some(page) = pager.next_page().await? {
                    if page.is_empty() {
                        continue;
                    }
                    let page = self.annotate(&what, STREAM, &page, &extra)?;
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
        }
        // Every object's history up to `now` is stored.
        self.save_checkpoint(checkpoints, STREAM, Some(now), pages, records, true)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_entries_give_id_and_name() {
        assert_eq!(
            id_and_name(r#"{"id":"12","name":"Rotate admin"}"#, "name"),
            Some(("12".into(), "Rotate admin".into()))
        );
        assert_eq!(
            id_and_name(r#"{"id":3,"displayName":"DEP"}"#, "displayName"),
            Some(("3".into(), "DEP".into()))
        );
        assert_eq!(id_and_name(r#"{"name":"x"}"#, "name"), None);
    }
}
