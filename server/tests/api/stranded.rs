//! Nothing accepted is stranded or miscounted: an inactive stream's blocks are delivered
//! across a restart, deleting a stream with blocks waiting asks first and then removes its
//! spool, set-aside blocks count the same after a restart, and a request whose append
//! fails for one stream is taken by none.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::delivery::{HOST, event, http_stream, ingest, save_stream, setup_on};
use crate::durability::{demo_token, free_port, ingest_to, start_server, wait_healthy};
use crate::helpers::{Browser, Storage, poll, scrape};
use crate::receiver::Receiver;

const TEMPLATE: &str = r#"{"request_id": "$request_id"}"#;

/// The demo account's signed-in console, on the server at `port`.
async fn demo_console(data_dir: &std::path::Path, port: u16) -> Browser {
    let credentials = std::fs::read_to_string(data_dir.join("demo-credentials.txt")).unwrap();
    let value = |key: &str| {
        credentials
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap()
            .to_string()
    };
    let browser = Browser {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
    };
    let (status, body) = browser
        .call_json(
            "sign_in",
            &[("email", &value("email")), ("password", &value("password"))],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
}

#[tokio::test]
async fn a_stream_deactivated_with_100_records_waiting_delivers_them_after_a_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // The endpoint is down while the records are accepted and the stream deactivated.
    let receiver_port = free_port();
    let receiver_url = format!("http://127.0.0.1:{receiver_port}/logs");
    let mut server = start_server(data_dir.path(), port, &receiver_url);
    wait_healthy(port).await;
    let token = demo_token(data_dir.path());
    let body: Vec<String> = (0..100).map(|i| event(i, "shop.example.com")).collect();
    let answer = ingest_to(&reqwest::Client::new(), port, &token, body.join("\n")).await;
    assert_eq!(answer["accepted"], 100, "{answer}");

    let console = demo_console(data_dir.path(), port).await;
    let (_, streams) = console.call_json("list_streams", &[]).await;
    let id = streams[0]["id"].as_i64().unwrap().to_string();
    let (status, body) = console
        .call_json("set_stream_active", &[("id", &id), ("active", "false")])
        .await;
    assert_eq!(status, 200, "{body}");
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    let receiver = Receiver::start_on(receiver_port).await;
    let mut restarted = start_server(data_dir.path(), port, &receiver_url);
    wait_healthy(port).await;
    let records = receiver
        .wait_for_records(100, Duration::from_secs(30))
        .await;
    let distinct: HashSet<String> = records
        .iter()
        .map(|r| {
            let value: Value = serde_json::from_str(r).unwrap();
            value["request_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        distinct.len(),
        100,
        "every record of the inactive stream arrived"
    );
    restarted.start_kill().unwrap();
}

#[tokio::test]
async fn deleting_a_stream_with_blocks_waiting_asks_first_then_removes_its_spool() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.block_max_records = 10;
    })
    .await;
    // Nothing listens there: the block waits.
    let down = format!("http://127.0.0.1:{}/logs", free_port());
    let id = save_stream(
        &s.owner,
        &http_stream("waiting", &down, s.domain_id, TEMPLATE),
    )
    .await;
    let body: Vec<String> = (0..10).map(|i| event(i, HOST)).collect();
    let (status, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200, "{answer}");
    let spool = s.app.settings.data_dir.join("spool").join(id.to_string());
    assert!(spool.exists());

    let (status, question) = s
        .owner
        .call_json("delete_stream", &[("id", &id.to_string())])
        .await;
    assert_eq!(status, 409, "{question}");
    assert!(
        question.to_string().contains("waiting for its endpoint"),
        "{question}"
    );
    let (_, streams) = s.owner.call_json("list_streams", &[]).await;
    assert_eq!(streams.as_array().unwrap().len(), 1, "not deleted yet");

    let (status, body) = s
        .owner
        .call_json(
            "delete_stream",
            &[("id", &id.to_string()), ("discard_waiting", "true")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    poll(Duration::from_secs(10), || async {
        (!spool.exists()).then_some(())
    })
    .await
    .expect("the deleted stream's spool is removed");
}

#[tokio::test]
async fn set_aside_blocks_count_the_same_after_a_restart() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.block_max_records = 10;
        settings.metrics_token = Some("stranded-scrape-0123456789".into());
    })
    .await;
    let receiver = Receiver::start().await;
    // The endpoint refuses the first block for good: it is set aside.
    receiver.fail_first(&[400]);
    save_stream(
        &s.owner,
        &http_stream("refused", &receiver.url, s.domain_id, TEMPLATE),
    )
    .await;
    let body: Vec<String> = (0..10).map(|i| event(i, HOST)).collect();
    ingest(&s, "edge_applications", body.join("\n")).await;

    let spool_bytes = |address: String| async move {
        let text = scrape(&address, "stranded-scrape-0123456789").await;
        let failed = text
            .lines()
            .find_map(|l| l.strip_prefix("ds_spool_failed_blocks{"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0);
        let bytes = text
            .lines()
            .find_map(|l| l.strip_prefix("ds_spool_bytes{"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok());
        (failed, bytes)
    };
    let before = poll(Duration::from_secs(20), || async {
        match spool_bytes(s.app.address.clone()).await {
            (1, Some(bytes)) => Some(bytes),
            _ => None,
        }
    })
    .await
    .expect("the refused block is set aside");
    assert!(before > 0, "the set-aside block counts toward the spool");

    let restarted = s.app.restart().await;
    let after = poll(Duration::from_secs(10), || async {
        match spool_bytes(restarted.address.clone()).await {
            (1, bytes) => bytes,
            _ => None,
        }
    })
    .await
    .expect("the restarted server sees the set-aside block");
    assert_eq!(after, before, "the same bytes count after the restart");
}

#[tokio::test]
async fn a_request_whose_append_fails_for_one_stream_is_taken_by_none() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.block_max_records = 1;
        settings.block_max_age = Duration::from_millis(200);
    })
    .await;
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    let first_id = save_stream(
        &s.owner,
        &http_stream("first", &first.url, s.domain_id, TEMPLATE),
    )
    .await;
    let second_id = save_stream(
        &s.owner,
        &http_stream("second", &second.url, s.domain_id, TEMPLATE),
    )
    .await;
    // Each stream's spool broken in turn (whichever the server writes first): a folder
    // where its open block goes makes that append fail.
    for (round, broken) in [second_id, first_id].into_iter().enumerate() {
        let open_block = s
            .app
            .settings
            .data_dir
            .join("spool")
            .join(broken.to_string())
            .join("open.ndjson");
        std::fs::create_dir(&open_block).unwrap();
        let (status, answer) = ingest(&s, "edge_applications", event(round, HOST)).await;
        assert_eq!(status, 500, "{answer}");
        std::fs::remove_dir(&open_block).unwrap();
    }
    // The retries of both requests are taken by both streams; a last event marks the end
    // (each stream delivers in order).
    for i in [0, 1, 99] {
        let (status, answer) = ingest(&s, "edge_applications", event(i, HOST)).await;
        assert_eq!(status, 200, "{answer}");
    }
    for receiver in [&first, &second] {
        let records = poll(Duration::from_secs(20), || async {
            let records = receiver.records();
            records
                .iter()
                .any(|r| r.contains("req-000099"))
                .then_some(records)
        })
        .await
        .expect("the last event arrived");
        let mut ids: Vec<String> = records
            .iter()
            .map(|r| {
                let value: Value = serde_json::from_str(r).unwrap();
                value["request_id"].as_str().unwrap().to_string()
            })
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            ["req-000000", "req-000001", "req-000099"],
            "each event once per stream, nothing of the failed attempts"
        );
    }
}
