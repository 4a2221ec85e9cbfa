//! Helpers shared by the end-to-end tests: where the workspace and its samples are, the built
//! binaries and how to run them. The modules hold the setup that several test files share: estates
//! and stores made through the CLI ([`estate`]), a store read with DataFusion ([`query`]), JSON
//! answers ([`json`]), `mdm-audit serve` ([`serve`]), the Grafana plugin over gRPC ([`plugin`]), the
//! vendor API emulators ([`vendor_api`], [`jamf_api`], [`ws1_api`], sharing [`emulator`]) and running
//! `mdm-audit pull` against them ([`pull`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub mod emulator;
pub mod estate;
pub mod jamf_api;
pub mod json;
pub mod plugin;
pub mod pull;
pub mod pull_scenario;
pub mod query;
pub mod s3;
pub mod serve;
pub mod vendor_api;
pub mod ws1_api;

pub use estate::{feed_files, generate_estate, generated_store, ingest, normalized_estate};
pub use serve::ServeProcess;

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
    run_cli_input(args, dir, None)
}

/// Runs the `mdm-audit` binary with `args` in `dir`, writing `stdin` (if any) to its standard input.
pub fn run_cli_input(args: &[&str], dir: &Path, stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(cli_binary())
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mdm-audit");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

/// `out`, asserting that the command succeeded (the message carries its stderr).
pub fn succeeded(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// [`run_cli`], asserting that the command succeeded (the message carries its stderr and stdout).
pub fn run_ok(args: &[&str], dir: &Path) -> std::process::Output {
    let out = run_cli(args, dir);
    assert_succeeded(args, &out);
    out
}

/// Asserts that `mdm-audit args` succeeded; the message carries its stderr and stdout.
pub fn assert_succeeded(args: &[&str], out: &std::process::Output) {
    assert!(
        out.status.success(),
        "mdm-audit {} ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `args` split at white space: `words("--seed 5 --days 3")`.
pub fn words(args: &str) -> Vec<&str> {
    args.split_whitespace().collect()
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
