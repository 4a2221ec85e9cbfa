//! Intune RBAC role assignments with their role definitions and members, so a narrative can say which
//! role stood behind an action. Graph lists them in three collections
//! (<https://learn.microsoft.com/en-us/graph/api/resources/intune-rbac-conceptual>):
//! - `GET /deviceManagement/roleDefinitions`: id, displayName, description, isBuiltIn, rolePermissions;
//! - `GET /deviceManagement/roleDefinitions/{id}/roleAssignments`: the assignments of one definition;
//! - `GET /deviceManagement/roleAssignments`: each `deviceAndAppManagementRoleAssignment` with its
//!   `members` (Entra security group ids), `scopeMembers`, `scopeType` and `resourceScopes`.
//!
//! Each assignment is emitted as Graph returns it, with its definition nested under `roleDefinition`
//! as `$expand=roleDefinition` nests a navigation property, and one instance annotation
//! `@mdmAudit.retrievedDateTime` (OData's `@namespace.term` form): the record carries no time of its
//! own, so this is the time the state was read (`graph_role_assignment.vrl` takes it as the event time).

use std::collections::HashMap;
use std::time::Duration;

use chrono::SecondsFormat;
use serde::Deserialize;

use super::{CheckpointStore, IntunePuller, Pager, PullError, Sink};
use crate::pull::record::with_members;

/// The permission the RBAC collections need (Graph application permission).
pub const ROLES_PERMISSION: &str = "DeviceManagementRBAC.Read.All";
/// The annotation with the time a snapshot record was read.
pub const RETRIEVED: &str = "@mdmAudit.retrievedDateTime";

#[derive(Deserialize)]
struct WithId {
    id: Option<String>,
}

fn id_of(record: &str) -> Option<String> {
    serde_json::from_str::<WithId>(record).ok()?.id
}

impl IntunePuller {
    async fn all(&self, stream: &str, path: &str) -> Result<Vec<String>, PullError> {
        let url = self.graph(path)?;
        let mut pager = Pager::new(
            &self.client,
            format!("intune {stream}"),
            ROLES_PERMISSION,
            url,
            self.config.max_pages,
        );
        let mut out = Vec::new();
        while let Some(page) = pager.next_page().await? {
            out.extend(page);
        }
        Ok(out)
    }

    /// A snapshot of the role assignments when the last complete one is older than `every`.
    pub(super) async fn roles_snapshot(
        &self,
        sink: &mut Sink,
        checkpoints: &mut CheckpointStore,
        every: Duration,
    ) -> Result<(), PullError> {
        const STREAM: &str = "roleAssignments";
        let Some(now) = self.snapshot_due(checkpoints, STREAM, every).await? else {
            return Ok(());
        };
        let definitions = self
            .all("roleDefinitions", "deviceManagement/roleDefinitions")
            .await?;
        // Which definition each assignment belongs to.
        let mut definition_of: HashMap<String, usize> = HashMap::new();
        for (i, d) in definitions.iter().enumerate() {
            let Some(id) = id_of(d) else { continue };
            let path = format!("deviceManagement/roleDefinitions/{id}/roleAssignments");
            for a in self.all("roleDefinitions/roleAssignments", &path).await? {
                if let Some(aid) = id_of(&a) {
                    definition_of.insert(aid, i);
                }
            }
        }
        let what = format!("intune {STREAM}");
        let url = self.graph("deviceManagement/roleAssignments")?;
        let mut pager = Pager::new(
            &self.client,
            what.clone(),
            ROLES_PERMISSION,
            url,
            self.config.max_pages,
        );
        let stamp = serde_json::to_string(&now.to_rfc3339_opts(SecondsFormat::Micros, true))
            .map_err(|e| PullError::Setup(e.to_string()))?;
        let (mut pages, mut records) = (0u64, 0u64);
        while let Some(page) = pager.next_page().await? {
            let mut out = Vec::with_capacity(page.len());
            for a in page {
                let definition = id_of(&a)
                    .and_then(|id| definition_of.get(&id))
                    .map_or_else(|| "null".to_owned(), |i| definitions[*i].clone());
                let record = with_members(
                    &a,
                    &[("roleDefinition", definition), (RETRIEVED, stamp.clone())],
                )
                .map_err(|e| PullError::Paging {
                    what: what.clone(),
                    reason: format!("a role assignment is {e}"),
                })?;
                out.push(record);
            }
            self.store_page(sink, &what, &out, &mut pages, &mut records)
                .await?;
        }
        checkpoints
            .save(&self.checkpoint(STREAM, Some(now), pages, records, true))
            .await?;
        Ok(())
    }
}
