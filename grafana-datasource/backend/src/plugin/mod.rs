//! The Grafana backend plugin: QueryData (`queries`), CheckHealth (`health`), CallResource
//! (`resources`), and the seam of the narrative engine (`narrative`).

pub mod health;
pub mod narrative;
pub mod queries;
pub mod resources;

use std::collections::HashMap;
use std::sync::Arc;

use grafana_plugin_sdk::backend;
use mdm_audit_store::StoreLocation;
use tokio::sync::Mutex;

use crate::engine::{Engine, EngineError};
use crate::query::{SecureSettings, Settings};

/// The datasource plugin. Cheap to clone: engines are shared, one per store location.
#[derive(Clone, Default, grafana_plugin_sdk::prelude::GrafanaPlugin)]
#[grafana_plugin(plugin_type = "datasource")]
pub struct MdmPlugin {
    engines: Arc<Mutex<HashMap<String, Arc<Engine>>>>,
}

impl std::fmt::Debug for MdmPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MdmPlugin")
    }
}

/// The datasource instance's settings, parsed.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    /// `jsonData`.
    pub settings: Settings,
    /// `secureJsonData`.
    pub secure: SecureSettings,
}

impl Instance {
    /// From the plugin context (no instance: defaults).
    pub fn from_context(
        ctx: &backend::PluginContext<
            backend::DataSourceInstanceSettings<serde_json::Value, serde_json::Value>,
            serde_json::Value,
            serde_json::Value,
        >,
    ) -> Result<Self, String> {
        let Some(is) = ctx.instance_settings.as_ref() else {
            return Ok(Self::default());
        };
        let (json, secure) = is.parts();
        let settings = Settings::from_value(json)
            .map_err(|e| format!("invalid datasource settings (jsonData): {e}"))?;
        Ok(Self {
            settings,
            secure: SecureSettings::from_value(secure),
        })
    }
}

/// Access to the JSON parts of the SDK's instance settings.
pub trait AsSettings {
    /// `(jsonData, decryptedSecureJsonData)`.
    fn parts(&self) -> (&serde_json::Value, &serde_json::Value);
}

impl AsSettings for backend::DataSourceInstanceSettings<serde_json::Value, serde_json::Value> {
    fn parts(&self) -> (&serde_json::Value, &serde_json::Value) {
        (&self.json_data, &self.decrypted_secure_json_data)
    }
}

impl MdmPlugin {
    /// The engine of the instance's store, opened on first use and reused.
    pub async fn engine(&self, instance: &Instance) -> Result<Arc<Engine>, EngineError> {
        let uri = instance.settings.store_uri().to_owned();
        let mut options: std::collections::HashMap<String, String> = instance
            .settings
            .storage_options
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        options.extend(instance.secure.storage_options());
        let mut settings: Vec<_> = options
            .iter()
            .filter(|(k, _)| *k != "aws_secret_access_key")
            .collect();
        settings.sort();
        let key = format!("{uri}\u{0}{settings:?}");
        let mut engines = self.engines.lock().await;
        if let Some(e) = engines.get(&key) {
            return Ok(Arc::clone(e));
        }
        let location = StoreLocation::parse(&uri, options).map_err(|e| EngineError::Store {
            location: uri.clone(),
            message: e.to_string(),
        })?;
        let engine = Arc::new(Engine::open(location).await?);
        engines.insert(key, Arc::clone(&engine));
        Ok(engine)
    }
}
