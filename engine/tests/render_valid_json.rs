//! Property tests: whatever the event values hold, every rendered record is valid JSON
//! (as strict as serde_json) and each value round-trips.

use engine::{DataSource, EventFields, FieldSet, Template};
use proptest::prelude::*;
use serde_json::{Value, json};

/// One piece of JSON string content, written in one of the ways JSON allows.
#[derive(Debug, Clone)]
enum Piece {
    /// The character itself, or a `\u00XX` escape where JSON requires one.
    Char(char),
    /// `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r` or `\t`.
    Short(usize),
    /// `\uXXXX` with any code unit, lone surrogates included, in either case.
    Unicode(u16, bool),
}

const SHORT_ESCAPES: [(char, char); 8] = [
    ('"', '"'),
    ('\\', '\\'),
    ('/', '/'),
    ('b', '\u{8}'),
    ('f', '\u{c}'),
    ('n', '\n'),
    ('r', '\r'),
    ('t', '\t'),
];

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => any::<char>().prop_map(Piece::Char),
        1 => prop::sample::select(vec!['"', '\\', '\u{0}', '\u{1f}', '\u{7f}', 'é', '😀', '$'])
            .prop_map(Piece::Char),
        1 => (0..SHORT_ESCAPES.len()).prop_map(Piece::Short),
        1 => (any::<u16>(), any::<bool>()).prop_map(|(unit, upper)| Piece::Unicode(unit, upper)),
        1 => (0xD800u16..0xE000, any::<bool>()).prop_map(|(unit, upper)| Piece::Unicode(unit, upper)),
    ]
}

/// The escaped content of a JSON string, and the text a strict parser should read from it
/// after rendering (lone surrogates become U+FFFD).
fn string_content() -> impl Strategy<Value = (String, String)> {
    prop::collection::vec(piece(), 0..24).prop_map(|pieces| {
        let mut escaped = String::new();
        let mut units: Vec<u16> = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Char(c) if c == '"' || c == '\\' || c < ' ' => {
                    escaped.push_str(&format!("\\u{:04x}", c as u32));
                    units.extend(c.encode_utf16(&mut [0; 2]).iter());
                }
                Piece::Char(c) => {
                    escaped.push(c);
                    units.extend(c.encode_utf16(&mut [0; 2]).iter());
                }
                Piece::Short(index) => {
                    let (letter, decoded) = SHORT_ESCAPES[index];
                    escaped.push('\\');
                    escaped.push(letter);
                    units.push(decoded as u16);
                }
                Piece::Unicode(unit, upper) => {
                    let hex = format!("{unit:04x}");
                    escaped.push_str("\\u");
                    escaped.push_str(&if upper { hex.to_uppercase() } else { hex });
                    units.push(unit);
                }
            }
        }
        (escaped, String::from_utf16_lossy(&units))
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn template() -> Template {
    Template::compile(
        r#"{ "h": "$host", "wrapped": "<$request_id>", "v": "$traceback", "x": "$asn" }"#,
        DataSource::EdgeApplications,
    )
    .unwrap()
}

fn render(template: &Template, line: &[u8]) -> Option<Value> {
    let mut wanted = FieldSet::routing();
    wanted.add_template(template);
    let event = EventFields::parse(line, &wanted).ok()?;
    let mut record = Vec::new();
    template.render(&event, &mut record);
    assert!(!record.contains(&b'\n'));
    let parsed = serde_json::from_slice(&record);
    Some(parsed.unwrap_or_else(|error| {
        panic!("{error}: {}", String::from_utf8_lossy(&record));
    }))
}

/// What a JSON value renders as inside a string.
fn rendered_text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_escaped_string_renders_valid_json_and_round_trips(
        (host, host_text) in string_content(),
        (id, id_text) in string_content(),
    ) {
        let line = format!(r#"{{"host":"{host}","request_id":"{id}"}}"#);
        let record = render(&template(), line.as_bytes()).expect("a valid event");
        prop_assert_eq!(&record["h"], &Value::String(host_text));
        prop_assert_eq!(&record["wrapped"], &Value::String(format!("<{id_text}>")));
        prop_assert_eq!(&record["x"], "-");
    }

    #[test]
    fn any_value_renders_as_its_text(
        host in json_value(),
        traceback in json_value(),
        pretty in any::<bool>(),
    ) {
        let event = json!({ "host": host, "traceback": traceback, "other": [1, {"a": null}] });
        let line = if pretty {
            serde_json::to_string_pretty(&event).unwrap().replace('\n', " ")
        } else {
            serde_json::to_string(&event).unwrap()
        };
        let record = render(&template(), line.as_bytes()).expect("a valid event");
        prop_assert_eq!(&record["h"], &Value::String(rendered_text(&host)));
        match &traceback {
            Value::Array(_) | Value::Object(_) => {
                // Exactly the compact text (comparing parsed values would trip on
                // serde_json's inexact float parsing).
                prop_assert_eq!(record["v"].as_str().unwrap(), traceback.to_string());
            }
            other => prop_assert_eq!(&record["v"], &Value::String(rendered_text(other))),
        }
    }

    #[test]
    fn any_accepted_line_renders_valid_json(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        at in 0usize..200,
        cut in 0usize..8,
    ) {
        // Corrupt a valid event: splice random bytes in at a random place.
        let base = r#"{"host":"a.com","request_id":"r\u00e9","asn":[1,{"b":"\u00e9"}],"traceback":"t"}"#;
        let at = at.min(base.len());
        let mut line = base.as_bytes()[..at].to_vec();
        line.extend_from_slice(&bytes);
        line.extend_from_slice(&base.as_bytes()[(at + cut).min(base.len())..]);
        let accepted_by_serde = serde_json::from_slice::<Value>(&line).is_ok_and(|v| v.is_object());
        let rendered = render(&template(), &line);
        prop_assert!(!accepted_by_serde || rendered.is_some());
    }
}
