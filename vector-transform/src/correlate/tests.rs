use super::*;
use crate::enrich::EnrichStage;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn ev(uid: &str, time: &str, actor: &str, action: &str, device: Option<&str>) -> NormalizedEvent {
    let mut e: NormalizedEvent = serde_json::from_value(serde_json::json!({
        "event_uid": uid, "time": time, "vendor": "microsoft", "product": "intune",
        "feed": "graph_audit", "native_action": action, "ocsf_class_uid": 3004,
        "ocsf_activity_id": 99, "category": "device_action", "action": action,
        "outcome": "success", "actor_kind": "user", "actor_upn": actor,
        "message": "m", "raw": "{}"
    }))
    .expect("event");
    e.device_name = device.map(str::to_owned);
    if matches!(action, "wipe" | "retire") {
        e.risk_tags = vec!["remote_wipe".into()];
        e.risk_score = 90;
        e.risk_level = "critical".into();
        e.risk_reasons = vec!["Remote wipe".into()];
    }
    e
}

fn stage(config: CorrelateConfig) -> CorrelateStage {
    CorrelateStage::new(config, Baseline::default()).with_clock(|| at("2030-01-01T00:00:00Z"))
}

fn run(
    st: &mut impl Stage,
    input: Vec<NormalizedEvent>,
) -> (Vec<NormalizedEvent>, Vec<EpisodeRecord>) {
    let (mut out, mut eps) = (Vec::new(), Vec::new());
    for e in input {
        st.push(e, &mut out, &mut eps);
    }
    st.finish(&mut out, &mut eps);
    (out, eps)
}

fn by_uid<'a>(out: &'a [NormalizedEvent], uid: &str) -> &'a NormalizedEvent {
    out.iter().find(|e| e.event_uid == uid).expect(uid)
}

#[test]
fn sessions_split_on_the_idle_gap_and_every_event_comes_out_once_in_order() {
    let mut st = stage(CorrelateConfig::default());
    let input = vec![
        ev("a1", "2026-03-02T10:00:00Z", "ann@x.com", "update", None),
        ev("a2", "2026-03-02T10:29:00Z", "ann@x.com", "update", None),
        ev("b1", "2026-03-02T10:30:00Z", "bob@x.com", "read", None),
        ev("a3", "2026-03-02T11:00:01Z", "ann@x.com", "update", None),
    ];
    let (out, eps) = run(&mut st, input);
    let uids: Vec<&str> = out.iter().map(|e| e.event_uid.as_str()).collect();
    assert_eq!(uids, ["a1", "a2", "b1", "a3"]);
    let sessions: Vec<&EpisodeRecord> = eps
        .iter()
        .filter(|e| e.episode_kind == "admin_session")
        .collect();
    assert_eq!(sessions.len(), 3, "{eps:#?}");
    let first = sessions
        .iter()
        .find(|s| s.event_uids.contains(&"a1".to_owned()))
        .expect("ann's first");
    assert_eq!(first.event_uids, ["a1", "a2"]);
    assert!(
        first.reason.contains("ann@x.com: 2 events"),
        "{}",
        first.reason
    );
    assert!(first.reason.contains("no gap over 30 min"));
    assert_eq!(by_uid(&out, "a1").episode_id, by_uid(&out, "a2").episode_id);
    assert_ne!(by_uid(&out, "a2").episode_id, by_uid(&out, "a3").episode_id);
    assert_eq!(
        first.updated_time,
        at("2030-01-01T00:00:00Z"),
        "injected clock"
    );
}

#[test]
fn five_wipes_in_an_hour_are_bulk_destructive_four_are_not() {
    let mut st = stage(CorrelateConfig::default());
    let mut input = Vec::new();
    for i in 0..5 {
        input.push(ev(
            &format!("w{i}"),
            &format!("2026-03-02T05:{:02}:00Z", i * 10),
            "mallory@x.com",
            "wipe",
            Some(&format!("PC-{i}")),
        ));
    }
    // Another admin's four wipes in an hour stay below the threshold.
    for i in 0..4 {
        input.push(ev(
            &format!("v{i}"),
            &format!("2026-03-02T06:{:02}:00Z", i * 10),
            "victor@x.com",
            "wipe",
            Some(&format!("MAC-{i}")),
        ));
    }
    input.sort_by_key(|e| e.time);
    let (out, eps) = run(&mut st, input);
    let bulk: Vec<&EpisodeRecord> = eps
        .iter()
        .filter(|e| e.episode_kind == "bulk_destructive")
        .collect();
    assert_eq!(bulk.len(), 1, "{eps:#?}");
    assert_eq!(bulk[0].event_count, 5);
    assert_eq!(bulk[0].device_count, 5);
    assert!(
        bulk[0].reason.contains("threshold 5 within 60 min"),
        "{}",
        bulk[0].reason
    );
    for i in 0..5 {
        let e = by_uid(&out, &format!("w{i}"));
        assert!(
            e.risk_tags.contains(&"bulk_destructive".to_owned()),
            "w{i}: {e:?}"
        );
        assert_eq!(e.episode_kind.as_deref(), Some("bulk_destructive"));
        assert_eq!(e.episode_id.as_deref(), Some(bulk[0].episode_id.as_str()));
        assert_eq!(
            e.risk_score, 100,
            "90 + 85 -> 90 + 5, capped: {}",
            e.risk_score
        );
        assert!(e.controls.contains(&"SOC2-CC7.2".to_owned()));
    }
    for i in 0..4 {
        let e = by_uid(&out, &format!("v{i}"));
        assert!(!e.risk_tags.contains(&"bulk_destructive".to_owned()));
        assert_eq!(e.episode_kind.as_deref(), Some("admin_session"));
    }
}

#[test]
fn off_hours_follow_the_persons_time_zone_from_the_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("people.csv"),
        "id,person,department,time_zone,business_hours\n\
         ann@x.com,Ann A,IT,America/New_York,08-18\n",
    )
    .expect("people");
    let enrich = EnrichStage::open(dir.path()).expect("directory");
    let correlate = stage(CorrelateConfig::default()).with_directory(enrich.directory());
    let mut st = enrich.then(correlate);
    let input = vec![
        // 13:00 UTC on a Monday is 08:00 in New York: inside business hours.
        ev("in", "2026-03-02T13:00:00Z", "ann@x.com", "update", None),
        // 03:00 UTC is 22:00 the evening before in New York.
        ev("late", "2026-03-03T03:00:00Z", "ann@x.com", "update", None),
        // Saturday noon.
        ev("sat", "2026-03-07T17:00:00Z", "ann@x.com", "update", None),
        // No directory entry: the default, UTC 08-18. 12:00 UTC is inside.
        ev(
            "unknown",
            "2026-03-02T12:00:00Z",
            "zed@x.com",
            "update",
            None,
        ),
    ];
    let mut input = input;
    input.sort_by_key(|e| e.time);
    let (out, _) = run(&mut st, input.clone());
    let off = |u: &str| by_uid(&out, u).risk_tags.contains(&"off_hours".to_owned());
    assert!(!off("in"));
    assert!(off("late"));
    assert!(off("sat"));
    assert!(!off("unknown"));
    assert_eq!(st.first().stats().unresolved, 1);

    // Correlation only reads the directory: without the enrich stage the same tags follow, and no
    // column is filled.
    let handle = st.first().directory();
    let mut alone = stage(CorrelateConfig::default()).with_directory(handle);
    let (bare, _) = run(&mut alone, input);
    for u in ["in", "late", "sat", "unknown"] {
        assert_eq!(by_uid(&bare, u).risk_tags, by_uid(&out, u).risk_tags, "{u}");
        assert_eq!(by_uid(&bare, u).actor_person, None);
        assert!(by_uid(&bare, u).unresolved.is_empty());
    }
    let late = by_uid(&out, "late");
    assert!(
        late.risk_reasons
            .iter()
            .any(|r| r.contains("22:00 local time (America/New_York)")),
        "{:?}",
        late.risk_reasons
    );
    assert_eq!(late.actor_person.as_deref(), Some("Ann A"));
    assert_eq!(by_uid(&out, "unknown").unresolved, ["actor"]);
}

#[test]
fn new_and_rare_actors_are_flagged_only_after_learning() {
    let config = CorrelateConfig {
        learning: Duration::days(1),
        rare_min_history: 3,
        ..CorrelateConfig::default()
    };
    let mut st = stage(config);
    let mut input = Vec::new();
    for i in 0..4 {
        input.push(ev(
            &format!("r{i}"),
            &format!("2026-02-27T09:0{i}:00Z"),
            "ray@x.com",
            "read",
            None,
        ));
    }
    input.push(ev(
        "r-del",
        "2026-03-02T09:00:00Z",
        "ray@x.com",
        "delete",
        None,
    ));
    input.push(ev(
        "n1",
        "2026-03-02T10:00:00Z",
        "nina@x.com",
        "update",
        None,
    ));
    input.push(ev(
        "n2",
        "2026-03-02T10:10:00Z",
        "nina@x.com",
        "update",
        None,
    ));
    input.push(ev(
        "n3",
        "2026-03-02T12:00:00Z",
        "nina@x.com",
        "update",
        None,
    ));
    let (out, _) = run(&mut st, input);
    let tags = |u: &str| by_uid(&out, u).risk_tags.clone();
    assert!(tags("r0").is_empty(), "learning period");
    assert_eq!(tags("r-del"), ["rare_action_for_actor"]);
    assert!(tags("n1").contains(&"new_actor".to_owned()));
    assert!(
        tags("n2").contains(&"new_actor".to_owned()),
        "same first session"
    );
    assert!(
        !tags("n3").contains(&"new_actor".to_owned()),
        "a later session"
    );
    // A baseline from the store knows Nina: she is not new.
    let mut baseline = Baseline {
        since: Some(at("2026-01-01T00:00:00Z")),
        ..Baseline::default()
    };
    baseline
        .actors
        .insert("nina@x.com".into(), ActorHistory::default());
    let mut st = CorrelateStage::new(CorrelateConfig::default(), baseline);
    let (out, _) = run(
        &mut st,
        vec![ev(
            "n9",
            "2026-03-02T10:00:00Z",
            "nina@x.com",
            "update",
            None,
        )],
    );
    assert!(out[0].risk_tags.is_empty());
}

#[test]
fn a_rollout_groups_changes_assignments_and_device_results_and_a_lifecycle_ends_at_the_wipe() {
    let mut st = stage(CorrelateConfig::default());
    let mut create = ev("p1", "2026-03-02T10:00:00Z", "pat@x.com", "create", None);
    create.target_type = Some("compliance_policy".into());
    create.target_id = Some("pol-1".into());
    create.target_name = Some("Finance - Require encryption".into());
    let mut assign = ev("p2", "2026-03-02T10:03:00Z", "pat@x.com", "assign", None);
    assign.target_type = Some("policy_assignment".into());
    assign.target_id = Some("pol-1".into());
    let mut result = ev(
        "d1",
        "2026-03-02T14:00:00Z",
        "x",
        "compliance_change",
        Some("PC-1"),
    );
    result.actor_kind = None;
    result.actor_upn = None;
    result.target_type = Some("device".into());
    result.target_name = Some("Finance - Require encryption".into());
    let mut enroll = ev("l1", "2026-03-03T09:00:00Z", "x", "enroll", Some("IPAD-7"));
    enroll.actor_kind = None;
    enroll.actor_upn = None;
    let mut checkin = ev(
        "l2",
        "2026-03-04T09:00:00Z",
        "x",
        "check_in",
        Some("IPAD-7"),
    );
    checkin.actor_kind = None;
    checkin.actor_upn = None;
    let wipe = ev(
        "l3",
        "2026-03-05T09:00:00Z",
        "hd@x.com",
        "wipe",
        Some("IPAD-7"),
    );
    let (out, eps) = run(&mut st, vec![create, assign, result, enroll, checkin, wipe]);
    let rollout = eps
        .iter()
        .find(|e| e.episode_kind == "policy_rollout")
        .expect("rollout");
    assert_eq!(rollout.event_uids, ["p1", "p2", "d1"]);
    assert!(
        rollout
            .reason
            .contains("pat@x.com assigned and created Finance - Require encryption")
            && rollout
                .reason
                .contains("1 device results reported their settings within 24 h"),
        "{}",
        rollout.reason
    );
    for u in ["p1", "p2", "d1"] {
        assert_eq!(
            by_uid(&out, u).episode_kind.as_deref(),
            Some("policy_rollout")
        );
    }
    let life = eps
        .iter()
        .find(|e| e.episode_kind == "device_lifecycle")
        .expect("lifecycle");
    assert_eq!(life.event_uids, ["l1", "l2", "l3"]);
    assert!(
        life.reason
            .starts_with("IPAD-7: enrolled 2026-03-03 09:00 UTC, 3 events until wipe"),
        "{}",
        life.reason
    );
    assert_eq!(
        by_uid(&out, "l3").episode_kind.as_deref(),
        Some("device_lifecycle")
    );
}

#[test]
fn flush_releases_everything_held_and_reports_open_episodes_without_closing_them() {
    let mut st = stage(CorrelateConfig::default());
    let (mut out, mut eps) = (Vec::new(), Vec::new());
    st.push(
        ev("a1", "2026-03-02T10:00:00Z", "ann@x.com", "update", None),
        &mut out,
        &mut eps,
    );
    assert!(out.is_empty(), "held for the bulk window");
    st.flush(&mut out, &mut eps);
    assert_eq!(out.len(), 1);
    assert_eq!(eps.len(), 1);
    st.push(
        ev("a2", "2026-03-02T10:05:00Z", "ann@x.com", "update", None),
        &mut out,
        &mut eps,
    );
    st.flush(&mut out, &mut eps);
    assert_eq!(out.len(), 2);
    assert_eq!(eps.len(), 2);
    assert_eq!(
        eps[0].episode_id, eps[1].episode_id,
        "the same session, a newer state"
    );
    assert_eq!(eps[1].event_count, 2);
}

#[test]
fn a_lone_change_is_no_rollout_and_a_device_reporting_a_set_setting_joins_one() {
    let mut st = stage(CorrelateConfig::default());
    let mut lone = ev("u1", "2026-03-02T09:00:00Z", "kim@x.com", "update", None);
    lone.target_type = Some("configuration_profile".into());
    lone.target_name = Some("Wi-Fi".into());
    let mut create = ev("c1", "2026-03-02T10:00:00Z", "pat@x.com", "create", None);
    create.target_type = Some("compliance_policy".into());
    create.target_name = Some("Require encryption".into());
    let change = |path: &str, new: &str| crate::Change {
        path: path.into(),
        old: None,
        new: Some(new.into()),
        redacted: false,
    };
    create.changes = vec![
        change("DisplayName", "Require encryption"),
        change("StorageRequireEncryption", "true"),
    ];
    let mut report = ev(
        "r1",
        "2026-03-02T11:00:00Z",
        "x",
        "compliance_change",
        Some("MBP-1"),
    );
    report.actor_kind = None;
    report.actor_upn = None;
    report.target_name = Some("MBP-1".into());
    report.changes = vec![change(
        "MacOSCompliancePolicy.StorageRequireEncryption",
        "False",
    )];
    let (out, eps) = run(&mut st, vec![lone, create, report]);
    assert_eq!(
        by_uid(&out, "u1").episode_kind.as_deref(),
        Some("admin_session")
    );
    let rollouts: Vec<&EpisodeRecord> = eps
        .iter()
        .filter(|e| e.episode_kind == "policy_rollout")
        .collect();
    assert_eq!(rollouts.len(), 1, "{eps:#?}");
    assert_eq!(rollouts[0].event_uids, ["c1", "r1"]);
    assert_eq!(
        by_uid(&out, "c1").episode_kind.as_deref(),
        Some("policy_rollout")
    );
    assert_eq!(st.stats().episodes.get("policy_rollout"), Some(&1));
}
