//! The traffic generator's tests.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::tables::TLS_1_3_SETUPS;
use super::*;
use crate::event::{EventFields, FieldSet};

const EVENTS_PER_CHECK: usize = 5_000;

fn hosts() -> Vec<String> {
    ["shop.example.com", "api.example.com", "static.example.net"]
        .map(String::from)
        .to_vec()
}

/// `count` events of `source`, as lines.
fn batch(source: DataSource, seed: u64, count: usize) -> Vec<String> {
    let mut body = Vec::new();
    EventGenerator::new(source, hosts(), seed).write_batch(count, &mut body);
    let body = String::from_utf8(body).expect("UTF-8");
    let lines: Vec<String> = body.split_terminator('\n').map(String::from).collect();
    assert!(body.ends_with('\n'));
    assert_eq!(lines.len(), count);
    lines
}

fn object(line: &str) -> Map<String, Value> {
    match serde_json::from_str(line) {
        Ok(Value::Object(object)) => object,
        other => panic!("not a JSON object ({other:?}): {line}"),
    }
}

fn text<'a>(event: &'a Map<String, Value>, name: &str) -> &'a str {
    event[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not a string"))
}

#[test]
fn every_event_holds_exactly_the_variables_of_its_source() {
    for source in DataSource::ALL.into_iter().filter(|s| s.has_hosts()) {
        let expected: Vec<&str> = source.variables().iter().map(|v| v.name).collect();
        for line in batch(source, 7, EVENTS_PER_CHECK) {
            let event = object(&line);
            let mut keys: Vec<&str> = event.keys().map(String::as_str).collect();
            let mut wanted = expected.clone();
            keys.sort_unstable();
            wanted.sort_unstable();
            assert_eq!(keys, wanted, "{source}: {line}");
            assert!(hosts().iter().any(|host| host == text(&event, "host")));
        }
    }
}

#[test]
fn the_engine_scanner_accepts_every_event_and_finds_its_host() {
    for source in DataSource::ALL.into_iter().filter(|s| s.has_hosts()) {
        for line in batch(source, 11, EVENTS_PER_CHECK) {
            let fields = EventFields::parse(line.as_bytes(), &FieldSet::all())
                .unwrap_or_else(|error| panic!("{error}: {line}"));
            let host = fields.host().expect("a host");
            assert!(hosts().iter().any(|known| *known == host), "{host}");
        }
    }
}

#[test]
fn request_ids_are_unique_hex() {
    let lines = batch(DataSource::EdgeApplications, 3, EVENTS_PER_CHECK);
    let ids: HashSet<String> = lines
        .iter()
        .map(|line| text(&object(line), "request_id").to_owned())
        .collect();
    assert_eq!(ids.len(), lines.len());
    assert!(ids.iter().all(|id| {
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    }));
}

#[test]
fn the_same_seed_gives_the_same_events() {
    for source in DataSource::ALL.into_iter().filter(|s| s.has_hosts()) {
        assert_eq!(batch(source, 42, 1_000), batch(source, 42, 1_000));
        assert_ne!(batch(source, 42, 1_000), batch(source, 43, 1_000));
    }
}

#[test]
fn texts_that_need_escaping_come_out_escaped() {
    let hosts = vec![r#"odd"host\name.example"#.to_owned()];
    for source in DataSource::ALL.into_iter().filter(|s| s.has_hosts()) {
        let mut body = Vec::new();
        let mut generator = EventGenerator::new(source, hosts.clone(), 5);
        generator.write_batch(EVENTS_PER_CHECK, &mut body);
        let (mut quotes, mut backslashes) = (0, 0);
        for line in std::str::from_utf8(&body).unwrap().lines() {
            let event = object(line);
            assert_eq!(text(&event, "host"), hosts[0]);
            let varying = match source {
                DataSource::EdgeApplications => ["http_user_agent", "requestQuery"],
                DataSource::WafEvents => ["waf_args", "requestQuery"],
                DataSource::ActivityHistory => unreachable!("not generated"),
            };
            for name in varying {
                quotes += usize::from(text(&event, name).contains('"'));
                backslashes += usize::from(text(&event, name).contains('\\'));
            }
        }
        assert!(
            quotes > 0 && backslashes > 0,
            "{source}: {quotes} {backslashes}"
        );
    }
}

#[test]
fn edge_application_values_hang_together() {
    let lines = batch(DataSource::EdgeApplications, 9, EVENTS_PER_CHECK);
    let mut statuses: Vec<u64> = Vec::new();
    let (mut failovers, mut redirects, mut blocked, mut bytes) = (0, 0, 0, 0);
    let mut previous_time = String::new();
    for line in &lines {
        bytes += line.len();
        let event = object(line);
        let (path, query) = (text(&event, "requestPath"), text(&event, "requestQuery"));
        let uri = match query {
            "-" => path.to_owned(),
            query => format!("{path}?{query}"),
        };
        assert_eq!(text(&event, "request_uri"), uri);
        let status = event["status"].as_u64().expect("a numeric status");
        statuses.push(status);
        assert!(event["bytes_sent"].is_u64() && event["request_length"].is_u64());

        let time = text(&event, "time");
        assert_eq!(
            (time.len(), &time[10..11], &time[19..]),
            (20, "T", "Z"),
            "{time}"
        );
        assert!(*time >= *previous_time, "{time} after {previous_time}");
        previous_time = time.to_owned();

        let upstream_status = text(&event, "upstream_status");
        failovers += usize::from(upstream_status.contains(", "));
        redirects += usize::from(upstream_status.contains(" : "));
        for name in [
            "upstream_addr",
            "upstream_response_time",
            "upstream_bytes_sent",
        ] {
            let separators =
                |value: &str| value.matches(", ").count() + value.matches(" : ").count();
            assert_eq!(
                separators(text(&event, name)),
                separators(upstream_status),
                "{line}"
            );
        }
        if text(&event, "upstream_cache_status") == "HIT" {
            assert_eq!(upstream_status, "-");
        }

        let is_blocked = text(&event, "waf_block") == "1";
        blocked += usize::from(is_blocked);
        assert_eq!(is_blocked, text(&event, "waf_attack_action") == "$BLOCK");
        assert_eq!(is_blocked, text(&event, "waf_headers") != "-");
        if is_blocked {
            assert_eq!(status, 403);
            assert!(["SQL", "XSS", "TRAVERSAL"].contains(&text(&event, "waf_attack_family")));
        } else if text(&event, "waf_attack_action") == "$PASS" {
            assert_eq!(text(&event, "waf_attack_family"), "-");
        }
        if text(&event, "scheme") == "http" {
            assert_eq!((status, text(&event, "ssl_protocol")), (301, "-"));
        } else {
            assert_eq!(text(&event, "ssl_server_name"), text(&event, "host"));
        }
    }
    let share = |status: u64| statuses.iter().filter(|&&s| s == status).count();
    assert!(share(200) > lines.len() * 3 / 4, "{} of 200", share(200));
    for status in [304, 404, 500, 502, 403] {
        assert!(share(status) > 0, "no {status}");
    }
    assert!(failovers > 0 && redirects > 0 && blocked > 0);
    let average = bytes / lines.len();
    assert!(
        (1_300..1_600).contains(&average),
        "{average} bytes per event"
    );
}

#[test]
fn waf_events_are_detections() {
    for line in batch(DataSource::WafEvents, 13, EVENTS_PER_CHECK) {
        let event = object(&line);
        let blocked = text(&event, "blocked") == "1";
        assert_eq!(blocked, text(&event, "waf_attack_action") == "$BLOCK");
        assert_eq!(blocked, text(&event, "headers") != "-");
        assert_eq!(text(&event, "waf_learning") == "1", !blocked);
        assert!(["SQL", "XSS", "TRAVERSAL"].contains(&text(&event, "waf_attack_family")));
        assert_eq!(text(&event, "waf_uri"), text(&event, "requestPath"));
        assert_eq!(text(&event, "waf_server"), text(&event, "host"));
        let time = text(&event, "time");
        assert_eq!(
            (time.len(), &time[19..20], &time[23..]),
            (24, ".", "Z"),
            "{time}"
        );
    }
}

#[test]
fn blocked_headers_are_base64_of_the_request_headers() {
    // The catalogue's WAF sample event carries these headers.
    let sample = object(&crate::catalog::sample_event(DataSource::WafEvents));
    let mut out = Vec::new();
    let host = Host {
        name: "shop.example.com".into(),
        json: "shop.example.com".into(),
        configuration: 1,
    };
    let user_agent = ATTACKS[0].user_agent;
    put_blocked_headers(
        &mut Vec::new(),
        &host,
        user_agent,
        WafAction::Block,
        &mut out,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("\"{}\"", text(&sample, "headers"))
    );

    for (raw, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ] {
        let mut out = Vec::new();
        put_base64(&mut out, raw.as_bytes());
        assert_eq!(out, encoded.as_bytes());
    }
}

#[test]
fn the_clock_writes_utc_dates() {
    let formatted = |unix_millis: u64, precision| {
        let mut out = Vec::new();
        Clock::new(unix_millis).put_quoted(&mut out, precision);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        formatted(0, TimePrecision::Seconds),
        r#""1970-01-01T00:00:00Z""#
    );
    assert_eq!(
        formatted(951_782_400_000, TimePrecision::Seconds),
        r#""2000-02-29T00:00:00Z""#
    );
    assert_eq!(
        formatted(4_102_444_800_000, TimePrecision::Seconds),
        r#""2100-01-01T00:00:00Z""#
    );
    assert_eq!(
        formatted(
            DEFAULT_START_UNIX_MILLIS + 86_399_999,
            TimePrecision::Millis
        ),
        r#""2026-11-15T11:59:59.999Z""#
    );
    let mut clock = Clock::new(DEFAULT_START_UNIX_MILLIS - 1);
    clock.advance(1);
    let mut out = Vec::new();
    clock.put_quoted(&mut out, TimePrecision::Millis);
    assert_eq!(out, br#""2026-11-14T12:00:00.000Z""#);

    let mut generator =
        EventGenerator::new(DataSource::WafEvents, hosts(), 1).starting_at(951_782_400_000);
    let mut out = Vec::new();
    generator.write_event(&mut out);
    assert!(
        text(&object(std::str::from_utf8(&out).unwrap()), "time")
            .starts_with("2000-02-29T00:00:00.")
    );
}

#[test]
fn tables_written_as_they_are_need_no_escaping() {
    let mut texts: Vec<&str> = REFERRERS.iter().chain(ORIGINS).copied().collect();
    for geo in GEOS {
        texts.extend([geo.country, geo.state, geo.asn]);
    }
    for page in PAGES {
        texts.extend([page.path, page.content_type]);
    }
    for attack in ATTACKS {
        texts.extend([attack.family, attack.method, attack.path, attack.score]);
    }
    texts.extend(EDGES.iter().flat_map(|edge| [edge.address, edge.stream]));
    texts.extend(TLS_SETUPS.iter().flat_map(|tls| [tls.protocol, tls.cipher]));
    for text in texts {
        assert_eq!(&*json_escaped(text), text);
    }
    assert!(
        TLS_SETUPS[..TLS_1_3_SETUPS]
            .iter()
            .all(|tls| tls.protocol == "TLSv1.3")
    );
}
