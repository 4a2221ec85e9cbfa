//! Grafana datasource backend for mdm-audit: the query model shared with the frontend (`query`),
//! the DataFusion engine over the store (`engine`), Arrow-to-Grafana frames (`frames`) and the
//! plugin services (`plugin`), served by the `gpx_mdm_audit` binary.

pub mod engine;
pub mod frames;
pub mod narrative;
pub mod plugin;
pub mod query;

pub use mdm_audit_transform::schema::events_schema;
pub use plugin::MdmPlugin;
