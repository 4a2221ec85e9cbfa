//! CallResource: editor suggestions and the schema. [`route`] is the router: add a `match` arm per
//! new path (the narrative engine adds its review resources there).

use std::collections::HashMap;

use arrow::array::AsArray;
use arrow::compute::cast;
use arrow::datatypes::DataType;
use bytes::Bytes;
use chrono::DateTime;
use grafana_plugin_sdk::backend;
use http::{Method, Response, StatusCode};

use datafusion::common::UnnestOptions;
use datafusion::functions::expr_fn::{lower, strpos};
use datafusion::functions_aggregate::count::count_all;
use datafusion::prelude::{Expr, cast as cast_to, col, lit};
use mdm_audit_store::tables::DAY;

use crate::engine::{ACTOR_COLUMNS, Engine, Range, first_of};
use crate::plugin::{Instance, MdmPlugin};
use crate::query::ReviewRole;

/// The most suggestions one answer holds.
pub const MAX_SUGGESTIONS: usize = 200;

/// A resource error: answered as `{"message": ...}` with its status.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ResourceError {
    /// HTTP status.
    pub status: StatusCode,
    /// What to change.
    pub message: String,
}

impl ResourceError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl backend::ErrIntoHttpResponse for ResourceError {
    fn into_http_response(self) -> Result<Response<Bytes>, Box<dyn std::error::Error>> {
        Ok(json_response(
            self.status,
            &serde_json::json!({"message": self.message}),
        ))
    }
}

fn json_response(status: StatusCode, v: &serde_json::Value) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(serde_json::to_vec(v).unwrap_or_default()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// One resource request: method, path below `resources/`, query parameters, body.
#[derive(Debug)]
pub struct ResourceRequest<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Path segments, e.g. `["suggest", "actors"]`.
    pub path: Vec<&'a str>,
    /// Query parameters.
    pub params: HashMap<String, String>,
    /// The body.
    pub body: &'a Bytes,
    /// The signed-in Grafana user, as the plugin context gives it (never the request body).
    pub user: Option<GrafanaUser>,
    /// The Grafana org.
    pub org_id: i64,
}

/// The signed-in user of a request, from Grafana's plugin context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrafanaUser {
    /// Login.
    pub login: String,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Organization role.
    pub role: ReviewRole,
}

impl GrafanaUser {
    fn from_sdk(u: &backend::User) -> Self {
        let role = match u.role {
            backend::Role::Admin => ReviewRole::Admin,
            backend::Role::Editor => ReviewRole::Editor,
            // Viewer, and any role a newer Grafana adds: the least privilege.
            _ => ReviewRole::Viewer,
        };
        Self {
            login: u.login.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role,
        }
    }
}

/// Whether `user` may record a review when the datasource requires `min`; the refusal, worded for
/// the user, otherwise.
pub fn may_review(user: Option<&GrafanaUser>, min: ReviewRole) -> Result<&GrafanaUser, String> {
    let user = user
        .filter(|u| !u.login.is_empty())
        .ok_or("a review needs a signed-in Grafana user")?;
    if user.role < min {
        return Err(format!(
            "recording a review needs the Grafana role {} or higher (datasource setting \
             reviewMinRole); {} is a {}",
            min.as_str(),
            user.login,
            user.role.as_str()
        ));
    }
    Ok(user)
}

/// Routes one request.
pub async fn route(
    engine: &Engine,
    instance: &Instance,
    req: &ResourceRequest<'_>,
) -> Result<serde_json::Value, ResourceError> {
    match (req.method, req.path.as_slice()) {
        (&Method::GET, ["suggest", field]) => suggest(engine, field, &req.params).await,
        (&Method::GET, ["schema"]) => schema(engine).await,
        (&Method::POST, ["reviews"]) => {
            let min = instance.settings.review_min_role.unwrap_or_default();
            post_review(engine, req, min, instance.secure.signing_key.as_deref()).await
        }
        (_, path) => Err(ResourceError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no resource {} {}: use GET suggest/{{vendors|actors|devices|actions|risk_tags}}, GET schema or POST reviews",
                req.method,
                path.join("/")
            ),
        )),
    }
}

/// The value expression of a suggest field.
pub fn suggest_expr(field: &str) -> Option<Expr> {
    Some(match field {
        "vendors" => col("vendor"),
        "actors" => first_of(&ACTOR_COLUMNS, None),
        "devices" => first_of(&["device_serial", "device_id", "device_name"], None),
        "actions" => col("action"),
        "risk_tags" => col("tag"),
        _ => return None,
    })
}

async fn suggest(
    engine: &Engine,
    field: &str,
    params: &HashMap<String, String>,
) -> Result<serde_json::Value, ResourceError> {
    let expr = suggest_expr(field).ok_or_else(|| {
        ResourceError::new(
            StatusCode::BAD_REQUEST,
            format!("unknown suggest field {field:?}: use one of vendors, actors, devices, actions, risk_tags"),
        )
    })?;
    engine
        .require("events")
        .await
        .map_err(|e| ResourceError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let ms = |k: &str| {
        params
            .get(k)
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis)
    };
    let mut w = expr.clone().is_not_null();
    if let (Some(from), Some(to)) = (ms("from"), ms("to")) {
        w = w.and(Range { from, to }.expr());
    }
    if let Some(q) = params.get("q").filter(|q| !q.is_empty()) {
        w = w.and(strpos(lower(expr.clone()), lit(q.to_lowercase())).gt(lit(0)));
    }
    let internal = |e: datafusion::error::DataFusionError| {
        ResourceError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    };
    let mut df = engine.context().table("events").await.map_err(internal)?;
    if field == "risk_tags" {
        let cols = vec![col(DAY), col("time"), col("risk_tags").alias("tag")];
        let options = UnnestOptions::new().with_preserve_nulls(false);
        df = df
            .select(cols)
            .and_then(|d| d.unnest_columns_with_options(&["tag"], options))
            .map_err(internal)?;
    }
    let df = df
        .filter(w)
        .and_then(|d| {
            d.aggregate(
                vec![cast_to(expr, DataType::Utf8View).alias("v")],
                vec![count_all().alias("n")],
            )
        })
        .and_then(|d| d.sort(vec![col("n").sort(false, true), col("v").sort(true, false)]))
        .and_then(|d| d.limit(0, Some(MAX_SUGGESTIONS)))
        .map_err(internal)?;
    let batches = engine
        .collect(df)
        .await
        .map_err(|e| ResourceError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut values = Vec::new();
    for b in &batches {
        let c = cast(b.column(0), &DataType::Utf8)
            .map_err(|e| ResourceError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        values.extend(c.as_string::<i32>().iter().flatten().map(str::to_owned));
    }
    Ok(serde_json::json!({ "values": values }))
}

/// Column descriptions for the SQL editor.
pub fn describe_column(name: &str) -> Option<&'static str> {
    Some(match name {
        "event_uid" => "stable id of the event (hash of vendor, feed and the raw record)",
        "time" => "when the action happened (UTC)",
        "ingest_time" => "when mdm-audit stored the event",
        "vendor" => "jamf, microsoft or omnissa",
        "action" => "canonical verb: wipe, lock, clear_passcode, assign, ...",
        "native_action" => "the vendor's own action name",
        "actor_upn" => "the admin's user principal name",
        "actor_name" => "the admin's display name",
        "actor_id" => "the admin's id at the vendor",
        "device_id" => "the device's id at the vendor",
        "device_serial" => "the device's serial number",
        "device_name" => "the device's name",
        "risk_tags" => "risk tags (list)",
        "risk_score" => "0-100",
        "risk_level" => "none, low, medium, high, critical",
        "episode_id" => "the correlated episode the event belongs to",
        "message" => "one-line description",
        "raw" => "the vendor's record as received",
        "hash" => "hash-chain link of the row",
        "day" => "partition: UTC day of time (YYYY-MM-DD)",
        _ => return None,
    })
}

async fn schema(engine: &Engine) -> Result<serde_json::Value, ResourceError> {
    let names = engine
        .tables()
        .await
        .map_err(|e| ResourceError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let mut tables = Vec::new();
    for name in names {
        let Ok(p) = engine.context().table_provider(name.as_str()).await else {
            continue;
        };
        let columns: Vec<serde_json::Value> = p
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let mut c =
                    serde_json::json!({"name": f.name(), "type": f.data_type().to_string()});
                if name == "events"
                    && let Some(d) = describe_column(f.name())
                {
                    c["description"] = d.into();
                }
                c
            })
            .collect();
        tables.push(serde_json::json!({"name": name, "columns": columns}));
    }
    Ok(serde_json::json!({ "tables": tables }))
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    let Some(q) = q else {
        return HashMap::new();
    };
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[backend::async_trait]
impl backend::ResourceService for MdmPlugin {
    type Error = ResourceError;
    type InitialResponse = Response<Bytes>;
    type Stream = backend::BoxResourceStream<Self::Error>;

    async fn call_resource(
        &self,
        r: backend::CallResourceRequest<Self>,
    ) -> Result<(Self::InitialResponse, Self::Stream), Self::Error> {
        let instance = Instance::from_context(&r.plugin_context)
            .map_err(|m| ResourceError::new(StatusCode::BAD_REQUEST, m))?;
        let engine = self
            .engine(&instance)
            .await
            .map_err(|e| ResourceError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
        let uri = r.request.uri();
        let req = ResourceRequest {
            method: r.request.method(),
            path: uri.path().split('/').filter(|s| !s.is_empty()).collect(),
            params: parse_query(uri.query()),
            body: r.request.body(),
            user: r.plugin_context.user.as_ref().map(GrafanaUser::from_sdk),
            org_id: r.plugin_context.org_id,
        };
        let v = route(&engine, &instance, &req).await?;
        Ok((
            json_response(StatusCode::OK, &v),
            Box::pin(futures::stream::empty()),
        ))
    }
}

/// `POST reviews` with `{"narrativeId", "decision": "approve"|"edit"|"reject", "comment", "text"}`:
/// records the signed-in user's decision in the store's `reviews` table. Only users whose Grafana role
/// is at least the datasource's `reviewMinRole` (default Editor) may; the reviewer is the plugin
/// context's user, never a field of the body.
async fn post_review(
    engine: &Engine,
    req: &ResourceRequest<'_>,
    min_role: ReviewRole,
    signing_key: Option<&str>,
) -> Result<serde_json::Value, ResourceError> {
    // Who may judge comes first: a refused request reads nothing and records nothing.
    let reviewer = may_review(req.user.as_ref(), min_role)
        .map_err(|m| {
            tracing::warn!(user = ?req.user.as_ref().map(|u| &u.login), "Review refused: {m}");
            ResourceError::new(StatusCode::FORBIDDEN, m)
        })?
        .clone();
    use mdm_audit_narrative::review::{Decision, ReviewError, ReviewRequest, record_review};
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Body {
        narrative_id: String,
        decision: String,
        #[serde(default)]
        comment: Option<String>,
        #[serde(default)]
        text: Option<String>,
    }
    let bad = |m: String| ResourceError::new(StatusCode::BAD_REQUEST, m);
    let body: Body = serde_json::from_slice(req.body).map_err(|e| {
        bad(format!(
            "review body: {e} (expected narrativeId, decision, comment, text)"
        ))
    })?;
    let decision: Decision = body.decision.parse().map_err(bad)?;
    let request = ReviewRequest {
        narrative_id: body.narrative_id,
        reviewer: reviewer.login,
        reviewer_name: Some(reviewer.name),
        reviewer_email: Some(reviewer.email),
        org: Some(req.org_id.to_string()),
        decision,
        comment: body.comment,
        edited_output: body.text,
    };
    let writer = format!("{}-grafana-reviews", mdm_audit_store::default_writer_id());
    let signer = signing_key
        .filter(|k| !k.trim().is_empty())
        .map(|k| mdm_audit_store::HeadSigner::from_pem(k, "the datasource's signing key"))
        .transpose()
        .map_err(|e| ResourceError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map(std::sync::Arc::new);
    let writer = mdm_audit_store::WriterOptions::new(writer).with_signer(signer);
    let rec = record_review(engine.store(), writer, &request)
        .await
        .map_err(|e| match e {
            ReviewError::Invalid(m) => bad(m),
            ReviewError::UnknownNarrative(_) => {
                ResourceError::new(StatusCode::NOT_FOUND, e.to_string())
            }
            other => ResourceError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        })?;
    serde_json::to_value(rec)
        .map_err(|e| ResourceError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: ReviewRole) -> GrafanaUser {
        GrafanaUser {
            login: "pat".into(),
            name: "Pat Doe".into(),
            email: "pat@example.com".into(),
            role,
        }
    }

    #[test]
    fn only_the_minimum_role_and_above_may_review() {
        use ReviewRole::{Admin, Editor, Viewer};
        assert!(may_review(Some(&user(Viewer)), Editor).is_err());
        assert!(may_review(Some(&user(Editor)), Editor).is_ok());
        assert!(may_review(Some(&user(Admin)), Editor).is_ok());
        assert!(may_review(Some(&user(Editor)), Admin).is_err());
        assert!(may_review(Some(&user(Viewer)), Viewer).is_ok());
        let refused = may_review(Some(&user(Viewer)), Editor).expect_err("viewer");
        assert!(
            refused.contains("Editor") && refused.contains("reviewMinRole"),
            "{refused}"
        );
        assert!(may_review(None, Viewer).is_err());
        assert_eq!(ReviewRole::default(), Editor);
        let s = crate::query::Settings::from_value(&serde_json::json!({"reviewMinRole": "Admin"}))
            .expect("settings");
        assert_eq!(s.review_min_role, Some(Admin));
    }
}
