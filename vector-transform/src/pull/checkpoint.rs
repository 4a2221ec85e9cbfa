//! Pull checkpoints: where each stream of each source and tenant stands, kept in the store's own
//! hash-chained `pull_checkpoints` table (declared here, by its owner), so they travel with the data
//! and `verify` checks them like any other table. Append-only: the newest row of a
//! (source, tenant, stream) is its checkpoint. A checkpoint is written only after the page it covers
//! is committed to the store, so a crash between the two re-reads that page (dedupe drops it).

use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, TimestampMicrosecondType};
use chrono::{DateTime, Utc};
use datafusion::prelude::{SessionContext, col, lit};
use mdm_audit_store::schema::time_type;
use mdm_audit_store::tables::{Partitioning, TableSpec, with_chain};
use mdm_audit_store::{StoreError, StoreLocation, TableWriter, WriterOptions};

/// `pull_checkpoints`: one row per checkpoint a puller wrote.
pub static PULL_CHECKPOINTS: LazyLock<TableSpec> = LazyLock::new(|| {
    let req = |n: &str| Field::new(n, DataType::Utf8, false);
    TableSpec {
        name: "pull_checkpoints",
        schema: with_chain(vec![
            req("checkpoint_id"),
            req("source"),
            req("tenant"),
            req("stream"),
            // Events up to this time (minus the overlap window) are stored; for a snapshot stream,
            // when the last complete snapshot started.
            Field::new("watermark", time_type(), true),
            Field::new("pages", DataType::Int64, false),
            Field::new("records", DataType::Int64, false),
            // The run read the stream to its end (no next link left).
            Field::new("complete", DataType::Boolean, false),
            Field::new("updated_time", time_type(), false),
        ]),
        partitioning: Partitioning::None,
        stats_columns: Some("checkpoint_id,source,tenant,stream,updated_time"),
        added_columns: &[],
    }
});

/// One checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// `intune`, `jamf`, `ws1`.
    pub source: String,
    /// The tenant (Entra tenant id, server URL).
    pub tenant: String,
    /// The stream (`auditEvents`, `managedDevices`, ...).
    pub stream: String,
    /// See the table's `watermark` column.
    pub watermark: Option<DateTime<Utc>>,
    /// Pages read by the run so far.
    pub pages: i64,
    /// Records read by the run so far.
    pub records: i64,
    /// The run reached the stream's end.
    pub complete: bool,
    /// When it was written.
    pub updated_time: DateTime<Utc>,
}

/// Reads and writes the checkpoints of one source and tenant.
#[derive(Debug)]
pub struct CheckpointStore {
    location: StoreLocation,
    options: WriterOptions,
    writer: Option<TableWriter>,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(v: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(v)
}

impl CheckpointStore {
    /// Checkpoints in the store at `location`, written as writer `options`.
    pub fn new(location: StoreLocation, options: WriterOptions) -> Self {
        Self {
            location,
            options,
            writer: None,
        }
    }

    /// The newest checkpoint of (`source`, `tenant`, `stream`), if any.
    pub async fn load(
        &self,
        source: &str,
        tenant: &str,
        stream: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let name = PULL_CHECKPOINTS.name;
        let Some(table) = self.location.open_table(name).await? else {
            return Ok(None);
        };
        let ctx = SessionContext::new();
        table.update_datafusion_session(&ctx.state())?;
        ctx.register_table(name, table.table_provider().await?)?;
        let batches = ctx
            .table(name)
            .await?
            .filter(
                col("source")
                    .eq(lit(source))
                    .and(col("tenant").eq(lit(tenant)))
                    .and(col("stream").eq(lit(stream))),
            )?
            .collect()
            .await?;
        let mut best: Option<(i64, i64, Checkpoint)> = None;
        for b in &batches {
            let column = |n: &str| {
                b.column_by_name(n)
                    .cloned()
                    .ok_or_else(|| StoreError::Internal(format!("{name} has no column {n}")))
            };
            let wm = column("watermark")?;
            let wm = wm.as_primitive::<TimestampMicrosecondType>();
            let upd = column("updated_time")?;
            let upd = upd.as_primitive::<TimestampMicrosecondType>();
            let pages = column("pages")?;
            let pages = pages.as_primitive::<Int64Type>();
            let records = column("records")?;
            let records = records.as_primitive::<Int64Type>();
            let complete = column("complete")?;
            let complete = complete.as_boolean();
            let seq = column("chain_seq")?;
            let seq = seq.as_primitive::<Int64Type>();
            for i in 0..b.num_rows() {
                let key = (upd.value(i), seq.value(i));
                if best.as_ref().is_some_and(|(u, s, _)| (*u, *s) >= key) {
                    continue;
                }
                let cp = Checkpoint {
                    source: source.to_owned(),
                    tenant: tenant.to_owned(),
                    stream: stream.to_owned(),
                    watermark: wm.is_valid(i).then(|| from_micros(wm.value(i))).flatten(),
                    pages: pages.value(i),
                    records: records.value(i),
                    complete: complete.value(i),
                    updated_time: from_micros(upd.value(i)).unwrap_or_default(),
                };
                best = Some((key.0, key.1, cp));
            }
        }
        Ok(best.map(|(_, _, c)| c))
    }

    /// Appends `cp` (one chained commit).
    pub async fn save(&mut self, cp: &Checkpoint) -> Result<(), StoreError> {
        if self.writer.is_none() {
            self.writer = Some(
                TableWriter::open(&self.location, &PULL_CHECKPOINTS, self.options.clone()).await?,
            );
        }
        let Some(writer) = self.writer.as_mut() else {
            return Err(StoreError::Internal("checkpoint writer missing".into()));
        };
        let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
        let time = |v: Option<DateTime<Utc>>| {
            Arc::new(TimestampMicrosecondArray::from(vec![v.map(micros)]).with_timezone("UTC"))
                as ArrayRef
        };
        let id = format!(
            "{}:{}:{}:{}",
            cp.source,
            cp.tenant,
            cp.stream,
            cp.updated_time
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        );
        let mut cols = vec![
            text(&id),
            text(&cp.source),
            text(&cp.tenant),
            text(&cp.stream),
            time(cp.watermark),
            Arc::new(Int64Array::from(vec![cp.pages])) as ArrayRef,
            Arc::new(Int64Array::from(vec![cp.records])) as ArrayRef,
            Arc::new(BooleanArray::from(vec![cp.complete])) as ArrayRef,
            time(Some(cp.updated_time)),
        ];
        // The chain columns: filled by the writer.
        cols.push(Arc::new(StringArray::from(vec![None::<&str>])));
        cols.push(Arc::new(Int64Array::from(vec![None::<i64>])));
        cols.push(Arc::new(StringArray::from(vec![None::<&str>])));
        cols.push(Arc::new(StringArray::from(vec![None::<&str>])));
        let batch = RecordBatch::try_new(PULL_CHECKPOINTS.schema.clone(), cols)?;
        writer.append(batch).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_newest_checkpoint_of_a_stream_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let loc = StoreLocation::parse(&dir.path().display().to_string(), Default::default())
            .expect("location");
        let mut store = CheckpointStore::new(loc.clone(), WriterOptions::new("w1"));
        assert_eq!(
            store
                .load("intune", "t1", "auditEvents")
                .await
                .expect("load"),
            None
        );
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        let mut cp = Checkpoint {
            source: "intune".into(),
            tenant: "t1".into(),
            stream: "auditEvents".into(),
            watermark: Some(t("2026-03-01T10:00:00Z")),
            pages: 1,
            records: 10,
            complete: false,
            updated_time: t("2026-03-02T00:00:00Z"),
        };
        store.save(&cp).await.expect("save");
        let first = cp.clone();
        cp.watermark = Some(t("2026-03-01T11:00:00Z"));
        cp.pages = 2;
        cp.complete = true;
        cp.updated_time = t("2026-03-02T00:01:00Z");
        store.save(&cp).await.expect("save");
        let mut other = first.clone();
        other.tenant = "t2".into();
        store.save(&other).await.expect("save");
        let reader = CheckpointStore::new(loc, WriterOptions::new("w2"));
        assert_eq!(
            reader
                .load("intune", "t1", "auditEvents")
                .await
                .expect("load"),
            Some(cp)
        );
        assert_eq!(
            reader
                .load("intune", "t2", "auditEvents")
                .await
                .expect("load"),
            Some(other)
        );
        assert_eq!(
            reader
                .load("intune", "t1", "managedDevices")
                .await
                .expect("load"),
            None
        );
    }
}
