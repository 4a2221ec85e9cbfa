//! Appending to a table: rows get their chain columns, land in Parquet files (one per day partition)
//! and become one Delta commit whose `commitInfo` records the chain range and head. A commit is
//! all-or-nothing: files of a failed commit are never referenced and a later `vacuum` removes them.
//! For local stores the files and the commit are fsynced before `append` returns, so an
//! acknowledgement sent after it survives a power cut, not only a crash.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::{DataType, Field, Schema, TimeUnit, TimestampMicrosecondType};
use delta_kernel::expressions::Scalar;
use deltalake::kernel::StructType;
use deltalake::kernel::Transaction;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use deltalake::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use deltalake::{DeltaTable, TableProperty};
use indexmap::IndexMap;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde_json::json;

use super::StoreError;
use super::chain::{ChainHead, seal_batch};
use super::location::StoreLocation;
use super::log::{CHAIN_META_KEY, ChainCommit, commit_path, last_chain_commit, read_commit};
use super::tables::{DAY, Partitioning, TableSpec};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// What one commit stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitReceipt {
    /// The table version the commit created.
    pub version: u64,
    /// Rows committed.
    pub rows: usize,
    /// Chain range and head.
    pub chain: ChainCommit,
    /// Data files written.
    pub files: usize,
}

/// Options of a writer.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// The writer's chain id (one per process that writes; default: the host name).
    pub chain_id: String,
    /// fsync data files and the commit before `append` returns (local stores).
    pub fsync: bool,
    /// zstd level of the Parquet files.
    pub zstd_level: i32,
    /// The key that signs every chain head this writer records; none: heads are not signed.
    pub signer: Option<std::sync::Arc<crate::signing::HeadSigner>>,
}

impl WriterOptions {
    /// Options for `chain_id` with the defaults.
    pub fn new(chain_id: impl Into<String>) -> Self {
        Self {
            chain_id: chain_id.into(),
            fsync: true,
            zstd_level: 3,
            signer: None,
        }
    }

    /// The same options, signing chain heads with `signer`.
    #[must_use]
    pub fn with_signer(
        mut self,
        signer: Option<std::sync::Arc<crate::signing::HeadSigner>>,
    ) -> Self {
        self.signer = signer;
        self
    }
}

/// The default writer id: `MDM_AUDIT_WRITER_ID`, else the host name, else `mdm-audit`.
pub fn default_writer_id() -> String {
    std::env::var("MDM_AUDIT_WRITER_ID")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "mdm-audit".to_owned())
}

/// Appends chained rows to one table.
pub struct TableWriter {
    table: DeltaTable,
    spec: TableSpec,
    head: ChainHead,
    commit_no: i64,
    options: WriterOptions,
    local_dir: Option<PathBuf>,
    props: WriterProperties,
    /// Recorded as `admitted_by` in the chain record of the following commits.
    admission: Option<String>,
    _lock: Option<File>,
}

impl std::fmt::Debug for TableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("table", &self.spec.name)
            .field("head", &self.head)
            .field("commit_no", &self.commit_no)
            .finish_non_exhaustive()
    }
}

impl TableWriter {
    /// Opens (creating it if needed) table `spec` of `location` for appending as `options.chain_id`,
    /// and picks the chain up where this writer's last commit left it.
    pub async fn open(
        location: &StoreLocation,
        spec: &TableSpec,
        options: WriterOptions,
    ) -> Result<Self, StoreError> {
        if options.chain_id.is_empty()
            || !options
                .chain_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(StoreError::Location {
                location: location.display(),
                reason: format!(
                    "writer id {:?} must be non-empty and use only letters, digits, '-', '_' and '.'",
                    options.chain_id
                ),
            });
        }
        let lock = match location.local_root() {
            Some(root) => Some(take_lock(root, spec.name, &options.chain_id)?),
            None => None,
        };
        let table = open_or_create(location, spec).await?;
        let table = reconcile_schema(table, spec).await?;
        let store = table.log_store().object_store(None);
        let prefix = object_store::path::Path::from("");
        let last = last_chain_commit(store.as_ref(), &prefix, &options.chain_id).await?;
        let (head, commit_no) = match last {
            Some(c) => (
                ChainHead {
                    chain_id: options.chain_id.clone(),
                    next_seq: c.last_seq + 1,
                    head: c.head.clone(),
                },
                c.commit_no,
            ),
            None => (ChainHead::genesis(options.chain_id.clone()), 0),
        };
        let props = WriterProperties::builder()
            .set_created_by(format!("mdm-audit {}", env!("CARGO_PKG_VERSION")))
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(options.zstd_level)?))
            // `time`, the column every query reads (range filters, per-hour stats), is left
            // uncompressed: parquet-rs builds a zstd compressor and decompressor for every column
            // chunk it reads, which cost a stats query over 10M events more than the decompression
            // (BENCHMARKS.md, issue 15); the column is ~2 % of a file.
            .set_column_compression(ColumnPath::from("time"), Compression::UNCOMPRESSED)
            .set_max_row_group_row_count(Some(64 * 1024))
            .build();
        tracing::info!(
            table = spec.name,
            chain_id = %head.chain_id,
            next_seq = head.next_seq,
            "Table writer opened."
        );
        Ok(Self {
            table,
            spec: spec.clone(),
            head,
            commit_no,
            local_dir: location.table_dir(spec.name),
            options,
            props,
            admission: None,
            _lock: lock,
        })
    }

    /// The chain as it stands.
    pub fn head(&self) -> &ChainHead {
        &self.head
    }

    /// The table as of the last commit (for reads that must see this writer's own rows).
    pub fn table(&self) -> &DeltaTable {
        &self.table
    }

    /// The table's spec.
    pub fn spec(&self) -> &TableSpec {
        &self.spec
    }

    /// The ingest credential that admitted the rows of the following commits (recorded, and signed,
    /// as `admitted_by` in their chain records); `None` for rows written without one.
    pub fn set_admission(&mut self, credential: Option<String>) {
        self.admission = credential;
    }

    /// `batch` under the table's schema (same columns, possibly other field metadata).
    fn conform(&self, batch: RecordBatch) -> Result<RecordBatch, StoreError> {
        if batch.schema().fields() == self.spec.schema.fields() {
            return Ok(batch);
        }
        RecordBatch::try_new(self.spec.schema.clone(), batch.columns().to_vec()).map_err(|e| {
            StoreError::Internal(format!(
                "batch does not match the {} schema: {e}",
                self.spec.name
            ))
        })
    }

    /// Chains and commits `batch` (of the table's stored schema; the chain columns' values are
    /// replaced). Nothing is committed for an empty batch.
    pub async fn append(
        &mut self,
        batch: RecordBatch,
    ) -> Result<Option<CommitReceipt>, StoreError> {
        self.append_batches(vec![batch]).await
    }

    /// Chains and commits `batches`, in order, as one commit. Each batch is sealed, split by day
    /// and handed to the Parquet writer before the next, so a commit holds its rows once (in the
    /// batches given) plus the encoded files, not a second, sealed and split copy of them all.
    pub async fn append_batches(
        &mut self,
        batches: Vec<RecordBatch>,
    ) -> Result<Option<CommitReceipt>, StoreError> {
        if batches.iter().all(|b| b.num_rows() == 0) {
            return Ok(None);
        }
        let mut writer =
            RecordBatchWriter::for_table(&self.table)?.with_writer_properties(self.props.clone());
        let mut head = self.head.clone();
        let mut days = std::collections::BTreeSet::new();
        let mut rows = 0;
        for batch in batches {
            let batch = self.conform(batch)?;
            let sealed = seal_batch(&batch, &mut head)?;
            rows += sealed.num_rows();
            for (values, part) in split_partitions(&sealed, self.spec.partitioning)? {
                if let Some(Scalar::Date(d)) = values.get(DAY) {
                    days.insert(*d);
                }
                writer
                    .write_partition(part, &values, WriteMode::Default)
                    .await?;
            }
        }
        let files = days.len().max(1);
        let mut chain = ChainCommit {
            chain_id: head.chain_id.clone(),
            first_seq: self.head.next_seq,
            last_seq: head.next_seq - 1,
            rows: rows as i64,
            prev_head: self.head.head.clone(),
            head: head.head.clone(),
            commit_no: self.commit_no + 1,
            key_id: None,
            signature: None,
            admitted_by: self.admission.clone(),
        };
        if let Some(signer) = &self.options.signer {
            signer.sign_commit(self.spec.name, &mut chain);
        }
        let props = CommitProperties::default()
            .with_metadata([(CHAIN_META_KEY.to_owned(), json!(chain))])
            .with_application_transaction(Transaction::new(&chain.chain_id, chain.commit_no))
            .with_cleanup_expired_logs(Some(false));
        let mut writer = writer.with_commit_properties(props);
        let version = writer.flush_and_commit(&mut self.table).await?;
        if self.options.fsync
            && let Some(dir) = &self.local_dir
        {
            fsync_commit(&self.table, dir, version).await?;
        }
        self.head = head;
        self.commit_no = chain.commit_no;
        Ok(Some(CommitReceipt {
            version,
            rows,
            chain,
            files,
        }))
    }
}

/// One partition's values and rows.
type PartitionPart = (IndexMap<String, Scalar>, RecordBatch);

/// Splits `batch` by day partition, keeping row order within each part.
fn split_partitions(
    batch: &RecordBatch,
    partitioning: Partitioning,
) -> Result<Vec<PartitionPart>, StoreError> {
    let Partitioning::DayOf(col) = partitioning else {
        return Ok(vec![(IndexMap::new(), batch.clone())]);
    };
    let times = batch
        .column_by_name(col)
        .ok_or_else(|| StoreError::Internal(format!("partition column source {col} missing")))?;
    if times.data_type() != &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())) {
        return Err(StoreError::Internal(format!(
            "{col} must be Timestamp(µs, UTC), is {}",
            times.data_type()
        )));
    }
    let times = times.as_primitive::<TimestampMicrosecondType>();
    let mut by_day: BTreeMap<i32, Vec<u32>> = BTreeMap::new();
    for (i, t) in times.iter().enumerate() {
        let t = t.ok_or_else(|| StoreError::Internal(format!("{col} is null in row {i}")))?;
        let day = i32::try_from(t.div_euclid(MICROS_PER_DAY))
            .map_err(|_| StoreError::Internal(format!("{col} out of range in row {i}")))?;
        by_day.entry(day).or_default().push(i as u32);
    }
    if by_day.len() == 1 {
        let (day, _) = by_day.into_iter().next().expect("one entry");
        return Ok(vec![(day_values(day), batch.clone())]);
    }
    by_day
        .into_iter()
        .map(|(day, rows)| {
            let idx = UInt32Array::from(rows);
            Ok((day_values(day), take_record_batch(batch, &idx)?))
        })
        .collect()
}

fn day_values(day: i32) -> IndexMap<String, Scalar> {
    let mut m = IndexMap::new();
    m.insert(DAY.to_owned(), Scalar::Date(day));
    m
}

/// Opens the table, creating it (with append-only settings) when it does not exist.
async fn open_or_create(
    location: &StoreLocation,
    spec: &TableSpec,
) -> Result<DeltaTable, StoreError> {
    if let Some(t) = location.open_table(spec.name).await? {
        return Ok(t);
    }
    let schema: StructType = spec.table_schema().as_ref().try_into_kernel()?;
    let mut create = location
        .table_builder(spec.name)?
        .build()?
        .create()
        .with_table_name(spec.name)
        .with_columns(schema.fields().cloned())
        .with_save_mode(SaveMode::ErrorIfExists)
        // The log is the evidence of every commit and its chain head: never expire it.
        .with_configuration_property(TableProperty::EnableExpiredLogCleanup, Some("false"))
        .with_configuration_property(TableProperty::AppendOnly, Some("true"))
        // Only as version 0: a writer that loses the race to create the table (another node
        // starting on the same new store) must open the winner's table, not commit a second
        // CREATE as version 1 (a new table id, which fails every other writer's next commit).
        .with_commit_properties(CommitProperties::default().with_max_retries(0));
    if let Some(cols) = spec.stats_columns {
        create =
            create.with_configuration_property(TableProperty::DataSkippingStatsColumns, Some(cols));
    }
    if let Partitioning::DayOf(_) = spec.partitioning {
        create = create.with_partition_columns([DAY]);
    }
    match create.await {
        Ok(t) => {
            tracing::info!(table = spec.name, location = %location.display(), "Table created.");
            Ok(t)
        }
        // Another process created it meanwhile.
        Err(e) => match location.open_table(spec.name).await? {
            Some(t) => Ok(t),
            None => Err(e.into()),
        },
    }
}

/// Brings the table's columns to what this version writes: adds the spec's `added_columns` a table
/// made by an older version lacks (one Delta schema change), and refuses any other difference.
async fn reconcile_schema(table: DeltaTable, spec: &TableSpec) -> Result<DeltaTable, StoreError> {
    let names = |t: &DeltaTable| -> Result<Vec<String>, StoreError> {
        Ok(t.snapshot()?
            .schema()
            .fields()
            .map(|f| f.name().to_owned())
            .collect())
    };
    let have = names(&table)?;
    let want: Vec<String> = spec
        .table_schema()
        .fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    // The partition column sits last when the table is created, before any column added later.
    let stored =
        |v: &[String]| -> Vec<String> { v.iter().filter(|n| *n != DAY).cloned().collect() };
    let (have_stored, want_stored) = (stored(&have), stored(&want));
    let incompatible = || StoreError::Incompatible {
        table: spec.name.to_owned(),
        reason: format!(
            "its columns are [{}], this version of mdm-audit writes [{}]; use a new store \
             directory or the mdm-audit version that created it",
            have.join(", "),
            want.join(", ")
        ),
    };
    if have.contains(&DAY.to_owned()) != want.contains(&DAY.to_owned()) {
        return Err(incompatible());
    }
    if have_stored == want_stored {
        return Ok(table);
    }
    let missing = match want_stored.strip_prefix(have_stored.as_slice()) {
        Some(rest)
            if rest
                .iter()
                .all(|c| spec.added_columns.contains(&c.as_str())) =>
        {
            rest
        }
        _ => return Err(incompatible()),
    };
    let fields: Vec<Field> = missing
        .iter()
        .map(|n| {
            spec.schema
                .field_with_name(n)
                .map(|f| f.clone().with_nullable(true))
                .map_err(|_| incompatible())
        })
        .collect::<Result<_, _>>()?;
    let fields: StructType = (&Schema::new(fields)).try_into_kernel()?;
    tracing::info!(
        table = spec.name,
        columns = %missing.join(", "),
        "Adding the columns this version writes to a table made by an older one."
    );
    match table
        .clone()
        .add_columns()
        .with_fields(fields.fields().cloned().collect::<Vec<_>>())
        .await
    {
        Ok(t) => Ok(t),
        // Another writer added them meanwhile: read the table again and check once more.
        Err(e) => {
            let mut again = table;
            again.update_state().await?;
            if stored(&names(&again)?) == want_stored {
                Ok(again)
            } else {
                Err(e.into())
            }
        }
    }
}

/// Takes the per-(table, writer) lock of a local store: two processes writing one chain would fork it.
fn take_lock(root: &std::path::Path, table: &str, chain_id: &str) -> Result<File, StoreError> {
    let dir = root.join("_locks");
    std::fs::create_dir_all(&dir)
        .map_err(|e| StoreError::io(format!("creating {}", dir.display()), e))?;
    let path = dir.join(format!("{table}.{chain_id}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::io(format!("opening {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked {
            table: table.to_owned(),
            chain_id: chain_id.to_owned(),
            lock: path,
        }),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::io(format!("locking {}", path.display()), e))
        }
    }
}

/// fsyncs the data files and the commit file of `version`, then their directories.
async fn fsync_commit(
    table: &DeltaTable,
    dir: &std::path::Path,
    version: u64,
) -> Result<(), StoreError> {
    let store = table.log_store().object_store(None);
    let prefix = object_store::path::Path::from("");
    let entry = read_commit(store.as_ref(), &prefix, version).await?;
    let log = dir.join(commit_path(&prefix, version).as_ref());
    let mut paths: Vec<PathBuf> = entry.adds.iter().map(|a| dir.join(&a.path)).collect();
    paths.push(log);
    tokio::task::spawn_blocking(move || {
        let mut dirs = std::collections::BTreeSet::new();
        for p in &paths {
            sync_path(p)?;
            if let Some(parent) = p.parent() {
                dirs.insert(parent.to_path_buf());
            }
        }
        for d in dirs {
            sync_path(&d)?;
        }
        Ok::<(), StoreError>(())
    })
    .await
    .map_err(|e| StoreError::Internal(format!("fsync task: {e}")))??;
    Ok(())
}

fn sync_path(p: &std::path::Path) -> Result<(), StoreError> {
    File::open(p)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(format!("fsync {}", p.display()), e))
}
