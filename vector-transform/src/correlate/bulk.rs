//! `bulk_destructive` episodes: at least `bulk_count` wipes, retires or deletions by one actor within
//! `bulk_window`. The earlier members of a burst are still held when it reaches the threshold, so
//! they are tagged and moved into the episode too.

use super::CorrelateStage;
use super::classify::{actor_label, add_tag};
use super::episode::Kind;
use crate::NormalizedEvent;

impl CorrelateStage {
    /// Joins the destructive event `e` (input position `seq`) by actor `a` to its burst; tags it
    /// `bulk_destructive` once the burst is an episode.
    pub(super) fn join_bulk(
        &mut self,
        e: &mut NormalizedEvent,
        a: &str,
        seq: u64,
        member_of: &mut Vec<(Kind, u64)>,
    ) {
        let t = e.time;
        let window = self.config.bulk_window;
        let q = self.destructive.entry(a.to_owned()).or_default();
        q.push_back((t, seq));
        while q.front().is_some_and(|(ft, _)| t - *ft > window) {
            q.pop_front();
        }
        let burst: Vec<u64> = q.iter().map(|(_, s)| *s).collect();
        let open = self.bulk.get(a).copied();
        if let Some(n) = open {
            member_of.push((Kind::BulkDestructive, n));
        } else if burst.len() >= self.config.bulk_count {
            let n = self.open(Kind::BulkDestructive, a, e);
            self.bulk.insert(a.to_owned(), n);
            let reason = format!(
                "{} destructive actions by {} within {} min",
                burst.len(),
                actor_label(e).unwrap_or_default(),
                window.num_minutes()
            );
            // The earlier members of the burst, still held: tag them and move them over.
            let id = self.episodes[&n].id.clone();
            for s in burst.iter().copied().filter(|s| *s != seq) {
                if self.tag_held(s, "bulk_destructive", &reason) {
                    self.count_tag("bulk_destructive");
                }
                self.set_episode_held(s, Kind::BulkDestructive, &id);
                let held = self.held_mut(s).map(|ev| ev.clone());
                if let (Some(ev), Some(ep)) = (held, self.episodes.get_mut(&n)) {
                    ep.first = ep.first.min(ev.time);
                    ep.add(&ev);
                }
            }
            member_of.push((Kind::BulkDestructive, n));
        }
        if let Some((_, n)) = member_of.iter().find(|(k, _)| *k == Kind::BulkDestructive) {
            let count = self.episodes.get(n).map_or(0, |ep| ep.uids.len() + 1);
            let reason = format!(
                "{count} destructive actions by {} within {} min",
                actor_label(e).unwrap_or_default(),
                window.num_minutes()
            );
            add_tag(e, "bulk_destructive", reason);
            self.count_tag("bulk_destructive");
        }
    }
}
