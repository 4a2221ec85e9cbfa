//! Helpers shared by the end-to-end tests: where the workspace and its samples are.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `vrl-mappings/` in the workspace.
pub fn mappings_dir() -> PathBuf {
    workspace_root().join("vrl-mappings")
}

/// `tests/fixtures/vendor/`: made-up vendor folders (descriptor, mappings, samples).
pub fn fixture_vendors_dir() -> PathBuf {
    workspace_root().join("tests/fixtures/vendor")
}

/// Copies the directory tree `from` to `to` (created).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let dest = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest)
                .unwrap_or_else(|e| panic!("copying {}: {e}", path.display()));
        }
    }
}

/// A copy of `vrl-mappings/` in `dir` with every fixture vendor folder added under `sources/`, as a
/// contributor's copy looks after CONTRIBUTING.md's "Adding a vendor"; returns its path (for
/// `--mappings`).
pub fn mappings_with_fixture_vendors(dir: &Path) -> PathBuf {
    let out = dir.join("vrl-mappings");
    copy_dir(&mappings_dir(), &out);
    copy_dir(&fixture_vendors_dir(), &out.join("sources"));
    out
}

/// Every sample input (mapping samples and risk samples), sorted by path.
pub fn sample_inputs() -> Vec<PathBuf> {
    let root = mappings_dir();
    let mut paths: Vec<PathBuf> = ["sources/*/samples/*/*.input.*", "risk/samples/*/*.input.*"]
        .iter()
        .flat_map(|p| glob::glob(&format!("{}/{p}", root.display())).expect("valid glob"))
        .filter_map(Result::ok)
        .collect();
    paths.sort();
    paths
}

/// A sample input's record: the file content without its trailing newline.
pub fn read_record(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim_end_matches(['\n', '\r']).to_owned()
}

/// Builds (once per test process) and returns the `mdm-audit` binary of the same profile as the
/// running test (the tests crate does not own the binary, so `CARGO_BIN_EXE_*` is not available).
/// The path comes from cargo's own artifact messages, so it is right whatever target or build
/// directory is configured.
pub fn cli_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| built_binary("mdm-audit")).clone()
}

/// The binary `bin` of any workspace member in the profile of the running test. When it is already
/// built in the target directory (`CARGO_TARGET_DIR`, else the one the test runs from), that one is
/// used: `scripts/test` builds every target first, so it is current, and running `cargo build` from
/// inside a test would wait for the build-directory lock whenever another build runs. Set
/// `MDM_TEST_BUILD=1` to have the test build it through cargo instead (see [`cargo_built_binary`]).
pub fn built_binary(bin: &str) -> PathBuf {
    if std::env::var_os("MDM_TEST_BUILD").is_none_or(|v| v == "0") {
        let exe = std::env::current_exe().expect("test exe path");
        // target/<profile>/deps/<test>-<hash>
        let profile_dir = exe.parent().and_then(Path::parent);
        let candidate = match (std::env::var_os("CARGO_TARGET_DIR"), profile_dir) {
            (Some(t), Some(p)) => p.file_name().map(|n| PathBuf::from(t).join(n)),
            (None, Some(p)) => Some(p.to_path_buf()),
            _ => None,
        }
        .map(|d| d.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX)));
        if let Some(c) = candidate.filter(|c| c.is_file()) {
            return c;
        }
    }
    cargo_built_binary(bin)
}

/// Builds binary `bin` (of any workspace member) in the profile of the running test; returns its path.
/// `--workspace --all-targets` resolves every dependency's features as `cargo test --workspace` does
/// (dev-dependencies included): with `-p <package>` alone, or without the test targets, cargo would
/// build DataFusion and Delta Lake a second time with other features. After `scripts/test`'s
/// `cargo build --workspace --all-targets` this is a no-op.
pub fn cargo_built_binary(bin: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    let release = exe
        .ancestors()
        .any(|p| p.file_name().is_some_and(|n| n == "release"));
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "--quiet",
        "--message-format=json",
        "--workspace",
        "--all-targets",
    ])
    .current_dir(workspace_root());
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build of {bin} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["name"] == bin
                && m["target"]["kind"][0] == "bin"
                && m["profile"]["test"] == false
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reported no executable for {bin}"))
}

/// Runs the `mdm-audit` binary with `args` in `dir` (stdin closed) and returns what it did.
pub fn run_cli(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(cli_binary())
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("spawn mdm-audit")
}

/// The number after `label` in a summary line: `stored 123, ...` -> 123 for `stored`.
pub fn count_after(line: &str, label: &str) -> u64 {
    let at = line
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} not in {line:?}"));
    line[at + label.len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in {line:?}"))
}

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
    let out = run_cli(
        &[
            "generate",
            "--seed",
            &seed.to_string(),
            "--events",
            &events.to_string(),
            "--days",
            &days.to_string(),
            "--out",
            "estate",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "generate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inputs = feed_files(&dir, "estate");
    let mut args = vec!["normalize", "--strict", "-o", "events.ndjson"];
    args.extend(inputs.iter().map(String::as_str));
    let out = run_cli(&args, &dir);
    assert!(
        out.status.success(),
        "normalize failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// Makes a store the way users make one: `mdm-audit generate generate_args... --out estate`, then
/// `mdm-audit ingest --store data --writer-id writer_id` of every feed file, in `root`. The
/// generator's ground truth is in `root/estate/ground_truth.json`.
pub fn generated_store(root: &Path, generate_args: &[&str], writer_id: &str) {
    let mut args = vec!["generate"];
    args.extend_from_slice(generate_args);
    args.extend(["--out", "estate"]);
    let g = run_cli(&args, root);
    assert!(
        g.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&g.stderr)
    );
    let files = feed_files(root, "estate");
    let mut args = vec!["ingest", "--store", "data", "--writer-id", writer_id];
    args.extend(files.iter().map(String::as_str));
    let i = run_cli(&args, root);
    assert!(
        i.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&i.stderr)
    );
}

/// A running `mdm-audit serve` on 127.0.0.1 port 0, started with `--addr-file`.
#[derive(Debug)]
pub struct ServeProcess {
    /// The process.
    pub child: std::process::Child,
    /// Where it listens (`127.0.0.1:port`).
    pub addr: String,
    addr_file: PathBuf,
}

impl ServeProcess {
    /// Starts `mdm-audit serve --store store --listen 127.0.0.1:0 --addr-file <dir>/serve.addr extra...`
    /// in `dir` and waits (up to 60 s) until it accepts requests. Its stderr goes to `<dir>/serve.log`
    /// (appended, so restarts keep the earlier logs).
    pub fn start(dir: &Path, store: &str, extra: &[&str]) -> Self {
        let addr_file = dir.join("serve.addr");
        let _ = std::fs::remove_file(&addr_file);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("serve.log"))
            .expect("serve log");
        let child = Command::new(cli_binary())
            .args([
                "serve",
                "--store",
                store,
                "--listen",
                "127.0.0.1:0",
                "--addr-file",
            ])
            .arg(&addr_file)
            .args(extra)
            .current_dir(dir)
            .env("MDM_AUDIT_LOG", "info")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn mdm-audit serve");
        let mut me = Self {
            child,
            addr: String::new(),
            addr_file,
        };
        let started = std::time::Instant::now();
        loop {
            if let Ok(a) = std::fs::read_to_string(&me.addr_file)
                && a.ends_with('\n')
            {
                me.addr = a.trim().to_owned();
                return me;
            }
            if let Ok(Some(status)) = me.child.try_wait() {
                panic!(
                    "mdm-audit serve exited with {status} before listening:\n{}",
                    std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "mdm-audit serve did not write its address within 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends SIGTERM and waits (up to 60 s) for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let started = std::time::Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait serve") {
                return s;
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("mdm-audit serve did not exit within 60 s of SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// SIGKILL, then reaps the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
