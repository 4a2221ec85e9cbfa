//! The hash chain: `hash = sha256(prev_hash || canonical(row))`, per writer (`chain_id`), in commit
//! order. The canonical form of a row is derived from its Arrow values, so the writer (from the batch
//! it is about to commit) and `verify` (from the Parquet files it reads back) compute the same bytes
//! whatever string or list representation the reader hands out.
//!
//! Canonical form, for every column of the row in the order of the batch written (of the data file,
//! for `verify`; a column added to the table later is not in older files) except `prev_hash`, `hash` and the
//! partition column: the column name, a NUL, then the value: `0x00` for null, else a type tag and the
//! value (integers as 8 big-endian bytes, strings and binaries length-prefixed, lists as a count and
//! their elements, structs as their fields in order).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, StringArray, StringBuilder, new_null_array,
};
use arrow::datatypes::{
    DataType, Date32Type, Int32Type, Int64Type, Schema, TimeUnit, TimestampMicrosecondType,
};
use sha2::{Digest, Sha256};

use super::StoreError;

/// Column holding the writer's chain id.
pub const CHAIN_ID: &str = "chain_id";
/// Column holding the position in the writer's chain (0-based).
pub const CHAIN_SEQ: &str = "chain_seq";
/// Column holding the previous row's hash (hex).
pub const PREV_HASH: &str = "prev_hash";
/// Column holding this row's hash (hex).
pub const HASH: &str = "hash";
/// `prev_hash` of the first row of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where a writer's chain stands: the next position and the hash of the last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The writer (`chain_id`).
    pub chain_id: String,
    /// Position the next row gets.
    pub next_seq: i64,
    /// Hash of the last row (hex), [`GENESIS`] for an empty chain.
    pub head: String,
}

impl ChainHead {
    /// A chain with no rows yet.
    pub fn genesis(chain_id: impl Into<String>) -> Self {
        Self {
            chain_id: chain_id.into(),
            next_seq: 0,
            head: GENESIS.to_owned(),
        }
    }
}

/// True for the columns the canonical form leaves out.
pub fn is_unhashed(name: &str) -> bool {
    name == PREV_HASH || name == HASH
}

/// Appends the canonical bytes of row `row` of `columns` (with `names`) to `out`.
pub fn canonical_row(
    names: &[&str],
    columns: &[&ArrayRef],
    row: usize,
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    for (name, col) in names.iter().zip(columns) {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        value(col.as_ref(), row, out)?;
    }
    Ok(())
}

fn len_prefixed(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn value(col: &dyn Array, row: usize, out: &mut Vec<u8>) -> Result<(), StoreError> {
    if col.is_null(row) {
        out.push(0);
        return Ok(());
    }
    match col.data_type() {
        DataType::Utf8 => {
            out.push(b's');
            len_prefixed(col.as_string::<i32>().value(row).as_bytes(), out);
        }
        DataType::LargeUtf8 => {
            out.push(b's');
            len_prefixed(col.as_string::<i64>().value(row).as_bytes(), out);
        }
        DataType::Utf8View => {
            out.push(b's');
            len_prefixed(col.as_string_view().value(row).as_bytes(), out);
        }
        DataType::Binary => {
            out.push(b'b');
            len_prefixed(col.as_binary::<i32>().value(row), out);
        }
        DataType::LargeBinary => {
            out.push(b'b');
            len_prefixed(col.as_binary::<i64>().value(row), out);
        }
        DataType::BinaryView => {
            out.push(b'b');
            len_prefixed(col.as_binary_view().value(row), out);
        }
        DataType::Boolean => {
            out.push(b'?');
            out.push(u8::from(col.as_boolean().value(row)));
        }
        DataType::Int32 => {
            out.push(b'i');
            let v = i64::from(col.as_primitive::<Int32Type>().value(row));
            out.extend_from_slice(&v.to_be_bytes());
        }
        DataType::Int64 => {
            out.push(b'i');
            out.extend_from_slice(&col.as_primitive::<Int64Type>().value(row).to_be_bytes());
        }
        DataType::Date32 => {
            out.push(b'd');
            let v = i64::from(col.as_primitive::<Date32Type>().value(row));
            out.extend_from_slice(&v.to_be_bytes());
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            out.push(b't');
            let v = col.as_primitive::<TimestampMicrosecondType>().value(row);
            out.extend_from_slice(&v.to_be_bytes());
        }
        DataType::List(_) => {
            let list = col.as_list::<i32>();
            list_value(&list.value(row), out)?;
        }
        DataType::LargeList(_) => {
            let list = col.as_list::<i64>();
            list_value(&list.value(row), out)?;
        }
        DataType::ListView(_) => {
            let list = col.as_list_view::<i32>();
            list_value(&list.value(row), out)?;
        }
        DataType::Struct(fields) => {
            out.push(b'{');
            let s = col.as_struct();
            out.extend_from_slice(&(fields.len() as u64).to_be_bytes());
            for (f, child) in fields.iter().zip(s.columns()) {
                out.extend_from_slice(f.name().as_bytes());
                out.push(0);
                value(child.as_ref(), row, out)?;
            }
        }
        other => {
            return Err(StoreError::Internal(format!(
                "the hash chain has no canonical form for column type {other}"
            )));
        }
    }
    Ok(())
}

fn list_value(items: &ArrayRef, out: &mut Vec<u8>) -> Result<(), StoreError> {
    out.push(b'[');
    out.extend_from_slice(&(items.len() as u64).to_be_bytes());
    for i in 0..items.len() {
        value(items.as_ref(), i, out)?;
    }
    Ok(())
}

/// `sha256(prev || canonical)` as lowercase hex; `prev` is the previous hash in hex.
pub fn link_hash(prev_hex: &str, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    let mut prev = [0u8; 32];
    // A malformed prev (tampered data) still hashes deterministically: its raw bytes are used.
    if hex::decode_to_slice(prev_hex, &mut prev).is_ok() {
        h.update(prev);
    } else {
        h.update(prev_hex.as_bytes());
    }
    h.update(canonical);
    hex::encode(h.finalize())
}

/// The names and columns of `batch` that the canonical form covers (all but `prev_hash`, `hash`).
pub fn hashed_columns<'a>(
    schema: &'a Schema,
    batch: &'a RecordBatch,
) -> (Vec<&'a str>, Vec<&'a ArrayRef>) {
    schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !is_unhashed(f.name()))
        .map(|(f, c)| (f.name().as_str(), c))
        .unzip()
}

/// Fills the chain columns of `batch` (which must have `chain_id`, `chain_seq`, `prev_hash` and
/// `hash` columns; their values are replaced) and advances `head`. Returns the new batch.
pub fn seal_batch(batch: &RecordBatch, head: &mut ChainHead) -> Result<RecordBatch, StoreError> {
    let schema = batch.schema();
    let idx = |name: &str| {
        schema
            .index_of(name)
            .map_err(|_| StoreError::Internal(format!("table schema has no {name} column")))
    };
    let (i_id, i_seq, i_prev, i_hash) =
        (idx(CHAIN_ID)?, idx(CHAIN_SEQ)?, idx(PREV_HASH)?, idx(HASH)?);
    let n = batch.num_rows();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[i_id] = Arc::new(StringArray::from(vec![head.chain_id.as_str(); n]));
    columns[i_seq] = Arc::new(arrow::array::Int64Array::from_iter_values(
        (0..n as i64).map(|i| head.next_seq + i),
    ));
    // The canonical form does not read prev_hash/hash; placeholders keep the batch valid meanwhile.
    columns[i_prev] = new_null_array(&DataType::Utf8, n);
    columns[i_hash] = new_null_array(&DataType::Utf8, n);
    let interim = RecordBatch::try_new(schema.clone(), columns.clone())?;
    let (names, cols) = hashed_columns(&schema, &interim);
    let mut prev_b = StringBuilder::with_capacity(n, n * 64);
    let mut hash_b = StringBuilder::with_capacity(n, n * 64);
    let mut buf = Vec::with_capacity(4096);
    let mut prev = std::mem::take(&mut head.head);
    for row in 0..n {
        buf.clear();
        canonical_row(&names, &cols, row, &mut buf)?;
        let h = link_hash(&prev, &buf);
        prev_b.append_value(&prev);
        hash_b.append_value(&h);
        prev = h;
    }
    head.head = prev;
    head.next_seq += n as i64;
    columns[i_prev] = Arc::new(prev_b.finish());
    columns[i_hash] = Arc::new(hash_b.finish());
    Ok(RecordBatch::try_new(schema, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    fn batch(values: &[&str]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Utf8, false),
            Field::new(CHAIN_ID, DataType::Utf8, true),
            Field::new(CHAIN_SEQ, DataType::Int64, true),
            Field::new(PREV_HASH, DataType::Utf8, true),
            Field::new(HASH, DataType::Utf8, true),
        ]));
        let n = values.len();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(values.to_vec())),
                new_null_array(&DataType::Utf8, n),
                new_null_array(&DataType::Int64, n),
                new_null_array(&DataType::Utf8, n),
                new_null_array(&DataType::Utf8, n),
            ],
        )
        .expect("valid batch")
    }

    #[test]
    fn rows_link_to_their_predecessor_across_batches() {
        let mut head = ChainHead::genesis("w1");
        let a = seal_batch(&batch(&["a", "b"]), &mut head).expect("sealed");
        let b = seal_batch(&batch(&["c"]), &mut head).expect("sealed");
        let hashes = |b: &RecordBatch, c: &str| -> Vec<String> {
            b.column_by_name(c)
                .expect("column")
                .as_string::<i32>()
                .iter()
                .map(|s| s.expect("set").to_owned())
                .collect()
        };
        assert_eq!(hashes(&a, PREV_HASH)[0], GENESIS);
        assert_eq!(hashes(&a, PREV_HASH)[1], hashes(&a, HASH)[0]);
        assert_eq!(hashes(&b, PREV_HASH)[0], hashes(&a, HASH)[1]);
        assert_eq!(head.head, hashes(&b, HASH)[0]);
        assert_eq!(head.next_seq, 3);
        let seqs: Vec<i64> = b
            .column_by_name(CHAIN_SEQ)
            .expect("seq")
            .as_primitive::<Int64Type>()
            .values()
            .to_vec();
        assert_eq!(seqs, vec![2]);
    }

    #[test]
    fn canonical_form_is_the_same_for_string_and_view_arrays() {
        let plain: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
        let view: ArrayRef = Arc::new(arrow::array::StringViewArray::from(vec![Some("x"), None]));
        for row in 0..2 {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            canonical_row(&["c"], &[&plain], row, &mut a).expect("ok");
            canonical_row(&["c"], &[&view], row, &mut b).expect("ok");
            assert_eq!(a, b);
        }
        let (mut empty, mut null) = (Vec::new(), Vec::new());
        let e: ArrayRef = Arc::new(StringArray::from(vec![Some("")]));
        let n: ArrayRef = Arc::new(StringArray::from(vec![None::<&str>]));
        canonical_row(&["c"], &[&e], 0, &mut empty).expect("ok");
        canonical_row(&["c"], &[&n], 0, &mut null).expect("ok");
        assert_ne!(
            empty, null,
            "an empty string and a null must hash differently"
        );
    }

    #[test]
    fn changing_any_value_changes_the_hash() {
        let mut h1 = ChainHead::genesis("w");
        let mut h2 = ChainHead::genesis("w");
        seal_batch(&batch(&["a", "b"]), &mut h1).expect("sealed");
        seal_batch(&batch(&["a", "B"]), &mut h2).expect("sealed");
        assert_ne!(h1.head, h2.head);
    }
}
