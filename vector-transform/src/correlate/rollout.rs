//! `policy_rollout` episodes: one actor creating or changing policies or profiles and assigning
//! them (gaps under the idle time), and the device results that name those policies, or report one
//! of their settings, within the rollout window. A rollout counts (is stored, labels its events)
//! once something was assigned or a device reported on it.

use super::CorrelateStage;
use super::classify::{is_person, is_policy_change, setting_key};
use super::episode::Kind;
use crate::NormalizedEvent;

impl CorrelateStage {
    /// Joins `e` (by actor `actor`, if any) to a rollout: as a change of its actor's open rollout,
    /// or as a device result of one.
    pub(super) fn join_rollout(
        &mut self,
        e: &NormalizedEvent,
        actor: Option<&str>,
        member_of: &mut Vec<(Kind, u64)>,
    ) {
        let t = e.time;
        let mut confirm: Option<u64> = None;
        let targets: Vec<String> = [&e.target_id, &e.target_name]
            .into_iter()
            .flatten()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(a) = actor.filter(|_| is_policy_change(e)) {
            let n = match self.rollouts.get(a).copied() {
                Some(n)
                    if self
                        .episodes
                        .get(&n)
                        .is_some_and(|ep| t - ep.anchor <= self.config.idle) =>
                {
                    n
                }
                _ => {
                    let n = self.open(Kind::PolicyRollout, a, e);
                    self.rollouts.insert(a.to_owned(), n);
                    n
                }
            };
            if let Some(ep) = self.episodes.get_mut(&n) {
                ep.anchor = t;
                if let Some(name) = e.target_name.clone().or_else(|| e.target_id.clone())
                    && ep.targets.len() < 20
                {
                    ep.targets.insert(name);
                }
                ep.verbs.insert(match e.action.as_str() {
                    "create" => "created",
                    "assign" => "assigned",
                    _ => "changed",
                });
            }
            for k in &targets {
                self.rollout_targets.insert(k.clone(), n);
            }
            for c in &e.changes {
                if let Some(k) = setting_key(&c.path) {
                    self.rollout_settings.insert(k, n);
                }
            }
            if e.action == "assign" {
                confirm = Some(n);
            }
            member_of.push((Kind::PolicyRollout, n));
        } else if !is_person(e) {
            // A device result: it names one of the policies, or reports one of their settings.
            let by_name = targets
                .iter()
                .find_map(|k| self.rollout_targets.get(k).copied());
            let by_setting = || {
                e.changes.iter().find_map(|c| {
                    setting_key(&c.path).and_then(|k| self.rollout_settings.get(&k).copied())
                })
            };
            if let Some(n) = by_name.or_else(by_setting)
                && self
                    .episodes
                    .get(&n)
                    .is_some_and(|ep| t - ep.anchor <= self.config.rollout_window)
            {
                if let Some(ep) = self.episodes.get_mut(&n) {
                    ep.results += 1;
                }
                confirm = Some(n);
                member_of.push((Kind::PolicyRollout, n));
            }
        }
        if let Some(n) = confirm
            && let Some(ep) = self.episodes.get_mut(&n)
            && !ep.confirmed
        {
            ep.confirmed = true;
            let (id, seqs) = (ep.id.clone(), ep.seqs.clone());
            for s in seqs {
                self.set_episode_held(s, Kind::PolicyRollout, &id);
            }
        }
    }
}
