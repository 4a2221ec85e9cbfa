//! The query model and the datasource settings, exactly as the frontend writes them
//! (`src/types.ts`, `QUERY_MODEL.md`, `query-model.schema.json`): camelCase fields, snake_case enums,
//! unknown top-level keys ignored, unknown keys inside `filters`, `stats` and `narrative` refused.

use serde::Deserialize;

/// The narrative kinds are the narrative engine's own.
pub use mdm_audit_narrative::NarrativeKind;
/// The filters and risk levels of the query model are the store's event selection.
pub use mdm_audit_store::select::{Filters, RiskLevel};

/// The default row cap (`DEFAULT_LIMIT` in `src/types.ts`).
pub const DEFAULT_LIMIT: u64 = 1000;

/// What a query returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryType {
    /// Events, newest first.
    #[default]
    Timeline,
    /// One read-only statement over `events`.
    Sql,
    /// Numeric series per time bucket.
    Stats,
    /// Correlated episodes.
    Episodes,
    /// Events as annotations.
    Annotations,
    /// A cited Markdown narrative (the narrative engine, `plugin::narrative`).
    Narrative,
}

impl QueryType {
    /// The value as written in the query model.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeline => "timeline",
            Self::Sql => "sql",
            Self::Stats => "stats",
            Self::Episodes => "episodes",
            Self::Annotations => "annotations",
            Self::Narrative => "narrative",
        }
    }
}

/// The number per bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatsMetric {
    /// Events.
    Count,
    /// `max(risk_score)`.
    RiskScoreMax,
    /// `avg(risk_score)`.
    RiskScoreAvg,
    /// Distinct `device_id`s.
    DistinctDevices,
}

/// The series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatsGroupBy {
    /// One series.
    #[default]
    None,
    /// Per vendor.
    Vendor,
    /// Per actor.
    Actor,
    /// Per action.
    Action,
    /// Per risk level.
    RiskLevel,
    /// Per risk tag (an event counts once per tag).
    RiskTag,
    /// Per device.
    Device,
}

impl StatsGroupBy {
    /// The value as written in the query model (the label name of a series).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Vendor => "vendor",
            Self::Actor => "actor",
            Self::Action => "action",
            Self::RiskLevel => "risk_level",
            Self::RiskTag => "risk_tag",
            Self::Device => "device",
        }
    }
}

/// `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stats {
    /// Required.
    pub metric: StatsMetric,
    /// Default `none`.
    pub group_by: Option<StatsGroupBy>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            metric: StatsMetric::Count,
            group_by: None,
        }
    }
}

/// `narrative`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Narrative {
    /// Required in the object.
    pub kind: NarrativeKind,
    /// What the kind is about.
    pub subject: Option<String>,
}

/// One query as the frontend writes it. Unknown top-level keys (Grafana's own) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MdmQuery {
    /// Absent: `timeline`.
    pub query_type: Option<QueryType>,
    /// Which events.
    pub filters: Option<Filters>,
    /// `sql` only.
    pub sql: Option<String>,
    /// `stats` only.
    pub stats: Option<Stats>,
    /// `narrative` only.
    pub narrative: Option<Narrative>,
    /// Row or series cap, >= 1.
    pub limit: Option<u64>,
    /// Grafana's hidden flag.
    pub hide: Option<bool>,
}

/// A query the model refuses.
#[derive(Debug, thiserror::Error)]
pub enum QueryModelError {
    /// Not the model's JSON.
    #[error("invalid query: {0}")]
    Json(#[from] serde_json::Error),
    /// `limit` 0.
    #[error("invalid query: limit must be an integer >= 1, got 0")]
    LimitZero,
}

impl MdmQuery {
    /// Deserializes and validates one query's JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, QueryModelError> {
        let q: Self =
            serde_json::from_slice(json).map_err(|e| QueryModelError::Json(friendly(e)))?;
        if q.limit == Some(0) {
            return Err(QueryModelError::LimitZero);
        }
        Ok(q)
    }

    /// The query type, `timeline` when absent.
    pub fn kind(&self) -> QueryType {
        self.query_type.unwrap_or_default()
    }

    /// `limit`, default 1000.
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// `stats`, default count with no group-by.
    pub fn stats(&self) -> Stats {
        self.stats.unwrap_or_default()
    }

    /// The filters, empty when absent.
    pub fn filters(&self) -> Filters {
        self.filters.clone().unwrap_or_default()
    }
}

/// serde's enum messages list the variants already ("expected one of ..."); keep them.
fn friendly(e: serde_json::Error) -> serde_json::Error {
    e
}

/// How narratives are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NarrativeMode {
    /// Deterministic template.
    #[default]
    Template,
    /// An OpenAI-compatible LLM, falling back to the template.
    Llm,
}

/// `jsonData` of the datasource.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// A directory or `s3://bucket/prefix`; default `./data`.
    pub store_uri: Option<String>,
    /// OpenAI-compatible base URL.
    pub llm_endpoint: Option<String>,
    /// Model name.
    pub llm_model: Option<String>,
    /// Per LLM request, default 30.
    pub llm_timeout_seconds: Option<f64>,
    /// Default `template`.
    pub narrative_mode: Option<NarrativeMode>,
    /// The lowest Grafana role that may record a review (approve, edit, reject); default `Editor`.
    pub review_min_role: Option<ReviewRole>,
    /// Object-store settings that are not secret, by object_store's names: for S3 `aws_region`,
    /// `aws_endpoint` (an S3-compatible server), `aws_allow_http`; for Azure `azure_storage_account_name`;
    /// for GCS `google_service_account` (a path). Credentials go in the secure settings.
    pub storage_options: Option<std::collections::BTreeMap<String, String>>,
}

/// A Grafana organization role, lowest first (`reviewMinRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize)]
pub enum ReviewRole {
    /// Viewers, Editors and Admins.
    Viewer,
    /// Editors and Admins (the default).
    #[default]
    Editor,
    /// Admins only.
    Admin,
}

impl ReviewRole {
    /// The role as Grafana names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "Viewer",
            Self::Editor => "Editor",
            Self::Admin => "Admin",
        }
    }
}

/// The default store location (`DEFAULT_STORE_URI`).
pub const DEFAULT_STORE_URI: &str = "./data";

impl Settings {
    /// Parses `jsonData`; an empty or `null` object is all defaults.
    pub fn from_value(v: &serde_json::Value) -> Result<Self, serde_json::Error> {
        if v.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(v.clone())
    }

    /// The store location, default `./data`.
    pub fn store_uri(&self) -> &str {
        self.store_uri
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(DEFAULT_STORE_URI)
    }

    /// The LLM timeout, default 30 s.
    pub fn llm_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(
            self.llm_timeout_seconds
                .filter(|s| *s > 0.0 && s.is_finite())
                .unwrap_or(30.0),
        )
    }
}

/// `secureJsonData`, decrypted by Grafana. Never logged: `Debug` prints only which keys are set.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecureSettings {
    /// Bearer token for the LLM endpoint.
    pub llm_api_key: Option<String>,
    /// S3 access key id.
    pub storage_access_key: Option<String>,
    /// S3 secret key.
    pub storage_secret_key: Option<String>,
    /// Ed25519 private key (PKCS#8 PEM, from `mdm-audit keygen`) that signs the chain head of every
    /// review this datasource records.
    pub signing_key: Option<String>,
}

impl std::fmt::Debug for SecureSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureSettings")
            .field("llm_api_key", &self.llm_api_key.as_ref().map(|_| "<set>"))
            .field(
                "storage_access_key",
                &self.storage_access_key.as_ref().map(|_| "<set>"),
            )
            .field(
                "storage_secret_key",
                &self.storage_secret_key.as_ref().map(|_| "<set>"),
            )
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl SecureSettings {
    /// Parses `decryptedSecureJsonData`.
    pub fn from_value(v: &serde_json::Value) -> Self {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// Object-store options for `StoreLocation::parse` (S3 keys when both are set).
    pub fn storage_options(&self) -> std::collections::HashMap<String, String> {
        let mut m = std::collections::HashMap::new();
        if let (Some(k), Some(s)) = (&self.storage_access_key, &self.storage_secret_key) {
            m.insert("aws_access_key_id".to_owned(), k.clone());
            m.insert("aws_secret_access_key".to_owned(), s.clone());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixtures(dir: &str) -> Vec<(String, Vec<u8>)> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(dir);
        let mut out: Vec<_> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                (
                    p.file_name().expect("name").to_string_lossy().into_owned(),
                    std::fs::read(&p).expect("read"),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_frontend_fixture_deserializes_and_keeps_its_query_type() {
        let all = fixtures("queries");
        assert!(all.len() >= 20, "only {} fixtures", all.len());
        for (name, bytes) in all {
            let q = MdmQuery::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            assert_eq!(
                q.kind().as_str(),
                v["queryType"].as_str().unwrap_or("timeline"),
                "{name}"
            );
            if let Some(l) = v["limit"].as_u64() {
                assert_eq!(q.limit(), l, "{name}");
            }
        }
    }

    #[test]
    fn the_frontend_default_query_is_a_timeline_of_1000() {
        // DEFAULT_QUERY in src/types.ts, as written to fixtures/queries/default.json.
        let types = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../src/types.ts"),
        )
        .expect("types.ts");
        assert!(types.contains("queryType: 'timeline',\n  limit: DEFAULT_LIMIT,"));
        assert!(types.contains("export const DEFAULT_LIMIT = 1000;"));
        let q = MdmQuery::from_json(br#"{"queryType":"timeline","limit":1000}"#).expect("default");
        assert_eq!((q.kind(), q.limit()), (QueryType::Timeline, 1000));
        let q = MdmQuery::from_json(br#"{"refId":"A"}"#).expect("no type");
        assert_eq!(
            q.kind(),
            QueryType::Timeline,
            "absent queryType runs as timeline"
        );
    }

    #[test]
    fn fixtures_carry_their_fields() {
        let get = |n: &str| {
            let all = fixtures("queries");
            let (_, b) = all.into_iter().find(|(f, _)| f == n).expect(n);
            MdmQuery::from_json(&b).expect(n)
        };
        let q = get("timeline_all_filters.json");
        let f = q.filters();
        assert_eq!(
            f.risk_levels.as_deref(),
            Some(
                &[
                    RiskLevel::None,
                    RiskLevel::Low,
                    RiskLevel::Medium,
                    RiskLevel::High,
                    RiskLevel::Critical
                ][..]
            )
        );
        assert!(f.vendors.is_some() && f.actors.is_some() && f.devices.is_some());
        assert!(f.actions.is_some() && f.risk_tags.is_some() && f.text.is_some());
        let q = get("stats_count_by_vendor.json");
        assert_eq!(q.stats().metric, StatsMetric::Count);
        assert_eq!(q.stats().group_by, Some(StatsGroupBy::Vendor));
        let q = get("stats_count.json");
        assert_eq!(q.stats().group_by.unwrap_or_default(), StatsGroupBy::None);
        let q = get("narrative_device_lifecycle.json");
        let n = q.narrative.expect("narrative");
        assert_eq!(n.kind, NarrativeKind::DeviceLifecycle);
        assert!(n.subject.is_some_and(|s| !s.is_empty()));
        assert!(
            get("sql.json")
                .sql
                .is_some_and(|s| s.to_lowercase().contains("select"))
        );
    }

    #[test]
    fn invalid_fixtures_are_refused_with_a_message_naming_the_problem() {
        let expect = [
            ("unknown_query_type.json", "logs"),
            ("unknown_risk_level.json", "severe"),
            ("unknown_filter_field.json", "vendor"),
            ("stats_without_metric.json", "metric"),
            ("narrative_unknown_kind.json", "weekly_digest"),
            ("limit_zero.json", "limit"),
            ("limit_not_integer.json", "10.5"),
            ("filter_value_not_string.json", "string"),
        ];
        let all = fixtures("queries-invalid");
        assert_eq!(all.len(), expect.len());
        for (name, needle) in expect {
            let (_, b) = all.iter().find(|(f, _)| f == name).expect(name);
            let msg = MdmQuery::from_json(b).expect_err(name).to_string();
            assert!(msg.contains(needle), "{name}: {msg}");
        }
    }

    #[test]
    fn settings_parse_with_defaults_and_secrets_stay_out_of_debug() {
        let s = Settings::from_value(&serde_json::json!({})).expect("empty");
        assert_eq!(s.store_uri(), "./data");
        assert_eq!(s.llm_timeout().as_secs(), 30);
        let s = Settings::from_value(&serde_json::json!({
            "storeUri": "s3://b/p", "llmEndpoint": "http://127.0.0.1:8080/v1", "llmModel": "m",
            "llmTimeoutSeconds": 5, "narrativeMode": "llm", "unrelated": 1
        }))
        .expect("full");
        assert_eq!(s.store_uri(), "s3://b/p");
        assert_eq!(s.narrative_mode, Some(NarrativeMode::Llm));
        assert_eq!(s.llm_timeout().as_secs(), 5);
        let sec = SecureSettings::from_value(&serde_json::json!({"llmApiKey": "sk-secret"}));
        assert!(!format!("{sec:?}").contains("sk-secret"));
        assert_eq!(sec.llm_api_key.as_deref(), Some("sk-secret"));
    }

    fn collect_targets(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(ts)) = m.get("targets") {
                    out.extend(ts.iter().cloned());
                }
                m.values().for_each(|c| collect_targets(c, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|c| collect_targets(c, out)),
            _ => {}
        }
    }

    #[test]
    fn every_dashboard_query_of_this_datasource_deserializes() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dashboards");
        let Ok(dir) = std::fs::read_dir(&root) else {
            return;
        };
        for p in dir.map(|e| e.expect("entry").path()) {
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("dashboard json");
            let mut targets = Vec::new();
            collect_targets(&v, &mut targets);
            for t in targets {
                let ours = t["datasource"]["type"] == "mdm-audit-datasource"
                    || t["datasource"]["uid"] == "mdm-audit";
                if ours {
                    let bytes = serde_json::to_vec(&t).expect("json");
                    MdmQuery::from_json(&bytes)
                        .unwrap_or_else(|e| panic!("{}: {t}: {e}", p.display()));
                }
            }
        }
    }
}
