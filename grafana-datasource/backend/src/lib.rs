//! Grafana datasource backend for mdm-audit: the query model shared with the frontend (`query`),
//! the DataFusion engine over the store (`engine`), Arrow-to-Grafana frames (`frames`) and the
//! plugin services (`plugin`), served by the `gpx_mdm_audit` binary.

pub mod engine;
pub mod frames;
pub mod plugin;
pub mod query;

/// The narrative engine this plugin serves (its own crate).
pub use mdm_audit_narrative as narrative;
pub use mdm_audit_store::schema::events_schema;
pub use plugin::MdmPlugin;
#[cfg(test)]
mod snap;
