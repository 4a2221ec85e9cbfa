//! The VRL files and the order in which they form one program per source.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::TransformError;

include!(concat!(env!("OUT_DIR"), "/embedded_mappings.rs"));

/// A feed family with its own VRL program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Jamf Pro webhooks and Log Stream.
    Jamf,
    /// Microsoft Intune Graph audit events, diagnostic records, managedDevices.
    Intune,
    /// Omnissa Workspace ONE UEM syslog and event notifications.
    Ws1,
}

impl Source {
    /// Every source, in a fixed order.
    pub const ALL: [Source; 3] = [Source::Jamf, Source::Intune, Source::Ws1];

    /// The name used on the command line and in dead letters.
    pub fn name(self) -> &'static str {
        match self {
            Source::Jamf => "jamf",
            Source::Intune => "intune",
            Source::Ws1 => "ws1",
        }
    }

    /// The folder under `vrl-mappings/sources/` and the vendor prelude's name.
    pub fn folder(self) -> &'static str {
        match self {
            Source::Jamf => "jamf_pro",
            Source::Intune => "microsoft_intune",
            Source::Ws1 => "omnissa_workspace_one",
        }
    }

    /// The source whose folder is `folder`.
    pub fn from_folder(folder: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.folder() == folder)
    }

    /// Index into per-source arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "jamf" | "jamf_pro" => Ok(Source::Jamf),
            "intune" | "microsoft_intune" => Ok(Source::Intune),
            "ws1" | "workspace_one" | "omnissa_workspace_one" => Ok(Source::Ws1),
            other => Err(format!(
                "unknown source {other:?}: expected jamf, intune or ws1"
            )),
        }
    }
}

/// The mapping files, by path relative to `vrl-mappings/`.
#[derive(Debug, Clone)]
pub struct MappingSet {
    files: BTreeMap<String, String>,
}

impl MappingSet {
    /// The files built into the binary.
    pub fn embedded() -> Self {
        Self {
            files: EMBEDDED
                .iter()
                .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
                .collect(),
        }
    }

    /// Reads every `.vrl` file under `dir` (samples excluded).
    pub fn from_dir(dir: &Path) -> Result<Self, TransformError> {
        let mut files = BTreeMap::new();
        read_dir_into(dir, dir, &mut files)?;
        let set = Self { files };
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
