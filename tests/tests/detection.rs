//! Detection quality of entity resolution and correlation on a generated estate: `mdm-audit generate`
//! plants seven incidents in a month of ordinary activity and says in its ground truth which episode
//! each should become and which stateful tags it should carry; `mdm-audit ingest --directory` stores
//! it. Every planted incident must be found, and the ordinary activity must stay quiet (no
//! bulk-destructive episode outside the planted bursts, few off-hours or new-actor tags).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use mdm_audit_tests::query::{open_store, sql, texts as text};
use mdm_audit_tests::{count_after, generate_estate, ingest};
use sha2::{Digest, Sha256};

fn lists(batches: &[RecordBatch], name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        let col = b.column_by_name(name).expect(name);
        let l = col.as_list::<i32>();
        for i in 0..l.len() {
            let v = cast(&l.value(i), &DataType::Utf8).expect("cast");
            let s = v.as_string::<i32>();
            out.push((0..s.len()).map(|j| s.value(j).to_owned()).collect());
        }
    }
    out
}

struct Event {
    uid: String,
    episode_kind: Option<String>,
    tags: Vec<String>,
    actor: Option<String>,
    person: bool,
    unresolved: Vec<String>,
}

#[tokio::test(flavor = "multi_thread")]
async fn planted_incidents_are_found_and_ordinary_activity_stays_quiet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let truth = generate_estate(
        root,
        "--seed 5 --events 12000 --days 30 --devices 200 --wipe-count 8 --bulk-delete-count 10 \
         --rollout-devices 6",
    );
    assert!(root.join("estate/directory/people.csv").is_file());
    let files: Vec<String> = truth
        .feeds
        .iter()
        .filter(|f| f.records > 0)
        .map(|f| format!("estate/{}", f.file))
        .collect();
    let line = ingest(root, "detect", "--directory estate/directory", &files).summary;
    assert!(count_after(&line, "episode states") > 0, "{line}");

    let (ctx, _) = open_store(&root.join("data")).await;
    let batches = sql(
        &ctx,
        "SELECT event_uid, raw, episode_kind, risk_tags, actor_kind, unresolved, \
         lower(coalesce(actor_upn, actor_id, actor_name, actor_app)) AS actor FROM events",
    )
    .await;
    let uids = text(&batches, "event_uid");
    let raws = text(&batches, "raw");
    let kinds = text(&batches, "episode_kind");
    let actor_kinds = text(&batches, "actor_kind");
    let actors = text(&batches, "actor");
    let tags = lists(&batches, "risk_tags");
    let unresolved = lists(&batches, "unresolved");
    let mut events = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for i in 0..uids.len() {
        let uid = uids[i].clone().expect("uid");
        let raw = raws[i].clone().unwrap_or_default();
        by_key.insert(hex::encode(Sha256::digest(raw.as_bytes())), i);
        by_key.insert(uid.clone(), i);
        events.push(Event {
            uid,
            episode_kind: kinds[i].clone(),
            tags: tags[i].clone(),
            actor: actors[i].clone(),
            person: matches!(actor_kinds[i].as_deref(), Some("user" | "partner")),
            unresolved: unresolved[i].clone(),
        });
    }

    // Every planted incident: its records are found, one of them is in the episode the ground
    // truth names, and every stateful tag it should carry is on one of them.
    let mut planted: BTreeSet<usize> = BTreeSet::new();
    let mut report = Vec::new();
    for s in &truth.scenarios {
        let found: BTreeSet<usize> = s
            .records
            .iter()
            .filter_map(|r| {
                r.vendor_id
                    .as_ref()
                    .and_then(|v| by_key.get(v))
                    .or_else(|| by_key.get(&r.sha256))
                    .copied()
            })
            .collect();
        assert!(
            !found.is_empty(),
            "{} {}: none of its records found",
            s.id,
            s.kind
        );
        planted.extend(found.iter().copied());
        let kinds: BTreeMap<String, usize> = found
            .iter()
            .filter_map(|i| events[*i].episode_kind.clone())
            .fold(BTreeMap::new(), |mut m, k| {
                *m.entry(k).or_default() += 1;
                m
            });
        assert!(
            kinds.contains_key(&s.episode_kind),
            "{} {}: expected a {} episode, events are in {kinds:?}",
            s.id,
            s.kind,
            s.episode_kind
        );
        for tag in &s.correlation_tags {
            assert!(
                found.iter().any(|i| events[*i].tags.contains(tag)),
                "{} {}: no event tagged {tag}",
                s.id,
                s.kind
            );
        }
        report.push(format!("{} {} {kinds:?}", s.id, s.kind));
    }

    // Bulk-destructive episodes are exactly the planted bursts (the compromised admin's wipes and
    // the API client's deletions), and no ordinary event is tagged bulk_destructive.
    let bulk_scenarios = truth
        .scenarios
        .iter()
        .filter(|s| s.episode_kind == "bulk_destructive")
        .count();
    let episodes = sql(
        &ctx,
        "SELECT count(DISTINCT episode_id) AS n FROM episodes WHERE episode_kind = 'bulk_destructive'",
    )
    .await;
    let n_bulk: usize = text(&episodes, "n")[0]
        .as_deref()
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert_eq!(n_bulk, bulk_scenarios, "bulk-destructive episodes");
    let noise: Vec<&Event> = events
        .iter()
        .enumerate()
        .filter(|(i, _)| !planted.contains(i))
        .map(|(_, e)| e)
        .collect();
    let noisy_bulk: Vec<&str> = noise
        .iter()
        .filter(|e| e.tags.iter().any(|t| t == "bulk_destructive"))
        .map(|e| e.uid.as_str())
        .collect();
    assert!(
        noisy_bulk.is_empty(),
        "ordinary events tagged bulk: {noisy_bulk:?}"
    );

    // Ordinary people work in their business hours (the directory gives each their zone and
    // hours): off-hours tags on ordinary events stay rare; actors new after the learning week are
    // only the planted ones.
    let people_noise = noise.iter().filter(|e| e.person).count();
    let off = noise
        .iter()
        .filter(|e| e.tags.iter().any(|t| t == "off_hours"))
        .count();
    let new_actors: BTreeSet<&str> = noise
        .iter()
        .filter(|e| e.tags.iter().any(|t| t == "new_actor"))
        .filter_map(|e| e.actor.as_deref())
        .collect();
    let unresolved_people = noise
        .iter()
        .filter(|e| e.person && e.unresolved.iter().any(|u| u == "actor"))
        .count();
    eprintln!(
        "detection: {} scenarios found ({}); ordinary events {}, by people {people_noise}, \
         off_hours {off}, new actors {new_actors:?}, people unresolved {unresolved_people}",
        truth.scenarios.len(),
        report.join("; "),
        noise.len()
    );
    assert!(
        people_noise > 100,
        "{people_noise} ordinary events by people"
    );
    assert!(
        off * 20 <= people_noise,
        "{off} of {people_noise} ordinary events by people tagged off_hours (more than 5%)"
    );
    assert!(
        new_actors.len() <= 2,
        "ordinary actors flagged new: {new_actors:?}"
    );
    assert!(
        unresolved_people * 20 <= people_noise,
        "{unresolved_people} of {people_noise} ordinary events by people not in the directory"
    );
}
