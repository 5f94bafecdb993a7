//! How a block becomes a POST body: the payload format around the records, the separator
//! between them, a size the payload stays within, and its compression.

use serde::{Deserialize, Serialize};

use crate::endpoints::BlockBudget;

/// The placeholder the payload format puts the records in.
pub const DATASET: &str = "$dataset";
/// Payload format text at most, in bytes.
const MAX_FORMAT_BYTES: usize = 512;
/// Separator at most, in bytes (after escapes).
const MAX_SEPARATOR_BYTES: usize = 16;
/// The max payload size's bounds, in bytes.
pub const MIN_PAYLOAD_BYTES: u64 = 1024;
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 30;

/// Text before and after the records: `$dataset` (the default) is neither, `[$dataset]`
/// with separator `,` makes a JSON array.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PayloadFormat {
    before: String,
    after: String,
}

impl PayloadFormat {
    /// Blank is the default `$dataset`.
    pub fn parse(text: &str) -> Result<PayloadFormat, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(PayloadFormat::default());
        }
        if text.len() > MAX_FORMAT_BYTES {
            return Err(format!("is longer than {MAX_FORMAT_BYTES} bytes"));
        }
        match text.split_once(DATASET) {
            Some((before, after)) if !after.contains(DATASET) => Ok(PayloadFormat {
                before: before.into(),
                after: after.into(),
            }),
            Some(_) => Err(format!("must contain {DATASET} once, not several times")),
            None => Err(format!(
                "must contain {DATASET} (where the records go), e.g. [{DATASET}]"
            )),
        }
    }

    pub fn before(&self) -> &str {
        &self.before
    }

    pub fn after(&self) -> &str {
        &self.after
    }

    pub fn is_default(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }
}

impl TryFrom<String> for PayloadFormat {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        PayloadFormat::parse(&text)
    }
}

impl From<PayloadFormat> for String {
    fn from(format: PayloadFormat) -> String {
        format!("{}{DATASET}{}", format.before, format.after)
    }
}

/// What goes between two records; typed with escapes (`\n`, `\r`, `\t`, `\\`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Separator(String);

impl Default for Separator {
    fn default() -> Self {
        Separator("\n".into())
    }
}

impl Separator {
    /// The form's text, escapes resolved; blank is the default `\n`.
    pub fn parse(typed: &str) -> Result<Separator, String> {
        if typed.is_empty() {
            return Ok(Separator::default());
        }
        let mut value = String::new();
        let mut chars = typed.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                Some('t') => value.push('\t'),
                Some('\\') => value.push('\\'),
                Some(other) => {
                    return Err(format!(
                        "has an unknown escape \\{other}: use \\n, \\r, \\t or \\\\"
                    ));
                }
                None => return Err("ends in a lone \\: write \\\\ for a backslash".into()),
            }
        }
        if value.len() > MAX_SEPARATOR_BYTES {
            return Err(format!("is longer than {MAX_SEPARATOR_BYTES} bytes"));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !"\n\r\t".contains(c))
        {
            return Err("can hold control characters only as \\n, \\r or \\t".into());
        }
        Ok(Separator(value))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// As the form shows it, escapes written out.
    pub fn typed(&self) -> String {
        let mut typed = String::new();
        for c in self.0.chars() {
            match c {
                '\n' => typed.push_str("\\n"),
                '\r' => typed.push_str("\\r"),
                '\t' => typed.push_str("\\t"),
                '\\' => typed.push_str("\\\\"),
                c => typed.push(c),
            }
        }
        typed
    }
}

impl TryFrom<String> for Separator {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        // Stored as the value itself, not as typed.
        if value.is_empty() || value.len() > MAX_SEPARATOR_BYTES {
            return Err(format!(
                "separator must be 1 to {MAX_SEPARATOR_BYTES} bytes"
            ));
        }
        Ok(Separator(value))
    }
}

impl From<Separator> for String {
    fn from(separator: Separator) -> String {
        separator.0
    }
}

/// The largest payload a POST may carry, in bytes (before compression).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct PayloadSize(u64);

impl PayloadSize {
    pub fn parse(text: &str) -> Result<PayloadSize, String> {
        let digits: String = text.chars().filter(|c| *c != '_' && *c != ',').collect();
        let bytes = digits
            .parse::<u64>()
            .map_err(|_| format!("{text:?} is not a whole number of bytes"))?;
        PayloadSize::try_from(bytes)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for PayloadSize {
    type Error = String;
    fn try_from(bytes: u64) -> Result<Self, String> {
        if !(MIN_PAYLOAD_BYTES..=MAX_PAYLOAD_BYTES).contains(&bytes) {
            return Err(format!(
                "must be {MIN_PAYLOAD_BYTES} to {MAX_PAYLOAD_BYTES} bytes, not {bytes}"
            ));
        }
        Ok(PayloadSize(bytes))
    }
}

impl From<PayloadSize> for u64 {
    fn from(size: PayloadSize) -> u64 {
        size.0
    }
}

/// The POST body's compression, sent as its `Content-Encoding`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The form's choices, the default first.
    pub const CHOICES: &'static [&'static str] = &["none", "gzip", "zstd"];

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    pub fn parse(text: &str) -> Option<Compression> {
        [Compression::None, Compression::Gzip, Compression::Zstd]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// The block budget a payload size means with this format and separator. The payload of
/// n records is `before + Σ records + (n−1) × separator + after`; the spool counts each
/// record with its newline, so the difference is in `extra_per_record` and `max`.
pub fn budget(size: PayloadSize, format: &PayloadFormat, separator: &Separator) -> BlockBudget {
    let framing = (format.before.len() + format.after.len()) as u64;
    let separator = separator.as_bytes().len() as u64;
    BlockBudget {
        max_bytes: (size.get() + separator).saturating_sub(framing).max(1),
        extra_per_record: separator.saturating_sub(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_format_holds_the_dataset_once() {
        let array = PayloadFormat::parse("[$dataset]").unwrap();
        assert_eq!((array.before(), array.after()), ("[", "]"));
        assert!(PayloadFormat::parse("").unwrap().is_default());
        assert!(PayloadFormat::parse("$dataset").unwrap().is_default());
        assert!(
            PayloadFormat::parse("[]")
                .unwrap_err()
                .contains("must contain $dataset")
        );
        assert!(
            PayloadFormat::parse("$dataset$dataset")
                .unwrap_err()
                .contains("once")
        );
    }

    #[test]
    fn separators_are_typed_with_escapes() {
        assert_eq!(Separator::parse("").unwrap().as_bytes(), b"\n");
        assert_eq!(Separator::parse(",").unwrap().as_bytes(), b",");
        assert_eq!(Separator::parse("\\r\\n").unwrap().as_bytes(), b"\r\n");
        assert_eq!(Separator::parse("\\r\\n").unwrap().typed(), "\\r\\n");
        assert!(
            Separator::parse("\\x")
                .unwrap_err()
                .contains("unknown escape")
        );
        assert!(Separator::parse("a\\").unwrap_err().contains("lone"));
        assert!(
            Separator::parse(&",".repeat(17))
                .unwrap_err()
                .contains("16 bytes")
        );
    }

    #[test]
    fn the_payload_size_is_bounded() {
        assert_eq!(PayloadSize::parse("1_000_000").unwrap().get(), 1_000_000);
        assert!(PayloadSize::parse("100").unwrap_err().contains("1024 to"));
        assert!(
            PayloadSize::parse("ten")
                .unwrap_err()
                .contains("whole number")
        );
    }

    #[test]
    fn the_budget_keeps_the_payload_within_its_size() {
        // Records of 9 bytes (10 with the newline), a JSON array: 2 + 9n + (n−1) ≤ 1024
        // holds up to n = 102, so the spool may take 102 records of 10 bytes.
        let format = PayloadFormat::parse("[$dataset]").unwrap();
        let separator = Separator::parse(",").unwrap();
        let budget = budget(PayloadSize(1024), &format, &separator);
        assert_eq!(budget.extra_per_record, 0);
        let payload = |n: u64| 2 + 9 * n + (n - 1);
        let most = (1..).take_while(|n| payload(*n) <= 1024).last().unwrap();
        assert_eq!((budget.max_bytes / 10, most), (102, 102));
        // A two-byte separator costs one more byte per record than the newline.
        let crlf = Separator::parse("\\r\\n").unwrap();
        let budget = super::budget(PayloadSize(1024), &PayloadFormat::default(), &crlf);
        assert_eq!((budget.max_bytes, budget.extra_per_record), (1026, 1));
    }
}
