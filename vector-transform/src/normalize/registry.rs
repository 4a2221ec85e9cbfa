//! The vendors of one mapping set, read from their descriptors: what `--source` accepts, the words of
//! the messages that name the vendors, recognition (`--source auto`) and framing rules.

use std::sync::{Arc, LazyLock};

use super::framing_rules::FramingRules;
use super::sniff::Sniffer;
use super::vendor::{DESCRIPTOR_FILE, Source, Vendor};
use crate::TransformError;

/// The vendors of a mapping set, in folder order (the order sniffing tries them).
#[derive(Debug, Clone)]
pub struct VendorRegistry {
    sources: Vec<Source>,
    sniffer: Arc<Sniffer>,
    framing: Arc<FramingRules>,
}

static EMBEDDED: LazyLock<VendorRegistry> = LazyLock::new(|| {
    VendorRegistry::from_descriptors(
        super::mappings::EMBEDDED_VENDORS
            .iter()
            .map(|(folder, text)| ((*folder).to_owned(), *text)),
    )
    .unwrap_or_else(|e| panic!("the built-in vendor descriptors are invalid: {e}"))
});

impl VendorRegistry {
    /// The vendors built into this binary.
    pub fn embedded() -> &'static VendorRegistry {
        &EMBEDDED
    }

    /// Reads `(folder, descriptor text)` pairs; an error names the file and the key.
    pub fn from_descriptors<'a>(
        descriptors: impl IntoIterator<Item = (String, &'a str)>,
    ) -> Result<Self, TransformError> {
        let mut sources: Vec<Source> = Vec::new();
        for (folder, text) in descriptors {
            let file = format!("sources/{folder}/{DESCRIPTOR_FILE}");
            let vendor = Vendor::parse(&folder, text).map_err(|p| TransformError::Vendor {
                file: file.clone(),
                key: p.key,
                reason: p.reason,
            })?;
            let source = Source::intern(vendor);
            let names =
                std::iter::once(source.name()).chain(source.aliases().iter().map(|a| a.as_str()));
            for name in names {
                if let Some(other) = sources.iter().find(|s| s.answers_to(name)) {
                    return Err(TransformError::Vendor {
                        file,
                        key: if name == source.name() {
                            "name"
                        } else {
                            "aliases"
                        }
                        .into(),
                        reason: format!(
                            "{name:?} already names the vendor in sources/{}/",
                            other.folder()
                        ),
                    });
                }
            }
            sources.push(source);
        }
        sources.sort();
        Ok(Self {
            sniffer: Arc::new(Sniffer::new(&sources)),
            framing: Arc::new(FramingRules::new(&sources)),
            sources,
        })
    }

    /// Every vendor, in folder order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Where `source` stands in [`Self::sources`] (per-vendor arrays), if it belongs to this set.
    pub fn position(&self, source: Source) -> Option<usize> {
        self.sources.iter().position(|s| *s == source)
    }

    /// The vendor whose folder is `folder`.
    pub fn by_folder(&self, folder: &str) -> Option<Source> {
        self.sources.iter().copied().find(|s| s.folder() == folder)
    }

    /// The vendor `name` names (its name, an alias or its folder; any case).
    pub fn get(&self, name: &str) -> Option<Source> {
        self.sources.iter().copied().find(|s| s.answers_to(name))
    }

    /// [`Self::get`], or the message `--source` and `/v1/raw/<source>` answer with.
    pub fn parse(&self, name: &str) -> Result<Source, String> {
        self.get(name).ok_or_else(|| {
            format!(
                "unknown source {:?}: expected {}",
                name.to_ascii_lowercase(),
                self.names()
            )
        })
    }

    /// `jamf, intune or ws1`.
    pub fn names(&self) -> String {
        self.list(|s| s.name().to_owned())
    }

    /// `Jamf Pro, Intune or Workspace ONE`.
    pub fn display_names(&self) -> String {
        self.list(|s| s.display_name().to_owned())
    }

    /// `f` of every vendor, as `a, b or c`.
    pub fn list(&self, f: impl Fn(Source) -> String) -> String {
        either(self.sources.iter().map(|s| f(*s)).collect())
    }

    /// The dead-letter reason when no vendor recognized a record: `auto-detection recognized no
    /// source (not a Jamf Pro, Intune or Workspace ONE record{also}); {hint}`.
    pub fn unrecognized(&self, also: &str, hint: &str) -> String {
        format!(
            "auto-detection recognized no source (not a {} record{also}); {hint}",
            self.display_names()
        )
    }

    /// Which vendor's program understands `record` (`--source auto`); `None` when nothing fits.
    pub fn sniff(&self, record: &str) -> Option<Source> {
        self.sniffer.sniff(record)
    }

    /// How records of these vendors span lines, for [`super::Framer::with_rules`].
    pub fn framing(&self) -> Arc<FramingRules> {
        self.framing.clone()
    }
}

/// `a, b or c`.
fn either(mut items: Vec<String>) -> String {
    match items.len() {
        0 => "(no vendor)".into(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} or {last}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_descriptors_give_the_names_users_know() {
        let r = VendorRegistry::embedded();
        assert_eq!(r.names(), "jamf, intune or ws1");
        assert_eq!(r.display_names(), "Jamf Pro, Intune or Workspace ONE");
        assert_eq!(r.get("Workspace_One").map(Source::name), Some("ws1"));
        assert_eq!(r.get("microsoft_intune").map(Source::name), Some("intune"));
        assert_eq!(
            r.parse("acme").unwrap_err(),
            "unknown source \"acme\": expected jamf, intune or ws1"
        );
    }

    #[test]
    fn a_bad_descriptor_names_its_file_and_key() {
        let ok = "name = \"acme\"\ndisplay_name = \"Acme\"\nvendor = \"acme\"\nfeeds = [\"api\"]\n";
        let err = |folder: &str, text: &str| {
            VendorRegistry::from_descriptors([(folder.to_owned(), text)])
                .unwrap_err()
                .to_string()
        };
        let e = err("acme_mdm", &ok.replace("name = \"acme\"\n", ""));
        assert!(
            e.contains("sources/acme_mdm/vendor.toml") && e.contains("missing field `name`"),
            "{e}"
        );
        let e = err("acme_mdm", &format!("{ok}colour = 1\n"));
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = err(
            "acme_mdm",
            &ok.replace("\"acme\"\ndisplay", "\"Acme!\"\ndisplay"),
        );
        assert!(e.contains("key name:"), "{e}");
        let e = err(
            "acme_mdm",
            &format!("{ok}[framing]\nblock_starts = [\"x\"]\n"),
        );
        assert!(e.contains("key framing.block_ends:"), "{e}");
        let e = err(
            "acme_mdm",
            &format!("{ok}[recognize]\njson_keys = [\"\"]\n"),
        );
        assert!(e.contains("key recognize:"), "{e}");
        let twice = VendorRegistry::from_descriptors([("a".to_owned(), ok), ("b".to_owned(), ok)])
            .unwrap_err()
            .to_string();
        assert!(
            twice.contains("sources/b/vendor.toml") && twice.contains("sources/a/"),
            "{twice}"
        );
    }
}
