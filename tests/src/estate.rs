//! Estates and stores made the way users make them: `mdm-audit generate`, then `normalize` or
//! `ingest`.

use std::path::{Path, PathBuf};

use mdm_audit_generate::GroundTruth;

use crate::{run_ok, words};

/// Normalized events (the NDJSON `mdm-audit normalize` writes) of a generated estate: `--seed seed
/// --events events --days days`. Built once per target directory and reused by later test processes.
pub fn normalized_estate(seed: u64, events: u64, days: u32) -> PathBuf {
    // target/<profile>/deps/<test> -> target/<profile>/test-estates/
    let exe = std::env::current_exe().expect("test exe path");
    let base = exe
        .parent()
        .and_then(Path::parent)
        .map_or_else(std::env::temp_dir, Path::to_path_buf)
        .join("test-estates");
    std::fs::create_dir_all(&base).expect("estate cache dir");
    let cache = base.join(format!("events-{seed}-{events}-{days}.ndjson"));
    // Tests of one binary run as threads of one process under `cargo test`: one builds the estate,
    // the others wait for it (the work directory and temp file are named by the process id).
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = BUILDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.is_file() {
        return cache;
    }
    let dir = std::env::temp_dir().join(format!(
        "mdm-estate-{seed}-{events}-{days}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("estate dir");
    generate_estate(
        &dir,
        &format!("--seed {seed} --events {events} --days {days}"),
    );
    let inputs = feed_files(&dir, "estate");
    let mut args = vec!["normalize", "--strict", "-o", "events.ndjson"];
    args.extend(inputs.iter().map(String::as_str));
    run_ok(&args, &dir);
    let tmp = cache.with_extension(format!("tmp{}", std::process::id()));
    std::fs::copy(dir.join("events.ndjson"), &tmp).expect("copy events");
    std::fs::rename(&tmp, &cache).expect("publish events");
    let _ = std::fs::remove_dir_all(&dir);
    cache
}

/// The feed files `generate` wrote in `dir/estate` (not the ground truth, not the `directory/` of
/// people and devices), as paths relative to `dir`, sorted.
pub fn feed_files(dir: &Path, estate: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join(estate))
        .expect("estate listing")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "ground_truth.json")
        .map(|n| format!("{estate}/{n}"))
        .collect();
    files.sort();
    files
}

/// `mdm-audit generate <options> --out estate` in `root` (`options` split at white space), asserting
/// that it succeeded; returns the ground truth it wrote (`root/estate/ground_truth.json`).
pub fn generate_estate(root: &Path, options: &str) -> GroundTruth {
    let mut args = vec!["generate"];
    args.extend(words(options));
    args.extend(["--out", "estate"]);
    run_ok(&args, root);
    GroundTruth::read(&root.join("estate/ground_truth.json")).expect("ground truth")
}

/// What `mdm-audit ingest` wrote on stderr, and its summary line (`ingest: ...`).
#[derive(Debug)]
pub struct Ingested {
    /// All of stderr.
    pub stderr: String,
    /// The summary line.
    pub summary: String,
}

/// `mdm-audit ingest --store data --writer-id writer_id <options> inputs...` in `root` (`options`
/// split at white space), asserting that it succeeded.
pub fn ingest(root: &Path, writer_id: &str, options: &str, inputs: &[String]) -> Ingested {
    let mut args = vec!["ingest", "--store", "data", "--writer-id", writer_id];
    args.extend(words(options));
    args.extend(inputs.iter().map(String::as_str));
    let out = run_ok(&args, root);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("ingest: "))
        .unwrap_or_else(|| panic!("no ingest summary in {stderr}"))
        .to_owned();
    Ingested { stderr, summary }
}

/// `estate/<file>` of every feed of the ground truth.
pub fn truth_feeds(truth: &GroundTruth) -> Vec<String> {
    truth
        .feeds
        .iter()
        .map(|f| format!("estate/{}", f.file))
        .collect()
}

/// Makes a store the way users make one: `mdm-audit generate <options> --out estate`, then
/// `mdm-audit ingest --store data --writer-id writer_id` of every feed file, in `root`. Returns the
/// generator's ground truth (also in `root/estate/ground_truth.json`).
pub fn generated_store(root: &Path, options: &str, writer_id: &str) -> GroundTruth {
    let truth = generate_estate(root, options);
    ingest(root, writer_id, "", &feed_files(root, "estate"));
    truth
}
