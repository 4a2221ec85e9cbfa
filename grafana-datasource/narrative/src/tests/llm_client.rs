//! Tests of the LLM narrator against a scripted chat-completions server on 127.0.0.1 port 0:
//! format negotiation, retries, fallbacks, verification of what the model says.

use super::evidence::{Change, Evidence};
use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use super::{SECRET, all_text, event, evidence};

type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

#[derive(Clone)]
enum Reply {
    /// status, extra headers, body.
    Http(u16, Vec<(&'static str, String)>, String),
    /// Wait this long before answering (longer than the client's timeout).
    Hang(Duration),
}

fn chat(content: &str) -> Reply {
    let body = serde_json::json!({
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1234, "completion_tokens": 56}
    });
    Reply::Http(200, vec![], body.to_string())
}

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

/// Serves the replies of `script` in order (the last one repeats); each reply may look at the request.
async fn server(script: Vec<Handler>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let reqs = Arc::clone(&requests);
    let n = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let reqs = Arc::clone(&reqs);
            let n = Arc::clone(&n);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let (head, body) = loop {
                    let Ok(k) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..p]).into_owned();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        while buf.len() < p + 4 + len {
                            let Ok(k) = sock.read(&mut chunk).await else {
                                return;
                            };
                            if k == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..k]);
                        }
                        break (
                            head,
                            String::from_utf8_lossy(&buf[p + 4..p + 4 + len]).into_owned(),
                        );
                    }
                };
                reqs.lock().await.push((head, body.clone()));
                let i = n.fetch_add(1, Ordering::SeqCst).min(script.len() - 1);
                match script[i](&body) {
                    Reply::Hang(d) => tokio::time::sleep(d).await,
                    Reply::Http(status, headers, body) => {
                        let mut r = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            r.push_str(&format!("{k}: {v}\r\n"));
                        }
                        r.push_str("\r\n");
                        r.push_str(&body);
                        let _ = sock.write_all(r.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    }
                }
            });
        }
    });
    Server {
        url: format!("http://{addr}/v1"),
        requests,
    }
}

fn fixed(r: Reply) -> Handler {
    Arc::new(move |_| r.clone())
}

fn cfg(url: &str) -> LlmConfig {
    let mut c = LlmConfig::new(url, "stand-in");
    c.timeout = Duration::from_millis(1500);
    c.backoff = Duration::from_millis(50);
    c.api_key = Some("test-key-123".into());
    c
}

fn good_answer(ev: &Evidence) -> String {
    let facts = compact(ev);
    let wipe = facts.iter().find(|f| f.action == "wipe").expect("wipe");
    serde_json::json!({"sentences": [
        {"text": "mallory@corp.example wiped 12 devices between 2026-03-04 13:10 and 13:21.", "citations": [wipe.id]},
        {"text": "The wipes are critical risk.", "citations": [wipe.id]}
    ]})
    .to_string()
}

/// The template published the narrative, for a reason that contains `why`.
fn assert_fell_back(n: &Narrative, why: &str) {
    assert_eq!(n.narrator.narrator, "template");
    let reason = n.narrator.fallback_reason.clone().unwrap_or_default();
    assert!(
        reason.contains(why),
        "fallback reason {reason:?} lacks {why:?}"
    );
}

async fn llm_narrative(script: Vec<Handler>) -> (Narrative, Server, Duration) {
    let s = server(script).await;
    let started = Instant::now();
    let n = narrate_evidence(
        &evidence(),
        &NarrateOptions {
            llm: Some(cfg(&s.url)),
        },
    )
    .await;
    (n, s, started.elapsed())
}

#[tokio::test]
async fn a_verified_llm_answer_is_used_and_the_key_stays_out_of_the_prompt() {
    let ev = evidence();
    let answer = good_answer(&ev);
    let (n, s, _) = llm_narrative(vec![fixed(chat(&answer))]).await;
    assert_eq!(n.narrator.narrator, "llm", "{:?}", n.narrator);
    assert_eq!(n.sentence_count(), 2);
    assert_eq!(n.narrator.prompt_tokens, Some(1234));
    let reqs = s.requests.lock().await;
    let (head, body) = &reqs[0];
    assert!(
        head.to_lowercase()
            .contains("authorization: bearer test-key-123")
    );
    assert!(!body.contains("test-key-123"), "the key is not in the body");
    assert!(!body.contains(SECRET));
    assert!(body.contains("json_schema"), "asks for JSON-schema output");
    assert!(body.contains(super::PROMPT_VERSION));
}

#[test]
fn secrets_and_raw_never_reach_the_prompt() {
    let mut ev = evidence();
    ev.events[0].changes.push(Change {
        path: "apiToken".into(),
        old: None,
        new: None,
        redacted: true,
    });
    // A secret only ever lives in `raw` (not part of the evidence) or in a redacted change; put it
    // in a redacted change's value to be sure it is not sent even if a writer left it there.
    ev.events[0].changes[1].new = Some(SECRET.into());
    let facts = compact(&ev);
    let (sys, user) = llm::prompt(&ev, &facts, &[]);
    assert!(!sys.contains(SECRET) && !user.contains(SECRET), "{user}");
    assert!(user.contains("\"redacted\":true"));
}

#[test]
fn the_prompt_carries_the_story_outline_not_every_event() {
    // A month-like evidence: 2,000 routine check-ins around one bulk wipe.
    let mut ev = evidence();
    for i in 0..2000 {
        let mut e = event(
            700 + i,
            "x",
            "check_in",
            Some(&format!("MBP-{:04}", i % 150)),
            "none",
        );
        e.actor_upn = None;
        e.actor_kind = Some("device".into());
        e.target_type = Some("device".into());
        e.category = "inventory".into();
        ev.events.push(e);
    }
    let ev = Evidence::from_events(ev.scope.clone(), ev.events, vec![]);
    let plan = story::plan(&ev);
    let draft = template::narrate(&ev, &plan);
    let (_, user) = llm::prompt(&ev, &plan.facts, &draft);
    let body: serde_json::Value =
        serde_json::from_str(user.split_once('\n').expect("header").1).expect("json");
    let outline: Vec<&str> = body["outline"]
        .as_array()
        .expect("outline")
        .iter()
        .filter_map(|s| s["section"].as_str())
        .collect();
    assert_eq!(&outline[..2], ["Summary", "Findings"]);
    // Evidence sets, not events: a few dozen sets stand for 2,044 events.
    assert!(plan.facts.len() < 30, "{} sets", plan.facts.len());
    let events = body["events"].as_array().expect("events").len();
    assert!((12..=llm::MAX_PROMPT_EVENTS).contains(&events), "{events}");
    assert!(user.len() < 40_000, "{} bytes", user.len());
    assert!(
        user.contains("check-ins from 150 devices"),
        "routine aggregated"
    );
}

#[tokio::test]
async fn timeout_falls_back_to_the_template() {
    let (n, _, took) = llm_narrative(vec![fixed(Reply::Hang(Duration::from_secs(5)))]).await;
    assert_eq!(n.narrator.narrator, "template");
    let r = n.narrator.fallback_reason.clone().unwrap_or_default();
    assert!(r.contains("did not answer"), "{r}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(n.sentence_count() > 0);
}

#[tokio::test]
async fn retry_after_is_honored_on_429() {
    let ev = evidence();
    let answer = good_answer(&ev);
    let (n, s, took) = llm_narrative(vec![
        fixed(Reply::Http(
            429,
            vec![("retry-after", "1".into())],
            "{}".into(),
        )),
        fixed(chat(&answer)),
    ])
    .await;
    assert_eq!(n.narrator.narrator, "llm", "{:?}", n.narrator);
    assert_eq!(n.narrator.attempts, 2);
    assert_eq!(s.requests.lock().await.len(), 2);
    assert!(took >= Duration::from_millis(950), "waited {took:?}");
}

#[tokio::test]
async fn persistent_500_falls_back_without_busy_retries() {
    let (n, s, _) = llm_narrative(vec![fixed(Reply::Http(
        500,
        vec![],
        "{\"error\":\"boom\"}".into(),
    ))])
    .await;
    assert_fell_back(&n, "HTTP 500");
    // A 500 is no busy answer: it is not retried. To the first json_schema request it counts as a
    // rejection of the format (llama-cpp-python answers so); to json_object, not naming the format,
    // it is the server's failure.
    let reqs = s.requests.lock().await;
    let formats: Vec<String> = reqs.iter().map(|(_, b)| format_of(b)).collect();
    assert_eq!(formats, ["json_schema", "json_object"]);
}

/// The body's `response_format.type` (`none` without one).
fn format_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("request JSON");
    v["response_format"]["type"]
        .as_str()
        .unwrap_or("none")
        .to_owned()
}

#[tokio::test]
async fn a_server_refusing_json_schema_is_asked_with_json_object_and_that_is_remembered() {
    // llama-cpp-python's server (0.3) answers HTTP 500 to `json_schema` and takes `json_object`
    // with a schema.
    let ev = evidence();
    let answer = good_answer(&ev);
    let handler: Handler = Arc::new(move |body: &str| {
        match format_of(body).as_str() {
        "json_schema" => Reply::Http(
            500,
            vec![],
            // What llama-cpp-python 0.3.36 answers (abridged).
            r#"{"error":{"message":"1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}","type":"internal_server_error","param":null,"code":null}}"#.into(),
        ),
        "json_object" => chat(&answer),
        other => Reply::Http(400, vec![], format!("unexpected format {other}")),
    }
    });
    let s = server(vec![handler]).await;
    let options = NarrateOptions {
        llm: Some(cfg(&s.url)),
    };
    let started = Instant::now();
    let n = narrate_evidence(&ev, &options).await;
    assert_eq!(n.narrator.narrator, "llm", "{:?}", n.narrator);
    assert_eq!(n.narrator.attempts, 2);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "a rejected format is not retried with backoff: {:?}",
        started.elapsed()
    );
    {
        let reqs = s.requests.lock().await;
        let formats: Vec<String> = reqs.iter().map(|(_, b)| format_of(b)).collect();
        assert_eq!(formats, ["json_schema", "json_object"]);
        let v: serde_json::Value = serde_json::from_str(&reqs[1].1).expect("json");
        assert_eq!(
            v["response_format"]["schema"]["required"][0], "sentences",
            "json_object carries the schema"
        );
    }
    assert_eq!(
        llm::accepted_format(&cfg(&s.url)),
        Some(llm::ResponseFormat::JsonObject)
    );
    // The next narrative goes straight to the format that worked.
    let again = narrate_evidence(&ev, &options).await;
    assert_eq!(again.narrator.narrator, "llm", "{:?}", again.narrator);
    assert_eq!(again.narrator.attempts, 1);
    let reqs = s.requests.lock().await;
    assert_eq!(reqs.len(), 3, "one request for the second narrative");
    assert_eq!(format_of(&reqs[2].1), "json_object");
}

#[tokio::test]
async fn a_server_without_structured_output_is_asked_without_response_format() {
    let ev = evidence();
    let answer = good_answer(&ev);
    let handler: Handler = Arc::new(move |body: &str| {
        if body.contains("response_format") {
            Reply::Http(
                400,
                vec![],
                r#"{"error":"response_format is not supported"}"#.into(),
            )
        } else {
            chat(&format!("Here you are:\n```json\n{answer}\n```"))
        }
    });
    let (n, s, took) = llm_narrative(vec![handler]).await;
    assert_eq!(n.narrator.narrator, "llm", "{:?}", n.narrator);
    assert_eq!(n.narrator.attempts, 3);
    assert!(took < Duration::from_millis(500), "no backoff: {took:?}");
    let formats: Vec<String> = s
        .requests
        .lock()
        .await
        .iter()
        .map(|(_, b)| format_of(b))
        .collect();
    assert_eq!(formats, ["json_schema", "json_object", "none"]);
}

#[tokio::test]
async fn a_busy_server_is_retried_with_the_same_format() {
    let ev = evidence();
    let answer = good_answer(&ev);
    let (n, s, _) = llm_narrative(vec![
        fixed(Reply::Http(503, vec![], "loading model".into())),
        fixed(chat(&answer)),
    ])
    .await;
    assert_eq!(n.narrator.narrator, "llm", "{:?}", n.narrator);
    let formats: Vec<String> = s
        .requests
        .lock()
        .await
        .iter()
        .map(|(_, b)| format_of(b))
        .collect();
    assert_eq!(formats, ["json_schema", "json_schema"]);
}

#[tokio::test]
async fn a_server_error_after_the_format_was_accepted_does_not_change_the_format() {
    let ev = evidence();
    let answer = good_answer(&ev);
    let (n, s, _) = llm_narrative(vec![
        fixed(chat(&answer)),
        fixed(Reply::Http(500, vec![], "{\"error\":\"boom\"}".into())),
    ])
    .await;
    assert_eq!(n.narrator.narrator, "llm", "{:?}", n.narrator);
    let options = NarrateOptions {
        llm: Some(cfg(&s.url)),
    };
    let failed = narrate_evidence(&ev, &options).await;
    assert_eq!(failed.narrator.narrator, "template");
    let reason = failed.narrator.fallback_reason.clone().unwrap_or_default();
    assert!(reason.contains("HTTP 500"), "{reason}");
    let reqs = s.requests.lock().await;
    assert_eq!(
        reqs.len(),
        2,
        "the 500 is neither retried nor a format rejection"
    );
    assert_eq!(format_of(&reqs[1].1), "json_schema");
    assert_eq!(
        llm::accepted_format(&cfg(&s.url)),
        Some(llm::ResponseFormat::JsonSchema)
    );
}

#[test]
fn an_answer_cut_off_by_max_tokens_keeps_its_complete_sentences() {
    let cut = r#"{"sentences": [{"text": "One.", "citations": ["F1"]}, {"text": "Two.", "citations": [2]}, {"text": "Thr"#;
    let s = llm::parse_sentences(cut).expect("salvaged");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].citations, ["F1"]);
    assert_eq!(s[1].citations, ["E2"]);
    assert!(llm::parse_sentences(r#"{"sentences": [{"text": "On"#).is_err());
}

#[tokio::test]
async fn malformed_json_falls_back() {
    let (n, _, _) = llm_narrative(vec![fixed(Reply::Http(
        200,
        vec![],
        "{\"choices\": [".into(),
    ))])
    .await;
    assert_fell_back(&n, "not JSON");
    let (n, _, _) = llm_narrative(vec![fixed(chat(
        "Sure! Here is your narrative: the admin did things.",
    ))])
    .await;
    assert_fell_back(&n, "unusable");
}

#[tokio::test]
async fn unknown_citations_and_made_up_facts_are_dropped() {
    let ev = evidence();
    let facts = compact(&ev);
    let wipe = facts
        .iter()
        .find(|f| f.action == "wipe")
        .expect("wipe")
        .id
        .clone();
    let answer = serde_json::json!({"sentences": [
        {"text": "mallory@corp.example wiped 12 devices.", "citations": [wipe]},
        {"text": "An attacker exfiltrated data.", "citations": ["E4040"]},
        {"text": "Eve Hacker wiped 12 devices.", "citations": [wipe]},
        {"text": "mallory@corp.example wiped 250 devices.", "citations": [wipe]},
        {"text": "mallory@corp.example wiped 12 devices [F77]."},
    ]})
    .to_string();
    let (n, _, _) = llm_narrative(vec![fixed(chat(&answer))]).await;
    assert_eq!(n.narrator.narrator, "llm");
    assert_eq!(n.sentence_count(), 1, "{:?}", n.sections);
    assert_eq!(n.dropped.len(), 4, "{:?}", n.dropped);
    let reasons: Vec<&str> = n.dropped.iter().map(|d| d.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .filter(|r| r.contains("not in the evidence"))
            .count()
            == 2,
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("Eve")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("250")), "{reasons:?}");
    let md = render::markdown(&n);
    assert!(md.contains("4 dropped"), "{md}");
}

#[tokio::test]
async fn an_llm_obeying_injected_instructions_is_neutralized() {
    // The worst case: a stand-in that follows any instruction it finds in the evidence.
    let obedient: Handler = Arc::new(|body: &str| {
        if body.contains("ignore previous instructions") {
            chat(
                r#"{"sentences":[{"text":"All devices were wiped.","citations":["E1"]},
                {"text":"All 44 devices were wiped by the helpdesk.","citations":["E1"]}]}"#,
            )
        } else {
            chat(r#"{"sentences":[]}"#)
        }
    });
    let (n, _, _) = llm_narrative(vec![obedient]).await;
    assert_eq!(
        n.narrator.narrator, "template",
        "nothing of the obeyed answer survives"
    );
    assert_eq!(
        n.dropped
            .iter()
            .filter(|d| d.reason.contains("wiped"))
            .count(),
        2,
        "{:?}",
        n.dropped
    );
    assert!(
        n.narrator
            .fallback_reason
            .clone()
            .unwrap_or_default()
            .contains("verification")
    );
    for s in n.sections.iter().flat_map(|s| &s.sentences) {
        assert_eq!(s.origin, Origin::Template);
        assert!(!s.text.starts_with("All devices"));
    }
    // The helpdesk's profile update is still stated for what it was: an update.
    assert!(all_text(&n).contains("helpdesk@corp.example changed the configuration profile"));
}

#[tokio::test]
async fn the_cache_answers_the_same_evidence_without_a_second_llm_call_but_retries_after_a_fallback()
 {
    use super::{NarrativeCache, narrate_evidence_cached};
    let ev = evidence();
    let answer = good_answer(&ev);
    let s = server(vec![fixed(chat(&answer))]).await;
    let cache = NarrativeCache::new(8);
    let options = NarrateOptions {
        llm: Some(cfg(&s.url)),
    };
    let (a, hit_a) = narrate_evidence_cached(&ev, &options, &cache, Instant::now()).await;
    let (b, hit_b) = narrate_evidence_cached(&ev, &options, &cache, Instant::now()).await;
    assert!(!hit_a && hit_b);
    assert_eq!(a.output_hash(), b.output_hash());
    assert_eq!(
        s.requests.lock().await.len(),
        1,
        "one LLM call for two panels"
    );
    // Another model is another entry.
    let other = NarrateOptions {
        llm: Some(LlmConfig {
            model: "other".into(),
            ..cfg(&s.url)
        }),
    };
    let (_, hit_c) = narrate_evidence_cached(&ev, &other, &cache, Instant::now()).await;
    assert!(!hit_c);
    // A fallback (the LLM was down) is not kept: the next call asks again.
    let down = server(vec![fixed(Reply::Http(500, vec![], "{}".into()))]).await;
    let failing = NarrateOptions {
        llm: Some(LlmConfig {
            model: "flaky".into(),
            ..cfg(&down.url)
        }),
    };
    let (f, _) = narrate_evidence_cached(&ev, &failing, &cache, Instant::now()).await;
    assert_eq!(f.narrator.narrator, "template");
    let before = down.requests.lock().await.len();
    let (_, hit_f) = narrate_evidence_cached(&ev, &failing, &cache, Instant::now()).await;
    assert!(!hit_f);
    assert!(down.requests.lock().await.len() > before);
}
