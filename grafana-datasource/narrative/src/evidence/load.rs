//! Reading a scope's evidence from the store: its events, the episodes that hold them and the
//! store's coverage (chain heads, dead letters), through DataFusion's DataFrame API.

use std::collections::BTreeMap;

use datafusion::functions_aggregate::count::count_all;
use datafusion::prelude::{SessionContext, col};

use super::{
    ChainHead, Coverage, Evidence, EvidenceEpisode, EvidenceEvent, Scope, set_local_zones,
};
use crate::NarrativeError;
use crate::columns::{ints, lists, read_events, strings, times};
use mdm_audit_store::select::ts;

/// Reads the evidence of `scope` from the tables registered in `ctx` (`events`, and `episodes` when
/// the store has it).
pub async fn load(ctx: &SessionContext, scope: &Scope) -> Result<Evidence, NarrativeError> {
    scope.validate()?;
    if !ctx.table_exist("events")? {
        return Err(NarrativeError::Scope(
            "the store has no `events` table yet: ingest events first (mdm-audit ingest)".into(),
        ));
    }
    let columns: Vec<&str> = "event_uid time vendor feed actor_kind actor_person actor_department \
        actor_is_delegated actor_partner_tenant actor_upn actor_name actor_id action category outcome \
        target_type target_id target_name changes device_id device_name device_serial device_platform \
        risk_score risk_level risk_tags risk_reasons controls episode_id episode_kind chain_id \
        chain_seq hash"
        .split_whitespace()
        .collect();
    let by_time = vec![
        col("time").sort(true, false),
        col("event_uid").sort(true, false),
    ];
    let batches = ctx
        .table("events")
        .await?
        .filter(scope.expr())?
        .select_columns(&columns)?
        .sort(by_time)?
        .limit(0, Some(scope.cap + 1))?
        .collect()
        .await?;
    let mut events = Vec::new();
    for b in &batches {
        read_events(b, &mut events)?;
    }
    let truncated = events.len() > scope.cap;
    events.truncate(scope.cap);
    set_local_zones(&mut events);
    let episodes = if ctx.table_exist("episodes")? {
        load_episodes(ctx, scope, &events).await?
    } else {
        Vec::new()
    };
    let mut ev = Evidence::from_events(scope.clone(), events, episodes);
    ev.truncated = truncated;
    ev.coverage = load_coverage(ctx).await?;
    Ok(ev)
}

/// Chain heads of `events` and the dead-letter count.
async fn load_coverage(ctx: &SessionContext) -> Result<Coverage, NarrativeError> {
    let mut c = Coverage::default();
    let heads = ctx
        .sql(
            "SELECT e.chain_id, e.chain_seq, e.hash FROM events e JOIN \
             (SELECT chain_id, max(chain_seq) AS m FROM events GROUP BY chain_id) h \
             ON e.chain_id = h.chain_id AND e.chain_seq = h.m ORDER BY e.chain_id",
        )
        .await?
        .collect()
        .await?;
    for b in &heads {
        let (id, hash) = (strings(b, "chain_id")?, strings(b, "hash")?);
        let seq = ints(b, "chain_seq")?;
        for i in 0..b.num_rows() {
            c.chains.push(ChainHead {
                chain_id: id[i].clone().unwrap_or_default(),
                seq: seq[i],
                hash: hash[i].clone().unwrap_or_default(),
            });
        }
    }
    if ctx.table_exist("dead_letters")? {
        let b = ctx
            .table("dead_letters")
            .await?
            .aggregate(vec![], vec![count_all().alias("n")])?
            .collect()
            .await?;
        c.dead_letters = b
            .first()
            .and_then(|b| ints(b, "n").ok())
            .and_then(|v| v.first().copied())
            .map(|n| u64::try_from(n).unwrap_or(0));
    }
    Ok(c)
}

async fn load_episodes(
    ctx: &SessionContext,
    scope: &Scope,
    events: &[EvidenceEvent],
) -> Result<Vec<EvidenceEpisode>, NarrativeError> {
    let r = scope.effective_range();
    let columns: Vec<&str> =
        "episode_id episode_kind reason actor first_time last_time event_count \
        device_count event_uids risk_tags max_risk_score updated_time chain_seq"
            .split_whitespace()
            .collect();
    let order = ["episode_id", "updated_time", "chain_seq"].map(|c| col(c).sort(true, false));
    let batches = ctx
        .table("episodes")
        .await?
        .filter(
            col("first_time")
                .lt_eq(ts(r.to))
                .and(col("last_time").gt_eq(ts(r.from))),
        )?
        .select_columns(&columns)?
        .sort(order.to_vec())?
        .collect()
        .await?;
    // The newest row of an episode is its state (rows are ordered by updated_time).
    let mut latest: BTreeMap<String, EvidenceEpisode> = BTreeMap::new();
    for b in &batches {
        let id = strings(b, "episode_id")?;
        let kind = strings(b, "episode_kind")?;
        let reason = strings(b, "reason")?;
        let actor = strings(b, "actor")?;
        let first = times(b, "first_time")?;
        let last = times(b, "last_time")?;
        let count = ints(b, "event_count")?;
        let dcount = ints(b, "device_count")?;
        let uids = lists(b, "event_uids")?;
        let tags = lists(b, "risk_tags")?;
        let score = ints(b, "max_risk_score")?;
        for i in 0..b.num_rows() {
            let Some(eid) = id[i].clone() else { continue };
            latest.insert(
                eid.clone(),
                EvidenceEpisode {
                    episode_id: eid,
                    episode_kind: kind[i].clone().unwrap_or_default(),
                    reason: reason[i].clone().unwrap_or_default(),
                    actor: actor[i].clone(),
                    first_time: first[i],
                    last_time: last[i],
                    event_count: count[i],
                    device_count: dcount[i],
                    event_uids: uids[i].clone(),
                    risk_tags: tags[i].clone(),
                    max_risk_score: i32::try_from(score[i]).unwrap_or(i32::MAX),
                },
            );
        }
    }
    // Only episodes that hold an event of the evidence.
    let uids: std::collections::HashSet<&str> =
        events.iter().map(|e| e.event_uid.as_str()).collect();
    let by_episode: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|e| e.episode_id.as_deref())
        .collect();
    Ok(latest
        .into_values()
        .filter(|p| {
            by_episode.contains(p.episode_id.as_str())
                || p.event_uids.iter().any(|u| uids.contains(u.as_str()))
        })
        .collect())
}
