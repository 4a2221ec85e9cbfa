//! The estate generator (issue 3) against the real mappings: a seeded estate is generated, every feed
//! file is normalized by the VRL programs in `vrl-mappings/` (the same `normalize_reader` the CLI uses),
//! and the ground truth is checked record by record. Also: byte-for-byte reproducibility, `--events`
//! accuracy, noise dominating the volume, and that generated secrets never survive normalization.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;
use std::path::Path;

use chrono::{DateTime, Utc};
use mdm_audit_generate::{
    self as generate, Feed, FeedSink, GenerateConfig, GenerateError, GenerateReport, GroundTruth,
    NullSink, ScenarioKind, ScenarioSelection, ScenarioSizes,
};
use mdm_audit_transform::normalize::{RunStats, SourceChoice, normalize_reader};
use mdm_audit_transform::output::EventSink;
use mdm_audit_transform::{
    DeadLetter, NormalizeConfig, NormalizedEvent, Normalizer, TransformError,
};

/// Records in the test estate. In the debug profile compiling the VRL programs costs ~15 s of CPU once;
/// each record then takes ~1.5 ms, so 2,000 records add about 3 s, enough for every scenario with
/// several devices and for noise to dominate.
const EVENTS: u64 = 2_000;

fn config(seed: u64) -> GenerateConfig {
    GenerateConfig {
        seed,
        events: EVENTS,
        days: 7,
        devices: 200,
        sizes: ScenarioSizes {
            wipe_count: 8,
            bulk_delete_count: 10,
            rollout_devices: 10,
            rollout_fail_pct: 30,
        },
        ..GenerateConfig::default()
    }
}

/// Keeps every feed's bytes in memory.
#[derive(Default)]
struct MemorySink {
    feeds: BTreeMap<Feed, Vec<u8>>,
}

impl FeedSink for MemorySink {
    fn write_record(&mut self, feed: Feed, record: &[u8]) -> Result<(), GenerateError> {
        let buf = self.feeds.entry(feed).or_default();
        buf.extend_from_slice(record);
        buf.push(b'\n');
        Ok(())
    }

    fn finish(&mut self) -> Result<(), GenerateError> {
        Ok(())
    }
}

fn generate_in_memory(config: &GenerateConfig) -> (MemorySink, GenerateReport) {
    let mut sink = MemorySink::default();
    let report = generate::generate(config, &mut sink, &mut |_, _| {}).expect("generate");
    (sink, report)
}

/// Collects normalized events in order.
struct Collect<'a>(&'a mut Vec<NormalizedEvent>);

impl EventSink for Collect<'_> {
    fn write(&mut self, event: &NormalizedEvent) -> Result<(), TransformError> {
        self.0.push(event.clone());
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), TransformError> {
        Ok(())
    }
}

/// Normalizes one feed's bytes with auto-detection, as `mdm-audit normalize --source auto` does.
fn normalize_feed(
    normalizer: &mut Normalizer,
    name: &str,
    bytes: &[u8],
) -> (Vec<NormalizedEvent>, Vec<DeadLetter>) {
    let mut events = Vec::new();
    let mut dead = Vec::new();
    let mut stats = RunStats::default();
    let mut sink = Collect(&mut events);
    normalize_reader(
        normalizer,
        SourceChoice::Auto,
        BufReader::new(bytes),
        name,
        &mut sink,
        &mut |d| {
            dead.push(d);
            Ok(())
        },
        &mut stats,
        &mut |_| {},
    )
    .expect("normalize");
    (events, dead)
}

/// Normalizes every feed with one set of compiled programs.
fn normalize_all(sink: &MemorySink) -> BTreeMap<Feed, (Vec<NormalizedEvent>, Vec<DeadLetter>)> {
    let mut normalizer =
        Normalizer::from_config(&NormalizeConfig::default()).expect("mappings compile");
    sink.feeds
        .iter()
        .map(|(feed, bytes)| {
            (
                *feed,
                normalize_feed(&mut normalizer, feed.file_name(), bytes),
            )
        })
        .collect()
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

/// The single-event risk tags each scenario role must get, written from the trigger conditions
/// documented at the top of each `vrl-mappings/risk/NN_<tag>.vrl` (not from normalizer output):
/// - remote_wipe: action wipe or retire;
/// - passcode_cleared: clear_passcode, reset_passcode, disable_lost_mode, bypass_activation_lock;
/// - passcode_disabled: a policy/profile update where a *Required passcode/password setting goes
///   true -> false;
/// - secret_read: read of a filevault/bitlocker recovery key or activation-lock bypass code;
/// - mdm_removed: unenroll, mdm_capability_changed, or delete/retire of a device;
/// - role_grant: create/update/assign of a role definition/assignment, admin account, API client;
/// - broad_scope: create/update/assign whose new value targets all devices or all users;
/// - non_human_actor: actor_kind app or api_client.
///
/// Everything else (logins, inventory, compliance alerts with no old value, group-targeted
/// assignments, enable_lost_mode) shows no single-event tag.
fn tags_by_role(role: &str) -> &'static [&'static str] {
    match role {
        "role_grant" => &["role_grant"],
        "wipe" => &["remote_wipe"],
        "passcode_cleared" | "lost_mode_disabled" => &["passcode_cleared"],
        "key_read" => &["secret_read"],
        "token" => &["non_human_actor"],
        "delete_webhook" | "delete_change_management" => &["mdm_removed", "non_human_actor"],
        "passcode_requirement_removed" => &["passcode_disabled"],
        "assigned_to_all_devices" => &["broad_scope"],
        "enterprise_wipe" | "enterprise_wipe_notification" => &["mdm_removed", "remote_wipe"],
        "mdm_removed" | "mdm_removed_notification" => &["mdm_removed"],
        "snapshot_wipe_pending"
        | "lost_mode_enabled"
        | "login"
        | "logout"
        | "baseline_profile_created"
        | "baseline_profile_assigned"
        | "compliance_policy_created"
        | "compliance_policy_assigned"
        | "encryption_failed"
        | "snapshot_noncompliant"
        | "snapshot_compliant"
        | "enrolled"
        | "initial_compliance"
        | "compliance_drift" => &[],
        other => panic!("ground truth has a role this test does not know: {other}"),
    }
}

/// Values of the fields where vendors put secrets, found in a raw record by JSON key or by Intune
/// property name (`modifiedProperties` / `ModifiedProperties`).
fn secrets_in(record: &str, out: &mut Vec<(String, String)>) {
    fn walk(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, val) in map {
                    if let (true, Some(s)) = (
                        ["activationLockBypassCode", "password"].contains(&k.as_str()),
                        val.as_str(),
                    ) {
                        out.push((k.clone(), s.to_owned()));
                    }
                }
                let name = map
                    .get("displayName")
                    .or_else(|| map.get("Name"))
                    .and_then(|n| n.as_str())
                    .unwrap_or("");
                if name.ends_with("ScriptContent") {
                    for key in ["newValue", "oldValue", "New", "Old"] {
                        if let Some(s) = map.get(key).and_then(|s| s.as_str()) {
                            out.push((name.to_owned(), s.to_owned()));
                        }
                    }
                }
                map.values().for_each(|v| walk(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(record) {
        walk(&v, out);
    }
}

#[test]
fn every_record_normalizes_and_the_ground_truth_holds() {
    let (sink, report) = generate_in_memory(&config(20_260_302));
    let gt = &report.ground_truth;
    let normalized = normalize_all(&sink);

    // Zero dead letters, one event per record, in file order.
    for feed in Feed::ALL {
        let (events, dead) = normalized
            .get(&feed)
            .map_or((&[][..], &[][..]), |(e, d)| (&e[..], &d[..]));
        assert!(
            dead.is_empty(),
            "{}: {} dead letters, first: {:?}",
            feed.name(),
            dead.len(),
            dead.first()
                .map(|d| (&d.reason, String::from_utf8_lossy(&d.raw)))
        );
        assert_eq!(events.len() as u64, report.feed(feed), "{}", feed.name());
        for e in events {
            assert_eq!(e.vendor, feed.vendor(), "{}: {}", feed.name(), e.raw);
        }
        // Records are written in time order (the heap merge).
        for w in events.windows(2) {
            assert!(
                w[0].time <= w[1].time,
                "{}: {} then {}",
                feed.name(),
                w[0].time,
                w[1].time
            );
        }
    }
    assert!(
        Feed::ALL.iter().all(|f| report.feed(*f) > 0),
        "every feed has records: {:?}",
        report.records
    );

    // Every scenario is planted, with the episode kinds DESIGN.md names (plus device_lifecycle).
    let kinds: BTreeSet<&str> = gt.scenarios.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds.len(), ScenarioKind::ALL.len(), "{kinds:?}");
    for s in &gt.scenarios {
        assert!(!s.records.is_empty(), "{} has no records", s.id);
        assert!(
            [
                "policy_rollout",
                "bulk_destructive",
                "admin_session",
                "device_lifecycle"
            ]
            .contains(&s.episode_kind.as_str()),
            "{}: {}",
            s.id,
            s.episode_kind
        );
    }

    // Each ground-truth record, field by field, against the event the real mappings made of it.
    let mut checked = 0;
    let mut tags_seen = BTreeSet::new();
    for s in &gt.scenarios {
        for r in &s.records {
            let feed = Feed::ALL
                .into_iter()
                .find(|f| f.name() == r.feed && f.file_name() == r.file)
                .unwrap_or_else(|| panic!("{}: unknown feed {}", s.id, r.feed));
            let e = &normalized[&feed].0[r.index as usize];
            let at = format!("{} {} {}:{}", s.id, r.role, r.file, r.index);
            let mut want: Vec<&str> = tags_by_role(&r.role).to_vec();
            want.sort_unstable();
            assert_eq!(
                r.risk_tags, want,
                "{at}: ground truth disagrees with the rules"
            );
            let mut got: Vec<&str> = e.risk_tags.iter().map(String::as_str).collect();
            got.sort_unstable();
            assert_eq!(got, want, "{at}: risk tags\n{}", e.raw);
            assert_eq!(
                e.native_action, r.expect.native_action,
                "{at}: native_action"
            );
            assert_eq!(e.action, r.expect.action, "{at}: action");
            assert_eq!(e.actor_kind, r.expect.actor_kind, "{at}: actor_kind");
            assert_eq!(e.target_type, r.expect.target_type, "{at}: target_type");
            assert_eq!(e.time, time(&r.time), "{at}: time");
            if let Some(id) = &r.vendor_id {
                assert_eq!(&e.event_uid, id, "{at}: event_uid is the vendor id");
            }
            let line = std::str::from_utf8(&sink.feeds[&feed])
                .expect("UTF-8")
                .lines()
                .nth(r.index as usize)
                .expect("record line");
            assert_eq!(sha256_hex(line), r.sha256, "{at}: sha256 of the record");
            if r.secret_field.is_none() {
                assert_eq!(e.raw, line, "{at}: raw is the record");
            }
            if let Some(field) = &r.secret_field {
                assert!(
                    e.raw.contains(&format!("\"{field}\":\"[REDACTED]\"")),
                    "{at}: {field} not redacted in raw"
                );
            }
            tags_seen.extend(got.iter().map(|t| (*t).to_owned()));
            checked += 1;
        }
    }
    assert_eq!(checked as u64, gt.scenario_records);
    for tag in [
        "remote_wipe",
        "passcode_cleared",
        "passcode_disabled",
        "secret_read",
        "mdm_removed",
        "role_grant",
        "broad_scope",
        "non_human_actor",
    ] {
        assert!(
            tags_seen.contains(tag),
            "no scenario record shows {tag}: {tags_seen:?}"
        );
    }

    // Noise dominates the volume.
    assert_eq!(gt.noise_records + gt.scenario_records, report.total);
    assert!(
        gt.noise_records * 4 >= report.total * 3,
        "noise {} of {}",
        gt.noise_records,
        report.total
    );

    // Secrets generated into raw records (Activation Lock bypass codes, SCEP passwords, script bodies)
    // never reach the normalized event: not in `raw`, not in `changes`.
    let mut secrets_found = 0;
    for (feed, bytes) in &sink.feeds {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        for (i, line) in text.lines().enumerate() {
            let mut secrets = Vec::new();
            secrets_in(line, &mut secrets);
            let e = &normalized[feed].0[i];
            for (field, value) in secrets {
                secrets_found += 1;
                assert!(
                    !e.raw.contains(&value),
                    "{}:{i}: {field} value left in raw",
                    feed.name()
                );
                for c in &e.changes {
                    assert!(
                        c.old.as_deref() != Some(value.as_str())
                            && c.new.as_deref() != Some(value.as_str()),
                        "{}:{i}: {field} value left in changes",
                        feed.name()
                    );
                }
            }
        }
    }
    assert!(
        secrets_found > 0,
        "the estate should carry secrets for this check to mean anything"
    );
}

#[test]
fn same_seed_same_bytes_and_another_seed_differs() {
    let (a, ra) = generate_in_memory(&config(7));
    let (b, rb) = generate_in_memory(&config(7));
    assert_eq!(a.feeds, b.feeds, "same seed, different records");
    assert_eq!(
        serde_json::to_string(&ra.ground_truth).expect("json"),
        serde_json::to_string(&rb.ground_truth).expect("json")
    );
    let (c, _) = generate_in_memory(&config(8));
    for feed in Feed::ALL {
        assert_ne!(
            a.feeds.get(&feed),
            c.feeds.get(&feed),
            "{} identical for seeds 7 and 8",
            feed.name()
        );
    }
    // The scenario mix changes the estate too, and `none` plants nothing.
    let mut none = config(7);
    none.scenarios = ScenarioSelection(Vec::new());
    let (_, rn) = generate_in_memory(&none);
    assert!(rn.ground_truth.scenarios.is_empty());
    assert_eq!(rn.ground_truth.scenario_records, 0);
    assert_eq!(rn.total, EVENTS);
}

#[test]
fn events_option_is_honoured_exactly() {
    // Stated tolerance: exact (the noise budget is split with largest remainders), as long as
    // --events is at least the planted scenarios' records.
    for (events, days, devices) in [
        (1_000u64, 3u32, 200u32),
        (25_000, 30, 400),
        (120_000, 10, 1_500),
    ] {
        let c = GenerateConfig {
            events,
            days,
            devices,
            ..config(11)
        };
        let mut sink = NullSink::default();
        let report = generate::generate(&c, &mut sink, &mut |_, _| {}).expect("generate");
        assert_eq!(report.total, events, "events {events}");
        assert_eq!(report.records.iter().sum::<u64>(), events);
        assert!(
            sink.bytes > events * 100,
            "records look too small: {} bytes",
            sink.bytes
        );
    }
    // Fewer events than the scenarios need: the scenarios are kept whole, nothing else is written.
    let small = GenerateConfig {
        events: 10,
        ..config(11)
    };
    let report =
        generate::generate(&small, &mut NullSink::default(), &mut |_, _| {}).expect("generate");
    assert_eq!(report.total, report.ground_truth.scenario_records);
    assert_eq!(report.ground_truth.noise_records, 0);
}

#[test]
fn bad_options_are_refused_naming_the_option() {
    for (c, flag) in [
        (
            GenerateConfig {
                days: 0,
                ..config(1)
            },
            "--days",
        ),
        (
            GenerateConfig {
                devices: 5,
                ..config(1)
            },
            "--devices",
        ),
        (
            GenerateConfig {
                sizes: ScenarioSizes {
                    wipe_count: 500,
                    ..config(1).sizes
                },
                ..config(1)
            },
            "--wipe-count",
        ),
    ] {
        let err = generate::generate(&c, &mut NullSink::default(), &mut |_, _| {})
            .expect_err("invalid options");
        assert!(err.to_string().contains(flag), "{flag}: {err}");
    }
}

#[test]
fn ground_truth_file_round_trips() {
    let (_, report) = generate_in_memory(&config(3));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(generate::GROUND_TRUTH_FILE);
    report.ground_truth.write(&path).expect("write");
    let back = GroundTruth::read(Path::new(&path)).expect("read");
    assert_eq!(back, report.ground_truth);
}

/// The generator writes the directory files under the names the write path's enrich stage reads.
#[test]
fn directory_file_names_are_the_ones_enrichment_reads() {
    assert_eq!(
        mdm_audit_generate::PEOPLE_FILE,
        mdm_audit_transform::enrich::PEOPLE_FILE
    );
    assert_eq!(
        mdm_audit_generate::DEVICES_FILE,
        mdm_audit_transform::enrich::DEVICES_FILE
    );
}
