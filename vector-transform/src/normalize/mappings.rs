//! The VRL files and vendor descriptors of a mapping set, and the order in which the files form one
//! program per vendor.

use std::collections::BTreeMap;
use std::path::Path;

use super::registry::VendorRegistry;
use super::vendor::{DESCRIPTOR_FILE, Source};
use crate::TransformError;

include!(concat!(env!("OUT_DIR"), "/embedded_mappings.rs"));

/// The mapping files, by path relative to `vrl-mappings/`.
#[derive(Debug, Clone)]
pub struct MappingSet {
    files: BTreeMap<String, String>,
    vendors: VendorRegistry,
}

impl MappingSet {
    /// The files built into the binary.
    pub fn embedded() -> Self {
        Self {
            files: EMBEDDED
                .iter()
                .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
                .collect(),
            vendors: VendorRegistry::embedded().clone(),
        }
    }

    /// The set a config names: its `--mappings` directory, else the embedded files.
    pub fn load(config: &super::NormalizeConfig) -> Result<Self, TransformError> {
        match &config.mappings_dir {
            Some(dir) => Self::from_dir(dir),
            None => Ok(Self::embedded()),
        }
    }

    /// Reads every `.vrl` file under `dir` (samples excluded) and every vendor's descriptor
    /// (`sources/<folder>/vendor.toml`).
    pub fn from_dir(dir: &Path) -> Result<Self, TransformError> {
        let mut files = BTreeMap::new();
        read_dir_into(dir, dir, &mut files)?;
        let vendors = read_vendors(dir, &files)?;
        let set = Self { files, vendors };
        for required in ["prelude/00_common.vrl", "finalize/99_finalize.vrl"] {
            if !set.files.contains_key(required) {
                return Err(TransformError::Mappings {
                    dir: dir.to_owned(),
                    reason: format!(
                        "{required} is missing: point --mappings at a copy of vrl-mappings/"
                    ),
                });
            }
        }
        Ok(set)
    }

    /// The files of `source`'s program, in the order Vector's remap `files = [...]` lists them:
    /// common prelude, vendor prelude, the vendor's sources (sorted), risk rules (sorted), finalize.
    pub fn program_files(&self, source: Source) -> Vec<&str> {
        let folder = source.folder();
        let vendor_prelude = format!("prelude/10_{folder}.vrl");
        let sources = format!("sources/{folder}/");
        let mut out: Vec<&str> = Vec::new();
        out.extend(
            self.files
                .keys()
                .map(String::as_str)
                .filter(|p| p.starts_with("prelude/00_")),
        );
        out.extend(
            self.files
                .keys()
                .map(String::as_str)
                .filter(|p| *p == vendor_prelude),
        );
        out.extend(
            self.files
                .keys()
                .map(String::as_str)
                .filter(|p| p.starts_with(&sources) && !p[sources.len()..].contains('/')),
        );
        out.extend(
            self.files
                .keys()
                .map(String::as_str)
                .filter(|p| p.starts_with("risk/")),
        );
        out.extend(
            self.files
                .keys()
                .map(String::as_str)
                .filter(|p| p.starts_with("finalize/")),
        );
        out
    }

    /// The program text: the files concatenated in order, each followed by a newline, as Vector does.
    pub fn program_source(&self, source: Source) -> String {
        let mut text = String::new();
        for path in self.program_files(source) {
            text.push_str(&self.files[path]);
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }

    /// The vendors of this set, from their descriptors.
    pub fn vendors(&self) -> &VendorRegistry {
        &self.vendors
    }

    /// One file's content.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// The sample input records built into the binary: (path relative to vrl-mappings/, content).
    pub fn embedded_samples() -> &'static [(&'static str, &'static str)] {
        EMBEDDED_SAMPLES
    }

    /// Every file path.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

/// The descriptor of every folder under `sources/`; a folder with mappings but no descriptor is an error.
fn read_vendors(
    dir: &Path,
    files: &BTreeMap<String, String>,
) -> Result<VendorRegistry, TransformError> {
    let sources = dir.join("sources");
    let mut folders: Vec<String> = files
        .keys()
        .filter_map(|p| p.strip_prefix("sources/")?.split_once('/'))
        .map(|(folder, _)| folder.to_owned())
        .collect();
    if let Ok(entries) = std::fs::read_dir(&sources) {
        for entry in entries.flatten() {
            if entry.path().join(DESCRIPTOR_FILE).is_file() {
                folders.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    folders.sort();
    folders.dedup();
    let mut texts = Vec::with_capacity(folders.len());
    for folder in &folders {
        let path = sources.join(folder).join(DESCRIPTOR_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| TransformError::Mappings {
            dir: dir.to_owned(),
            reason: format!(
                "sources/{folder}/{DESCRIPTOR_FILE} cannot be read ({e}): every vendor folder needs \
                 its descriptor (see CONTRIBUTING.md, \"Adding a vendor\")"
            ),
        })?;
        texts.push((folder.clone(), text));
    }
    if texts.is_empty() {
        return Err(TransformError::Mappings {
            dir: dir.to_owned(),
            reason: format!("no vendor: sources/<folder>/{DESCRIPTOR_FILE} is missing"),
        });
    }
    VendorRegistry::from_descriptors(texts.iter().map(|(f, t)| (f.clone(), t.as_str()))).map_err(
        |e| match e {
            TransformError::Vendor { file, key, reason } => TransformError::Vendor {
                file: dir.join(file).display().to_string(),
                key,
                reason,
            },
            other => other,
        },
    )
}

fn read_dir_into(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, String>,
) -> Result<(), TransformError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        TransformError::io(format!("reading mapping directory {}", dir.display()), e)
    })?;
    for entry in entries {
        let path = entry
            .map_err(|e| {
                TransformError::io(format!("reading mapping directory {}", dir.display()), e)
            })?
            .path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "samples") {
                continue;
            }
            read_dir_into(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "vrl") {
            let rel = path
                .strip_prefix(root)
                .map_err(|_| {
                    TransformError::Internal("walked outside the mapping directory".into())
                })?
                .to_string_lossy()
                .replace('\\', "/");
            let content = std::fs::read_to_string(&path)
                .map_err(|e| TransformError::io(format!("reading {}", path.display()), e))?;
            out.insert(rel, content);
        }
    }
    Ok(())
}
