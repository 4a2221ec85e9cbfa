//! Reading a table's data files for `verify`: every row's hash recomputed from its values, every
//! row checked against the commit that added it, and the keys of rows a problem names.

use super::*;

/// Reads a whole data file (a commit's file is bounded by the group-commit size).
pub(super) async fn fetch(store: &dyn ObjectStore, path: &str) -> Result<Bytes, StoreError> {
    Ok(store.get(&Path::from(path)).await?.bytes().await?)
}

pub(super) async fn check_file(
    store: Arc<dyn ObjectStore>,
    path: &str,
    version: u64,
    commit: Option<&ChainCommit>,
    chain_index: &Arc<HashMap<String, u16>>,
    key_column: &std::sync::Mutex<Option<String>>,
) -> FileResult {
    let problem = |kind, detail: String| Problem {
        kind,
        version: Some(version),
        chain_id: commit.map(|c| c.chain_id.clone()),
        seq: None,
        key: None,
        file: Some(path.to_owned()),
        detail,
    };
    let failed = |p: Problem| FileResult {
        links: Vec::new(),
        problems: vec![p],
        rows: 0,
    };
    let bytes = match fetch(store.as_ref(), path).await {
        Ok(b) => b,
        Err(StoreError::ObjectStore(object_store::Error::NotFound { .. })) => {
            return failed(problem(
                ProblemKind::FileMissing,
                match commit {
                    Some(c) => format!(
                        "data file {path} of commit {version} is gone (it held rows of {}'s chain between positions {} and {})",
                        c.chain_id, c.first_seq, c.last_seq
                    ),
                    None => format!("data file {path} of commit {version} is gone"),
                },
            ));
        }
        Err(e) => {
            return failed(problem(
                ProblemKind::FileUnreadable,
                format!("data file {path}: {e}"),
            ));
        }
    };
    let chain_index = chain_index.clone();
    let commit_owned = commit.cloned();
    let path_owned = path.to_owned();
    let checked = tokio::task::spawn_blocking(move || {
        let mut out = FileResult {
            links: Vec::new(),
            problems: Vec::new(),
            rows: 0,
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.with_batch_size(8192).build());
        let reader = match reader {
            Ok(r) => r,
            Err(e) => return Err(format!("data file {path_owned}: {e}")),
        };
        let mut key = None;
        for batch in reader {
            let batch = batch.map_err(|e| format!("data file {path_owned}: {e}"))?;
            key.get_or_insert_with(|| batch.schema().field(0).name().clone());
            let r = check_batch(
                &batch,
                &path_owned,
                version,
                commit_owned.as_ref(),
                &chain_index,
            );
            out.rows += r.rows;
            out.links.extend(r.links);
            out.problems.extend(r.problems);
        }
        Ok((out, key))
    })
    .await;
    match checked {
        Ok(Ok((out, key))) => {
            if let (Some(key), Ok(mut k)) = (key, key_column.lock())
                && k.is_none()
            {
                *k = Some(key);
            }
            out
        }
        Ok(Err(reason)) => failed(problem(ProblemKind::FileUnreadable, reason)),
        Err(e) => failed(problem(
            ProblemKind::FileUnreadable,
            format!("checking {path} failed: {e}"),
        )),
    }
}

pub(super) fn string_at(col: &dyn Array, row: usize) -> Option<String> {
    if col.is_null(row) {
        return None;
    }
    match col.data_type() {
        DataType::Utf8 => Some(col.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Some(col.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Some(col.as_string_view().value(row).to_owned()),
        _ => None,
    }
}

pub(super) fn check_batch(
    batch: &RecordBatch,
    path: &str,
    version: u64,
    commit: Option<&ChainCommit>,
    chain_index: &HashMap<String, u16>,
) -> FileResult {
    let mut out = FileResult {
        links: Vec::with_capacity(batch.num_rows()),
        problems: Vec::new(),
        rows: batch.num_rows() as u64,
    };
    let schema = batch.schema();
    let col = |n: &str| batch.column_by_name(n);
    let (Some(ids), Some(seqs), Some(prevs), Some(hashes)) =
        (col(CHAIN_ID), col(CHAIN_SEQ), col(PREV_HASH), col(HASH))
    else {
        out.problems.push(Problem {
            kind: ProblemKind::Unchained,
            version: Some(version),
            chain_id: None,
            seq: None,
            key: None,
            file: Some(path.to_owned()),
            detail: format!("data file {path} has no chain columns"),
        });
        return out;
    };
    let Some(seqs) = seqs.as_primitive_opt::<Int64Type>() else {
        out.problems.push(Problem {
            kind: ProblemKind::Unchained,
            version: Some(version),
            chain_id: None,
            seq: None,
            key: None,
            file: Some(path.to_owned()),
            detail: format!("data file {path}: chain_seq is not Int64"),
        });
        return out;
    };
    let (names, cols): (Vec<&str>, Vec<&arrow::array::ArrayRef>) = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !is_unhashed(f.name()))
        .map(|(f, c)| (f.name().as_str(), c))
        .unzip();
    let key_col = batch.column(0);
    let mut buf = Vec::with_capacity(4096);
    for row in 0..batch.num_rows() {
        let key = || string_at(key_col.as_ref(), row);
        let (Some(chain_id), false, Some(prev), Some(hash)) = (
            string_at(ids.as_ref(), row),
            seqs.is_null(row),
            string_at(prevs.as_ref(), row),
            string_at(hashes.as_ref(), row),
        ) else {
            out.problems.push(Problem {
                kind: ProblemKind::Unchained,
                version: Some(version),
                chain_id: None,
                seq: None,
                key: key(),
                file: Some(path.to_owned()),
                detail: "the row has no chain values (chain_id, chain_seq, prev_hash, hash)".into(),
            });
            continue;
        };
        let seq = seqs.value(row);
        let problem = |kind, detail: String| Problem {
            kind,
            version: Some(version),
            chain_id: Some(chain_id.clone()),
            seq: Some(seq),
            key: key(),
            file: Some(path.to_owned()),
            detail,
        };
        buf.clear();
        match canonical_row(&names, &cols, row, &mut buf) {
            Ok(()) => {
                if link_hash(&prev, &buf) != hash {
                    out.problems.push(problem(
                        ProblemKind::RowAltered,
                        "the row's values do not produce its hash: a value was changed after it was written".into(),
                    ));
                }
            }
            Err(e) => out
                .problems
                .push(problem(ProblemKind::FileUnreadable, e.to_string())),
        }
        if let Some(c) = commit
            && (c.chain_id != chain_id || seq < c.first_seq || seq > c.last_seq)
        {
            out.problems.push(problem(
                ProblemKind::RowMisplaced,
                format!(
                    "the row claims position {seq} of {chain_id}'s chain, but its file belongs to commit {version} ({}'s rows {}..{})",
                    c.chain_id, c.first_seq, c.last_seq
                ),
            ));
        }
        match chain_index.get(&chain_id) {
            Some(&chain) => out.links.push(Link {
                chain,
                seq,
                prev: short(&prev),
                hash: short(&hash),
                version: version as u32,
            }),
            None => out.problems.push(problem(
                ProblemKind::RowMisplaced,
                format!("no commit of the log belongs to writer {chain_id:?}"),
            )),
        }
    }
    out
}

/// Looks up the key of rows by (chain, seq), reading only the key and chain columns.
pub(super) async fn resolve_keys(
    store: Arc<dyn ObjectStore>,
    files: &[(String, u64, Option<ChainCommit>)],
    key_column: &str,
    chain_index: &HashMap<String, u16>,
    wanted: &HashSet<(u16, i64)>,
) -> HashMap<(u16, i64), String> {
    let mut found = HashMap::new();
    for (path, _, _) in files {
        let Ok(bytes) = fetch(store.as_ref(), path).await else {
            continue;
        };
        let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(bytes) else {
            continue;
        };
        let schema = builder.parquet_schema();
        let indices: Vec<usize> = [key_column, CHAIN_ID, CHAIN_SEQ]
            .iter()
            .filter_map(|n| {
                schema
                    .columns()
                    .iter()
                    .position(|c| c.path().parts().first().map(String::as_str) == Some(*n))
            })
            .collect();
        if indices.len() != 3 {
            continue;
        }
        let mask = ProjectionMask::leaves(schema, indices);
        let Ok(reader) = builder.with_projection(mask).build() else {
            continue;
        };
        for b in reader.flatten() {
            let (Some(k), Some(c), Some(s)) = (
                b.column_by_name(key_column),
                b.column_by_name(CHAIN_ID),
                b.column_by_name(CHAIN_SEQ)
                    .and_then(|s| s.as_primitive_opt::<Int64Type>().cloned()),
            ) else {
                continue;
            };
            for row in 0..b.num_rows() {
                let Some(chain) =
                    string_at(c.as_ref(), row).and_then(|id| chain_index.get(&id).copied())
                else {
                    continue;
                };
                if s.is_null(row) {
                    continue;
                }
                let at = (chain, s.value(row));
                if wanted.contains(&at)
                    && let Some(key) = string_at(k.as_ref(), row)
                {
                    found.insert(at, key);
                }
            }
        }
        if found.len() == wanted.len() {
            break;
        }
    }
    found
}
