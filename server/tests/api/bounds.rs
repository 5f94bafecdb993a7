//! Work per request and per account is bounded: each refusal is a 4xx naming its setting,
//! and nothing already accepted is lost.

use std::time::Duration;

use app::model::endpoints::Pair;
use serde_json::{Value, json};

use crate::delivery::{HOST, event, http_stream, ingest, save_stream, setup_on, wait_for};
use crate::helpers::Storage;
use crate::receiver::Receiver;

fn big_event(i: usize, uri_len: usize) -> String {
    json!({"host": HOST, "request_id": format!("req-{i:06}"), "request_uri": "u".repeat(uri_len)})
        .to_string()
}

#[tokio::test]
async fn a_repeating_template_cannot_turn_a_small_request_into_a_huge_one() {
    // Default bounds. Today's worst case: a 64 KiB template naming one variable thousands
    // of times, and a 100 KB request.
    let s = setup_on(Storage::Sqlite, |_| {}).await;
    let receiver = Receiver::start().await;
    let repeated = vec![r#""$request_uri""#; 4000].join(",");
    let template = format!(r#"{{"uris": [{repeated}]}}"#);
    assert!(template.len() < 64 * 1024);
    save_stream(
        &s.owner,
        &http_stream("Amplifier", &receiver.url, s.domain_id, &template),
    )
    .await;
    let body: Vec<String> = (0..100).map(|i| big_event(i, 1000)).collect();
    let body = body.join("\n");
    assert!(body.len() < 110_000);
    let (code, answer) = ingest(&s, "edge_applications", body).await;
    // Each record would be ~4 MB: every line is rejected, nothing is allocated for them.
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["accepted"], 0, "{answer}");
    assert_eq!(answer["rejected_count"], 100);
    assert_eq!(
        answer["rejected"][0]["reason"],
        format!(
            "its record for stream {} would be larger than 1048576 bytes (--max-record-bytes)",
            answer_stream_id(&s).await
        )
    );
}

async fn answer_stream_id(s: &crate::delivery::Setup) -> i64 {
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    list[0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn records_and_requests_are_bounded_and_blocks_seal_by_bytes() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.max_record_bytes = 2048;
        settings.max_rendered_bytes = 64 * 1024;
        settings.block_max_bytes = 4096;
        settings.block_max_age = Duration::from_millis(300);
    })
    .await;
    let receiver = Receiver::start().await;
    let template = r#"{"id": "$request_id", "uri": "$request_uri"}"#;
    save_stream(
        &s.owner,
        &http_stream("Bounded", &receiver.url, s.domain_id, template),
    )
    .await;

    // One record too large: that line is rejected, the others are taken.
    let body = [big_event(0, 100), big_event(1, 3000), big_event(2, 100)].join("\n");
    let (code, answer) = ingest(&s, "edge_applications", body).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(answer["rejected"][0]["line"], 2);
    assert!(
        answer["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .ends_with("would be larger than 2048 bytes (--max-record-bytes)"),
        "{answer}"
    );

    // More than 64 KiB rendered in one request: refused whole (413), nothing taken.
    let body: Vec<String> = (0..100).map(|i| big_event(100 + i, 1000)).collect();
    let (code, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(code, 413, "{answer}");
    assert_eq!(
        answer["error"],
        "this request's records would be more than 65536 bytes rendered (--max-rendered-bytes): send fewer events per request"
    );

    // Blocks seal before 4096 bytes: ~1 KB records, at most 3 per block.
    let body: Vec<String> = (0..20).map(|i| big_event(200 + i, 1000)).collect();
    let (code, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!((code, answer["accepted"].as_i64()), (200, Some(20)));
    let records = receiver.wait_for_records(22, Duration::from_secs(20)).await;
    assert_eq!(records.len(), 22, "every accepted record, once");
    for block in receiver.accepted() {
        assert!(
            block.body.len() <= 4096,
            "a block of {} bytes",
            block.body.len()
        );
    }
    let ids: Vec<String> = records
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        !ids.contains(&"req-000001".to_string()),
        "the rejected line was not sent"
    );
    assert!(
        !ids.iter().any(|id| id.starts_with("req-0001")),
        "the refused request was not taken"
    );
}

#[tokio::test]
async fn an_account_cannot_create_more_than_its_bounds() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.max_streams = 2;
        settings.max_domains = 2;
        settings.max_ingest_tokens = 2;
        settings.max_headers = 2;
        settings.max_template_bytes = 1024;
    })
    .await;
    let url = "http://127.0.0.1:9/in";
    // Template size.
    let large = format!(r#"{{"id": "$request_id", "pad": "{}"}}"#, "x".repeat(1024));
    let (code, answer) = s
        .owner
        .send_stream(
            "save_stream",
            &http_stream("Large", url, s.domain_id, &large),
        )
        .await;
    assert_eq!(code, 422, "{answer}");
    assert_eq!(
        answer["InvalidFields"][0],
        json!({"field": "custom_template", "message": format!("Data Set: {} bytes is more than the 1024 bytes the server allows (--max-template-bytes)", large.len())})
    );
    // Custom headers per stream.
    let mut headers = http_stream("Headers", url, s.domain_id, r#"{"id": "$request_id"}"#);
    for name in ["X-Two", "X-Three"] {
        headers.endpoint.rows_mut("headers").push(Pair {
            name: name.into(),
            value: "v".into(),
        });
    }
    let (code, answer) = s.owner.send_stream("save_stream", &headers).await;
    assert_eq!(code, 422, "{answer}");
    assert_eq!(
        answer["InvalidFields"][0]["message"],
        "Custom Headers: 3 is more than the 2 the server allows (--max-headers)"
    );
    // Streams per account.
    for name in ["One", "Two"] {
        save_stream(
            &s.owner,
            &http_stream(name, url, s.domain_id, r#"{"id": "$request_id"}"#),
        )
        .await;
    }
    let (code, answer) = s
        .owner
        .send_stream(
            "save_stream",
            &http_stream("Three", url, s.domain_id, r#"{"id": "$request_id"}"#),
        )
        .await;
    assert_eq!(code, 409, "{answer}");
    assert_eq!(
        answer["Conflict"],
        "This account has 2 streams, the most the server allows (--max-streams)"
    );
    // Domains and ingest tokens (the setup made one of each).
    let (code, _) = s
        .owner
        .call_json("add_domain", &[("name", "two.acme.test")])
        .await;
    assert_eq!(code, 200);
    let (code, answer) = s
        .owner
        .call_json("add_domain", &[("name", "three.acme.test")])
        .await;
    assert_eq!(code, 409, "{answer}");
    assert_eq!(
        answer["Conflict"],
        "This account has 2 domains, the most the server allows (--max-domains)"
    );
    let (code, _) = s
        .owner
        .call_json("create_ingest_token", &[("name", "two")])
        .await;
    assert_eq!(code, 200);
    let (code, answer) = s
        .owner
        .call_json("create_ingest_token", &[("name", "three")])
        .await;
    assert_eq!(code, 409, "{answer}");
    assert_eq!(
        answer["Conflict"],
        "This account has 2 ingest tokens, the most the server allows (--max-ingest-tokens)"
    );
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "nothing refused was saved"
    );
}

#[tokio::test]
async fn an_account_spool_limit_over_all_its_streams_refuses_with_429() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.account_spool_max_bytes = 8 * 1024;
        settings.block_max_records = 10;
    })
    .await;
    // Two streams to an endpoint that is down: each spool alone stays under the
    // per-stream limit, together they pass the account's.
    let down = "http://127.0.0.1:9/in";
    for name in ["First", "Second"] {
        save_stream(
            &s.owner,
            &http_stream(
                name,
                down,
                s.domain_id,
                r#"{"id": "$request_id", "uri": "$request_uri"}"#,
            ),
        )
        .await;
    }
    let mut accepted = 0;
    let mut refused = None;
    for round in 0..20 {
        let body: Vec<String> = (0..10).map(|i| big_event(round * 10 + i, 200)).collect();
        let (code, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
        if code == 429 {
            refused = Some(answer);
            break;
        }
        assert_eq!(code, 200, "{answer}");
        accepted += answer["accepted"].as_i64().unwrap();
    }
    let refused = refused.expect("the account's spool limit was reached");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("the most the server allows (--account-spool-max-bytes 8192)"),
        "{refused}"
    );
    assert!(accepted > 0 && accepted < 200, "{accepted}");
    // What was accepted waits in the spools, counted per stream.
    let id = {
        let (_, list) = s.owner.call_json("list_streams", &[]).await;
        list[0]["id"].as_i64().unwrap().to_string()
    };
    wait_for(&s, "stream_dashboard", &[("id", &id)], |d| {
        d["spool"]["bytes"].as_i64().unwrap_or(0) > 0
    })
    .await;
}

#[tokio::test]
async fn ingest_answers_503_below_the_free_disk_floor() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.min_free_disk = u64::MAX
    })
    .await;
    let (code, answer) = ingest(&s, "edge_applications", event(1, HOST)).await;
    assert_eq!(code, 503, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("below --min-free-disk"),
        "{answer}"
    );
}
