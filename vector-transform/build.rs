//! Embeds the VRL mapping files (not their samples) into the binary, so `mdm-audit` runs on its
//! defaults with no files beside it. `--mappings DIR` reads an edited copy from disk instead.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect_samples(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_samples(&path, root, out);
        } else if path.to_string_lossy().contains("/samples/")
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".input."))
        {
            let rel = path
                .strip_prefix(root)
                .expect("path is under root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "samples") {
                continue;
            }
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "vrl") {
            let rel = path
                .strip_prefix(root)
                .expect("path is under root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest
        .parent()
        .expect("crate is inside the workspace")
        .join("vrl-mappings");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let mut code = String::from(
        "/// (path relative to vrl-mappings/, file content), sorted by path.\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for (rel, path) in files {
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    let mut samples = Vec::new();
    collect_samples(&root, &root, &mut samples);
    code.push_str("/// Sample input records (path relative to vrl-mappings/, content), for `mdm-audit demo`.\npub static EMBEDDED_SAMPLES: &[(&str, &str)] = &[\n");
    for (rel, path) in samples {
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"))
        .join("embedded_mappings.rs");
    std::fs::write(out, code).expect("write generated file");
}
