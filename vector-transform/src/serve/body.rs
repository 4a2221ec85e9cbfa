//! Request bodies of `serve`: decompression, and parsing into events and dead letters (normalized
//! NDJSON on `/v1/events`, raw vendor records through the VRL mappings on `/v1/raw/{source}`).

use std::io::Read;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;

use crate::normalize::{Framer, redact_secrets};
use crate::{DeadLetter, NormalizedEvent, Normalizer, Source};

/// The body, decompressed per `Content-Encoding` (none, identity, gzip).
pub(super) fn decode_body(
    headers: &HeaderMap,
    body: Bytes,
    max: usize,
) -> Result<Bytes, (StatusCode, String)> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(body),
        "gzip" | "x-gzip" => {
            let mut out = Vec::with_capacity(body.len() * 4);
            let mut dec = flate2::read::MultiGzDecoder::new(&body[..]).take(max as u64 + 1);
            dec.read_to_end(&mut out).map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("the body is not valid gzip: {e}"),
                )
            })?;
            if out.len() > max {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the decompressed body is over {max} bytes; send smaller batches"),
                ));
            }
            Ok(Bytes::from(out))
        }
        other => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Encoding {other:?} is not supported; send gzip or no encoding"),
        )),
    }
}

/// A line that failed, as the response lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct Failed {
    pub(super) line: usize,
    pub(super) reason: String,
}

/// What a body parsed into.
#[derive(Default)]
pub(super) struct Parsed {
    pub(super) events: Vec<NormalizedEvent>,
    pub(super) dead: Vec<DeadLetter>,
    pub(super) failed: Vec<Failed>,
}

impl Parsed {
    fn fail(&mut self, source: &str, path: &str, line: usize, reason: String, raw: Vec<u8>) {
        self.dead.push(DeadLetter {
            ingest_time: Utc::now(),
            source: source.to_owned(),
            reason: reason.clone(),
            origin: Some(format!("POST {path} line {line}")),
            raw,
        });
        self.failed.push(Failed { line, reason });
    }
}

fn parse_event(text: &str) -> Result<NormalizedEvent, String> {
    let e: NormalizedEvent =
        serde_json::from_str(text).map_err(|e| format!("not a valid normalized event: {e}"))?;
    if e.event_uid.trim().is_empty() {
        return Err("not a valid normalized event: event_uid is empty".into());
    }
    Ok(e)
}

/// NDJSON of normalized events (Vector's `json` codec with `newline_delimited` framing), or one JSON
/// array of them (the `json` codec without framing). Line numbers are 1-based; for an array they
/// count its elements.
pub(super) fn parse_events(body: &[u8]) -> Parsed {
    const PATH: &str = "/v1/events";
    let mut p = Parsed::default();
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        match serde_json::from_slice::<Vec<serde_json::Value>>(body) {
            Ok(items) => {
                for (i, v) in items.into_iter().enumerate() {
                    let text = v.to_string();
                    match parse_event(&text) {
                        Ok(e) => p.events.push(e),
                        Err(r) => p.fail(
                            "normalized",
                            PATH,
                            i + 1,
                            r,
                            redact_secrets(&text).into_owned().into_bytes(),
                        ),
                    }
                }
            }
            Err(e) => {
                let raw = match std::str::from_utf8(body) {
                    Ok(t) => redact_secrets(t).into_owned().into_bytes(),
                    Err(_) => body.to_vec(),
                };
                p.fail(
                    "normalized",
                    PATH,
                    1,
                    format!("the body starts with '[' but is not a JSON array: {e}"),
                    raw,
                );
            }
        }
        return p;
    }
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match std::str::from_utf8(line) {
            Err(e) => p.fail(
                "normalized",
                PATH,
                i + 1,
                format!("the line is not UTF-8 ({e})"),
                line.to_vec(),
            ),
            Ok(text) => match parse_event(text) {
                Ok(e) => p.events.push(e),
                Err(r) => p.fail(
                    "normalized",
                    PATH,
                    i + 1,
                    r,
                    redact_secrets(text).into_owned().into_bytes(),
                ),
            },
        }
    }
    p
}

/// Raw vendor records, framed as `mdm-audit normalize` frames files, through the VRL mappings.
pub(super) fn parse_raw(
    normalizer: &mut Normalizer,
    choice: Option<Source>,
    path: &str,
    body: &[u8],
) -> Parsed {
    let mut p = Parsed::default();
    let vendors = normalizer.vendors().clone();
    for frame in Framer::with_rules(std::io::BufReader::new(body), vendors.framing()) {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                p.fail(
                    "unknown",
                    path,
                    0,
                    format!("reading the body: {e}"),
                    Vec::new(),
                );
                break;
            }
        };
        let source = choice.or_else(|| vendors.sniff(&frame.text));
        let name = source.map_or("unknown", Source::name);
        let result = match (&frame.error, source) {
            (Some(reason), _) => Err(reason.clone()),
            (None, None) => Err(vendors.unrecognized(
                "",
                &format!("post to {}", vendors.list(|s| format!("/v1/raw/{s}"))),
            )),
            (None, Some(s)) => normalizer.normalize(s, &frame.text).map(|n| n.event),
        };
        match result {
            Ok(e) => p.events.push(e),
            Err(reason) => {
                let raw = match frame.bytes {
                    Some(b) => b,
                    None => redact_secrets(&frame.text).into_owned().into_bytes(),
                };
                p.fail(name, path, frame.line, reason, raw);
            }
        }
    }
    p
}

#[cfg(test)]
pub(super) fn parse_events_for_test(body: &[u8]) -> (usize, Vec<(usize, String)>) {
    let p = parse_events(body);
    (
        p.events.len(),
        p.failed.into_iter().map(|f| (f.line, f.reason)).collect(),
    )
}

#[cfg(test)]
use axum::http::HeaderValue;

#[cfg(test)]
pub(super) fn decode_for_test(
    encoding: Option<&str>,
    body: Vec<u8>,
    max: usize,
) -> Result<Vec<u8>, u16> {
    let mut h = HeaderMap::new();
    if let Some(e) = encoding
        && let Ok(v) = HeaderValue::from_str(e)
    {
        h.insert(header::CONTENT_ENCODING, v);
    }
    decode_body(&h, Bytes::from(body), max)
        .map(|b| b.to_vec())
        .map_err(|(c, _)| c.as_u16())
}
