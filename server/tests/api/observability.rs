//! What a user sees of delivery: the delivery log, the dashboard's counts, the endpoint
//! test, Prometheus metrics and readiness.

use std::time::Duration;

use app::model::endpoints::Pair;
use serde_json::Value;

use crate::delivery::{
    HOST, Setup, event, http_stream, ingest, save_stream, setup_on, sum, wait_for,
};
use crate::helpers::{PASSWORD, Storage};
use crate::receiver::Receiver;

const TEMPLATE: &str = r#"{"id": "$request_id", "host": "$host"}"#;
const METRICS_TOKEN: &str = "scrape-secret-0123456789";

async fn setup(storage: Storage) -> Setup {
    setup_on(storage, |s| {
        s.block_max_records = 10;
        s.block_max_age = Duration::from_millis(200);
        s.metrics_token = Some(METRICS_TOKEN.into());
    })
    .await
}

async fn delivery_log_and_dashboard(storage: Storage) {
    let s = setup(storage).await;
    let receiver = Receiver::start().await;
    receiver.fail_first(&[503, 503]);
    let id = save_stream(
        &s.owner,
        &http_stream("SIEM", &receiver.url, s.domain_id, TEMPLATE),
    )
    .await;
    let body: Vec<String> = (0..10).map(|i| event(i, HOST)).collect();
    let (status, _) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200);
    receiver.wait_for_records(10, Duration::from_secs(10)).await;
    let id = id.to_string();

    // Newest first: the delivery, then the two 503s.
    let log = wait_for(&s, "delivery_log", &[("id", &id), ("outcome", "")], |log| {
        log.as_array().unwrap().len() == 3
    })
    .await;
    let outcomes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["delivered", "failed", "failed"]);
    assert_eq!(log[0]["answer"], "HTTP 200 OK");
    assert!(
        log[1]["answer"].as_str().unwrap().starts_with("HTTP 503"),
        "{log}"
    );
    assert_eq!(log[0]["records"], 10);
    let block_id = log[0]["block_id"].as_str().unwrap();
    assert_eq!(receiver.accepted()[0].headers["x-block-id"], block_id);
    assert_eq!(log[1]["block_id"], block_id, "the same block, retried");

    let (_, failed) = s
        .owner
        .call_json("delivery_log", &[("id", &id), ("outcome", "failed")])
        .await;
    assert_eq!(failed.as_array().unwrap().len(), 2, "{failed}");
    let (status, bad) = s
        .owner
        .call_json("delivery_log", &[("id", &id), ("outcome", "lost")])
        .await;
    assert_eq!(status, 422);
    assert!(bad.to_string().contains("outcome"), "{bad}");

    let dashboard = wait_for(&s, "stream_dashboard", &[("id", &id)], |d| {
        sum(&d["last_hour"], "delivered") == 10
    })
    .await;
    assert_eq!(dashboard["name"], "SIEM");
    assert_eq!(dashboard["last_hour"].as_array().unwrap().len(), 60);
    assert_eq!(dashboard["last_day"].as_array().unwrap().len(), 48);
    assert_eq!(sum(&dashboard["last_hour"], "received"), 10);
    assert_eq!(sum(&dashboard["last_hour"], "failed"), 2);
    assert_eq!(sum(&dashboard["last_day"], "delivered"), 10);
    assert!(sum(&dashboard["last_hour"], "bytes") > 0);
    assert_eq!(dashboard["spool"]["blocks"], 0);
    assert_eq!(dashboard["status"]["records_delivered"], 10);

    // Another account sees none of it.
    crate::accounts::other_account(&s.app).await;
    let globex = s.app.sign_in("owner@globex.test", PASSWORD).await;
    let (status, _) = globex
        .call_json("delivery_log", &[("id", &id), ("outcome", "")])
        .await;
    assert_eq!(status, 404);
    let (status, _) = globex.call_json("stream_dashboard", &[("id", &id)]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn delivery_log_and_dashboard_on_sqlite() {
    delivery_log_and_dashboard(Storage::Sqlite).await;
}

#[tokio::test]
async fn delivery_log_and_dashboard_on_postgres() {
    delivery_log_and_dashboard(Storage::Postgres).await;
}

#[tokio::test]
async fn test_endpoint_sends_the_preview_block_and_shows_the_answer() {
    let s = setup(Storage::Sqlite).await;
    let receiver = Receiver::start().await;
    let mut form = http_stream("SIEM", &receiver.url, s.domain_id, TEMPLATE);
    // Unsaved form, endpoint answers 401: shown as answered, nothing kept.
    receiver.fail_first(&[401]);
    let (status, result) = s.owner.send_stream("test_endpoint", &form).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["delivered"], false);
    assert!(
        result["answer"].as_str().unwrap().starts_with("HTTP 401"),
        "{result}"
    );

    let (_, result) = s.owner.send_stream("test_endpoint", &form).await;
    assert_eq!(result["delivered"], true, "{result}");
    assert_eq!(result["answer"], "HTTP 200 OK");
    assert_eq!(result["records"], engine::SAMPLE_RECORDS);
    let template = form.compile_template().unwrap();
    let expected = String::from_utf8(engine::sample_block(&template).unwrap()).unwrap();
    let received = receiver.accepted();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].body, expected,
        "the preview's records, byte for byte"
    );
    assert_eq!(received[0].headers["x-api-key"], "receiver-secret");

    // A saved stream's blank secret header is its stored value.
    let id = save_stream(&s.owner, &form).await;
    form.id = Some(id);
    *form.endpoint.rows_mut("headers") = vec![Pair {
        name: "X-Api-Key".into(),
        value: String::new(),
    }];
    form.endpoint.stored.insert("headers.x-api-key".into());
    let (_, result) = s.owner.send_stream("test_endpoint", &form).await;
    assert_eq!(result["delivered"], true, "{result}");
    assert_eq!(
        receiver.accepted()[1].headers["x-api-key"],
        "receiver-secret"
    );

    // Bad settings: named, nothing sent.
    form.endpoint.set("url", "not a url");
    let (status, result) = s.owner.send_stream("test_endpoint", &form).await;
    assert_eq!(status, 422, "{result}");
    assert!(result.to_string().contains("endpoint.url"), "{result}");
    assert_eq!(receiver.accepted().len(), 2);
}

#[tokio::test]
async fn metrics_need_the_token_and_count_per_stream() {
    let s = setup(Storage::Sqlite).await;
    let receiver = Receiver::start().await;
    save_stream(
        &s.owner,
        &http_stream("SIEM", &receiver.url, s.domain_id, TEMPLATE),
    )
    .await;
    let mut body: Vec<String> = (0..20).map(|i| event(i, HOST)).collect();
    body.push(event(99, "elsewhere.test"));
    ingest(&s, "edge_applications", body.join("\n")).await;
    receiver.wait_for_records(20, Duration::from_secs(10)).await;

    let http = reqwest::Client::new();
    let url = format!("{}/metrics", s.app.address);
    let anonymous = http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = http.get(&url).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(
        !wrong.text().await.unwrap().contains("ds_"),
        "nothing leaks without the token"
    );

    let scraped = http
        .get(&url)
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics-text")
    );
    let text = scraped.text().await.unwrap();
    let stream = r#"{account_id="1",stream_id="1"}"#;
    for line in [
        format!("ds_stream_events_received_total{stream} 20"),
        format!("ds_stream_records_delivered_total{stream} 20"),
        format!("ds_stream_delivery_latency_seconds_count{stream} 2"),
        format!("ds_spool_blocks{stream} 0"),
        r#"ds_ingest_events_total{outcome="accepted"} 20"#.to_string(),
        r#"ds_ingest_events_total{outcome="unknown_host"} 1"#.to_string(),
        "ds_active_streams 1".to_string(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    assert!(text.ends_with("# EOF\n"));

    let ready = http
        .get(format!("{}/readyz", s.app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready\n");

    // A deleted stream's worker ends with the deletion, and its series leave /metrics.
    let (status, _) = s.owner.call_json("delete_stream", &[("id", "1")]).await;
    assert_eq!(status, 200);
    for attempt in 0..50 {
        s.owner
            .call_json("add_domain", &[("name", &format!("d{attempt}.acme.test"))])
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = crate::helpers::scrape(&s.app.address, METRICS_TOKEN).await;
        if !text.contains(r#"stream_id="1""#) {
            assert!(text.contains("ds_active_streams 0"), "{text}");
            return;
        }
    }
    panic!("the deleted stream stayed in /metrics");
}

#[tokio::test]
async fn metrics_are_off_without_a_configured_token() {
    let app = crate::helpers::spawn_app(Storage::Sqlite).await;
    let r = reqwest::Client::new()
        .get(format!("{}/metrics", app.address))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("--metrics-token"));
}

#[tokio::test]
async fn the_delivery_log_forgets_attempts_past_the_retention_of_their_account_only() {
    use app::backend::db::now_millis;
    use app::backend::telemetry::AttemptRecord;
    use app::model::{AttemptOutcome, DeliveryAttempt};

    let s = setup(Storage::Sqlite).await;
    let receiver = Receiver::start().await;
    let id = save_stream(
        &s.owner,
        &http_stream("SIEM", &receiver.url, s.domain_id, TEMPLATE),
    )
    .await;
    let (globex, _, globex_domain) = crate::accounts::other_account(&s.app).await;
    let globex_owner = s.app.sign_in("owner@globex.test", PASSWORD).await;
    let their_id = save_stream(
        &globex_owner,
        &http_stream("Theirs", &receiver.url, globex_domain, TEMPLATE),
    )
    .await;

    let now = now_millis();
    let attempt = |account_id, stream_id, at| AttemptRecord {
        account_id,
        stream_id,
        attempt: DeliveryAttempt {
            at,
            block_id: format!("block-{at}"),
            records: 1,
            outcome: AttemptOutcome::Delivered,
            answer: "HTTP 200 OK".into(),
            duration_ms: 1,
        },
    };
    let day = 86_400_000;
    s.app
        .db
        .add_delivery_attempts(&[
            attempt(1, id, now - 8 * day),
            attempt(1, id, now),
            attempt(globex, their_id, now - 8 * day),
        ])
        .await
        .unwrap();
    let removed = s
        .app
        .db
        .prune_telemetry(1, now - 7 * day, now - 7 * day)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let kept = s.app.db.delivery_attempts(1, id, None, 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].at, now);
    let theirs = s
        .app
        .db
        .delivery_attempts(globex, their_id, None, 10)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1, "another account's log is its own");
}

#[tokio::test]
async fn a_stream_whose_sink_cannot_be_built_shows_why_on_the_list_and_the_dashboard() {
    let s = setup(Storage::Sqlite).await;
    let receiver = Receiver::start().await;
    let mut form = http_stream("Broken", &receiver.url, s.domain_id, TEMPLATE);
    // A control character passes the form's rules but not the HTTP client's.
    form.endpoint.rows_mut("headers")[0].value = "bad\u{1}value".into();
    let id = save_stream(&s.owner, &form).await;

    // The save returned after the engine applied it: the error is there at once.
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    let status = &list[0]["status"];
    let error = status["engine_error"].as_str().unwrap_or_default();
    assert!(error.starts_with("Header X-Api-Key"), "{list}");
    let (_, dashboard) = s
        .owner
        .call_json("stream_dashboard", &[("id", &id.to_string())])
        .await;
    assert_eq!(dashboard["status"]["engine_error"], error, "{dashboard}");

    // Fixed: the stream runs and the error is gone.
    form.id = Some(id);
    form.endpoint.rows_mut("headers")[0].value = "good-value".into();
    save_stream(&s.owner, &form).await;
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    assert_eq!(list[0]["status"]["engine_error"], Value::Null, "{list}");
    let (status, _) = ingest(&s, "edge_applications", event(1, HOST)).await;
    assert_eq!(status, 200);
    receiver.wait_for_records(1, Duration::from_secs(10)).await;
}
