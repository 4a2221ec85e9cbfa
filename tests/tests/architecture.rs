//! The dependency arrows of `ARCHITECTURE.md`, checked with `cargo tree` on the real dependency graph:
//! the contract/store crate links no VRL, HTTP server or Grafana crate; the narrative engine links no
//! write path and no plugin; the plugin links the store and the narrative engine, never VRL or the
//! write path; the generator depends on no crate of ours.

use std::collections::BTreeSet;
use std::process::Command;

/// Every package (name) in the normal (non-dev, non-build) dependency tree of `package`.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let out = cargo_tree(&["-p", package, "-e", "normal", "--prefix", "none"]);
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != package)
        .map(str::to_owned)
        .collect()
}

fn cargo_tree(args: &[&str]) -> String {
    let root = mdm_audit_tests::workspace_root();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .arg("tree")
        .args(args)
        .arg("--offline")
        .current_dir(&root)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn assert_none_of(package: &str, forbidden: &[&str]) {
    let deps = normal_dependencies(package);
    assert!(
        deps.contains("arrow") || package == "mdm-audit-generate",
        "cargo tree of {package} lists its dependencies: {deps:?}"
    );
    let found: Vec<&&str> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(
        found.is_empty(),
        "{package} must not depend on {found:?} (ARCHITECTURE.md)"
    );
}

#[test]
fn the_store_depends_on_no_vrl_http_server_or_grafana_crate() {
    assert_none_of(
        "mdm-audit-store",
        &[
            "vrl",
            "axum",
            "tonic",
            "grafana-plugin-sdk",
            "mdm-audit-transform",
            "mdm-audit-narrative",
            "mdm-audit-datasource",
            "mdm-audit-generate",
        ],
    );
}

#[test]
fn the_narrative_engine_depends_on_the_store_only() {
    assert_none_of(
        "mdm-audit-narrative",
        &[
            "vrl",
            "axum",
            "tonic",
            "grafana-plugin-sdk",
            "mdm-audit-transform",
            "mdm-audit-datasource",
            "mdm-audit-generate",
        ],
    );
    assert!(normal_dependencies("mdm-audit-narrative").contains("mdm-audit-store"));
}

#[test]
fn the_plugin_links_no_vrl_and_no_write_path() {
    assert_none_of(
        "mdm-audit-datasource",
        &["vrl", "mdm-audit-transform", "mdm-audit-generate"],
    );
    let deps = normal_dependencies("mdm-audit-datasource");
    assert!(deps.contains("mdm-audit-store") && deps.contains("mdm-audit-narrative"));
    // axum reaches the plugin only as the router inside tonic, Grafana's gRPC server (the SDK's
    // choice); no crate of ours brings an HTTP server into it.
    let inverse = cargo_tree(&[
        "-p",
        "mdm-audit-datasource",
        "-e",
        "normal",
        "-i",
        "axum",
        "--depth",
        "1",
        "--prefix",
        "none",
    ]);
    let dependents: BTreeSet<&str> = inverse
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        dependents.iter().all(|d| *d == "tonic"),
        "axum in the plugin's tree comes only through tonic, found dependents {dependents:?}"
    );
}

#[test]
fn the_write_path_does_not_depend_on_readers_and_the_generator_on_nothing_of_ours() {
    assert_none_of(
        "mdm-audit-transform",
        &[
            "grafana-plugin-sdk",
            "mdm-audit-narrative",
            "mdm-audit-datasource",
            "mdm-audit-generate",
        ],
    );
    assert_none_of(
        "mdm-audit-generate",
        &[
            "mdm-audit-store",
            "mdm-audit-transform",
            "mdm-audit-narrative",
            "mdm-audit-datasource",
        ],
    );
}
