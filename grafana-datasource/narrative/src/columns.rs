//! Arrow column readers of the narrative evidence: a query's record batches become
//! [`EvidenceEvent`]s (strings cast from Utf8View, lists of any list layout, the `changes` structs).

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, Utc};

use super::NarrativeError;
use super::evidence::{Change, EvidenceEvent};

fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, NarrativeError> {
    b.column_by_name(name)
        .ok_or_else(|| NarrativeError::Internal(format!("evidence query lost column {name}")))
}

/// A column as optional strings.
pub(crate) fn strings(b: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, NarrativeError> {
    let c = cast(column(b, name)?, &DataType::Utf8)?;
    Ok(c.as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect())
}

pub(crate) fn times(b: &RecordBatch, name: &str) -> Result<Vec<DateTime<Utc>>, NarrativeError> {
    let c = cast(
        column(b, name)?,
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )?;
    Ok(c.as_primitive::<TimestampMicrosecondType>()
        .iter()
        .map(|v| DateTime::from_timestamp_micros(v.unwrap_or(0)).unwrap_or_default())
        .collect())
}

pub(crate) fn ints(b: &RecordBatch, name: &str) -> Result<Vec<i64>, NarrativeError> {
    let c = cast(column(b, name)?, &DataType::Int64)?;
    Ok(c.as_primitive::<arrow::datatypes::Int64Type>()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

fn list_array(arr: &ArrayRef) -> Result<arrow::array::ListArray, NarrativeError> {
    Ok(match arr.data_type() {
        DataType::LargeList(f) | DataType::ListView(f) | DataType::LargeListView(f) => {
            cast(arr, &DataType::List(f.clone()))?
                .as_list::<i32>()
                .clone()
        }
        _ => arr.as_list::<i32>().clone(),
    })
}

pub(crate) fn lists(b: &RecordBatch, name: &str) -> Result<Vec<Vec<String>>, NarrativeError> {
    let l = list_array(column(b, name)?)?;
    let mut out = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        if l.is_null(i) {
            out.push(Vec::new());
            continue;
        }
        let v = cast(&l.value(i), &DataType::Utf8)?;
        out.push(
            v.as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_owned)
                .collect(),
        );
    }
    Ok(out)
}

fn changes(b: &RecordBatch) -> Result<Vec<Vec<Change>>, NarrativeError> {
    let l = list_array(column(b, "changes")?)?;
    let mut out = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        if l.is_null(i) {
            out.push(Vec::new());
            continue;
        }
        let items = l.value(i);
        let s = items.as_struct();
        let col = |n: &str| -> Result<Vec<Option<String>>, NarrativeError> {
            match s.column_by_name(n) {
                Some(c) => Ok(cast(c, &DataType::Utf8)?
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect()),
                None => Ok(vec![None; s.len()]),
            }
        };
        let (path, old, new, red) = (col("path")?, col("old")?, col("new")?, col("redacted")?);
        out.push(
            (0..s.len())
                .map(|r| {
                    let redacted = red[r].as_deref() == Some("true");
                    Change {
                        path: path[r].clone().unwrap_or_default(),
                        old: if redacted { None } else { old[r].clone() },
                        new: if redacted { None } else { new[r].clone() },
                        redacted,
                    }
                })
                .collect(),
        );
    }
    Ok(out)
}

fn bools(b: &RecordBatch, name: &str) -> Result<Vec<bool>, NarrativeError> {
    let c = cast(column(b, name)?, &DataType::Boolean)?;
    Ok(c.as_boolean().iter().map(|v| v.unwrap_or(false)).collect())
}

fn opt_ints(b: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>, NarrativeError> {
    let c = cast(column(b, name)?, &DataType::Int64)?;
    Ok(c.as_primitive::<arrow::datatypes::Int64Type>()
        .iter()
        .collect())
}

pub(crate) fn read_events(
    b: &RecordBatch,
    out: &mut Vec<EvidenceEvent>,
) -> Result<(), NarrativeError> {
    let s = |n: &str| strings(b, n);
    let (uid, vendor, upn, name, aid) = (
        s("event_uid")?,
        s("vendor")?,
        s("actor_upn")?,
        s("actor_name")?,
        s("actor_id")?,
    );
    let (action, category, outcome) = (s("action")?, s("category")?, s("outcome")?);
    let (ttype, tid, tname) = (s("target_type")?, s("target_id")?, s("target_name")?);
    let (did, dname, dserial) = (s("device_id")?, s("device_name")?, s("device_serial")?);
    let (level, episode) = (s("risk_level")?, s("episode_id")?);
    let (feed, akind, person, dept, partner) = (
        s("feed")?,
        s("actor_kind")?,
        s("actor_person")?,
        s("actor_department")?,
        s("actor_partner_tenant")?,
    );
    let (platform, ekind, chain, hash) = (
        s("device_platform")?,
        s("episode_kind")?,
        s("chain_id")?,
        s("hash")?,
    );
    let delegated = bools(b, "actor_is_delegated")?;
    let seq = opt_ints(b, "chain_seq")?;
    let reasons = lists(b, "risk_reasons")?;
    let time = times(b, "time")?;
    let score = ints(b, "risk_score")?;
    let tags = lists(b, "risk_tags")?;
    let controls = lists(b, "controls")?;
    let ch = changes(b)?;
    for i in 0..b.num_rows() {
        out.push(EvidenceEvent {
            id: String::new(),
            event_uid: uid[i].clone().unwrap_or_default(),
            time: time[i],
            vendor: vendor[i].clone().unwrap_or_default(),
            feed: feed[i].clone().unwrap_or_default(),
            actor_kind: akind[i].clone(),
            actor_person: person[i].clone(),
            actor_department: dept[i].clone(),
            actor_is_delegated: delegated[i],
            actor_partner_tenant: partner[i].clone(),
            actor_upn: upn[i].clone(),
            actor_name: name[i].clone(),
            actor_id: aid[i].clone(),
            action: action[i].clone().unwrap_or_default(),
            category: category[i].clone().unwrap_or_default(),
            outcome: outcome[i].clone().unwrap_or_default(),
            target_type: ttype[i].clone(),
            target_id: tid[i].clone(),
            target_name: tname[i].clone(),
            changes: ch[i].clone(),
            device_id: did[i].clone(),
            device_name: dname[i].clone(),
            device_serial: dserial[i].clone(),
            device_platform: platform[i].clone(),
            risk_score: i32::try_from(score[i]).unwrap_or(0),
            risk_level: level[i].clone().unwrap_or_default(),
            risk_tags: tags[i].clone(),
            risk_reasons: reasons[i].clone(),
            controls: controls[i].clone(),
            episode_id: episode[i].clone(),
            episode_kind: ekind[i].clone(),
            chain_id: chain[i].clone(),
            chain_seq: seq[i],
            hash: hash[i].clone(),
            local_zone: None,
        });
    }
    Ok(())
}
