//! Delivery that loses nothing: the spool across a SIGKILL, a full spool, blocks set aside
//! and redelivered once the settings are fixed.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::delivery::{HOST, event, http_stream, ingest, save_stream, setup};
use crate::receiver::Receiver;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary in demo mode (account, domain, token and a stream to `receiver_url`).
pub fn start_server(
    data_dir: &std::path::Path,
    port: u16,
    receiver_url: &str,
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_data-streaming"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--demo-receiver", receiver_url, "--demo-rate", "0"])
        .args(["--block-max-records", "100", "--block-max-age", "60s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The ingest token demo mode wrote to the data directory.
pub fn demo_token(data_dir: &std::path::Path) -> String {
    let credentials = std::fs::read_to_string(data_dir.join("demo-credentials.txt")).unwrap();
    credentials
        .lines()
        .find_map(|l| l.strip_prefix("token="))
        .unwrap()
        .to_string()
}

/// Posts Edge Applications events to the server on `port`; its JSON answer.
pub async fn ingest_to(client: &reqwest::Client, port: u16, token: &str, body: String) -> Value {
    client
        .post(format!("http://127.0.0.1:{port}/ingest/edge_applications"))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn wait_healthy(port: u16) {
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server on port {port} did not start");
}

#[tokio::test]
async fn sigkill_with_blocks_pending_then_restart_delivers_every_accepted_record() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // The receiver is down while events are accepted.
    let receiver_port = free_port();
    let receiver_url = format!("http://127.0.0.1:{receiver_port}/logs");
    let mut server = start_server(data_dir.path(), port, &receiver_url);
    wait_healthy(port).await;
    let token = demo_token(data_dir.path());

    let client = reqwest::Client::new();
    let mut accepted = 0;
    for batch in 0..5 {
        // 5 × 70 = 350 records: three sealed blocks of 100 and 50 in the open block.
        let body: Vec<String> = (0..70)
            .map(|i| event(batch * 70 + i, "shop.example.com"))
            .collect();
        let answer = ingest_to(&client, port, &token, body.join("\n")).await;
        accepted += answer["accepted"].as_u64().unwrap();
    }
    assert_eq!(accepted, 350);
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    let receiver = Receiver::start_on(receiver_port).await;
    let mut restarted = start_server(data_dir.path(), port, &receiver_url);
    wait_healthy(port).await;
    let records = receiver
        .wait_for_records(350, Duration::from_secs(30))
        .await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in &records {
        let value: Value = serde_json::from_str(record).unwrap();
        *seen
            .entry(value["request_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "after SIGKILL and restart: {} records, {} distinct, {duplicates} duplicates",
        records.len(),
        seen.len()
    );
    assert_eq!(seen.len(), 350, "every accepted record is delivered");
    restarted.start_kill().unwrap();
}

#[tokio::test]
async fn a_full_spool_refuses_ingest_with_503_and_accepts_nothing_of_that_request() {
    let s = crate::delivery::setup_with(10, Duration::from_millis(50), 20_000).await;
    let down = format!("http://127.0.0.1:{}/logs", free_port());
    save_stream(
        &s.owner,
        &http_stream("Down", &down, s.domain_id, r#"{"id": "$request_id"}"#),
    )
    .await;
    let mut refused = None;
    for batch in 0..200 {
        let body: Vec<String> = (0..50).map(|i| event(batch * 50 + i, HOST)).collect();
        let r = reqwest::Client::new()
            .post(format!("{}/ingest/edge_applications", s.app.address))
            .bearer_auth(&s.token)
            .body(body.join("\n"))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            refused = Some(
                r.headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string()),
            );
            break;
        }
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        refused,
        Some(Some("5".into())),
        "a full spool answers 503 with Retry-After"
    );
}

#[tokio::test]
async fn blocks_refused_for_good_are_kept_and_redelivered_once_fixed() {
    let s = setup(100, Duration::from_millis(200)).await;
    let receiver = Receiver::start().await;
    receiver.fail_first(&[401]);
    let id = save_stream(
        &s.owner,
        &http_stream(
            "Unauthorised",
            &receiver.url,
            s.domain_id,
            r#"{"id": "$request_id"}"#,
        ),
    )
    .await;
    let body: Vec<String> = (0..60).map(|i| event(i, HOST)).collect();
    ingest(&s, "edge_applications", body.join("\n")).await;

    let mut status = Value::Null;
    for _ in 0..50 {
        let (_, list) = s.owner.call_json("list_streams", &[]).await;
        status = list[0]["status"].clone();
        if status["blocks_failed"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["blocks_failed"], 1, "{status}");
    assert_eq!(status["last_error"], "HTTP 401 Unauthorized");
    assert!(receiver.records().is_empty());

    let (code, queued) = s
        .owner
        .call_json("redeliver_failed", &[("id", &id.to_string())])
        .await;
    assert_eq!(code, 200);
    assert_eq!(queued, 1);
    let records = receiver.wait_for_records(60, Duration::from_secs(10)).await;
    assert_eq!(records.len(), 60, "nothing lost once fixed");
}
