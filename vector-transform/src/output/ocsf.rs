//! OCSF 1.8 JSON for normalized events.
//!
//! The class comes from the mapping (`ocsf_class_uid`, `ocsf_activity_id`); this module fills the
//! class's required objects from the normalized fields and keeps what OCSF has no slot for (old -> new
//! values, risk) under `unmapped`. Every risk-tagged event is followed by a Detection Finding (2004)
//! that names it in `finding_info.related_events`, the anchor narratives cite.

use std::io::{BufWriter, Write};

use serde_json::{Map, Value, json};

use super::EventSink;
use crate::{NormalizedEvent, TransformError};

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.8.0";

fn put(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), Value::String(v.to_owned()));
    }
}

fn product_name(e: &NormalizedEvent) -> (&'static str, &'static str) {
    match e.product.as_str() {
        "jamf_pro" => ("Jamf Pro", "Jamf"),
        "intune" => ("Microsoft Intune", "Microsoft"),
        "workspace_one" => ("Workspace ONE UEM", "Omnissa"),
        _ => ("MDM", "Unknown"),
    }
}

fn severity_id(level: &str) -> i64 {
    match level {
        "low" => 2,
        "medium" => 3,
        "high" => 4,
        "critical" => 5,
        _ => 1,
    }
}

fn device(e: &NormalizedEvent) -> Option<Value> {
    if e.device_id.is_none() && e.device_name.is_none() && e.device_serial.is_none() {
        return None;
    }
    let type_id = match e.device_platform.as_deref() {
        Some("macos" | "windows" | "linux" | "chromeos") => 2,
        Some("ipados") => 4,
        Some("ios" | "android") => 5,
        Some("tvos") => 99,
        _ => 0,
    };
    let mut d = Map::new();
    d.insert("type_id".into(), json!(type_id));
    put(&mut d, "uid", e.device_id.as_deref());
    put(
        &mut d,
        "name",
        e.device_name
            .as_deref()
            .or(e.device_serial.as_deref())
            .or(e.device_id.as_deref()),
    );
    if let Some(serial) = &e.device_serial {
        d.insert("hw_info".into(), json!({ "serial_number": serial }));
    }
    if let Some(os) = &e.device_os {
        let os_type = match e.device_platform.as_deref() {
            Some("windows") => 100,
            Some("linux") => 200,
            Some("macos") => 300,
            Some("ios") => 301,
            Some("ipados") => 302,
            Some("android") => 201,
            Some("tvos") => 99,
            _ => 0,
        };
        d.insert("os".into(), json!({ "name": os, "type_id": os_type }));
    }
    if let Some(owner) = &e.device_user {
        d.insert("owner".into(), json!({ "name": owner }));
    }
    d.insert("is_managed".into(), json!(true));
    Some(Value::Object(d))
}

fn actor_user(e: &NormalizedEvent) -> Option<Value> {
    let name = e
        .actor_name
        .as_deref()
        .or(e.actor_upn.as_deref())
        .or(e.actor_id.as_deref())?;
    let mut u = Map::new();
    u.insert("name".into(), json!(name));
    put(&mut u, "uid", e.actor_id.as_deref());
    if let Some(upn) = e.actor_upn.as_deref().filter(|s| s.contains('@')) {
        u.insert("email_addr".into(), json!(upn));
    }
    let type_id = match e.actor_kind.as_deref() {
        Some("app" | "api_client" | "system") => 3,
        Some("user" | "partner") => 1,
        _ => 0,
    };
    u.insert("type_id".into(), json!(type_id));
    if let Some(partner) = &e.actor_partner_tenant {
        u.insert("org".into(), json!({ "uid": partner }));
    }
    Some(Value::Object(u))
}

fn actor(e: &NormalizedEvent) -> Option<Value> {
    let mut a = Map::new();
    if let Some(u) = actor_user(e) {
        a.insert("user".into(), u);
    }
    put(&mut a, "app_name", e.actor_app.as_deref());
    (!a.is_empty()).then_some(Value::Object(a))
}

fn entity(e: &NormalizedEvent) -> Value {
    let mut m = Map::new();
    put(&mut m, "uid", e.target_id.as_deref());
    let name = e
        .target_name
        .as_deref()
        .or(e.device_name.as_deref())
        .or(e.target_type.as_deref())
        .unwrap_or(&e.native_action);
    m.insert("name".into(), json!(name));
    put(&mut m, "type", e.target_type.as_deref());
    Value::Object(m)
}

fn unmapped(e: &NormalizedEvent) -> Value {
    json!({
        "event_uid": e.event_uid,
        "vendor": e.vendor,
        "feed": e.feed,
        "category": e.category,
        "action": e.action,
        "target_type": e.target_type,
        "changes": e.changes,
        "risk_tags": e.risk_tags,
        "risk_score": e.risk_score,
        "controls": e.controls,
        "actor_kind": e.actor_kind,
        "actor_is_delegated": e.actor_is_delegated,
    })
}

fn metadata(e: &NormalizedEvent) -> Value {
    let (name, vendor) = product_name(e);
    let mut m = Map::new();
    m.insert("version".into(), json!(OCSF_VERSION));
    m.insert(
        "product".into(),
        json!({ "name": name, "vendor_name": vendor }),
    );
    m.insert("uid".into(), json!(e.event_uid));
    m.insert("event_code".into(), json!(e.native_action));
    m.insert("log_name".into(), json!(e.feed));
    put(&mut m, "correlation_uid", e.correlation_id.as_deref());
    put(&mut m, "tenant_uid", e.tenant.as_deref());
    if let Some(t) = e.ingest_time {
        m.insert("logged_time".into(), json!(t.timestamp_millis()));
    }
    Value::Object(m)
}

/// Allowed activity ids per class; anything else becomes 99 (Other) with `activity_name`.
fn allowed_activities(class: i32) -> &'static [i32] {
    match class {
        3002 => &[0, 1, 2, 3, 4, 5, 6, 7, 99],
        3004 => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99],
        3005 | 5019 | 5001 => &[0, 1, 2, 99],
        3006 | 6002 => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 99],
        6003 => &[0, 1, 2, 3, 4, 99],
        _ => &[0, 99],
    }
}

/// The OCSF event for `e`, then the Detection Finding for it when it carries risk tags.
pub fn to_ocsf(e: &NormalizedEvent) -> Vec<Value> {
    let class = e.ocsf_class_uid;
    let activity = if allowed_activities(class).contains(&e.ocsf_activity_id) {
        e.ocsf_activity_id
    } else {
        99
    };
    let mut o = Map::new();
    o.insert("class_uid".into(), json!(class));
    o.insert("category_uid".into(), json!(class / 1000));
    o.insert("activity_id".into(), json!(activity));
    o.insert("activity_name".into(), json!(e.action));
    o.insert(
        "type_uid".into(),
        json!(i64::from(class) * 100 + i64::from(activity)),
    );
    o.insert("time".into(), json!(e.time.timestamp_millis()));
    o.insert("severity_id".into(), json!(severity_id(&e.risk_level)));
    let status_id = match e.outcome.as_str() {
        "success" => 1,
        "failure" => 2,
        _ => 0,
    };
    o.insert("status_id".into(), json!(status_id));
    o.insert("message".into(), json!(e.message));
    o.insert("metadata".into(), metadata(e));
    o.insert("raw_data".into(), json!(e.raw));
    if let Some(a) = actor(e) {
        o.insert("actor".into(), a);
    }
    let dev = device(e);
    match class {
        3002 => {
            o.insert(
                "user".into(),
                actor_user(e).unwrap_or_else(|| json!({ "name": "unknown" })),
            );
            if let Some(ip) = &e.actor_ip {
                o.insert("src_endpoint".into(), json!({ "ip": ip }));
            }
            // OCSF requires a service or a destination endpoint: the entry point, else the product.
            let service = e.actor_app.as_deref().unwrap_or(product_name(e).0);
            o.insert("service".into(), json!({ "name": service }));
        }
        3005 => {
            let who = e
                .target_name
                .as_deref()
                .or(e.target_id.as_deref())
                .unwrap_or("unknown");
            o.insert("user".into(), json!({ "name": who }));
            o.insert(
                "privileges".into(),
                json!([e.target_name.as_deref().unwrap_or(&e.native_action)]),
            );
        }
        3006 => {
            let mut g = Map::new();
            g.insert(
                "name".into(),
                json!(
                    e.target_name
                        .as_deref()
                        .or(e.target_id.as_deref())
                        .unwrap_or("unknown")
                ),
            );
            put(&mut g, "uid", e.target_id.as_deref());
            o.insert("group".into(), Value::Object(g));
        }
        5001 | 5019 => {
            o.insert(
                "device".into(),
                dev.clone().unwrap_or_else(|| json!({ "type_id": 0, "name": e.target_name.as_deref().unwrap_or("unknown") })),
            );
        }
        6002 => {
            let (name, vendor) = product_name(e);
            o.insert(
                "app".into(),
                json!({ "name": e.target_name.as_deref().unwrap_or(name), "vendor_name": vendor }),
            );
        }
        6003 => {
            if !o.contains_key("actor") {
                o.insert("actor".into(), json!({ "app_name": product_name(e).0 }));
            }
            o.insert(
                "api".into(),
                json!({ "operation": e.native_action, "service": { "name": product_name(e).0 } }),
            );
            o.insert(
                "src_endpoint".into(),
                match &e.actor_ip {
                    Some(ip) => json!({ "ip": ip }),
                    None => json!({ "name": e.actor_app.as_deref().unwrap_or("unknown") }),
                },
            );
            o.insert("resources".into(), json!([entity(e)]));
        }
        _ => {
            o.insert("entity".into(), entity(e));
        }
    }
    // Entity Management has no root `device`: the managed entity carries it.
    if let (Some(d), Some(Value::Object(entity))) = (dev, o.get_mut("entity")) {
        entity.insert("device".into(), d);
    }
    o.insert("unmapped".into(), unmapped(e));
    let mut out = vec![Value::Object(o)];
    if !e.risk_tags.is_empty() {
        out.push(finding(e));
    }
    out
}

fn finding(e: &NormalizedEvent) -> Value {
    let risk_level_id = match e.risk_level.as_str() {
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => 0,
    };
    json!({
        "class_uid": 2004,
        "category_uid": 2,
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "time": e.time.timestamp_millis(),
        "severity_id": severity_id(&e.risk_level),
        "status_id": 1,
        "message": e.risk_reasons.join("; "),
        "metadata": {
            "version": OCSF_VERSION,
            "product": { "name": "mdm-audit", "vendor_name": "mdm-audit" },
            "uid": format!("{}:finding", e.event_uid),
            "event_code": "risk_tags",
        },
        "finding_info": {
            "uid": format!("{}:finding", e.event_uid),
            "title": e.risk_tags.join(", "),
            "desc": e.risk_reasons.join("; "),
            "types": e.risk_tags,
            "related_events": [{
                "uid": e.event_uid,
                "type_uid": i64::from(e.ocsf_class_uid) * 100 + i64::from(e.ocsf_activity_id),
            }],
        },
        "risk_level_id": risk_level_id,
        "risk_score": e.risk_score,
        "unmapped": { "controls": e.controls },
    })
}

/// Writes OCSF events as NDJSON.
pub struct OcsfSink {
    out: BufWriter<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for OcsfSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OcsfSink")
    }
}

impl OcsfSink {
    /// Wraps a writer.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: BufWriter::with_capacity(1 << 16, out),
        }
    }
}

impl EventSink for OcsfSink {
    fn write(&mut self, event: &NormalizedEvent) -> Result<(), TransformError> {
        for v in to_ocsf(event) {
            serde_json::to_writer(&mut self.out, &v)?;
            self.out
                .write_all(b"\n")
                .map_err(|e| TransformError::io("writing OCSF", e))?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), TransformError> {
        self.out
            .flush()
            .map_err(|e| TransformError::io("writing OCSF", e))
    }
}
