//! The JSON of events: texts escaped once ([`json_escaped`]), and appending quoted strings,
//! numbers, `"0"`/`"1"` flags, durations, hex and base64 to an event.

/// `text` as the content of a JSON string, without the quotes.
pub(super) fn json_escaped(text: &str) -> Box<str> {
    let quoted = serde_json::to_string(text).expect("a string always serializes");
    quoted[1..quoted.len() - 1].into()
}

/// Appends `"content"`; `content` must already be valid JSON string content.
pub(super) fn put_quoted(out: &mut Vec<u8>, content: &str) {
    out.push(b'"');
    out.extend_from_slice(content.as_bytes());
    out.push(b'"');
}

pub(super) fn put_number(out: &mut Vec<u8>, number: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

pub(super) fn put_quoted_number(out: &mut Vec<u8>, number: impl itoa::Integer) {
    out.push(b'"');
    put_number(out, number);
    out.push(b'"');
}

/// `"0"` or `"1"`.
pub(super) fn put_flag(out: &mut Vec<u8>, set: bool) {
    out.extend_from_slice(if set { b"\"1\"" } else { b"\"0\"" });
}

/// Appends a duration in seconds with three decimals, as nginx logs them: `0.043`.
pub(super) fn put_seconds(out: &mut Vec<u8>, millis: u32) {
    put_number(out, millis / 1_000);
    out.push(b'.');
    put_three_digits(out, u64::from(millis % 1_000));
}

pub(super) fn put_quoted_seconds(out: &mut Vec<u8>, millis: u32) {
    out.push(b'"');
    put_seconds(out, millis);
    out.push(b'"');
}

/// Appends `value` (below 1,000) as three digits, with leading zeros.
pub(super) fn put_three_digits(out: &mut Vec<u8>, value: u64) {
    let digit = |place: u64| b'0' + (value / place % 10) as u8;
    out.extend_from_slice(&[digit(100), digit(10), digit(1)]);
}

/// Appends `value` as 16 lowercase hex digits.
pub(super) fn put_hex(out: &mut Vec<u8>, value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0; 16];
    for (index, digit) in text.iter_mut().enumerate() {
        *digit = DIGITS[(value >> (60 - 4 * index) & 0xf) as usize];
    }
    out.extend_from_slice(&text);
}

/// Appends `bytes` in standard base64, padded.
pub(super) fn put_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let byte = |index: usize| u32::from(chunk.get(index).copied().unwrap_or(0));
        let group = byte(0) << 16 | byte(1) << 8 | byte(2);
        let encoded = [18, 12, 6, 0].map(|shift| ALPHABET[(group >> shift & 63) as usize]);
        // n input bytes make n + 1 characters, padded with `=` to four.
        out.extend_from_slice(&encoded[..chunk.len() + 1]);
        out.extend_from_slice(&b"=="[..3 - chunk.len()]);
    }
}
