//! `deploy/vector.toml` is what SREs copy: it must parse, name only VRL files that exist, list each
//! vendor's files in the order `mdm-audit` concatenates them, compile with VRL's standard library
//! (what stock Vector has; no custom functions), reroute dropped events, and acknowledge end to end.
//! The vendors are those of the descriptors (`vrl-mappings/sources/<folder>/vendor.toml`): one remap
//! `<name>_normalize` each.
//!
//! After adding a mapping file: `MDM_UPDATE_VECTOR_TOML=1 cargo test -p mdm-audit-tests --test vector_config`
//! rewrites the `files = [...]` lists from vrl-mappings/ (the layout decides the order), then review the diff.

use mdm_audit_transform::{MappingSet, Source};
use toml::Value;

const PREFIX: &str = "${MDM_VRL_DIR:-/etc/vector/mdm-audit/vrl-mappings}/";

use mdm_audit_tests::workspace_root as root;

fn compile(text: &str) -> Result<(), String> {
    vrl::compiler::compile(text, &vrl::stdlib::all())
        .map(|_| ())
        .map_err(|d| vrl::diagnostic::Formatter::new(text, d).to_string())
}

fn expected_list(mappings: &MappingSet, source: Source) -> Vec<String> {
    mappings
        .program_files(source)
        .iter()
        .map(|p| format!("{PREFIX}{p}"))
        .collect()
}

/// Rewrites the `files = [...]` array of `[transforms.<name>]`.
fn rewrite_files(text: &str, name: &str, list: &[String]) -> String {
    let header = format!("[transforms.{name}]");
    let start = text.find(&header).expect("transform exists");
    let files_at = start + text[start..].find("files = [").expect("files list");
    let end = files_at + text[files_at..].find("\n]").expect("list end") + 2;
    let body: String = list.iter().map(|p| format!("  \"{p}\",\n")).collect();
    format!("{}files = [\n{body}]{}", &text[..files_at], &text[end..])
}

#[test]
fn vector_toml_names_existing_files_that_compile_and_keeps_every_record() {
    let path = root().join("deploy/vector.toml");
    let mut text = std::fs::read_to_string(&path).expect("deploy/vector.toml readable");
    let mappings = MappingSet::from_dir(&root().join("vrl-mappings")).expect("mappings readable");
    let update = std::env::var("MDM_UPDATE_VECTOR_TOML").is_ok();
    let config: Value = text
        .parse()
        .unwrap_or_else(|e| panic!("deploy/vector.toml does not parse: {e}"));
    let transforms = config["transforms"].as_table().expect("[transforms]");
    let sinks = config["sinks"].as_table().expect("[sinks]");
    let sources = config["sources"].as_table().expect("[sources]");
    let mut problems = Vec::new();
    let mut normalizing = Vec::new();

    for (name, t) in transforms {
        assert_eq!(
            t["type"].as_str(),
            Some("remap"),
            "{name}: only remap transforms are expected"
        );
        for input in t["inputs"].as_array().expect("inputs") {
            let input = input.as_str().expect("string input");
            if !sources.contains_key(input) && !transforms.contains_key(input) {
                problems.push(format!("{name}: input {input} is not defined"));
            }
        }
        if let Some(source) = t.get("source").and_then(Value::as_str) {
            if let Err(d) = compile(source) {
                problems.push(format!("{name}: inline program does not compile:\n{d}"));
            }
            continue;
        }
        let files: Vec<String> = t["files"]
            .as_array()
            .expect("remap with files")
            .iter()
            .map(|v| v.as_str().expect("string path").to_owned())
            .collect();
        let vendor = mappings
            .vendors()
            .sources()
            .iter()
            .copied()
            .find(|s| {
                let prelude = format!("prelude/10_{}.vrl", s.folder());
                let folder = format!("sources/{}/", s.folder());
                files
                    .iter()
                    .filter_map(|f| f.strip_prefix(PREFIX))
                    .any(|r| r == prelude || r.starts_with(&folder))
            })
            .unwrap_or_else(|| {
                panic!(
                    "{name}: names no vendor's files (prelude/10_<folder>.vrl or sources/<folder>/)"
                )
            });
        normalizing.push(name.clone());
        let expected = expected_list(&mappings, vendor);
        if files != expected {
            if update {
                text = rewrite_files(&text, name, &expected);
            } else {
                problems.push(format!(
                    "{name}: files must be, in this order (MDM_UPDATE_VECTOR_TOML=1 rewrites them):\n{}",
                    expected.join("\n")
                ));
            }
        }
        let mut program = String::new();
        for f in &expected {
            let rel = f.strip_prefix(PREFIX).expect("prefixed");
            let disk = root().join("vrl-mappings").join(rel);
            match std::fs::read_to_string(&disk) {
                Ok(c) => {
                    program.push_str(&c);
                    program.push('\n');
                }
                Err(e) => problems.push(format!("{name}: {} cannot be read: {e}", disk.display())),
            }
        }
        if let Err(d) = compile(&program) {
            problems.push(format!(
                "{name}: program does not compile with VRL's standard library:\n{d}"
            ));
        }
        for key in ["drop_on_error", "drop_on_abort", "reroute_dropped"] {
            if t.get(key).and_then(Value::as_bool) != Some(true) {
                problems.push(format!(
                    "{name}: {key} must be true so bad records reach the dead-letter sink"
                ));
            }
        }
    }
    if update {
        std::fs::write(&path, &text).expect("rewrite deploy/vector.toml");
    }
    // One remap per vendor descriptor, named `<name>_normalize`.
    let vendors = mappings.vendors().sources();
    assert_eq!(
        normalizing.len(),
        vendors.len(),
        "one normalizing remap per vendor: {normalizing:?}"
    );
    for source in vendors {
        let remap = format!("{}_normalize", source.name());
        assert!(
            normalizing.contains(&remap),
            "no remap {remap} runs the {source} program ({})",
            source.display_name()
        );
    }

    let mut fed_events = Vec::new();
    let mut fed_dropped = Vec::new();
    for (name, s) in sinks {
        for input in s["inputs"].as_array().expect("inputs") {
            let input = input.as_str().expect("string");
            match input.strip_suffix(".dropped") {
                Some(t) => fed_dropped.push(t.to_owned()),
                None => {
                    if !transforms.contains_key(input) && !sources.contains_key(input) {
                        problems.push(format!("sink {name}: input {input} is not defined"));
                    }
                    fed_events.push(input.to_owned());
                }
            }
        }
        if s.get("acknowledgements")
            .and_then(|a| a.get("enabled"))
            .and_then(Value::as_bool)
            != Some(true)
        {
            problems.push(format!(
                "sink {name}: acknowledgements.enabled must be true (end-to-end acks)"
            ));
        }
    }
    for t in &normalizing {
        if !fed_events.contains(t) {
            problems.push(format!("{t}: no sink receives its events"));
        }
        if !fed_dropped.contains(t) {
            problems.push(format!(
                "{t}: no sink receives {t}.dropped (dead letters would be lost)"
            ));
        }
    }
    let http = sinks
        .values()
        .find(|s| s["type"].as_str() == Some("http"))
        .expect("an http sink to mdm-audit serve");
    assert!(
        http["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("/v1/events")),
        "http sink must post to serve's /v1/events"
    );
    // What `mdm-audit serve` accepts and how it acknowledges (tests/tests/serve.rs runs it).
    let get = |path: &str| -> Option<&Value> { path.split('.').try_fold(http, |v, k| v.get(k)) };
    let expect = [
        ("method", Value::from("post")),
        ("compression", Value::from("gzip")),
        ("encoding.codec", Value::from("json")),
        ("framing.method", Value::from("newline_delimited")),
        ("acknowledgements.enabled", Value::from(true)),
    ];
    for (key, want) in expect {
        if get(key) != Some(&want) {
            problems.push(format!(
                "http sink: {key} must be {want} (NDJSON, gzip and end-to-end acks, as serve expects)"
            ));
        }
    }
    // Retries: serve answers 503 when overloaded and 500 when a commit failed; Vector must keep retrying.
    if get("request.retry_attempts")
        .and_then(Value::as_integer)
        .is_none_or(|n| n < 1000)
    {
        problems.push(
            "http sink: request.retry_attempts must be large (retry until serve acknowledges)"
                .into(),
        );
    }
    if get("request.timeout_secs")
        .and_then(Value::as_integer)
        .is_none_or(|n| n < 10)
    {
        problems.push(
            "http sink: request.timeout_secs must leave time for a group commit (>= 10)".into(),
        );
    }
    // serve refuses writes without a credential: the sink sends a bearer token, from the environment.
    if get("auth.strategy").and_then(Value::as_str) != Some("bearer") {
        problems.push("http sink: auth.strategy must be bearer (serve needs a credential)".into());
    }
    if !get("auth.token")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("${") && t.ends_with('}'))
    {
        problems.push(
            "http sink: auth.token must come from the environment (\"${VAR}\"), never be written here"
                .into(),
        );
    }
    if get("buffer.when_full").and_then(Value::as_str) != Some("block") {
        problems.push("http sink: buffer.when_full must be block (never drop events)".into());
    }
    if let Some(max) = get("batch.max_events").and_then(Value::as_integer) {
        // serve's default --max-pending is 200000 events; a single batch must fit well within it.
        if max > 50_000 {
            problems.push(format!(
                "http sink: batch.max_events {max} is larger than serve's commit group"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
