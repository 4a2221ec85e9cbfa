//! [`EnrichStage`]: the pipeline stage of entity resolution. It fills each event's person,
//! department and device columns from the directory (see [`Directory::enrich`]) and passes it on
//! at once; it holds nothing and makes no episodes.

use std::path::PathBuf;

#[cfg(doc)]
use super::Directory;
use super::{DirectoryError, DirectoryHandle, DirectoryWatcher};
use crate::NormalizedEvent;
use crate::pipeline::Stage;
use mdm_audit_store::EpisodeRecord;

/// Counters of what enrichment did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnrichStats {
    /// Events seen.
    pub events: u64,
    /// Events whose actor or device the directory did not know.
    pub unresolved: u64,
    /// Times the directory was reloaded after the first load.
    pub reloads: u64,
}

/// Entity resolution as a pipeline stage.
#[derive(Debug)]
pub struct EnrichStage {
    watcher: DirectoryWatcher,
    stats: EnrichStats,
}

impl EnrichStage {
    /// A stage resolving against the directory files in `dir`; fails if they cannot be loaded.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, DirectoryError> {
        Ok(Self::new(DirectoryWatcher::open(dir)?))
    }

    /// A stage resolving against `watcher`'s directory.
    pub fn new(watcher: DirectoryWatcher) -> Self {
        Self {
            watcher,
            stats: EnrichStats::default(),
        }
    }

    /// A read-only handle on the directory this stage resolves against (it follows reloads), for
    /// later stages that look people up.
    pub fn directory(&self) -> DirectoryHandle {
        self.watcher.handle()
    }

    /// What enrichment did so far.
    pub fn stats(&self) -> EnrichStats {
        EnrichStats {
            reloads: self.watcher.reloads(),
            ..self.stats
        }
    }
}

impl Stage for EnrichStage {
    fn push(
        &mut self,
        mut event: NormalizedEvent,
        events: &mut Vec<NormalizedEvent>,
        _: &mut Vec<EpisodeRecord>,
    ) {
        self.watcher.get().enrich(&mut event);
        self.stats.events += 1;
        if !event.unresolved.is_empty() {
            self.stats.unresolved += 1;
        }
        events.push(event);
    }

    fn finish(&mut self, _: &mut Vec<NormalizedEvent>, _: &mut Vec<EpisodeRecord>) {
        let s = self.stats();
        tracing::debug!(
            events = s.events,
            unresolved = s.unresolved,
            reloads = s.reloads,
            "Enrichment finished."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::tests::{event, write};

    #[test]
    fn the_stage_fills_columns_passes_every_event_on_at_once_and_counts_the_unresolved() {
        let dir = tempfile::tempdir().expect("tmp");
        write(
            dir.path(),
            "id,person,department,time_zone\nmallory.admin@contoso.com,Mallory Admin,IT,Europe/Berlin\n",
            "serial,asset_tag,owner,department\nC02ABC,AT-7,Anna Meyer,Finance\n",
        );
        let mut stage = EnrichStage::open(dir.path()).expect("open");
        let handle = stage.directory();
        let known = event();
        let mut stranger = event();
        stranger.event_uid = "u2".into();
        stranger.actor_upn = Some("eve@evil.example".into());
        let (mut out, mut eps) = (Vec::new(), Vec::new());
        stage.push(known.clone(), &mut out, &mut eps);
        assert_eq!(out.len(), 1, "nothing is held");
        stage.push(stranger, &mut out, &mut eps);
        stage.flush(&mut out, &mut eps);
        stage.finish(&mut out, &mut eps);
        assert_eq!(out.len(), 2);
        assert!(eps.is_empty());
        assert_eq!(out[0].actor_person.as_deref(), Some("Mallory Admin"));
        assert_eq!(out[0].actor_department.as_deref(), Some("IT"));
        assert_eq!(out[0].asset_tag.as_deref(), Some("AT-7"));
        assert_eq!(out[0].device_department.as_deref(), Some("Finance"));
        assert!(out[0].unresolved.is_empty());
        assert_eq!(out[1].actor_person, None);
        assert_eq!(out[1].unresolved, ["actor"]);
        assert_eq!(
            stage.stats(),
            EnrichStats {
                events: 2,
                unresolved: 1,
                reloads: 0
            }
        );
        // The handle later stages get looks the same person up.
        let p = handle.current().person_of(&known).cloned().expect("person");
        assert_eq!(p.time_zone, Some(chrono_tz::Europe::Berlin));
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("nope");
        let e = EnrichStage::open(&missing).expect_err("missing");
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
