//! What correlation knows of actors: their history in the store before this input, and the stateful
//! tags it gives an administrator's event (`new_actor`, `rare_action_for_actor`, `off_hours`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::CorrelateStage;
use super::classify::{actor_label, is_person};
use crate::NormalizedEvent;
use mdm_audit_store::{StoreError, StoreLocation};

/// What is known of one actor before this input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorHistory {
    /// Events done.
    pub events: u64,
    /// Actions done.
    pub actions: HashSet<String>,
}

/// History from the store, so a second ingest does not call every actor new.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Per actor key (see [`actor_key`](super::actor_key)).
    pub actors: HashMap<String, ActorHistory>,
    /// Time of the store's first event.
    pub since: Option<DateTime<Utc>>,
}

/// The actor key over `events`: the same as [`actor_key`](super::actor_key).
fn actor_key_expr() -> datafusion::prelude::Expr {
    use datafusion::functions::expr_fn::{coalesce, lower};
    use datafusion::prelude::col;
    let cols = ["actor_upn", "actor_id", "actor_name", "actor_app"];
    lower(coalesce(cols.map(col).to_vec()))
}

impl Baseline {
    /// Reads every actor's history from the `events` table; an empty store gives an empty baseline.
    pub async fn from_store(location: &StoreLocation) -> Result<Self, StoreError> {
        let ctx = datafusion::prelude::SessionContext::new();
        let names = mdm_audit_store::register_tables(
            location,
            &mdm_audit_store::TableRegistry::core(),
            &ctx,
        )
        .await?;
        let mut b = Baseline::default();
        if !names.iter().any(|n| n == "events") {
            return Ok(b);
        }
        let batches = {
            use datafusion::functions_aggregate::{count::count_all, expr_fn::min};
            use datafusion::prelude::{cast, col};
            let bigint = |e| cast(e, arrow::datatypes::DataType::Int64);
            ctx.table("events")
                .await?
                .aggregate(
                    vec![actor_key_expr().alias("actor"), col("action")],
                    vec![
                        bigint(count_all()).alias("n"),
                        bigint(min(col("time"))).alias("first"),
                    ],
                )?
                .collect()
                .await?
        };
        use arrow::array::{Array, AsArray};
        use arrow::datatypes::{DataType, Int64Type};
        let column = |batch: &arrow::array::RecordBatch, i: usize, to: &DataType| {
            arrow::compute::cast(batch.column(i), to)
        };
        for batch in batches {
            let actor = column(&batch, 0, &DataType::Utf8)?;
            let action = column(&batch, 1, &DataType::Utf8)?;
            let n = column(&batch, 2, &DataType::Int64)?;
            let first = column(&batch, 3, &DataType::Int64)?;
            let (actor, action) = (actor.as_string::<i32>(), action.as_string::<i32>());
            let (n, first) = (
                n.as_primitive::<Int64Type>(),
                first.as_primitive::<Int64Type>(),
            );
            for i in 0..batch.num_rows() {
                if !first.is_null(i)
                    && let Some(t) = Utc.timestamp_micros(first.value(i)).single()
                {
                    b.since = Some(b.since.map_or(t, |s| s.min(t)));
                }
                if actor.is_null(i) {
                    continue;
                }
                let h = b.actors.entry(actor.value(i).to_owned()).or_default();
                h.events += u64::try_from(n.value(i)).unwrap_or(0);
                if !action.is_null(i) {
                    h.actions.insert(action.value(i).to_owned());
                }
            }
        }
        Ok(b)
    }
}

impl CorrelateStage {
    /// The stateful tags of an administrator's (`a`) event, with their reasons; updates the actor's
    /// history. `tz` and `hours` are the person's from the directory (else the configured default).
    pub(super) fn actor_tags(
        &mut self,
        e: &NormalizedEvent,
        a: &str,
        tz: Option<Tz>,
        hours: Option<(u32, u32)>,
    ) -> Vec<(&'static str, String)> {
        let t = e.time;
        let mut tags = Vec::new();
        let who = actor_label(e).unwrap_or_else(|| a.to_owned());
        let since = *self.baseline.since.get_or_insert(t);
        let known = self.baseline.actors.contains_key(a);
        // A new actor stays new for its first session only.
        if let Some(n) = self.sessions.get(a)
            && self
                .episodes
                .get(n)
                .is_some_and(|ep| t - ep.last > self.config.idle)
        {
            self.new_actors.remove(a);
        }
        if !known && t - since >= self.config.learning {
            self.new_actors.insert(a.to_owned());
        }
        if self.new_actors.contains(a) {
            tags.push((
                "new_actor",
                format!("{who} was never seen before this session"),
            ));
        }
        let h = self.baseline.actors.entry(a.to_owned()).or_default();
        if h.events >= self.config.rare_min_history && !h.actions.contains(&e.action) {
            tags.push((
                "rare_action_for_actor",
                format!(
                    "{who} never did {} before in {} earlier events",
                    e.action, h.events
                ),
            ));
        }
        h.events += 1;
        h.actions.insert(e.action.clone());
        if is_person(e) && self.local_hours(e, tz, hours) {
            let tz = tz.unwrap_or(self.config.time_zone);
            let (s, end) = hours.unwrap_or(self.config.business_hours);
            tags.push((
                "off_hours",
                format!(
                    "{who} acted at {} local time ({tz}), outside business hours {s:02}-{end:02} Mon-Fri",
                    e.time.with_timezone(&tz).format("%a %H:%M")
                ),
            ));
        }
        tags
    }

    /// Whether `e` falls outside business hours (or on a weekend) in the actor's zone.
    fn local_hours(&self, e: &NormalizedEvent, tz: Option<Tz>, hours: Option<(u32, u32)>) -> bool {
        let tz = tz.unwrap_or(self.config.time_zone);
        let (start, end) = hours.unwrap_or(self.config.business_hours);
        if (start, end) == (0, 24) {
            // Around the clock (service accounts): never off hours.
            return false;
        }
        let local = e.time.with_timezone(&tz);
        let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        let h = local.hour();
        weekend || h < start || h >= end
    }
}
