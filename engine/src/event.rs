//! One NDJSON event line, scanned (not parsed into a tree) for the top-level keys needed.
//!
//! The hot path: a full `serde_json::Value` parse of a 1.5 KB event costs ~4 µs, while
//! routing and rendering need only a few values, as raw text. [`EventFields::parse`] makes
//! one pass over the line that validates it as JSON (strings, escapes, numbers, nesting) and
//! keeps borrowed slices of the wanted values; nothing is unescaped or allocated.
//!
//! Duplicate keys: the last one wins, as in `serde_json`. Keys outside both catalogues are
//! validated and skipped. Lone surrogate escapes (`"\ud800"`) are accepted, as JSON's grammar
//! allows; rendering turns them into `\ufffd` for strict consumers. Numbers are checked
//! against JSON's grammar, not for range.

use std::borrow::Cow;

use crate::catalog::{MAX_VARIABLES, VariableId};

/// The top-level keys to keep from events: a bit per [`VariableId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSet {
    bits: u64,
}

impl FieldSet {
    /// The fields routing needs: `host`, and `request_id` for sampling.
    pub fn routing() -> FieldSet {
        let mut set = FieldSet { bits: 0 };
        set.insert(VariableId::HOST);
        set.insert(VariableId::REQUEST_ID);
        set
    }

    /// Every variable of both catalogues.
    pub fn all() -> FieldSet {
        FieldSet { bits: u64::MAX }
    }

    pub fn insert(&mut self, id: VariableId) {
        self.bits |= 1 << id.index();
    }

    pub fn contains(&self, id: VariableId) -> bool {
        self.bits & (1 << id.index()) != 0
    }
}

/// The text of a JSON string value between its quotes, still escaped, and validated: no raw
/// control character, only valid escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStr<'a> {
    escaped: &'a str,
    has_escapes: bool,
    has_lone_surrogate: bool,
}

impl<'a> JsonStr<'a> {
    /// The text as it appears between the quotes.
    pub fn as_escaped(&self) -> &'a str {
        self.escaped
    }

    /// The decoded text; a lone surrogate escape (`\ud800`) decodes to U+FFFD.
    pub fn unescaped(&self) -> Cow<'a, str> {
        if !self.has_escapes {
            return Cow::Borrowed(self.escaped);
        }
        let mut text = String::with_capacity(self.escaped.len());
        for chunk in Chunks(self.escaped) {
            match chunk {
                Chunk::Text(plain) => text.push_str(plain),
                Chunk::Escape { decoded, .. } => text.push(decoded),
            }
        }
        Cow::Owned(text)
    }

    /// Appends the text as JSON string content that every JSON parser accepts.
    ///
    /// Validated string content can be copied as is, with one exception: JSON's grammar
    /// allows a lone surrogate escape, but strict parsers (serde_json, Rust's `String`)
    /// reject it, so it is replaced by `\ufffd`.
    #[inline]
    pub(crate) fn write_json_content(&self, out: &mut Vec<u8>) {
        if !self.has_lone_surrogate {
            out.extend_from_slice(self.escaped.as_bytes());
            return;
        }
        for chunk in Chunks(self.escaped) {
            match chunk {
                Chunk::Text(raw)
                | Chunk::Escape {
                    raw, lone: false, ..
                } => {
                    out.extend_from_slice(raw.as_bytes());
                }
                Chunk::Escape { lone: true, .. } => out.extend_from_slice(br"\ufffd"),
            }
        }
    }
}

/// A piece of validated, escaped string content.
enum Chunk<'a> {
    Text(&'a str),
    /// One escape, or a surrogate pair of `\u` escapes.
    Escape {
        raw: &'a str,
        decoded: char,
        lone: bool,
    },
}

/// Splits validated string content into plain text and escapes.
struct Chunks<'a>(&'a str);

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        let rest = self.0;
        if rest.is_empty() {
            return None;
        }
        let backslash = rest.find('\\').unwrap_or(rest.len());
        if backslash > 0 {
            self.0 = &rest[backslash..];
            return Some(Chunk::Text(&rest[..backslash]));
        }
        let bytes = rest.as_bytes();
        let (len, decoded, lone) = match bytes.get(1) {
            Some(b'u') => match hex_unit(bytes, 2) {
                Some(high @ 0xD800..=0xDBFF) => match low_surrogate_at(bytes, 6) {
                    Some(low) => {
                        let code = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (low - 0xDC00);
                        (12, char::from_u32(code).unwrap_or('\u{FFFD}'), false)
                    }
                    None => (6, '\u{FFFD}', true),
                },
                Some(unit) => match char::from_u32(u32::from(unit)) {
                    Some(decoded) => (6, decoded, false),
                    None => (6, '\u{FFFD}', true),
                },
                None => (2, '\u{FFFD}', true),
            },
            Some(&escaped) => (2, short_escape(escaped).unwrap_or('\u{FFFD}'), false),
            None => (1, '\u{FFFD}', true),
        };
        self.0 = &rest[len.min(rest.len())..];
        Some(Chunk::Escape {
            raw: &rest[..len.min(rest.len())],
            decoded,
            lone,
        })
    }
}

fn short_escape(escaped: u8) -> Option<char> {
    Some(match escaped {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// The code unit of the four hex digits at `at`.
fn hex_unit(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = bytes.get(at..at + 4)?;
    digits.iter().try_fold(0u16, |unit, &digit| {
        let value = (digit as char).to_digit(16)?;
        Some(unit << 4 | value as u16)
    })
}

/// The low surrogate of a `\uDC00`..`\uDFFF` escape at `at`, if there is one.
fn low_surrogate_at(bytes: &[u8], at: usize) -> Option<u32> {
    if bytes.get(at..at + 2)? != br"\u" {
        return None;
    }
    hex_unit(bytes, at + 2)
        .filter(|unit| (0xDC00..=0xDFFF).contains(unit))
        .map(u32::from)
}

/// A top-level value of an event, borrowed from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawValue<'a> {
    String(JsonStr<'a>),
    /// A number, `true` or `false`, as written.
    Literal(&'a str),
    Null,
    /// An object or array, as written (whitespace included).
    Nested(&'a str),
}

/// Why a line is not a valid event: short, for the ingest API's list of rejected lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("not valid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("invalid JSON at byte {offset}: {reason}")]
    Syntax { offset: usize, reason: &'static str },
}

/// The wanted top-level values of one event line.
#[derive(Debug, Clone)]
pub struct EventFields<'a> {
    line: &'a str,
    values: [Option<RawValue<'a>>; MAX_VARIABLES],
}

impl<'a> EventFields<'a> {
    /// Validates `line` as one JSON object and keeps the values of the `wanted` keys.
    pub fn parse(line: &'a [u8], wanted: &FieldSet) -> Result<EventFields<'a>, EventError> {
        let line = std::str::from_utf8(line)
            .map_err(|error| EventError::InvalidUtf8(error.valid_up_to()))?;
        let mut fields = EventFields {
            line,
            values: [None; MAX_VARIABLES],
        };
        let mut next_id_guess = 0;
        Scanner::new(line).object_fields(|key, value| {
            let Some(id) = key_id(key, next_id_guess) else {
                return;
            };
            next_id_guess = id.index() + 1;
            if wanted.contains(id) {
                fields.values[id.index()] = Some(value);
            }
        })?;
        Ok(fields)
    }

    /// The value of key `name`; `None` when the event lacks it or it was not wanted.
    pub fn get(&self, name: &str) -> Option<RawValue<'a>> {
        self.value(VariableId::of(name)?)
    }

    /// [`EventFields::get`] by id (the hot path).
    pub fn value(&self, id: VariableId) -> Option<RawValue<'a>> {
        self.values[id.index()]
    }

    /// The event's `host`, decoded, if it is a string.
    pub fn host(&self) -> Option<Cow<'a, str>> {
        match self.value(VariableId::HOST)? {
            RawValue::String(host) => Some(host.unescaped()),
            _ => None,
        }
    }

    /// What sampling hashes: the raw `request_id`, or the whole line for an event without
    /// one (WAF events have no request id).
    pub fn sampling_key(&self) -> &'a [u8] {
        match self.value(VariableId::REQUEST_ID) {
            Some(RawValue::String(id)) => id.as_escaped().as_bytes(),
            Some(RawValue::Literal(id)) => id.as_bytes(),
            _ => self.line.as_bytes(),
        }
    }
}

fn key_id(key: JsonStr<'_>, guess: usize) -> Option<VariableId> {
    if key.has_escapes {
        VariableId::of(&key.unescaped())
    } else {
        VariableId::of_key(key.escaped.as_bytes(), guess)
    }
}

/// How deep objects and arrays may nest inside an event (as in serde_json).
const MAX_DEPTH: usize = 128;

/// Bytes that end the fast scan of string content: `"`, `\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A single-pass JSON validator over a UTF-8 line that hands out borrowed values.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn error(&self, reason: &'static str) -> EventError {
        EventError::Syntax {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), EventError> {
        if self.peek() != Some(byte) {
            return Err(self.error(reason));
        }
        self.pos += 1;
        Ok(())
    }

    /// Scans the whole line as one object, calling `each` for its top-level members.
    fn object_fields(
        mut self,
        mut each: impl FnMut(JsonStr<'a>, RawValue<'a>),
    ) -> Result<(), EventError> {
        self.skip_whitespace();
        if self.peek() != Some(b'{') {
            return Err(EventError::NotAnObject);
        }
        self.members(1, &mut each)?;
        self.skip_whitespace();
        if self.pos != self.bytes.len() {
            return Err(self.error("trailing characters after the object"));
        }
        Ok(())
    }

    /// Scans `{ ... }` from its opening brace.
    fn members(
        &mut self,
        depth: usize,
        each: &mut impl FnMut(JsonStr<'a>, RawValue<'a>),
    ) -> Result<(), EventError> {
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':', "expected ':'")?;
            self.skip_whitespace();
            let value = self.value(depth)?;
            each(key, value);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// Scans `[ ... ]` from its opening bracket.
    fn elements(&mut self, depth: usize) -> Result<(), EventError> {
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    #[inline(always)]
    fn value(&mut self, depth: usize) -> Result<RawValue<'a>, EventError> {
        match self.peek() {
            Some(b'"') => Ok(RawValue::String(self.string()?)),
            _ => self.non_string_value(depth),
        }
    }

    fn non_string_value(&mut self, depth: usize) -> Result<RawValue<'a>, EventError> {
        let start = self.pos;
        match self.peek() {
            Some(open @ (b'{' | b'[')) => {
                if depth >= MAX_DEPTH {
                    return Err(self.error("nested too deeply"));
                }
                if open == b'{' {
                    self.members(depth + 1, &mut |_, _| {})?;
                } else {
                    self.elements(depth + 1)?;
                }
                return Ok(RawValue::Nested(&self.text[start..self.pos]));
            }
            Some(b't') => self.keyword("true")?,
            Some(b'f') => self.keyword("false")?,
            Some(b'n') => {
                self.keyword("null")?;
                return Ok(RawValue::Null);
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.error("expected a value")),
        }
        Ok(RawValue::Literal(&self.text[start..self.pos]))
    }

    fn keyword(&mut self, word: &'static str) -> Result<(), EventError> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return Err(self.error("expected a value"));
        }
        self.pos += word.len();
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<(), EventError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok(())
    }

    /// Scans a string from its opening quote.
    // Inlined: returned through memory, its two flag bytes stall the 8-byte reload of the
    // caller (failed store forwarding), which cost a third of the scan.
    #[inline(always)]
    fn string(&mut self) -> Result<JsonStr<'a>, EventError> {
        let start = self.pos + 1;
        self.pos = start;
        let mut has_escapes = false;
        let mut has_lone_surrogate = false;
        loop {
            self.skip_plain_string_bytes();
            match self.peek() {
                Some(b'"') => break,
                Some(b'\\') => {
                    has_escapes = true;
                    has_lone_surrogate |= self.escape()?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
        let escaped = &self.text[start..self.pos];
        self.pos += 1;
        Ok(JsonStr {
            escaped,
            has_escapes,
            has_lone_surrogate,
        })
    }

    /// Advances to the next `"`, `\`, control character or the end of the line.
    fn skip_plain_string_bytes(&mut self) {
        // Eight bytes at a time (SWAR). In each mask the lowest set high bit marks the first
        // matching byte exactly (borrows only cause false positives above a true one), so
        // the first special byte of a word is found without a byte loop.
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
        let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
        while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let special = (word.wrapping_sub(ONES * 0x20) & !word & HIGHS)
                | zero_bytes(word ^ (ONES * u64::from(b'"')))
                | zero_bytes(word ^ (ONES * u64::from(b'\\')));
            if special != 0 {
                self.pos += special.trailing_zeros() as usize / 8;
                return;
            }
            self.pos += 8;
        }
        while let Some(&byte) = self.bytes.get(self.pos) {
            if STRING_STOP[usize::from(byte)] {
                break;
            }
            self.pos += 1;
        }
    }

    /// Validates the escape at the backslash under the cursor; true for a lone surrogate.
    fn escape(&mut self) -> Result<bool, EventError> {
        match self.bytes.get(self.pos + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 2;
                Ok(false)
            }
            Some(b'u') => {
                let unit = hex_unit(self.bytes, self.pos + 2)
                    .ok_or_else(|| self.error("invalid \\u escape"))?;
                self.pos += 6;
                match unit {
                    0xD800..=0xDBFF => match low_surrogate_at(self.bytes, self.pos) {
                        Some(_) => {
                            self.pos += 6;
                            Ok(false)
                        }
                        None => Ok(true),
                    },
                    0xDC00..=0xDFFF => Ok(true),
                    _ => Ok(false),
                }
            }
            _ => Err(self.error("invalid escape")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{DataSource, sample_event};

    fn parse_all(line: &str) -> Result<EventFields<'_>, EventError> {
        EventFields::parse(line.as_bytes(), &FieldSet::all())
    }

    fn string(value: Option<RawValue<'_>>) -> &str {
        match value {
            Some(RawValue::String(text)) => text.as_escaped(),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn keeps_wanted_values_as_raw_slices() {
        let line = r#" { "host" : "a.example.com", "status": 200, "waf_block": true,
            "proxy_status": null, "traceback": {"a": [1, "x"]}, "asn": "AS\"1\"", "other": 1 } "#;
        let event = parse_all(line).unwrap();
        assert_eq!(string(event.get("host")), "a.example.com");
        assert_eq!(event.get("status"), Some(RawValue::Literal("200")));
        assert_eq!(event.get("waf_block"), Some(RawValue::Literal("true")));
        assert_eq!(event.get("proxy_status"), Some(RawValue::Null));
        assert_eq!(
            event.get("traceback"),
            Some(RawValue::Nested(r#"{"a": [1, "x"]}"#))
        );
        assert_eq!(string(event.get("asn")), r#"AS\"1\""#);
        assert_eq!(event.get("request_id"), None);
        assert_eq!(event.get("other"), None);
        assert_eq!(event.host().as_deref(), Some("a.example.com"));
    }

    #[test]
    fn keeps_only_the_field_set() {
        let line = sample_event(DataSource::EdgeApplications);
        let event = EventFields::parse(line.as_bytes(), &FieldSet::routing()).unwrap();
        assert_eq!(string(event.get("host")), "shop.example.com");
        assert_eq!(
            event.sampling_key(),
            b"6f1d3b9c2a7e4f0a8b5c1d2e3f4a5b6c".as_slice()
        );
        assert_eq!(event.get("status"), None);
    }

    #[test]
    fn sampling_key_falls_back_to_the_line() {
        let line = sample_event(DataSource::WafEvents);
        let event = EventFields::parse(line.as_bytes(), &FieldSet::routing()).unwrap();
        assert_eq!(event.sampling_key(), line.as_bytes());
    }

    #[test]
    fn last_duplicate_key_wins_and_escaped_keys_match() {
        let event = parse_all(r#"{"host":"a","\u0068ost":"b"}"#).unwrap();
        assert_eq!(string(event.get("host")), "b");
    }

    #[test]
    fn decodes_every_escape_form() {
        let event =
            parse_all(r#"{"host":"\"\\\/\b\f\n\r\t\u00e9\uD83D\ude00\ud800x\udc00"}"#).unwrap();
        let Some(RawValue::String(host)) = event.get("host") else {
            panic!("not a string");
        };
        assert_eq!(
            host.unescaped(),
            "\"\\/\u{8}\u{c}\n\r\té😀\u{FFFD}x\u{FFFD}"
        );
        let mut content = Vec::new();
        host.write_json_content(&mut content);
        assert_eq!(
            String::from_utf8(content).unwrap(),
            r#"\"\\\/\b\f\n\r\t\u00e9\uD83D\ude00\ufffdx\ufffd"#
        );
    }

    #[test]
    fn rejects_lines_that_are_not_one_json_object() {
        let syntax = |line: &str| match parse_all(line) {
            Err(EventError::Syntax { reason, .. }) => reason,
            other => panic!("{line}: {other:?}"),
        };
        for line in ["", "   ", "[1]", "\"x\"", "12", "null"] {
            assert_eq!(
                parse_all(line).unwrap_err(),
                EventError::NotAnObject,
                "{line}"
            );
        }
        assert_eq!(
            syntax(r#"{"a":1} x"#),
            "trailing characters after the object"
        );
        assert_eq!(syntax(r#"{"a":1"#), "expected ',' or '}'");
        assert_eq!(syntax(r#"{"a" 1}"#), "expected ':'");
        assert_eq!(syntax(r#"{a:1}"#), "expected a key");
        assert_eq!(syntax(r#"{"a":"x}"#), "unterminated string");
        assert_eq!(syntax("{\"a\":\"x\ty\"}"), "control character in a string");
        assert_eq!(syntax(r#"{"a":"\x"}"#), "invalid escape");
        assert_eq!(syntax(r#"{"a":"\u12G4"}"#), "invalid \\u escape");
        assert_eq!(syntax(r#"{"a":tru}"#), "expected a value");
        assert_eq!(syntax(r#"{"a":}"#), "expected a value");
        for number in ["01", "1.", "-", "1e", ".5", "+1"] {
            assert!(
                parse_all(&format!(r#"{{"a":{number}}}"#)).is_err(),
                "{number}"
            );
        }
        assert_eq!(syntax(r#"{"a":[1,]}"#), "expected a value");
        assert_eq!(syntax(r#"{"a":[1 2]}"#), "expected ',' or ']'");
        let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert_eq!(syntax(&deep), "nested too deeply");
        assert_eq!(
            EventFields::parse(b"{\"a\":\"\xff\"}", &FieldSet::all()).unwrap_err(),
            EventError::InvalidUtf8(6)
        );
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        for line in [
            r#"{}"#,
            r#"{"a":-0.5e+10,"b":[],"c":{},"d":[{"e":[null,true,false]}],"f":"\u0000"}"#,
            "{\"a\":\"é漢字😀\",\r\n\"b\":1E5}\r\n",
        ] {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
            parse_all(line).unwrap();
        }
    }

    #[test]
    fn the_fast_string_scan_stops_exactly_at_special_bytes() {
        // Every position within and across eight-byte words, after multi-byte characters.
        for before in 0..20 {
            let plain = format!("{}{}", "é".repeat(before % 3), "a".repeat(before));
            let at = r#"{"host":""#.len() + plain.len();
            let line = format!(r#"{{"host":"{plain}"}}"#);
            assert_eq!(string(parse_all(&line).unwrap().get("host")), plain);
            let line = format!(r#"{{"host":"{plain}\n{plain}"}}"#);
            assert_eq!(
                string(parse_all(&line).unwrap().get("host")),
                format!(r"{plain}\n{plain}")
            );
            for control in ['\u{0}', '\u{1f}'] {
                let line = format!(r#"{{"host":"{plain}{control}{plain}"}}"#);
                let error = parse_all(&line).unwrap_err();
                assert_eq!(
                    error,
                    EventError::Syntax {
                        offset: at,
                        reason: "control character in a string"
                    }
                );
            }
        }
    }
}
