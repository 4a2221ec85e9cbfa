//! Human review of narratives: approve, edit or reject, with the reviewer and a comment, recorded in
//! the store's hash-chained `reviews` table. Reviews are append-only: the newest review of a narrative
//! is its status, and an edit records the hash of the text it replaces and the new text, so the
//! history of a narrative (the engine's output in `narratives`, then every edit) is kept.

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::array::{ArrayRef, RecordBatch, StringBuilder, TimestampMicrosecondBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use chrono::{DateTime, Utc};
use datafusion::prelude::{SessionContext, col, lit};
use mdm_audit_store::{StoreError, StoreLocation, TableWriter, WriterOptions, register_tables};
use serde::Serialize;

use super::tables::{REVIEWS, store_tables};
use sha2::{Digest, Sha256};

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The narrative stands as written.
    Approve,
    /// The narrative stands with the reviewer's text.
    Edit,
    /// The narrative must not be used as evidence.
    Reject,
}

impl Decision {
    /// The name stored in `reviews.decision`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Edit => "edit",
            Decision::Reject => "reject",
        }
    }
}

impl FromStr for Decision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approve" | "approved" => Ok(Decision::Approve),
            "edit" | "edited" => Ok(Decision::Edit),
            "reject" | "rejected" => Ok(Decision::Reject),
            other => Err(format!(
                "unknown decision {other:?}: expected approve, edit or reject"
            )),
        }
    }
}

/// A review to record.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    /// The narrative (`narratives.narrative_id`).
    pub narrative_id: String,
    /// Who decides (Grafana login, or the CLI user).
    pub reviewer: String,
    /// The reviewer's display name (Grafana's signed-in user).
    pub reviewer_name: Option<String>,
    /// The reviewer's e-mail (Grafana's signed-in user).
    pub reviewer_email: Option<String>,
    /// The Grafana org, if from Grafana.
    pub org: Option<String>,
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub comment: Option<String>,
    /// The new text (required for, and only for, an edit).
    pub edited_output: Option<String>,
}

/// A review as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewRecord {
    /// Id of the review.
    pub review_id: String,
    /// The narrative.
    pub narrative_id: String,
    /// When.
    pub review_time: DateTime<Utc>,
    /// The decision.
    pub decision: String,
    /// Hash of the text the decision is about (the narrative's, or the last edit's).
    pub reviewed_output_hash: String,
    /// Hash of the new text of an edit.
    pub edited_output_hash: Option<String>,
}

/// Why a review was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The request is not valid.
    #[error("{0}")]
    Invalid(String),
    /// No such narrative.
    #[error(
        "no narrative {0:?} in this store (the narrative_id column of the narratives table; `mdm-audit narrate` prints it)"
    )]
    UnknownNarrative(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A query failed.
    #[error("query: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
}

fn nonempty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn one_string(batches: &[RecordBatch], col: usize) -> Option<String> {
    for b in batches {
        if b.num_rows() > 0 {
            let c = cast(b.column(col), &DataType::Utf8).ok()?;
            let s = c.as_string::<i32>();
            return (!s.is_null(0)).then(|| s.value(0).to_owned());
        }
    }
    None
}

/// The hash of the narrative's current text: the newest edit's, else the engine's output.
async fn current_hash(location: &StoreLocation, narrative_id: &str) -> Result<String, ReviewError> {
    let ctx = SessionContext::new();
    let tables = register_tables(location, &store_tables(), &ctx).await?;
    if !tables.iter().any(|t| t == "narratives") {
        return Err(ReviewError::UnknownNarrative(narrative_id.to_owned()));
    }
    let of_narrative = col("narrative_id").eq(lit(narrative_id));
    let original = ctx
        .table("narratives")
        .await?
        .filter(of_narrative.clone())?
        .select_columns(&["output_hash"])?
        .limit(0, Some(1))?
        .collect()
        .await?;
    let Some(original) = one_string(&original, 0) else {
        return Err(ReviewError::UnknownNarrative(narrative_id.to_owned()));
    };
    if tables.iter().any(|t| t == "reviews") {
        let newest = vec![
            col("review_time").sort(false, true),
            col("chain_seq").sort(false, true),
        ];
        let edit = ctx
            .table("reviews")
            .await?
            .filter(of_narrative.and(col("decision").eq(lit("edit"))))?
            .sort(newest)?
            .select_columns(&["edited_output_hash"])?
            .limit(0, Some(1))?
            .collect()
            .await?;
        if let Some(h) = one_string(&edit, 0) {
            return Ok(h);
        }
    }
    Ok(original)
}

/// Records `req` in the `reviews` table as `writer` (its id, and its signing key if any).
pub async fn record_review(
    location: &StoreLocation,
    writer: WriterOptions,
    req: &ReviewRequest,
) -> Result<ReviewRecord, ReviewError> {
    if req.reviewer.trim().is_empty() {
        return Err(ReviewError::Invalid("a review needs a reviewer".into()));
    }
    let edited = req
        .edited_output
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match (req.decision, edited) {
        (Decision::Edit, None) => {
            return Err(ReviewError::Invalid(
                "an edit needs the new text of the narrative".into(),
            ));
        }
        (Decision::Approve | Decision::Reject, Some(_)) => {
            return Err(ReviewError::Invalid(
                "only an edit carries new text; approve or reject the narrative as it stands"
                    .into(),
            ));
        }
        _ => {}
    }
    let reviewed = current_hash(location, &req.narrative_id).await?;
    let now = Utc::now();
    let edited_hash = edited.map(sha256_hex);
    let review_id = format!(
        "rev-{}-{}",
        now.format("%Y%m%dT%H%M%S%6f"),
        &sha256_hex(&format!("{}{}{}", req.narrative_id, req.reviewer, now))[..12]
    );
    let s = |v: Option<&str>| {
        let mut b = StringBuilder::new();
        b.append_option(v);
        Arc::new(b.finish()) as ArrayRef
    };
    let mut t = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    t.append_value(now.timestamp_micros());
    let nulls = |dt: DataType| arrow::array::new_null_array(&dt, 1);
    let cols: Vec<ArrayRef> = vec![
        s(Some(&review_id)),
        s(Some(&req.narrative_id)),
        Arc::new(t.finish()),
        s(Some(req.reviewer.trim())),
        s(req.org.as_deref()),
        s(Some(req.decision.as_str())),
        s(req.comment.as_deref()),
        s(Some(&reviewed)),
        s(edited),
        s(edited_hash.as_deref()),
        nulls(DataType::Utf8),
        nulls(DataType::Int64),
        nulls(DataType::Utf8),
        nulls(DataType::Utf8),
        s(nonempty(req.reviewer_name.as_deref())),
        s(nonempty(req.reviewer_email.as_deref())),
    ];
    let batch = RecordBatch::try_new(REVIEWS.schema.clone(), cols).map_err(StoreError::from)?;
    let mut w = TableWriter::open(location, &REVIEWS, writer).await?;
    w.append(batch).await?;
    Ok(ReviewRecord {
        review_id,
        narrative_id: req.narrative_id.clone(),
        review_time: now,
        decision: req.decision.as_str().to_owned(),
        reviewed_output_hash: reviewed,
        edited_output_hash: edited_hash,
    })
}
