//! Helpers shared by the end-to-end tests: where the workspace and its samples are.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `vrl-mappings/` in the workspace.
pub fn mappings_dir() -> PathBuf {
    workspace_root().join("vrl-mappings")
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
