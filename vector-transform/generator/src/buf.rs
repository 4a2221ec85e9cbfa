//! Writing records straight into a reused byte buffer: static text, escaped JSON strings, numbers via
//! `itoa`, GUIDs and timestamps, with no intermediate `String` or `serde_json::Value` per record.

use super::time::{self, Micros};

/// The record being written (cleared, not freed, between records).
#[derive(Debug, Default)]
pub struct Buf {
    /// The bytes of the current record.
    pub bytes: Vec<u8>,
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

impl Buf {
    /// An empty buffer with room for a large record.
    pub fn new() -> Self {
        Self {
            bytes: Vec::with_capacity(8 * 1024),
        }
    }

    /// Starts a new record.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Appends text as is (static JSON punctuation, field names, values known to need no escaping).
    #[inline]
    pub fn s(&mut self, text: &str) -> &mut Self {
        self.bytes.extend_from_slice(text.as_bytes());
        self
    }

    /// Appends a JSON string literal: quotes and escapes.
    #[inline]
    pub fn q(&mut self, text: &str) -> &mut Self {
        self.bytes.push(b'"');
        self.esc(text);
        self.bytes.push(b'"');
        self
    }

    /// Appends a JSON string literal, or `null`.
    pub fn q_opt(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(t) => self.q(t),
            None => self.s("null"),
        }
    }

    /// Appends the JSON-escaped form of `text` (no quotes).
    pub fn esc(&mut self, text: &str) -> &mut Self {
        let bytes = text.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let rep: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => {
                    self.bytes.extend_from_slice(&bytes[start..i]);
                    self.bytes.extend_from_slice(b"\\u00");
                    self.bytes.push(HEX[usize::from(b >> 4)]);
                    self.bytes.push(HEX[usize::from(b & 0xf)]);
                    start = i + 1;
                    continue;
                }
                _ => continue,
            };
            self.bytes.extend_from_slice(&bytes[start..i]);
            self.bytes.extend_from_slice(rep);
            start = i + 1;
        }
        self.bytes.extend_from_slice(&bytes[start..]);
        self
    }

    /// Appends an unsigned integer.
    #[inline]
    pub fn u(&mut self, v: u64) -> &mut Self {
        let mut b = itoa::Buffer::new();
        self.bytes.extend_from_slice(b.format(v).as_bytes());
        self
    }

    /// Appends a signed integer.
    #[inline]
    pub fn i(&mut self, v: i64) -> &mut Self {
        let mut b = itoa::Buffer::new();
        self.bytes.extend_from_slice(b.format(v).as_bytes());
        self
    }

    /// Appends `true` / `false`.
    pub fn b(&mut self, v: bool) -> &mut Self {
        self.s(if v { "true" } else { "false" })
    }

    /// Appends a lower-case GUID `8-4-4-4-12` (no quotes).
    pub fn guid(&mut self, g: u128) -> &mut Self {
        push_guid(&mut self.bytes, g, HEX);
        self
    }

    /// Appends an upper-case GUID (no quotes).
    pub fn guid_upper(&mut self, g: u128) -> &mut Self {
        push_guid(&mut self.bytes, g, HEX_UPPER);
        self
    }

    /// Appends a quoted lower-case GUID.
    pub fn qguid(&mut self, g: u128) -> &mut Self {
        self.bytes.push(b'"');
        self.guid(g);
        self.bytes.push(b'"');
        self
    }

    /// Appends a timestamp written by `f` (one of the [`time`] writers).
    pub fn t(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        f(&mut self.bytes);
        self
    }

    /// Appends a quoted timestamp written by `f`.
    pub fn qt(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        self.bytes.push(b'"');
        f(&mut self.bytes);
        self.bytes.push(b'"');
        self
    }

    /// Appends a quoted 7-digit ISO time (Graph, Azure Monitor).
    pub fn qiso7(&mut self, t: Micros, tick: u8) -> &mut Self {
        self.qt(|o| time::iso7(o, t, tick))
    }

    /// Appends an IPv4 address.
    pub fn ip(&mut self, ip: [u8; 4]) -> &mut Self {
        for (i, part) in ip.iter().enumerate() {
            if i > 0 {
                self.bytes.push(b'.');
            }
            self.u(u64::from(*part));
        }
        self
    }

    /// Appends a MAC address with `sep` between bytes (`None`: no separator), upper case.
    pub fn mac(&mut self, mac: [u8; 6], sep: Option<u8>) -> &mut Self {
        for (i, b) in mac.iter().enumerate() {
            if let (true, Some(s)) = (i > 0, sep) {
                self.bytes.push(s);
            }
            self.bytes.push(HEX_UPPER[usize::from(b >> 4)]);
            self.bytes.push(HEX_UPPER[usize::from(b & 0xf)]);
        }
        self
    }

    /// The record as text (records are built from UTF-8 pieces only).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or("")
    }
}

fn push_guid(out: &mut Vec<u8>, g: u128, digits: &[u8; 16]) {
    for i in (0..32).rev() {
        out.push(digits[((g >> (4 * i)) & 0xf) as usize]);
        if matches!(i, 24 | 20 | 16 | 12) {
            out.push(b'-');
        }
    }
}

/// Standard base64 (with padding) of `data`: Intune sends script bodies this way.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Makes a random 128-bit value a version-4 GUID (as the vendors' ids are).
pub fn v4(g: u128) -> u128 {
    (g & !(0xf_u128 << 76) & !(0x3_u128 << 62)) | (0x4_u128 << 76) | (0x2_u128 << 62)
}

/// A GUID as a `String` (for ids kept in the fleet or the ground truth).
pub fn guid_string(g: u128) -> String {
    let mut v = Vec::with_capacity(36);
    push_guid(&mut v, g, HEX);
    String::from_utf8(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_round_trip_through_serde() {
        for s in [
            "plain",
            "CORP\\jsmith",
            "a \"quoted\" name",
            "tab\there\nnew line",
            "\u{1}\u{1f}ctl",
            "Sara's iPhone",
            "ünïcödé ✓",
        ] {
            let mut b = Buf::new();
            b.q(s);
            let back: String = serde_json::from_slice(&b.bytes).expect("valid JSON string");
            assert_eq!(back, s);
        }
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn guids_are_formatted_like_the_vendors() {
        let mut b = Buf::new();
        b.guid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(b.as_str(), "01234567-89ab-cdef-0123-456789abcdef");
        let g = v4(u128::MAX);
        assert_eq!(guid_string(g), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let g = v4(0);
        assert_eq!(guid_string(g), "00000000-0000-4000-8000-000000000000");
        b.clear();
        b.mac([0x3c, 0x22, 0xfb, 0x1a, 0x7e, 0x90], Some(b':'))
            .s(" ")
            .ip([10, 20, 4, 117])
            .s(" ")
            .guid_upper(0xab);
        assert_eq!(
            b.as_str(),
            "3C:22:FB:1A:7E:90 10.20.4.117 00000000-0000-0000-0000-0000000000AB"
        );
    }
}
