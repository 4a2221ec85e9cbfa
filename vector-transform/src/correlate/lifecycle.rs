//! `device_lifecycle` episodes (one device from its enrollment to its retirement, wipe, deletion or
//! unenrollment) and `admin_session` episodes (one administrator's events with no gap over the idle
//! time; a device reporting on itself is never a session).

use super::CorrelateStage;
use super::classify::{device_key, ends_lifecycle};
use super::episode::Kind;
use crate::NormalizedEvent;
use mdm_audit_store::EpisodeRecord;

impl CorrelateStage {
    /// Joins `e` to its device's lifecycle, opening one at enrollment.
    pub(super) fn join_lifecycle(&mut self, e: &NormalizedEvent, member_of: &mut Vec<(Kind, u64)>) {
        let Some(d) = device_key(e) else {
            return;
        };
        if e.action == "enroll" && !self.lifecycles.contains_key(&d) {
            let n = self.open(Kind::DeviceLifecycle, &d, e);
            self.lifecycles.insert(d.clone(), n);
        }
        if let Some(n) = self.lifecycles.get(&d).copied() {
            if ends_lifecycle(e)
                && let Some(ep) = self.episodes.get_mut(&n)
            {
                ep.end_action = Some(e.action.clone());
            }
            member_of.push((Kind::DeviceLifecycle, n));
        }
    }

    /// Joins the administrator `a`'s event `e` to their session; a gap over the idle time closes the
    /// old session and opens a new one.
    pub(super) fn join_session(
        &mut self,
        e: &NormalizedEvent,
        a: &str,
        episodes: &mut Vec<EpisodeRecord>,
        member_of: &mut Vec<(Kind, u64)>,
    ) {
        let t = e.time;
        let n = match self.sessions.get(a).copied() {
            Some(n)
                if self
                    .episodes
                    .get(&n)
                    .is_some_and(|ep| t - ep.last <= self.config.idle) =>
            {
                n
            }
            other => {
                if let Some(old) = other {
                    self.close(old, episodes);
                    self.new_actors.remove(a);
                }
                let n = self.open(Kind::AdminSession, a, e);
                self.sessions.insert(a.to_owned(), n);
                n
            }
        };
        member_of.push((Kind::AdminSession, n));
    }
}
