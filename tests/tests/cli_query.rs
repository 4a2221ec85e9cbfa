//! `mdm-audit query` run as a user runs it: the user's SQL and the filtered timeline, printed as a
//! table, CSV and JSON.

use std::process::Output;

use mdm_audit_tests::{run_cli_input as run, succeeded as ok};

/// The rows of `query --format ndjson` output.
fn ndjson_rows(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn query_prints_sql_and_the_filtered_timeline_as_table_csv_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    mdm_audit_tests::generated_store(
        root,
        "--seed 5 --events 400 --days 5 --devices 100 --wipe-count 4 --bulk-delete-count 5 --rollout-devices 6",
        "query",
    );
    let range = [
        "--store",
        "data",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
    ];
    let query = |extra: &[&str]| {
        let mut args = vec!["query"];
        args.extend(range);
        args.extend(extra);
        run(&args, root, None)
    };

    // The user's SQL, as JSON: one row per group, counts that add up to the whole table.
    let out = ok(query(&[
        "--sql",
        "SELECT action, count(*) AS n FROM events GROUP BY action ORDER BY n DESC, action",
        "--format",
        "json",
        "--limit",
        "1000",
    ]));
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let total = ok(query(&[
        "--sql",
        "SELECT count(*) AS n FROM events",
        "--format",
        "ndjson",
    ]));
    let total = ndjson_rows(&total)[0]["n"].as_u64().expect("n");
    assert!(total > 300, "{total} events stored");
    let summed: u64 = groups.iter().map(|g| g["n"].as_u64().expect("n")).sum();
    assert_eq!(summed, total);
    let wipes = groups
        .iter()
        .find(|g| g["action"] == "wipe")
        .and_then(|g| g["n"].as_u64())
        .expect("wipe among the actions");
    assert!(wipes >= 4, "the planted wipe burst: {wipes}");

    // The timeline with a filter: exactly the events SQL counts, newest first.
    let out = ok(query(&["--action", "wipe", "--format", "ndjson"]));
    let rows = ndjson_rows(&out);
    assert_eq!(rows.len() as u64, wipes);
    assert!(rows.iter().all(|r| r["action"] == "wipe"));
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["time"].as_str().expect("time"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    for column in ["vendor", "actor", "device", "risk_level", "event_uid"] {
        assert!(rows[0].get(column).is_some(), "{column} in {}", rows[0]);
    }

    // CSV: a header, then one line per row; lists (risk_tags) as their text.
    let out = ok(query(&["--action", "wipe", "--format", "csv"]));
    let csv = String::from_utf8(out.stdout).expect("UTF-8");
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    assert!(
        header.starts_with("time,vendor,action,actor,device,"),
        "{header}"
    );
    assert!(header.contains("risk_tags"), "{header}");
    assert_eq!(lines.count() as u64, wipes);
    assert!(csv.contains("[remote_wipe"), "risk tags as text: {csv}");

    // A table, capped at --limit with a note on stderr.
    let out = ok(query(&["--limit", "3"]));
    let table = String::from_utf8(out.stdout).expect("UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        table.lines().nth(1).is_some_and(|l| l.contains("| time")),
        "{table}"
    );
    let data_rows = table.lines().filter(|l| l.starts_with("| 20")).count();
    assert_eq!(data_rows, 3, "{table}");
    assert!(
        stderr.contains("query: showing the first 3 rows; more match"),
        "{stderr}"
    );

    // The timeline is read from the range's end in growing windows (the last hour, 8 hours, 64, ...):
    // the same newest rows, in the same order, as one SQL query over the same range, whether the
    // limit is met in the first window, a later one or never (1,000 is more than the store holds).
    // The range ends at the newest event, so the windows cut through the ~80 events a day.
    let newest = ok(query(&[
        "--sql",
        "SELECT max(time) AS t FROM events",
        "--format",
        "ndjson",
    ]));
    let newest = ndjson_rows(&newest)[0]["t"]
        .as_str()
        .expect("newest time")
        .to_owned();
    let upto = |extra: &[&str]| {
        let mut args = vec![
            "query",
            "--store",
            "data",
            "--from",
            "2000-01-01",
            "--to",
            &newest,
        ];
        args.extend(extra);
        run(&args, root, None)
    };
    let uids = |out: Output| -> Vec<String> {
        ndjson_rows(&out)
            .iter()
            .map(|r| r["event_uid"].as_str().expect("event_uid").to_owned())
            .collect()
    };
    for limit in ["1", "2", "25", "299", "1000"] {
        let timeline = uids(ok(upto(&["--limit", limit, "--format", "ndjson"])));
        let sql =
            format!("SELECT event_uid FROM events ORDER BY time DESC, event_uid LIMIT {limit}");
        let whole = uids(ok(upto(&[
            "--sql", &sql, "--limit", limit, "--format", "ndjson",
        ])));
        assert_eq!(timeline, whole, "limit {limit}");
        let expected = limit.parse::<u64>().expect("limit").min(total);
        assert_eq!(timeline.len() as u64, expected, "limit {limit}");
    }

    // Clear refusals.
    for (args, says) in [
        (vec!["--sql", "DROP TABLE events"], "one read-only query"),
        (
            vec!["--sql", "SELECT 1", "--vendor", "jamf"],
            "with --sql, write them in the query's WHERE clause",
        ),
    ] {
        let out = query(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let backwards = [
        "query",
        "--store",
        "data",
        "--from",
        "2026-03-05",
        "--to",
        "2026-03-01",
    ];
    let out = run(&backwards, root, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is after --to"));
    // An empty timeline says what the store holds.
    let out = ok(run(
        &["query", "--store", "data", "--to", "2001-01-01"],
        root,
        None,
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("the store holds {total} events from 20")),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("(no rows; columns: time, vendor,"));
    let out = run(&["query", "--store", "empty"], root, None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no `events` table"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
