//! Grafana datasource backend for mdm-audit. The query engine (DataFusion over the store), the plugin
//! binary and the narrative engine arrive with the datasource and narrative issues; this crate already
//! shares the write path's schema so both sides compile against one contract.

pub use mdm_audit_transform::schema::events_schema;
