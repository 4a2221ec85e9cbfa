//! Where a store lives: a local directory (the default, `./data`) or an object-store URL
//! (`s3://bucket/prefix`, `gs://...`, `az://...`), with the table directories under it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use deltalake::logstore::{
    LogStore, LogStoreFactory, LogStoreFactoryRegistry, ObjectStoreRef, StorageConfig,
    default_logstore, logstore_factories,
};
use deltalake::{DeltaTable, DeltaTableBuilder};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use url::Url;

use super::StoreError;

/// The default store location.
pub const DEFAULT_STORE: &str = "./data";

/// A parsed store location.
#[derive(Debug, Clone)]
pub struct StoreLocation {
    /// The root as a URL ending in `/`.
    root: Url,
    /// The root directory for a local store.
    local: Option<PathBuf>,
    /// Object-store options (credentials, region, endpoint) for remote stores.
    options: HashMap<String, String>,
}

impl StoreLocation {
    /// Parses `--store`: a path (relative paths resolve against the working directory), a `file://`
    /// URL, or an object-store URL. `options` are object_store settings (for S3 e.g.
    /// `aws_access_key_id`, `aws_region`, `aws_endpoint`); the environment is read as well.
    pub fn parse(location: &str, options: HashMap<String, String>) -> Result<Self, StoreError> {
        let err = |reason: String| StoreError::Location {
            location: location.to_owned(),
            reason,
        };
        if location.trim().is_empty() {
            return Err(err(
                "empty; give a directory such as ./data or a URL such as s3://bucket/audit".into(),
            ));
        }
        let looks_like_url = location.contains("://");
        if !looks_like_url || location.starts_with("file://") {
            let path = if looks_like_url {
                Url::parse(location)
                    .ok()
                    .and_then(|u| u.to_file_path().ok())
                    .ok_or_else(|| err("not a valid file:// URL".into()))?
            } else {
                PathBuf::from(location)
            };
            let abs = if path.is_absolute() {
                path
            } else {
                std::env::current_dir()
                    .map_err(|e| StoreError::io("reading the working directory", e))?
                    .join(path)
            };
            let abs = normalize(&abs);
            let root = Url::from_directory_path(&abs)
                .map_err(|()| err("cannot be turned into a file URL".into()))?;
            return Ok(Self {
                root,
                local: Some(abs),
                options,
            });
        }
        let mut root = Url::parse(location).map_err(|e| err(format!("not a valid URL: {e}")))?;
        match root.scheme() {
            "s3" | "s3a" | "gs" | "az" | "abfs" | "abfss" | "azure" | "memory" => {}
            other => {
                return Err(err(format!(
                    "unsupported scheme {other:?}: use a directory, file://, s3://, gs:// or az://"
                )));
            }
        }
        if !root.path().ends_with('/') {
            let p = format!("{}/", root.path());
            root.set_path(&p);
        }
        Ok(Self {
            root,
            local: None,
            options,
        })
    }

    /// The root URL (ends in `/`).
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The root directory of a local store.
    pub fn local_root(&self) -> Option<&Path> {
        self.local.as_deref()
    }

    /// The URL of table `name`.
    pub fn table_url(&self, name: &str) -> Result<Url, StoreError> {
        self.root
            .join(&format!("{name}/"))
            .map_err(|e| StoreError::Internal(format!("joining table name {name}: {e}")))
    }

    /// The local directory of table `name`.
    pub fn table_dir(&self, name: &str) -> Option<PathBuf> {
        self.local.as_ref().map(|r| r.join(name))
    }

    /// A (not yet loaded) Delta table handle for table `name`.
    pub fn table_builder(&self, name: &str) -> Result<DeltaTableBuilder, StoreError> {
        let url = self.table_url(name)?;
        let mut builder = DeltaTableBuilder::from_url(url.clone())?;
        if self.local.is_none() && self.root.scheme() != "memory" {
            register_remote_schemes();
            builder = builder.with_storage_backend(self.remote_store()?, url);
        }
        if !self.options.is_empty() {
            builder = builder.with_storage_options(self.options.clone());
        }
        Ok(builder)
    }

    /// The object store of a remote root, rooted at the bucket or container (as
    /// `with_storage_backend` expects). Its settings come from the environment first, read as
    /// object_store's `from_env` reads them (`AWS_*` for s3://, `GOOGLE_*` for gs://, `AZURE_*` for
    /// az://), then from `options`, then from the URL. Reading the environment matters: a builder
    /// without it would, for S3, ask the cloud instance-metadata service for credentials.
    fn remote_store(&self) -> Result<ObjectStoreRef, StoreError> {
        let unknown = |key: &str| StoreError::Location {
            location: self.root.to_string(),
            reason: format!("unknown object-store option {key:?}"),
        };
        // Each cloud's builder has its own config-key type, hence a macro rather than a function.
        macro_rules! from_env {
            ($builder:ty) => {{
                let mut b = <$builder>::from_env().with_url(self.root.as_str());
                for (k, v) in &self.options {
                    b = b.with_config(k.parse().map_err(|_| unknown(k))?, v);
                }
                Arc::new(b.build()?) as ObjectStoreRef
            }};
        }
        let store = match self.root.scheme() {
            "s3" | "s3a" => from_env!(AmazonS3Builder),
            "gs" => from_env!(GoogleCloudStorageBuilder),
            _ => from_env!(MicrosoftAzureBuilder),
        };
        Ok(store)
    }

    /// Opens table `name` at its newest version; `Ok(None)` when it does not exist yet.
    pub async fn open_table(&self, name: &str) -> Result<Option<DeltaTable>, StoreError> {
        let mut table = self.table_builder(name)?.build()?;
        if !table.verify_deltatable_existence().await? {
            return Ok(None);
        }
        table.load().await?;
        Ok(Some(table))
    }

    /// Human form for messages: the directory, or the URL.
    pub fn display(&self) -> String {
        match &self.local {
            Some(p) => p.display().to_string(),
            None => self.root.to_string(),
        }
    }
}

/// Makes the Delta log store usable for an object-store scheme that deltalake-core does not register
/// by itself (we hand it the object store; commits use the store's conditional put).
fn register_remote_schemes() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let registry: LogStoreFactoryRegistry = logstore_factories();
        for s in ["s3", "s3a", "gs", "az", "abfs", "abfss", "azure"] {
            if let Ok(u) = Url::parse(&format!("{s}://")) {
                registry.insert(u, Arc::new(PlainLogStoreFactory));
            }
        }
    });
}

/// deltalake-core's default log store (commits by the object store's conditional put) for schemes
/// whose own factory crate (deltalake-aws, -gcp, -azure) is not built in.
#[derive(Debug)]
struct PlainLogStoreFactory;

impl LogStoreFactory for PlainLogStoreFactory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> deltalake::DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_working_directory() {
        let loc = StoreLocation::parse("./data", HashMap::new()).expect("valid");
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(loc.local_root(), Some(cwd.join("data").as_path()));
        assert!(loc.root().as_str().ends_with("/data/"));
        assert!(
            loc.table_url("events")
                .expect("url")
                .as_str()
                .ends_with("/data/events/")
        );
    }

    #[test]
    fn unknown_schemes_are_refused_with_the_accepted_ones() {
        let e = StoreLocation::parse("ftp://host/x", HashMap::new()).expect_err("refused");
        assert!(e.to_string().contains("s3://"), "{e}");
        let s3 = StoreLocation::parse("s3://bucket/audit", HashMap::new()).expect("valid");
        assert_eq!(s3.root().as_str(), "s3://bucket/audit/");
        assert!(s3.local_root().is_none());
    }
}
