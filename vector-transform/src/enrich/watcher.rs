//! [`DirectoryWatcher`]: the directory files, reloaded when they change, and a read-only
//! [`DirectoryHandle`] on the directory in force for stages that only look people up.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Instant, SystemTime};

use super::{DEVICES_FILE, Directory, DirectoryError, PEOPLE_FILE, RELOAD_CHECK};

/// A shared, read-only view of the directory in force: the watcher that owns it replaces the
/// directory when it reloads, and every handle sees the new one from then on.
#[derive(Debug, Clone, Default)]
pub struct DirectoryHandle(Arc<RwLock<Arc<Directory>>>);

impl DirectoryHandle {
    /// A handle on `directory` (that nothing reloads).
    pub fn new(directory: Directory) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(directory))))
    }

    /// The directory in force now.
    pub fn current(&self) -> Arc<Directory> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, directory: Arc<Directory>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = directory;
    }
}

/// A directory that reloads itself when its files change.
#[derive(Debug)]
pub struct DirectoryWatcher {
    dir: PathBuf,
    current: Arc<Directory>,
    shared: DirectoryHandle,
    stamps: [Option<(SystemTime, u64)>; 2],
    checked: Instant,
    reloads: u64,
}

fn stamp(p: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl DirectoryWatcher {
    /// Loads the directory in `dir`; an error here (unlike on reload) is fatal.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, DirectoryError> {
        let dir = dir.into();
        if !dir.is_dir() {
            return Err(DirectoryError::Io {
                path: dir.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not a directory (expected people.csv and devices.csv in it)",
                ),
            });
        }
        let stamps = Self::stamps_of(&dir);
        let current = Arc::new(Directory::load(&dir)?);
        tracing::info!(
            dir = %dir.display(),
            people = current.people_len(),
            devices = current.devices_len(),
            "directory loaded"
        );
        Ok(Self {
            dir,
            shared: DirectoryHandle(Arc::new(RwLock::new(current.clone()))),
            current,
            stamps,
            checked: Instant::now(),
            reloads: 0,
        })
    }

    fn stamps_of(dir: &Path) -> [Option<(SystemTime, u64)>; 2] {
        [
            stamp(&dir.join(PEOPLE_FILE)),
            stamp(&dir.join(DEVICES_FILE)),
        ]
    }

    /// Reloads now if a file changed since the last load.
    pub fn reload_if_changed(&mut self) {
        self.checked = Instant::now();
        let stamps = Self::stamps_of(&self.dir);
        if stamps == self.stamps {
            return;
        }
        match Directory::load(&self.dir) {
            Ok(d) => {
                self.current = Arc::new(d);
                self.shared.set(self.current.clone());
                self.stamps = stamps;
                self.reloads += 1;
                tracing::info!(
                    dir = %self.dir.display(),
                    people = self.current.people_len(),
                    devices = self.current.devices_len(),
                    "directory reloaded"
                );
            }
            Err(e) => {
                // Keep the previous directory; try again when the files change once more.
                self.stamps = stamps;
                tracing::warn!(error = %e, "directory reload failed; keeping the previous one");
            }
        }
    }

    /// The directory, reloaded first if [`RELOAD_CHECK`] has passed and a file changed.
    pub fn get(&mut self) -> &Directory {
        if self.checked.elapsed() >= RELOAD_CHECK {
            self.reload_if_changed();
        }
        &self.current
    }

    /// A read-only handle on the directory in force, following every reload.
    pub fn handle(&self) -> DirectoryHandle {
        self.shared.clone()
    }

    /// Times the directory was reloaded after the first load.
    pub fn reloads(&self) -> u64 {
        self.reloads
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::tests::{event, write};

    #[test]
    fn the_watcher_picks_up_edits_and_keeps_the_old_directory_on_a_broken_file() {
        let dir = tempfile::tempdir().expect("tmp");
        write(
            dir.path(),
            "id,person\nx,X\n",
            "serial,asset_tag\nS1,AT-1\n",
        );
        let mut w = DirectoryWatcher::open(dir.path()).expect("open");
        let handle = w.handle();
        let mut e = event();
        e.actor_upn = Some("y".into());
        assert!(w.get().person_of(&e).is_none());
        // A different length guarantees a new stamp even on coarse-mtime file systems.
        write(
            dir.path(),
            "id,person\nx,X\ny,Yvonne Y\n",
            "serial,asset_tag\nS1,AT-1\n",
        );
        w.reload_if_changed();
        assert_eq!(w.reloads(), 1);
        assert_eq!(
            w.get().person_of(&e).map(|p| p.person.as_str()),
            Some("Yvonne Y")
        );
        assert_eq!(
            handle.current().person_of(&e).map(|p| p.person.clone()),
            Some("Yvonne Y".to_owned()),
            "the handle follows the reload"
        );
        write(
            dir.path(),
            "id,person,time_zone\ny,Y,Nowhere/Zone\n",
            "serial\n",
        );
        w.reload_if_changed();
        assert_eq!(w.reloads(), 1);
        assert!(w.get().person_of(&e).is_some(), "old directory kept");
        assert!(
            handle.current().person_of(&e).is_some(),
            "old directory kept"
        );
    }
}
