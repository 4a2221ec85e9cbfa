//! The plugin's narrative over gRPC, as Grafana runs it (the setup `plugin_e2e.rs` uses): the story
//! and its citations frame, a citation's link that opens the evidence dashboard on exactly the cited
//! events, and reviews posted through CallResource by the signed-in Grafana user.

use std::collections::BTreeSet;

use arrow::array::Array;
use mdm_audit_tests::json::{has, narrative_id, verified_table};
use mdm_audit_tests::plugin::{
    Store, call_resource, context, decode, fixture_store, numbers, query, query_data, run_plugin,
    strings,
};
use mdm_audit_tests::run_cli;

#[test]
fn grafana_shows_cited_narratives_and_records_reviews() {
    let fx = fixture_store();
    run_plugin(|endpoint| async move { talk(&endpoint, &fx).await });
}

async fn talk(endpoint: &str, fx: &Store) {
    let ctx = context(&fx.store);
    let resp = query_data(
        endpoint,
        &ctx,
        vec![query(
            "R",
            serde_json::json!({"refId": "R", "queryType": "narrative", "narrative": {"kind": "period_summary"}}),
        )],
    )
    .await;
    let r = |id: &str| resp.get(id).unwrap_or_else(|| panic!("response {id}"));

    // Narrative: the story (Markdown, findings first) and a citations frame whose rows link to the
    // dashboards showing the cited events; small enough for any gRPC client.
    assert_eq!(r("R").error, "", "narrative");
    assert_eq!(r("R").frames.len(), 2, "story and citations");
    let answer: usize = r("R").frames.iter().map(Vec::len).sum();
    assert!(answer < 1024 * 1024, "narrative answer {answer} bytes");
    let n = decode(&r("R").frames[0]);
    assert_eq!(n.batch.num_rows(), 1);
    let md = strings(&n.batch, "markdown")[0].clone().unwrap_or_default();
    assert!(
        md.contains("## Period audit summary") && md.contains("[1]"),
        "{md}"
    );
    let summary = md.find("### Summary").expect("summary");
    let routine = md.find("### Routine activity").expect("routine");
    assert!(summary < routine, "{md}");
    let c = decode(&r("R").frames[1]);
    assert!(c.batch.num_rows() > 1);
    for link in strings(&c.batch, "link") {
        let link = link.expect("link");
        assert!(
            link.starts_with("/d/mdm-audit-") && link.contains("from="),
            "{link}"
        );
    }
    let counts = c.batch.column_by_name("events").expect("events column");
    assert_eq!(counts.null_count(), 0);
    // A small set's link opens the evidence dashboard on exactly its events: run the query that
    // dashboard runs with the link's variable and get the cited events back, no more, no fewer.
    let events_col = numbers(&c.batch, 4);
    let (link, cited) = strings(&c.batch, "link")
        .into_iter()
        .zip(events_col)
        .find_map(|(l, n)| {
            l.filter(|l| l.starts_with("/d/mdm-audit-evidence?"))
                .map(|l| (l, n as usize))
        })
        .expect("a citation links to the evidence dashboard");
    let var: String =
        url::form_urlencoded::parse(link.split_once('?').expect("query").1.as_bytes())
            .find(|(k, _)| k == "var-events")
            .map(|(_, v)| v.into_owned())
            .expect("var-events");
    let resp = query_data(
        endpoint,
        &ctx,
        vec![query(
            "U",
            serde_json::json!({"refId": "U", "queryType": "timeline",
                "filters": {"eventUids": [var.clone()]}, "limit": 1000}),
        )],
    )
    .await;
    let u = decode(&resp["U"].frames[0]);
    let got: BTreeSet<String> = strings(&u.batch, "event_uid")
        .into_iter()
        .map(|v| v.expect("uid"))
        .collect();
    let want: BTreeSet<String> = var.split(',').map(str::to_owned).collect();
    assert_eq!(got, want, "{link}");
    assert_eq!(got.len(), cited, "{link}");

    // CallResource POST reviews: a narrative recorded by `mdm-audit narrate` is reviewed by the
    // signed-in Grafana user; bad decisions and unknown narratives are refused with the reason.
    let tmp = tempfile::tempdir().expect("tempdir");
    let period = ["--from", "2026-03-01", "--to", "2026-03-06"];
    let n = run_cli(
        &[&["narrate", "--store", &fx.store], &period[..]].concat(),
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&n.stderr).into_owned();
    assert!(n.status.success(), "{err}");
    let id = narrative_id(&err);
    let post =
        |body: serde_json::Value| call_resource(endpoint, &ctx, "POST", "reviews", Some(body));
    let (code, body) =
        post(serde_json::json!({"narrativeId": id, "decision": "approve", "comment": "ok"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["decision"], "approve");
    assert_eq!(body["narrative_id"], id.as_str());
    // A Viewer may not judge (403, nothing recorded, whatever the body claims); an Editor may.
    let as_role = |login: &str, role: &str| {
        let mut c = ctx.clone();
        if let Some(u) = c.user.as_mut() {
            u.login = login.into();
            u.name = login.into();
            u.role = role.into();
        }
        c
    };
    let viewer = as_role("vic", "Viewer");
    let (code, body) = call_resource(
        endpoint,
        &viewer,
        "POST",
        "reviews",
        Some(serde_json::json!({"narrativeId": id, "decision": "reject", "reviewer": "admin"})),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert!(has(&body["message"], "Editor"), "{body}");
    let editor = as_role("eve", "Editor");
    let (code, body) = call_resource(
        endpoint,
        &editor,
        "POST",
        "reviews",
        Some(
            serde_json::json!({"narrativeId": id, "decision": "reject", "comment": "wrong actor"}),
        ),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = post(serde_json::json!({"narrativeId": id, "decision": "maybe"})).await;
    assert_eq!(code, 400, "{body}");
    assert!(has(&body["message"], "approve, edit or reject"));
    let (code, _) =
        post(serde_json::json!({"narrativeId": "nar-none", "decision": "reject"})).await;
    assert_eq!(code, 404);
    let reviews = verified_table(&fx.store, tmp.path(), "reviews");
    assert_eq!(
        reviews["rows"], 2,
        "the admin's and the editor's; not the viewer's: {reviews}"
    );
    assert_eq!(reviews["chains"][0]["rows"], 2);
    let report = [
        &["report", "--store", &fx.store],
        &period[..],
        &["--format", "json"],
    ]
    .concat();
    let who = run_cli(&report, tmp.path());
    let who: serde_json::Value = serde_json::from_slice(&who.stdout).expect("report json");
    let reviewers: BTreeSet<&str> = who["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .filter_map(|r| r["reviewer"].as_str())
        .collect();
    assert_eq!(
        reviewers,
        BTreeSet::from(["admin", "eve"]),
        "the Grafana users' logins, never the body's: {who}"
    );
}
