//! `--source auto`: recognize the feed by its shape, without parsing the record twice. The rules are
//! the vendors' descriptors (`[recognize]` in `vendor.toml`); vendors are tried in folder order.

use super::Source;
use super::registry::VendorRegistry;

/// Guesses which built-in source program understands `record`; `None` when nothing fits. With
/// `--mappings`, use [`VendorRegistry::sniff`] of that set.
pub fn sniff(record: &str) -> Option<Source> {
    VendorRegistry::embedded().sniff(record)
}

/// One vendor's recognition rules, with the quoting and `<` already applied.
#[derive(Debug)]
struct Rules {
    source: Source,
    text_prefixes: Vec<String>,
    text_contains: Vec<String>,
    text_contains_all: Vec<Vec<String>>,
    xml: Vec<String>,
    json: Vec<String>,
}

/// The recognition rules of a set of vendors.
#[derive(Debug)]
pub(crate) struct Sniffer {
    rules: Vec<Rules>,
    /// Where a message starts behind a syslog header: every `text_contains`, then the first string of
    /// every `text_contains_all` group, then every `text_prefixes` (the first one found wins).
    header_markers: Vec<String>,
}

impl Sniffer {
    /// The rules of `sources`, in their order.
    pub(crate) fn new(sources: &[Source]) -> Self {
        let rules: Vec<Rules> = sources
            .iter()
            .map(|s| {
                let r = s.recognize();
                Rules {
                    source: *s,
                    text_prefixes: r.text_prefixes.clone(),
                    text_contains: r.text_contains.clone(),
                    text_contains_all: r.text_contains_all.clone(),
                    xml: r.xml_elements.iter().map(|e| format!("<{e}")).collect(),
                    json: r
                        .json_keys
                        .iter()
                        .map(|k| format!("\"{k}\""))
                        .chain(r.text_prefixes.iter().map(|p| format!("\"{p}")))
                        .collect(),
                }
            })
            .collect();
        let mut header_markers: Vec<String> = Vec::new();
        header_markers.extend(rules.iter().flat_map(|r| r.text_contains.iter().cloned()));
        header_markers.extend(rules.iter().flat_map(|r| {
            r.text_contains_all
                .iter()
                .filter_map(|g| g.first().cloned())
        }));
        header_markers.extend(rules.iter().flat_map(|r| r.text_prefixes.iter().cloned()));
        Self {
            rules,
            header_markers,
        }
    }

    /// The vendor whose rules `record` meets first.
    pub(crate) fn sniff(&self, record: &str) -> Option<Source> {
        let t = record.trim_start();
        let body = self.strip_syslog_header(t);
        for r in &self.rules {
            if r.text_prefixes.iter().any(|p| body.starts_with(p.as_str()))
                || r.text_contains.iter().any(|m| body.contains(m.as_str()))
                || r.text_contains_all
                    .iter()
                    .any(|g| g.iter().all(|m| body.contains(m.as_str())))
            {
                return Some(r.source);
            }
        }
        if t.starts_with('<') {
            let mut end = t.len().min(512);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            let head = &t[..end];
            return self
                .rules
                .iter()
                .find(|r| r.xml.iter().any(|e| head.contains(e.as_str())))
                .map(|r| r.source);
        }
        if t.starts_with('{') {
            return self
                .rules
                .iter()
                .find(|r| r.json.iter().any(|k| t.contains(k.as_str())))
                .map(|r| r.source);
        }
        None
    }

    /// Skips an RFC 3164 / 5424 header (`<PRI>...`) up to the message body, if there is one.
    fn strip_syslog_header<'a>(&self, t: &'a str) -> &'a str {
        let Some(rest) = t.strip_prefix('<') else {
            return t;
        };
        let Some(end) = rest.find('>') else {
            return t;
        };
        if end == 0 || end > 3 || !rest[..end].bytes().all(|b| b.is_ascii_digit()) {
            return t;
        }
        let after = &rest[end + 1..];
        for marker in &self.header_markers {
            if let Some(i) = after.find(marker.as_str()) {
                return &after[i..];
            }
        }
        after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor(name: &str) -> Option<Source> {
        Some(
            VendorRegistry::embedded()
                .get(name)
                .expect("a built-in vendor"),
        )
    }

    #[test]
    fn recognizes_each_feed() {
        assert_eq!(
            sniff(r#"{"webhook":{"webhookEvent":"ComputerAdded"},"event":{}}"#),
            vendor("jamf")
        );
        assert_eq!(
            sniff("[JSSACCESSLOG] 2021-09-09T08:44:00,679 - username=a"),
            vendor("jamf")
        );
        assert_eq!(
            sniff(r#"{"id":"x","activityType":"wipe ManagedDevice"}"#),
            vendor("intune")
        );
        assert_eq!(
            sniff(r#"{"operationName":"Create X","category":"AuditLogs"}"#),
            vendor("intune")
        );
        assert_eq!(
            sniff(
                "<134>Nov 22 10:00:00 uem AirWatch: AirWatch Syslog Details are as follows Event Type: Device"
            ),
            vendor("ws1")
        );
        assert_eq!(
            sniff(r#"{"EventId":148,"EventType":"MDMEnrollmentComplete"}"#),
            vendor("ws1")
        );
        assert_eq!(
            sniff("<Eventlog><EventId>39</EventId></Eventlog>"),
            vendor("ws1")
        );
        assert_eq!(sniff("hello world"), None);
        // A multi-byte character across the 512-byte look-ahead must not panic (found by the fuzzer).
        assert_eq!(sniff(&format!("<{}", "é".repeat(400))), None);
        assert_eq!(sniff(r#"{"a":1}"#), None);
    }
}
