//! Every sample normalizes into one Arrow batch of the events schema that survives a Parquet
//! round trip value for value, and into OCSF events that the OCSF 1.8 JSON schema accepts.

use std::path::PathBuf;
use std::process::Command;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, TimestampMicrosecondType};
use mdm_audit_store::batch::events_to_batch;
use mdm_audit_transform::normalize::sniff;
use mdm_audit_transform::output::to_ocsf;
use mdm_audit_transform::{MappingSet, NormalizeConfig, NormalizedEvent, Normalizer};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use mdm_audit_tests::{mappings_dir, read_record, sample_inputs, workspace_root as root};

/// Every sample input that normalizes (dead-letter cases excluded), in path order.
fn sample_events() -> Vec<NormalizedEvent> {
    let mappings = MappingSet::from_dir(&mappings_dir()).expect("mappings");
    let mut n = Normalizer::new(&mappings, &NormalizeConfig::default()).expect("compiles");
    let mut events = Vec::new();
    for p in sample_inputs() {
        let text = read_record(&p);
        let Some(source) = sniff(&text) else { continue };
        if let Ok(norm) = n.normalize(source, &text) {
            events.push(norm.event);
        }
    }
    events
}

#[test]
fn samples_round_trip_through_arrow_and_parquet() {
    let events = sample_events();
    assert!(
        events.len() >= 3,
        "expected normalized samples, got {}",
        events.len()
    );
    let batch = events_to_batch(&events).expect("batch");
    assert_eq!(batch.num_rows(), events.len());

    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes_of(buf))
        .expect("reader")
        .build()
        .expect("build");
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("read back");
    let back = arrow::compute::concat_batches(&batch.schema(), &read).expect("concat");
    assert_eq!(back.num_rows(), events.len());
    let uids = back
        .column_by_name("event_uid")
        .expect("event_uid")
        .as_string::<i32>();
    let times = back
        .column_by_name("time")
        .expect("time")
        .as_primitive::<TimestampMicrosecondType>();
    let scores = back
        .column_by_name("risk_score")
        .expect("risk_score")
        .as_primitive::<Int32Type>();
    let tags = back
        .column_by_name("risk_tags")
        .expect("risk_tags")
        .as_list::<i32>();
    let changes = back
        .column_by_name("changes")
        .expect("changes")
        .as_list::<i32>();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(uids.value(i), e.event_uid);
        assert_eq!(times.value(i), e.time.timestamp_micros());
        assert_eq!(scores.value(i), e.risk_score);
        let row_tags = tags.value(i);
        let row_tags: Vec<&str> = row_tags
            .as_string::<i32>()
            .iter()
            .map(|s| s.expect("non-null tag"))
            .collect();
        assert_eq!(row_tags, e.risk_tags);
        assert_eq!(changes.value(i).len(), e.changes.len());
    }
}

fn bytes_of(v: Vec<u8>) -> bytes::Bytes {
    bytes::Bytes::from(v)
}

/// The interpreter with `ocsf_json_schema` and `jsonschema` (scripts/test installs them).
fn ocsf_python() -> PathBuf {
    if let Ok(p) = std::env::var("OCSF_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join("target/ocsf-venv/bin/python");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("python3")
}

#[test]
fn ocsf_output_validates_against_the_ocsf_schema() {
    let events = sample_events();
    let mut lines = String::new();
    let mut classes = std::collections::BTreeSet::new();
    for e in &events {
        for v in to_ocsf(e) {
            classes.insert(v["class_uid"].as_i64().expect("class_uid"));
            lines.push_str(&v.to_string());
            lines.push('\n');
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("events.ocsf.ndjson");
    std::fs::write(&file, lines).expect("write");
    let python = ocsf_python();
    let out = Command::new(&python)
        .arg(root().join("tests/ocsf/validate.py"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; run scripts/test, which installs the OCSF validator",
                python.display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "OCSF validation failed ({}):\n{stdout}\n{stderr}\n(the validator needs `pip install ocsf-json-schema jsonschema`: scripts/test does it)",
        python.display()
    );
    eprintln!("{stdout}");
    for required in [3002, 3004, 3005, 5019, 6003, 2004] {
        assert!(
            classes.contains(&required),
            "no sample produced OCSF class {required}: {classes:?}"
        );
    }
}
