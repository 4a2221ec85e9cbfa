//! Rows of the `episodes` table.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int32Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder, new_null_array,
};
use arrow::datatypes::{DataType, Field};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::tables::EPISODES;
use crate::schema::LIST_ITEM;

/// One state of a correlated episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// Stable id of the episode (the same in every state of it).
    pub episode_id: String,
    /// `admin_session`, `policy_rollout`, `bulk_destructive`, `device_lifecycle`, ...
    pub episode_kind: String,
    /// One line that explains the grouping.
    pub reason: String,
    /// The actor the episode is about, if one.
    pub actor: Option<String>,
    /// The device the episode is about, if one.
    pub device: Option<String>,
    /// Time of the first event.
    pub first_time: DateTime<Utc>,
    /// Time of the last event.
    pub last_time: DateTime<Utc>,
    /// Events in the episode.
    pub event_count: i64,
    /// Distinct devices touched.
    pub device_count: i64,
    /// The member events.
    pub event_uids: Vec<String>,
    /// Devices touched (ids or names), at most a few hundred.
    pub devices: Vec<String>,
    /// Risk tags of the episode as a whole (stateful ones included).
    pub risk_tags: Vec<String>,
    /// Highest risk score among the members.
    pub max_risk_score: i32,
    /// When this state was recorded.
    pub updated_time: DateTime<Utc>,
}

fn list(values: &[&[String]]) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
        LIST_ITEM,
        DataType::Utf8,
        false,
    )));
    for v in values {
        for s in *v {
            b.values().append_value(s);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// Builds a batch of the `episodes` schema (chain columns left null for the writer).
pub fn episodes_to_batch(rows: &[EpisodeRecord]) -> Result<RecordBatch, StoreError> {
    let strings = |f: &dyn Fn(&EpisodeRecord) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in rows {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    };
    let times = |f: &dyn Fn(&EpisodeRecord) -> i64| -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
        for r in rows {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    };
    let ints = |f: &dyn Fn(&EpisodeRecord) -> i64| -> ArrayRef {
        let mut b = Int64Builder::with_capacity(rows.len());
        for r in rows {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    };
    let mut score = Int32Builder::with_capacity(rows.len());
    for r in rows {
        score.append_value(r.max_risk_score);
    }
    let n = rows.len();
    let columns: Vec<ArrayRef> = vec![
        strings(&|r| Some(&r.episode_id)),
        strings(&|r| Some(&r.episode_kind)),
        strings(&|r| Some(&r.reason)),
        strings(&|r| r.actor.as_deref()),
        strings(&|r| r.device.as_deref()),
        times(&|r| r.first_time.timestamp_micros()),
        times(&|r| r.last_time.timestamp_micros()),
        ints(&|r| r.event_count),
        ints(&|r| r.device_count),
        list(
            &rows
                .iter()
                .map(|r| r.event_uids.as_slice())
                .collect::<Vec<_>>(),
        ),
        list(
            &rows
                .iter()
                .map(|r| r.devices.as_slice())
                .collect::<Vec<_>>(),
        ),
        list(
            &rows
                .iter()
                .map(|r| r.risk_tags.as_slice())
                .collect::<Vec<_>>(),
        ),
        Arc::new(score.finish()),
        times(&|r| r.updated_time.timestamp_micros()),
        new_null_array(&DataType::Utf8, n),
        new_null_array(&DataType::Int64, n),
        new_null_array(&DataType::Utf8, n),
        new_null_array(&DataType::Utf8, n),
    ];
    Ok(RecordBatch::try_new(EPISODES.schema.clone(), columns)?)
}
