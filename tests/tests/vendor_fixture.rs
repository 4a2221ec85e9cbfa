//! A vendor has one home (issue 13): a made-up vendor, `tests/fixtures/vendor/acme_mdm/` (its
//! descriptor, one mapping, one sample), added to a copy of `vrl-mappings/` as CONTRIBUTING.md says,
//! goes end to end through the real binary with `--mappings`: `--source auto` recognizes it,
//! `--source` accepts its name and alias, the shared prelude, risk rules and finalize run on it, the
//! messages that list the vendors name it, and `ingest` stores it. No crate knows it.

use std::path::Path;

use mdm_audit_tests::{fixture_vendors_dir, mappings_with_fixture_vendors, run_cli};
use serde_json::Value;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sample() -> std::path::PathBuf {
    fixture_vendors_dir().join("acme_mdm/samples/audit/wipe.input.json")
}

/// The NDJSON events of a file.
fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("an NDJSON event"))
        .collect()
}

#[test]
fn a_fixture_vendor_is_recognized_normalized_and_named_without_crate_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mappings = mappings_with_fixture_vendors(dir.path());
    let m = mappings.to_str().expect("utf-8 path");
    let jamf = mdm_audit_tests::mappings_dir()
        .join("sources/jamf_pro/samples/webhook_computer/computer_added.input.json");
    let mixed = format!(
        "{}\n{}\nhello, I am no MDM record\n",
        mdm_audit_tests::read_record(&sample()),
        mdm_audit_tests::read_record(&jamf).replace('\n', " ")
    );
    std::fs::write(dir.path().join("mixed.ndjson"), mixed).expect("write input");

    let out = run_cli(
        &[
            "normalize",
            "--mappings",
            m,
            "--source",
            "auto",
            "-o",
            "events.ndjson",
            "--dead-letters",
            "dead.ndjson",
            "mixed.ndjson",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "normalize failed: {}", stderr(&out));
    let summary = stderr(&out);
    assert!(summary.contains("acme ok=1 dead_lettered=0"), "{summary}");
    assert!(summary.contains("jamf ok=1 dead_lettered=0"), "{summary}");
    let evs = events(&dir.path().join("events.ndjson"));
    let acme = evs
        .iter()
        .find(|e| e["vendor"] == "acme")
        .unwrap_or_else(|| panic!("no acme event in {evs:?}"));
    assert_eq!(acme["event_uid"], "acme-0001");
    assert_eq!(acme["feed"], "api");
    assert_eq!(acme["action"], "wipe");
    assert_eq!(acme["device_name"], "Lab iPad 7");
    // The shared risk rules and finalize ran on the new vendor's program.
    assert_eq!(
        acme["risk_tags"],
        serde_json::json!(["remote_wipe"]),
        "{acme}"
    );
    assert_eq!(acme["risk_level"], "critical", "{acme}");
    assert!(evs.iter().any(|e| e["vendor"] == "jamf"), "{evs:?}");
    // The dead letter for the unrecognized line lists the vendors, the new one included.
    let dead = events(&dir.path().join("dead.ndjson"));
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(
        dead[0]["reason"],
        "auto-detection recognized no source (not a Acme MDM, Jamf Pro, Intune or Workspace ONE record); use --source to force one"
    );

    // `--source` takes its name or alias once --mappings brings it, and not before.
    for name in ["acme", "ACME_CLOUD", "acme_mdm"] {
        let out = run_cli(
            &[
                "normalize",
                "--mappings",
                m,
                "--source",
                name,
                "-o",
                "one.ndjson",
                sample().to_str().expect("utf-8"),
            ],
            dir.path(),
        );
        assert!(out.status.success(), "--source {name}: {}", stderr(&out));
        assert_eq!(
            events(&dir.path().join("one.ndjson")).len(),
            1,
            "--source {name}"
        );
    }
    let out = run_cli(
        &[
            "normalize",
            "--source",
            "acme",
            sample().to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown source \"acme\": expected jamf, intune or ws1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_fixture_vendor_is_stored_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mappings = mappings_with_fixture_vendors(dir.path());
    let out = run_cli(
        &[
            "ingest",
            "--store",
            "data",
            "--writer-id",
            "acme-test",
            "--mappings",
            mappings.to_str().expect("utf-8"),
            "--strict",
            sample().to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert!(out.status.success(), "ingest failed: {}", stderr(&out));
    assert_eq!(
        stored(
            &dir.path().join("data/events"),
            &["event_uid", "vendor", "action"]
        ),
        vec![vec!["acme-0001".to_owned(), "acme".into(), "wipe".into()]]
    );
    let v = run_cli(&["verify", "--store", "data"], dir.path());
    assert!(v.status.success(), "verify: {}", stderr(&v));
}

#[test]
fn a_bad_descriptor_names_its_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mappings = mappings_with_fixture_vendors(dir.path());
    let descriptor = mappings.join("sources/acme_mdm/vendor.toml");
    let text = std::fs::read_to_string(&descriptor).expect("descriptor");
    std::fs::write(&descriptor, text.replace("feeds = [\"api\"]\n", "")).expect("write");
    let out = run_cli(
        &[
            "normalize",
            "--mappings",
            mappings.to_str().expect("utf-8"),
            sample().to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("sources/acme_mdm/vendor.toml") && err.contains("missing field `feeds`"),
        "{err}"
    );
}

/// The `columns` (string columns) of every row of the Delta table at `table`, read from its data files.
fn stored(table: &Path, columns: &[&str]) -> Vec<Vec<String>> {
    use arrow::array::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut rows = Vec::new();
    for file in glob::glob(&format!("{}/**/*.parquet", table.display()))
        .expect("glob")
        .filter_map(Result::ok)
    {
        let f = std::fs::File::open(&file).expect("data file");
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .expect("parquet")
            .build()
            .expect("reader");
        for batch in reader {
            let batch = batch.expect("batch");
            let cols: Vec<_> = columns
                .iter()
                .map(|c| {
                    let col = batch.column_by_name(c).expect("column");
                    arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8).expect("cast")
                })
                .collect();
            for i in 0..batch.num_rows() {
                rows.push(
                    cols.iter()
                        .map(|c| c.as_string::<i32>().value(i).to_owned())
                        .collect(),
                );
            }
        }
    }
    rows
}
