//! Pipeline stages: the [`Stage`] trait (enrichment, correlation), a stage that passes events
//! through ([`PassThrough`]) and one that runs two stages in order ([`Chain`], built with
//! [`Stage::then`]).

use crate::NormalizedEvent;
use mdm_audit_store::EpisodeRecord;

/// A stage between normalization and the store (enrichment, correlation). Called in event-time
/// order; `finish` is called once at the end of the input.
pub trait Stage: Send {
    /// Takes one event; pushes whatever is ready to `events` / `episodes`.
    fn push(
        &mut self,
        event: NormalizedEvent,
        events: &mut Vec<NormalizedEvent>,
        episodes: &mut Vec<EpisodeRecord>,
    );
    /// The input ended: release everything held.
    fn finish(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>);
    /// A long-running service is about to commit: release what is complete without ending the
    /// input (open episodes may stay open). Batch ingest never calls it; the default holds nothing.
    fn flush(&mut self, _events: &mut Vec<NormalizedEvent>, _episodes: &mut Vec<EpisodeRecord>) {}

    /// This stage, then `next`: every event this stage releases goes on to `next`.
    fn then<B: Stage>(self, next: B) -> Chain<Self, B>
    where
        Self: Sized,
    {
        Chain {
            first: self,
            second: next,
            between: Vec::new(),
        }
    }
}

impl<S: Stage + ?Sized> Stage for Box<S> {
    fn push(
        &mut self,
        event: NormalizedEvent,
        events: &mut Vec<NormalizedEvent>,
        episodes: &mut Vec<EpisodeRecord>,
    ) {
        (**self).push(event, events, episodes);
    }
    fn finish(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>) {
        (**self).finish(events, episodes);
    }
    fn flush(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>) {
        (**self).flush(events, episodes);
    }
}

/// A stage that passes events through unchanged.
#[derive(Debug, Default)]
pub struct PassThrough;

impl Stage for PassThrough {
    fn push(
        &mut self,
        event: NormalizedEvent,
        events: &mut Vec<NormalizedEvent>,
        _: &mut Vec<EpisodeRecord>,
    ) {
        events.push(event);
    }
    fn finish(&mut self, _: &mut Vec<NormalizedEvent>, _: &mut Vec<EpisodeRecord>) {}
}

/// Two stages in order (see [`Stage::then`]). Flushing or finishing the chain flushes or finishes
/// the first stage, passes what it released to the second, then flushes or finishes the second.
#[derive(Debug)]
pub struct Chain<A, B> {
    first: A,
    second: B,
    /// Events the first stage released, on their way to the second (empty between calls).
    between: Vec<NormalizedEvent>,
}

impl<A, B> Chain<A, B> {
    /// The first stage.
    pub fn first(&self) -> &A {
        &self.first
    }

    /// The second stage.
    pub fn second(&self) -> &B {
        &self.second
    }
}

impl<A: Stage, B: Stage> Chain<A, B> {
    fn pass_on(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>) {
        for e in self.between.drain(..) {
            self.second.push(e, events, episodes);
        }
    }
}

impl<A: Stage, B: Stage> Stage for Chain<A, B> {
    fn push(
        &mut self,
        event: NormalizedEvent,
        events: &mut Vec<NormalizedEvent>,
        episodes: &mut Vec<EpisodeRecord>,
    ) {
        self.first.push(event, &mut self.between, episodes);
        self.pass_on(events, episodes);
    }
    fn finish(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>) {
        self.first.finish(&mut self.between, episodes);
        self.pass_on(events, episodes);
        self.second.finish(events, episodes);
    }
    fn flush(&mut self, events: &mut Vec<NormalizedEvent>, episodes: &mut Vec<EpisodeRecord>) {
        self.first.flush(&mut self.between, episodes);
        self.pass_on(events, episodes);
        self.second.flush(events, episodes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(uid: &str) -> NormalizedEvent {
        serde_json::from_value(serde_json::json!({
            "event_uid": uid, "time": "2026-03-02T10:00:00Z", "vendor": "microsoft",
            "product": "intune", "feed": "graph_audit", "native_action": "update",
            "ocsf_class_uid": 3004, "ocsf_activity_id": 99, "category": "device_action",
            "action": "update", "outcome": "success", "message": "m", "raw": "{}"
        }))
        .expect("event")
    }

    /// Appends its mark to each event's message; holds every event until flush or finish.
    struct Mark(&'static str, Vec<NormalizedEvent>);

    impl Stage for Mark {
        fn push(
            &mut self,
            mut e: NormalizedEvent,
            _: &mut Vec<NormalizedEvent>,
            _: &mut Vec<EpisodeRecord>,
        ) {
            e.message.push_str(self.0);
            self.1.push(e);
        }
        fn finish(&mut self, events: &mut Vec<NormalizedEvent>, _: &mut Vec<EpisodeRecord>) {
            events.append(&mut self.1);
        }
        fn flush(&mut self, events: &mut Vec<NormalizedEvent>, _: &mut Vec<EpisodeRecord>) {
            events.append(&mut self.1);
        }
    }

    #[test]
    fn a_chain_runs_its_stages_in_order_and_passes_on_what_the_first_releases_late() {
        let mut chain = Mark("a", Vec::new())
            .then(Mark("b", Vec::new()))
            .then(PassThrough);
        let (mut out, mut eps) = (Vec::new(), Vec::new());
        chain.push(event("1"), &mut out, &mut eps);
        assert!(out.is_empty(), "both marks hold the event");
        chain.flush(&mut out, &mut eps);
        chain.push(event("2"), &mut out, &mut eps);
        chain.finish(&mut out, &mut eps);
        let got: Vec<(&str, &str)> = out
            .iter()
            .map(|e| (e.event_uid.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(got, [("1", "mab"), ("2", "mab")]);
        assert_eq!(chain.first().second().1.len(), 0);
    }
}
