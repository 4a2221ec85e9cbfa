//! `grafana-datasource/scripts/package --debug --skip-frontend` lays dist/ out as Grafana loads a
//! backend plugin: plugin.json naming the executable, img/, and `<executable>_<os>_<arch>`.

use std::process::Command;

#[test]
fn package_writes_the_layout_grafana_loads() {
    // The backend binary the test harness built is packaged (the script's own cargo build would
    // wait for the build lock that a running `cargo test` holds).
    let backend = mdm_audit_tests::built_binary("gpx_mdm_audit");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let root = mdm_audit_tests::workspace_root();
    let out = Command::new(root.join("grafana-datasource/scripts/package"))
        .args(["--debug", "--skip-frontend", "--out"])
        .arg(out_dir.path())
        .env("MDM_PACKAGE_BACKEND", &backend)
        .output()
        .expect("run package");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "package failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dist = out_dir.path();
    let plugin: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join("plugin.json")).expect("plugin.json"))
            .expect("json");
    assert_eq!(plugin["id"], "mdm-audit-datasource");
    assert_eq!(plugin["backend"], true);
    let exe = plugin["executable"].as_str().expect("executable");
    assert_eq!(exe, "gpx_mdm_audit");
    assert!(
        !plugin["info"]["version"]
            .as_str()
            .unwrap_or("%")
            .contains('%'),
        "version filled in"
    );
    let logo = plugin["info"]["logos"]["small"].as_str().expect("logo");
    assert!(dist.join(logo).is_file(), "{logo}");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    let bin = dist.join(format!("{exe}_{}_{arch}", std::env::consts::OS));
    let meta = std::fs::metadata(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    use std::os::unix::fs::PermissionsExt;
    assert!(meta.permissions().mode() & 0o111 != 0, "executable bit");
    // Platforms not built are named with the reason.
    for plat in ["linux_arm64", "darwin_amd64", "darwin_arm64"] {
        let built = dist.join(format!("{exe}_{plat}")).is_file();
        assert!(
            built || stdout.contains(&format!("skipped {exe}_{plat}:")),
            "{plat}: {stdout}"
        );
    }
}
