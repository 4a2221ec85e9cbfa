//! Splitting an input stream into raw records, as Vector's sources and codecs would:
//! one JSON value per line or a pretty-printed JSON value over several lines, Graph pages
//! (`{"value": [...]}`) and Event Hub bodies (`{"records": [...]}`) split into their elements,
//! XML documents over several lines, syslog / Log Stream lines, and the vendors' multi-line text
//! records as their descriptors' `[framing]` rules say (Jamf change-management detail lines kept with
//! the line they belong to, Workspace ONE syslog records whose template puts each label on its own line).

use std::io::BufRead;
use std::sync::Arc;

use super::framing_rules::FramingRules;
use super::registry::VendorRegistry;

/// The largest record accepted; a longer one becomes a dead letter.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// One raw record, or an input problem that must be dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The record text (without the final newline).
    pub text: String,
    /// The 1-based line where the record starts.
    pub line: usize,
    /// Set when the bytes cannot be a record (too long, not UTF-8); `text` then holds what was read.
    pub error: Option<String>,
    /// The original bytes when they are not valid UTF-8 (`text` is then a lossy copy).
    pub bytes: Option<Vec<u8>>,
}

/// A line read: its text (lossy if not UTF-8) and, when it is not UTF-8, (reason, original bytes).
type Line = (String, Option<(String, Vec<u8>)>);

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Kind {
    Json,
    Xml,
    Text,
}

/// Reads records from a `BufRead`.
#[derive(Debug)]
pub struct Framer<R> {
    reader: R,
    rules: Arc<FramingRules>,
    line_no: usize,
    pending: Option<(String, usize)>,
    queue: std::collections::VecDeque<Frame>,
    done: bool,
    /// Bytes consumed so far (for progress bars).
    pub bytes_read: u64,
}

impl<R: BufRead> Framer<R> {
    /// Wraps a reader, framing with the built-in vendors' rules.
    pub fn new(reader: R) -> Self {
        Self::with_rules(reader, VendorRegistry::embedded().framing())
    }

    /// Wraps a reader, framing with `rules` (a mapping set's [`VendorRegistry::framing`]).
    pub fn with_rules(reader: R, rules: Arc<FramingRules>) -> Self {
        Self {
            reader,
            rules,
            line_no: 0,
            pending: None,
            queue: std::collections::VecDeque::new(),
            done: false,
            bytes_read: 0,
        }
    }

    fn read_line(&mut self) -> std::io::Result<Option<Line>> {
        let mut buf = Vec::new();
        let n = self.reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.bytes_read += n as u64;
        self.line_no += 1;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        Ok(Some(match String::from_utf8(buf) {
            Ok(s) => (s, None),
            Err(e) => {
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                (
                    lossy,
                    Some((
                        format!("line {} is not valid UTF-8", self.line_no),
                        e.into_bytes(),
                    )),
                )
            }
        }))
    }

    fn kind_of(&self, first: &str) -> Kind {
        let t = first.trim_start();
        if t.starts_with('{') || t.starts_with('[') && !self.rules.is_text_line(t) {
            Kind::Json
        } else if t.starts_with("<?xml")
            || (t.starts_with('<') && t[1..].starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            Kind::Xml
        } else {
            Kind::Text
        }
    }

    fn emit(&mut self, text: String, line: usize) {
        if let Some(parts) = (self.kind_of(&text) == Kind::Json)
            .then(|| split_envelope(&text))
            .flatten()
        {
            for part in parts {
                self.queue.push_back(Frame {
                    text: part,
                    line,
                    error: None,
                    bytes: None,
                });
            }
            return;
        }
        self.queue.push_back(Frame {
            text,
            line,
            error: None,
            bytes: None,
        });
    }

    fn next_frame(&mut self) -> std::io::Result<Option<Frame>> {
        loop {
            if let Some(f) = self.queue.pop_front() {
                return Ok(Some(f));
            }
            if self.done {
                return Ok(self.pending.take().map(|(text, line)| Frame {
                    text,
                    line,
                    error: None,
                    bytes: None,
                }));
            }
            let Some((line, bad)) = self.read_line()? else {
                self.done = true;
                if let Some((text, start)) = self.pending.take() {
                    let error = match self.kind_of(&text) {
                        Kind::Json if !json_complete(&text) => {
                            Some(format!("incomplete JSON record starting at line {start}"))
                        }
                        _ => None,
                    };
                    if error.is_some() {
                        return Ok(Some(Frame {
                            text,
                            line: start,
                            error,
                            bytes: None,
                        }));
                    }
                    self.emit(text, start);
                }
                continue;
            };
            let line_no = self.line_no;
            if let Some((reason, bytes)) = bad {
                if let Some((text, start)) = self.pending.take() {
                    self.emit(text, start);
                }
                self.queue.push_back(Frame {
                    text: line,
                    line: line_no,
                    error: Some(reason),
                    bytes: Some(bytes),
                });
                continue;
            }
            // Continue a record in progress?
            if let Some((mut text, start)) = self.pending.take() {
                let kind = self.kind_of(&text);
                let continues = match kind {
                    // Pretty-printed JSON continues on indented lines or closing brackets; a line
                    // that starts a new value at column 0 ends an incomplete record (dead letter).
                    Kind::Json => {
                        !json_complete(&text)
                            && (line.starts_with(char::is_whitespace)
                                || line.starts_with('}')
                                || line.starts_with(']')
                                || line.starts_with('"'))
                    }
                    Kind::Xml => !xml_complete(&text),
                    Kind::Text => self.rules.continues(&text, &line),
                };
                if continues {
                    text.push('\n');
                    text.push_str(&line);
                    if text.len() > MAX_RECORD_BYTES {
                        self.queue.push_back(Frame {
                            text: text[..floor_char(&text, MAX_RECORD_BYTES)].to_owned(),
                            line: start,
                            error: Some(format!(
                                "record starting at line {start} exceeds {MAX_RECORD_BYTES} bytes"
                            )),
                            bytes: Some(text.into_bytes()),
                        });
                        continue;
                    }
                    self.pending = Some((text, start));
                    continue;
                }
                if kind == Kind::Json && !json_complete(&text) {
                    self.queue.push_back(Frame {
                        text,
                        line: start,
                        error: Some(format!("incomplete JSON record starting at line {start}")),
                        bytes: None,
                    });
                } else {
                    self.emit(text, start);
                }
            }
            if line.trim().is_empty() {
                continue;
            }
            if line.len() > MAX_RECORD_BYTES {
                self.queue.push_back(Frame {
                    bytes: Some(line.clone().into_bytes()),
                    text: line[..floor_char(&line, MAX_RECORD_BYTES)].to_owned(),
                    line: line_no,
                    error: Some(format!("line {line_no} exceeds {MAX_RECORD_BYTES} bytes")),
                });
                continue;
            }
            self.pending = Some((line, line_no));
        }
    }
}

impl<R: BufRead> Iterator for Framer<R> {
    type Item = std::io::Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().transpose()
    }
}

/// The largest char boundary at or below `max`.
fn floor_char(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// True when brackets outside strings balance (a whole JSON value has been read).
fn json_complete(text: &str) -> bool {
    let mut depth: i64 = 0;
    let mut in_str = false;
    let mut escaped = false;
    let mut seen = false;
    for b in text.bytes() {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                seen = true;
            }
            b'}' | b']' => depth -= 1,
            _ => {}
        }
    }
    seen && depth <= 0
}

/// True when the root element of an XML document has been closed.
fn xml_complete(text: &str) -> bool {
    let mut rest = text.trim_start();
    // Skip the declaration and comments.
    while rest.starts_with("<?") || rest.starts_with("<!--") {
        let end = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else {
            rest.find("-->").map(|i| i + 3)
        };
        match end {
            Some(i) => rest = rest[i..].trim_start(),
            None => return false,
        }
    }
    if rest.is_empty() {
        return false;
    }
    let Some(name_part) = rest.strip_prefix('<') else {
        return true;
    };
    let name: String = name_part
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    if name.is_empty() {
        return true;
    }
    let head_end = rest.find('>').unwrap_or(rest.len());
    if rest[..head_end].ends_with('/') {
        return true;
    }
    rest.contains(&format!("</{name}>"))
}

/// Splits Graph pages (`{"value": [...]}`, `@odata` keys), Event Hub bodies (`{"records": [...]}`) and
/// top-level JSON arrays into one record per element. Other JSON stays one record.
fn split_envelope(text: &str) -> Option<Vec<String>> {
    let t = text.trim_start();
    let looks = t.starts_with('[')
        || t.contains("\"records\"")
        || (t.contains("\"value\"") && t.contains("@odata"));
    if !looks {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let items = match v {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut o) => {
            let key = if o.get("records").is_some_and(serde_json::Value::is_array) {
                "records"
            } else if o.get("value").is_some_and(serde_json::Value::is_array)
                && o.keys().any(|k| k.starts_with("@odata"))
            {
                "value"
            } else {
                return None;
            };
            match o.remove(key) {
                Some(serde_json::Value::Array(items)) => items,
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(items.into_iter().map(|i| i.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<Frame> {
        Framer::new(input.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("in-memory read")
    }

    #[test]
    fn ndjson_lines_are_records() {
        let f = frames("{\"a\":1}\n\n{\"b\":2}\r\n");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].text, "{\"a\":1}");
        assert_eq!((f[1].text.as_str(), f[1].line), ("{\"b\":2}", 3));
    }

    #[test]
    fn pretty_json_spans_lines() {
        let f = frames("{\n  \"a\": {\n    \"b\": \"}\"\n  }\n}\n{\"c\":3}\n");
        assert_eq!(f.len(), 2);
        assert!(f[0].text.starts_with("{\n"));
        assert_eq!(f[1].line, 6);
    }

    #[test]
    fn envelopes_are_split() {
        let f = frames(r#"{"@odata.context":"x","value":[{"id":"1"},{"id":"2"}]}"#);
        assert_eq!(
            f.iter().map(|f| f.text.as_str()).collect::<Vec<_>>(),
            [r#"{"id":"1"}"#, r#"{"id":"2"}"#]
        );
        let f = frames(r#"{"records":[{"operationName":"x"}]}"#);
        assert_eq!(f.len(), 1);
        let f = frames(r#"[{"a":1},{"b":2}]"#);
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn change_management_detail_lines_stay_with_their_record() {
        let input = "[CHANGEMANAGEMENT] 2024-01-01T00:00:00,000 [INFO ] - [a (ID: 1)] [DELETE] [Computer] [x]\n\tID ........ 5\n\tName ...... Mac\n[JSSACCESSLOG] 2024-01-01T00:00:01,000 - username=a\n";
        let f = frames(input);
        assert_eq!(f.len(), 2);
        assert!(f[0].text.ends_with("Name ...... Mac"));
        assert_eq!(f[1].line, 4);
    }

    #[test]
    fn change_management_behind_a_syslog_header_keeps_its_detail_lines() {
        let input = "<14>1 2024-01-01T00:00:00Z jss JamfPro - - - [CHANGEMANAGEMENT] 2024-01-01T00:00:00,000 [INFO ] - [a (ID: 1)] [UPDATE] [API Role] [x]\n\tID ........ 5\n\tName ...... x\n<14>1 2024-01-01T00:00:01Z jss JamfPro - - - [JSSACCESSLOG] 2024-01-01T00:00:01,000 - username=a\n";
        let f = frames(input);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].text.lines().count(), 3);
        assert_eq!(f[1].line, 4);
    }

    #[test]
    fn ws1_syslog_labels_on_their_own_lines_are_one_record() {
        let input = "AirWatch Syslog Details are as follows\nEvent Type: Device\nEvent: BreakMDMConfirmed\nUser: sysadmin\nEvent Data: Device: lwong Galaxy\nEnrollmentUser: lwong\nEvent Timestamp: November 28, 2025 22:10:05\nAirWatch Syslog Details are as follows Event Type: DeviceEvent: LockUser: aEvent Timestamp: November 28, 2025 22:11:00\nAirWatch Syslog Details are as follows\nEvent Type: Console\n[JSSACCESSLOG] 2024-01-01T00:00:01,000 - username=a\n";
        let f = frames(input);
        assert_eq!(f.len(), 4, "{f:?}");
        assert_eq!(f[0].line, 1);
        assert_eq!(f[0].text.lines().count(), 7);
        assert!(f[0].text.ends_with("22:10:05"));
        assert_eq!(f[1].line, 8);
        assert!(f[1].text.starts_with("AirWatch") && !f[1].text.contains('\n'));
        // A record cut short (no timestamp) stops at the next record's first line.
        assert_eq!(
            f[2].text,
            "AirWatch Syslog Details are as follows\nEvent Type: Console"
        );
        assert!(f[3].text.starts_with("[JSSACCESSLOG]"));
    }

    #[test]
    fn xml_document_spans_lines() {
        let f = frames(
            "<?xml version=\"1.0\"?>\n<Eventlog>\n<EventId>1</EventId>\n</Eventlog>\n<Eventlog><EventId>2</EventId></Eventlog>\n",
        );
        assert_eq!(f.len(), 2);
        assert!(f[0].text.ends_with("</Eventlog>"));
    }

    #[test]
    fn a_broken_line_does_not_swallow_the_next_records() {
        let f = frames("{\"a\": [1, 2\n{\"b\":2}\n");
        assert_eq!(f.len(), 2);
        assert!(f[0].error.is_some());
        assert_eq!(
            (f[1].text.as_str(), f[1].error.as_deref()),
            ("{\"b\":2}", None)
        );
    }

    #[test]
    fn truncated_json_and_bad_utf8_are_reported() {
        let f = frames("{\"a\": [1, 2\n");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].error
                .as_deref()
                .is_some_and(|e| e.contains("incomplete JSON"))
        );
        let mut bytes = b"ok line\n".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let f: Vec<Frame> = Framer::new(&bytes[..])
            .collect::<Result<_, _>>()
            .expect("read");
        assert_eq!(f.len(), 2);
        assert!(f[1].error.as_deref().is_some_and(|e| e.contains("UTF-8")));
    }
}
