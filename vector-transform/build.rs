//! Embeds the VRL mapping files, the vendor descriptors and the sample inputs into the binary, so `mdm-audit` runs on its
//! defaults with no files beside it. `--mappings DIR` reads an edited copy from disk instead.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Files under `dir` (recursively, sorted) whose path relative to `root` satisfies `keep`.
fn collect(dir: &Path, root: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, root, keep, out);
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .expect("path is under root")
            .to_string_lossy()
            .replace('\\', "/");
        if keep(&rel) {
            out.push((rel, path));
        }
    }
}

/// `pub static NAME: &[(&str, &str)] = &[(relative path, include_str!(path)), ...];`
fn write_table(code: &mut String, doc: &str, name: &str, files: &[(String, PathBuf)]) {
    writeln!(code, "/// {doc}\npub static {name}: &[(&str, &str)] = &[").expect("write to string");
    for (rel, path) in files {
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n");
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest
        .parent()
        .expect("crate is inside the workspace")
        .join("vrl-mappings");
    println!("cargo:rerun-if-changed={}", root.display());
    let is_sample = |rel: &str| rel.contains("/samples/");
    let mut mappings = Vec::new();
    collect(
        &root,
        &root,
        &|rel| rel.ends_with(".vrl") && !is_sample(rel),
        &mut mappings,
    );
    let mut samples = Vec::new();
    collect(
        &root,
        &root,
        &|rel| is_sample(rel) && rel.contains(".input."),
        &mut samples,
    );
    let mut vendors = Vec::new();
    collect(
        &root.join("sources"),
        &root.join("sources"),
        &|rel| rel.ends_with("/vendor.toml") && rel.matches('/').count() == 1,
        &mut vendors,
    );
    // A descriptor that is not TOML fails the build here; its keys are checked when it is loaded
    // (`normalize::registry`, with the file and the key in the message).
    for (rel, path) in &vendors {
        let text = std::fs::read_to_string(path).expect("readable descriptor");
        if let Err(e) = text.parse::<toml::Table>() {
            panic!("vrl-mappings/sources/{rel} is not valid TOML: {e}");
        }
    }
    let vendors: Vec<(String, PathBuf)> = vendors
        .into_iter()
        .map(|(rel, path)| (rel.trim_end_matches("/vendor.toml").to_owned(), path))
        .collect();
    let mut code = String::new();
    write_table(
        &mut code,
        "(path relative to vrl-mappings/, file content), sorted by path.",
        "EMBEDDED",
        &mappings,
    );
    write_table(
        &mut code,
        "Sample input records (path relative to vrl-mappings/, content), for `mdm-audit demo`.",
        "EMBEDDED_SAMPLES",
        &samples,
    );
    write_table(
        &mut code,
        "Vendor descriptors: (folder under vrl-mappings/sources/, vendor.toml content), sorted by folder.",
        "EMBEDDED_VENDORS",
        &vendors,
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"))
        .join("embedded_mappings.rs");
    std::fs::write(out, code).expect("write generated file");
}
