//! Templates: a JSON data set with `$variable` placeholders, compiled once, rendered per event.
//!
//! Compiling checks the text is a JSON object, strips its insignificant whitespace (so each
//! record is one line, keys in the author's order) and splits it into literal bytes and
//! variable slots. Rendering then only copies bytes.
//!
//! Variables: inside a JSON string (key or value), an unescaped `$` followed by
//! `[A-Za-z_][A-Za-z0-9_]*` names a variable, the whole identifier (`$hostname` is
//! `hostname`, not `$host` + `name`). A name the data source does not have is an error rather
//! than literal text, so a typo is never sent silently; to send a literal `$` before
//! letters, write it escaped as `\u0024`. A `$` not followed by an identifier is literal.
//!
//! Values fill the JSON string the variable stands in: string values keep their JSON escapes
//! (they are already valid string content), numbers and booleans are written as they are,
//! `null` or a missing key renders `-`, and an object or array renders as its compact JSON
//! text, escaped.

use std::ops::Range;

use crate::catalog::{DataSource, VariableId};
use crate::event::{EventError, EventFields, FieldSet, RawValue};

/// Why a data set is not a valid template for its data source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the data set must be a JSON object")]
    NotAnObject,
    #[error("unknown variable ${name} for {data_source}")]
    UnknownVariable {
        name: String,
        data_source: DataSource,
    },
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    data_source: DataSource,
    /// Every literal byte of the compact data set, in order.
    literals: Vec<u8>,
    segments: Vec<Segment>,
    /// The variables used, each once, in order of first use.
    field_ids: Vec<VariableId>,
    fields: Vec<&'static str>,
}

/// A run of literal bytes, then the variable that follows it (none after the last run).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    literal: Range<usize>,
    variable: Option<VariableId>,
}

impl Template {
    /// Compiles the data set `text` for events of `data_source`.
    pub fn compile(text: &str, data_source: DataSource) -> Result<Template, TemplateError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| invalid_json(&error))?;
        if !value.is_object() {
            return Err(TemplateError::NotAnObject);
        }
        let mut template = Template {
            data_source,
            literals: Vec::with_capacity(text.len()),
            segments: Vec::new(),
            field_ids: Vec::new(),
            fields: Vec::new(),
        };
        let mut literal_start = 0;
        let bytes = text.as_bytes();
        let mut in_string = false;
        let mut pos = 0;
        while let Some(&byte) = bytes.get(pos) {
            pos += 1;
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' if !in_string => {}
                b'"' => {
                    in_string = !in_string;
                    template.literals.push(byte);
                }
                b'\\' if in_string => {
                    // Valid JSON: the escaped byte is ASCII; `\u` hex digits follow as text.
                    template.literals.extend_from_slice(&bytes[pos - 1..=pos]);
                    pos += 1;
                }
                b'$' if in_string && bytes.get(pos).is_some_and(|&b| is_identifier_start(b)) => {
                    let name_end = bytes[pos..]
                        .iter()
                        .position(|&b| !is_identifier_byte(b))
                        .map_or(bytes.len(), |len| pos + len);
                    let variable = template.variable(&text[pos..name_end])?;
                    template.segments.push(Segment {
                        literal: literal_start..template.literals.len(),
                        variable: Some(variable),
                    });
                    literal_start = template.literals.len();
                    pos = name_end;
                }
                _ => template.literals.push(byte),
            }
        }
        template.segments.push(Segment {
            literal: literal_start..template.literals.len(),
            variable: None,
        });
        Ok(template)
    }

    /// Looks `name` up in the data source and notes it as used.
    fn variable(&mut self, name: &str) -> Result<VariableId, TemplateError> {
        let unknown = || TemplateError::UnknownVariable {
            name: name.to_owned(),
            data_source: self.data_source,
        };
        if !self.data_source.has_variable(name) {
            return Err(unknown());
        }
        let id = VariableId::of(name).ok_or_else(unknown)?;
        if !self.field_ids.contains(&id) {
            self.field_ids.push(id);
            self.fields.push(id.name());
        }
        Ok(id)
    }

    pub fn data_source(&self) -> DataSource {
        self.data_source
    }

    /// The event keys the template renders, each once, in order of first use.
    pub fn fields(&self) -> &[&'static str] {
        &self.fields
    }

    /// [`Template::fields`] as ids.
    pub fn field_ids(&self) -> &[VariableId] {
        &self.field_ids
    }

    /// Appends one record, one line of JSON without the trailing newline, for `event`
    /// (which must have been parsed with a [`FieldSet`] holding this template's fields).
    pub fn render(&self, event: &EventFields<'_>, out: &mut Vec<u8>) {
        // Unbounded: cannot fail.
        let _ = self.render_within(event, out, usize::MAX);
    }

    /// [`Template::render`], unless the record would be longer than `max_len`: then `out`
    /// is left as it was. Each value is measured before it is written, so the record
    /// never grows much past the bound (a value's written form is at most twice its text).
    #[inline]
    pub fn render_within(
        &self,
        event: &EventFields<'_>,
        out: &mut Vec<u8>,
        max_len: usize,
    ) -> Result<(), RecordTooLarge> {
        let start = out.len();
        for segment in &self.segments {
            out.extend_from_slice(&self.literals[segment.literal.clone()]);
            if let Some(id) = segment.variable {
                let value = event.value(id);
                if (out.len() - start).saturating_add(text_len(&value)) > max_len {
                    out.truncate(start);
                    return Err(RecordTooLarge);
                }
                // The common case as one predictable branch rather than a jump table.
                match value {
                    Some(RawValue::String(text)) => text.write_json_content(out),
                    other => write_value(other, out),
                }
            }
            if out.len() - start > max_len {
                out.truncate(start);
                return Err(RecordTooLarge);
            }
        }
        Ok(())
    }

    /// Parses `line` and renders it: for previews and tests, not the hot path.
    pub fn render_line(&self, line: &[u8]) -> Result<Vec<u8>, EventError> {
        let mut wanted = FieldSet::routing();
        wanted.add_template(self);
        let event = EventFields::parse(line, &wanted)?;
        let mut record = Vec::with_capacity(self.literals.len() + line.len());
        self.render(&event, &mut record);
        Ok(record)
    }
}

// Here, not in `event.rs`: templates depend on events, never the other way round.
impl FieldSet {
    /// Adds the fields `template` renders.
    pub fn add_template(&mut self, template: &Template) {
        for &id in template.field_ids() {
            self.insert(id);
        }
    }
}

fn invalid_json(error: &serde_json::Error) -> TemplateError {
    let (line, column) = (error.line(), error.column());
    // serde_json's message ends with the position, which has fields of its own here.
    let message = error.to_string();
    let message = message
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&message)
        .to_owned();
    TemplateError::InvalidJson {
        line,
        column,
        message,
    }
}

fn is_identifier_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// A record that would be longer than the bound it was rendered within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordTooLarge;

/// The length of a value's text as it came in (what it writes is at least this long).
fn text_len(value: &Option<RawValue<'_>>) -> usize {
    match value {
        Some(RawValue::String(text)) => text.as_escaped().len(),
        Some(RawValue::Literal(text)) | Some(RawValue::Nested(text)) => text.len(),
        Some(RawValue::Null) | None => 1,
    }
}

/// Writes `value` as the content of a JSON string.
fn write_value(value: Option<RawValue<'_>>, out: &mut Vec<u8>) {
    match value {
        Some(RawValue::String(text)) => text.write_json_content(out),
        // A number, `true` or `false`: characters that need no escaping.
        Some(RawValue::Literal(text)) => out.extend_from_slice(text.as_bytes()),
        Some(RawValue::Null) | None => out.push(b'-'),
        Some(RawValue::Nested(json)) => write_nested(json, out),
    }
}

/// Writes an object or array as its compact JSON text, escaped as string content.
fn write_nested(json: &str, out: &mut Vec<u8>) {
    let mut in_string = false;
    let mut after_backslash = false;
    for &byte in json.as_bytes() {
        if in_string {
            match byte {
                _ if after_backslash => after_backslash = false,
                b'\\' => after_backslash = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' => continue,
                b'"' => in_string = true,
                _ => {}
            }
        }
        match byte {
            b'"' => out.extend_from_slice(br#"\""#),
            b'\\' => out.extend_from_slice(br"\\"),
            // Not in validated JSON; escaped anyway so the record stays valid.
            0x00..=0x1f => out.extend_from_slice(format!("\\u{byte:04x}").as_bytes()),
            _ => out.push(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{PRESETS, sample_event};

    fn edge(text: &str) -> Result<Template, TemplateError> {
        Template::compile(text, DataSource::EdgeApplications)
    }

    fn render(template: &Template, line: &str) -> String {
        String::from_utf8(template.render_line(line.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn compiles_to_one_compact_line_in_key_order() {
        let template =
            edge("{\n  \"z\": \"$host\",\n\t\"a b\" : [ \"$status\", 1 ] ,\"n\": null\n}").unwrap();
        assert_eq!(template.fields(), ["host", "status"]);
        let record = render(&template, r#"{"host":"x.com","status":404}"#);
        assert_eq!(record, r#"{"z":"x.com","a b":["404",1],"n":null}"#);
    }

    #[test]
    fn variables_mix_with_text_and_repeat() {
        let template =
            edge(r#"{"url":"$scheme://$host$request_uri","h":"$host","$host":"k"}"#).unwrap();
        assert_eq!(template.fields(), ["scheme", "host", "request_uri"]);
        let record = render(
            &template,
            r#"{"scheme":"https","host":"a.com","request_uri":"/p?q=1"}"#,
        );
        assert_eq!(
            record,
            r#"{"url":"https://a.com/p?q=1","h":"a.com","a.com":"k"}"#
        );
    }

    #[test]
    fn identifiers_are_whole_names() {
        let template = edge(r#"{"p":"$requestPath","i":"$request_id"}"#).unwrap();
        assert_eq!(template.fields(), ["requestPath", "request_id"]);
        assert_eq!(
            edge(r#"{"h":"$hostname"}"#).unwrap_err(),
            TemplateError::UnknownVariable {
                name: "hostname".into(),
                data_source: DataSource::EdgeApplications
            }
        );
    }

    #[test]
    fn unknown_variables_name_the_data_source() {
        let error = Template::compile(r#"{"a":"$foo"}"#, DataSource::WafEvents).unwrap_err();
        assert_eq!(error.to_string(), "unknown variable $foo for WAF Events");
        let error = Template::compile(r#"{"a":"$request_id"}"#, DataSource::WafEvents);
        assert!(matches!(error, Err(TemplateError::UnknownVariable { .. })));
        let error = edge(r#"{"a":"$BLOCK"}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown variable $BLOCK for Edge Applications"
        );
    }

    #[test]
    fn dollar_signs_that_are_not_variables_stay_literal() {
        let template = edge(r#"{"a":"US$ 5, $1, $","b":"\u0024host","c\\":"\\$host"}"#).unwrap();
        assert_eq!(template.fields(), ["host"]);
        let record = render(&template, r#"{"host":"h"}"#);
        assert_eq!(
            record,
            r#"{"a":"US$ 5, $1, $","b":"\u0024host","c\\":"\\h"}"#
        );
        let value: serde_json::Value = serde_json::from_str(&record).unwrap();
        assert_eq!(value["b"], "$host");
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let error = edge("{\n  \"a\": \"$host\",\n  \"b\": \n}").unwrap_err();
        assert_eq!(
            error,
            TemplateError::InvalidJson {
                line: 4,
                column: 1,
                message: "expected value".into()
            }
        );
        assert_eq!(
            error.to_string(),
            "invalid JSON at line 4, column 1: expected value"
        );
        assert_eq!(
            edge(r#"["$host"]"#).unwrap_err(),
            TemplateError::NotAnObject
        );
    }

    #[test]
    fn values_are_escaped_for_their_string() {
        let template =
            edge(r#"{"s":"$host","n":"$status","b":"$waf_block","z":"$state","m":"$asn","o":"$traceback","a":"$stream"}"#)
                .unwrap();
        let line = r#"{"host":"a\"b\\c\n\u0001\ud800","status":-1.5e3,"waf_block":true,
            "state":null,"traceback":{ "k" : [1, "x \"y\" \\ \ud800"] },"stream":[ ]}"#;
        let record = render(&template, line);
        assert_eq!(
            record,
            r#"{"s":"a\"b\\c\n\u0001\ufffd","n":"-1.5e3","b":"true","z":"-","m":"-","o":"{\"k\":[1,\"x \\\"y\\\" \\\\ \\ud800\"]}","a":"[]"}"#
        );
        let value: serde_json::Value = serde_json::from_str(&record).unwrap();
        assert_eq!(value["o"], r#"{"k":[1,"x \"y\" \\ \ud800"]}"#);
    }

    #[test]
    fn presets_render_sample_events_field_for_field() {
        for preset in PRESETS {
            let template = Template::compile(&preset.template_text(), preset.data_source).unwrap();
            assert_eq!(template.fields().len(), preset.variables().len());
            let line = sample_event(preset.data_source);
            let record = render(&template, &line);
            assert!(!record.contains('\n'));
            let rendered: serde_json::Value = serde_json::from_str(&record).unwrap();
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            for variable in preset.variables() {
                let expected = match &event[variable.name] {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                assert_eq!(rendered[variable.name], expected, "{}", variable.name);
            }
        }
    }
}
