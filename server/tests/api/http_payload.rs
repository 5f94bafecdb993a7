//! Standard HTTP POST payload options against the real receiver: payload format, log line
//! separator, max payload size (blocks seal before a POST would pass it) and compression.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::delivery::{HOST, event, http_stream, ingest, save_stream, setup};
use crate::helpers::{invalid_fields, poll};
use crate::receiver::{Received, Receiver};

const TEMPLATE: &str = r#"{"host": "$host", "id": "$request_id", "uri": "$request_uri"}"#;

/// Waits until the receiver's bodies, each taken apart by `records_of`, hold `count`
/// records; the requests.
async fn wait_for(
    receiver: &Receiver,
    count: usize,
    records_of: impl Fn(&Received) -> Vec<String>,
) -> Vec<Received> {
    poll(Duration::from_secs(20), || async {
        let accepted = receiver.accepted();
        let records: usize = accepted.iter().map(|r| records_of(r).len()).sum();
        (records >= count).then_some(accepted)
    })
    .await
    .unwrap_or_else(|| panic!("{count} records never arrived"))
}

fn array_items(request: &Received) -> Vec<String> {
    let array: Value = serde_json::from_str(&request.body)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}): {}", request.body));
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item.to_string())
        .collect()
}

#[tokio::test]
async fn a_json_array_payload_seals_blocks_within_its_max_size_and_goes_gzip_compressed() {
    let s = setup(2000, Duration::from_millis(300)).await;
    let receiver = Receiver::start().await;
    let mut stream = http_stream("Array", &receiver.url, s.domain_id, TEMPLATE);
    stream.endpoint.set("payload_format", "[$dataset]");
    stream.endpoint.set("log_line_separator", ",");
    stream.endpoint.set("max_payload_size", "1024");
    stream.endpoint.set("compression", "gzip");
    let id = save_stream(&s.owner, &stream).await;

    let events: Vec<String> = (0..120).map(|i| event(i, HOST)).collect();
    let (status, answer) = ingest(&s, "edge_applications", events.join("\n")).await;
    assert_eq!(
        (status, &answer["accepted"]),
        (200, &Value::from(120)),
        "{answer}"
    );

    let requests = wait_for(&receiver, 120, array_items).await;
    let mut ids = Vec::new();
    let mut block_ids = HashSet::new();
    for request in &requests {
        assert_eq!(request.headers["content-encoding"], "gzip");
        assert_eq!(request.headers["content-type"], "application/json");
        assert!(request.sent_bytes < request.body.len(), "compressed");
        assert!(
            request.body.len() <= 1024,
            "a payload of {} bytes passed the max payload size",
            request.body.len()
        );
        assert!(block_ids.insert(request.headers["x-block-id"].clone()));
        for item in array_items(request) {
            let item: Value = serde_json::from_str(&item).unwrap();
            ids.push(item["id"].as_str().unwrap().to_string());
        }
    }
    let expected: Vec<String> = (0..120).map(|i| format!("req-{i:06}")).collect();
    assert_eq!(ids, expected, "every record once, in order");
    // Sealed by size (all 120 came in one request): each block but the last is as full as
    // the size allows — the next block's first record would not have fitted.
    assert!(requests.len() >= 8, "{} requests", requests.len());
    for pair in requests.windows(2) {
        let next_first = array_items(&pair[1])[0].len();
        assert!(pair[0].body.len() + 1 + next_first > 1024);
    }

    // The options come back in the form as they were typed.
    let (_, form) = s
        .owner
        .call_json("get_stream", &[("id", &id.to_string())])
        .await;
    let values = &form["endpoint"]["values"];
    assert_eq!(values["payload_format"], "[$dataset]");
    assert_eq!(values["log_line_separator"], ",");
    assert_eq!(values["max_payload_size"], "1024");
    assert_eq!(values["compression"], "gzip");
}

#[tokio::test]
async fn zstd_compression_keeps_the_default_ndjson_payload() {
    let s = setup(50, Duration::from_millis(300)).await;
    let receiver = Receiver::start().await;
    let mut stream = http_stream("Zstd", &receiver.url, s.domain_id, TEMPLATE);
    stream.endpoint.set("log_line_separator", "\\r\\n");
    stream.endpoint.set("compression", "zstd");
    save_stream(&s.owner, &stream).await;

    let events: Vec<String> = (0..100).map(|i| event(i, HOST)).collect();
    let (status, _) = ingest(&s, "edge_applications", events.join("\n")).await;
    assert_eq!(status, 200);
    let lines = |r: &Received| r.body.split("\r\n").map(str::to_string).collect::<Vec<_>>();
    let requests = wait_for(&receiver, 100, lines).await;
    assert_eq!(requests.len(), 2, "blocks of 50 records");
    for request in &requests {
        assert_eq!(request.headers["content-encoding"], "zstd");
        assert_eq!(request.body.matches("\r\n").count(), 49);
        assert_eq!(request.body.matches('\n').count(), 49, "no bare newline");
        for line in lines(request) {
            let record: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(record["host"], HOST);
        }
    }
}

#[tokio::test]
async fn payload_options_are_checked_field_by_field() {
    let s = setup(2000, Duration::from_secs(60)).await;
    let receiver = Receiver::start().await;
    let mut stream = http_stream("Bad", &receiver.url, s.domain_id, TEMPLATE);
    stream.endpoint.set("payload_format", "[records]");
    stream.endpoint.set("log_line_separator", "\\x");
    stream.endpoint.set("max_payload_size", "100");
    stream.endpoint.set("compression", "brotli");
    let (status, body) = s.owner.send_stream("save_stream", &stream).await;
    assert_eq!(status, 422, "{body}");
    let errors = invalid_fields(&body);
    let errors: Vec<(&str, &str)> = errors
        .iter()
        .map(|(f, m)| (f.as_str(), m.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                "endpoint.payload_format",
                "Payload Format must contain $dataset (where the records go), e.g. [$dataset]"
            ),
            (
                "endpoint.log_line_separator",
                "Log Line Separator has an unknown escape \\x: use \\n, \\r, \\t or \\\\"
            ),
            (
                "endpoint.max_payload_size",
                "Max Payload Size must be 1024 to 1073741824 bytes, not 100"
            ),
            (
                "endpoint.compression",
                "Compression must be none, gzip or zstd"
            ),
        ]
    );
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    assert_eq!(list, serde_json::json!([]), "nothing saved");
}
