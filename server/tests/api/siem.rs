//! SIEM destinations. No Splunk, Elasticsearch, Datadog or QRadar runs here: each is tested
//! against a receiver in this file that checks the vendor's documented wire format and
//! answers its documented errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::endpoints::{self, EndpointForm};
use app::model::{CUSTOM_TEMPLATE, StreamForm};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::delivery::{
    HOST, event, holds_failed_blocks, ingest, save_stream, setup, wait_for_status,
};
use crate::helpers::poll;

const HEC_TOKEN: &str = "5b3a1c2e-hec-token-0123";

/// A Splunk HTTP Event Collector as its documentation describes it: `POST
/// /services/collector/event`, `Authorization: Splunk <token>`, a body of JSON event
/// envelopes (`time`, `host`, `source`, `sourcetype`, `index`, `event`); answers
/// `{"text","code"}`: 403 code 4 "Invalid token", 400 code 6 "Invalid data format", 503
/// code 9 "Server is busy" (`busy_first` times), 200 code 0 "Success".
#[derive(Clone, Default)]
struct Hec {
    events: Arc<Mutex<Vec<Value>>>,
    requests: Arc<Mutex<usize>>,
    busy_first: Arc<Mutex<usize>>,
}

impl Hec {
    async fn start(busy_first: usize) -> (Hec, String) {
        let hec = Hec::default();
        *hec.busy_first.lock().unwrap() = busy_first;
        let app = axum::Router::new()
            .route(
                "/services/collector/event",
                axum::routing::post(Hec::collect),
            )
            .with_state(hec.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (hec, url)
    }

    async fn collect(
        axum::extract::State(hec): axum::extract::State<Hec>,
        headers: HeaderMap,
        body: String,
    ) -> axum::response::Response {
        *hec.requests.lock().unwrap() += 1;
        let answer = |status: StatusCode, text: &str, code: u32| {
            (status, axum::Json(json!({"text": text, "code": code}))).into_response()
        };
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            None => return answer(StatusCode::UNAUTHORIZED, "Token is required", 2),
            Some(value) if value != format!("Splunk {HEC_TOKEN}") => {
                return answer(StatusCode::FORBIDDEN, "Invalid token", 4);
            }
            Some(_) => {}
        }
        {
            let mut busy = hec.busy_first.lock().unwrap();
            if *busy > 0 {
                *busy -= 1;
                return answer(StatusCode::SERVICE_UNAVAILABLE, "Server is busy", 9);
            }
        }
        let mut events = Vec::new();
        // HEC takes envelopes one after another (whitespace between them allowed).
        for envelope in serde_json::Deserializer::from_str(&body).into_iter::<Value>() {
            let Ok(envelope) = envelope else {
                return answer(StatusCode::BAD_REQUEST, "Invalid data format", 6);
            };
            let well_formed = envelope["time"].is_number()
                && envelope["host"].is_string()
                && envelope["source"].is_string()
                && envelope["sourcetype"].is_string()
                && !envelope["event"].is_null();
            if !well_formed {
                return answer(StatusCode::BAD_REQUEST, "Event field is required", 12);
            }
            events.push(envelope);
        }
        if events.is_empty() {
            return answer(StatusCode::BAD_REQUEST, "No data", 5);
        }
        hec.events.lock().unwrap().extend(events);
        answer(StatusCode::OK, "Success", 0)
    }
}

fn splunk_stream(url: &str, token: &str, domain_id: i64) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::splunk::TYPE);
    endpoint.set("url", url);
    endpoint.set("hec_token", token);
    StreamForm {
        name: "Splunk".into(),
        template: CUSTOM_TEMPLATE.into(),
        custom_template: r#"{"host":"$host","request_id":"$request_id","status":"$status"}"#.into(),
        domain_ids: vec![domain_id],
        endpoint,
        ..StreamForm::default()
    }
}

#[tokio::test]
async fn splunk_hec_gets_one_envelope_per_record_and_a_busy_collector_is_retried() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (hec, url) = Hec::start(1).await;
    save_stream(
        &s.owner,
        &splunk_stream(&format!("{url}?index=web"), HEC_TOKEN, s.domain_id),
    )
    .await;
    let body: Vec<String> = (0..3).map(|i| event(i, HOST)).collect();
    let (status, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200, "{answer}");

    let events = poll(Duration::from_secs(20), || async {
        let events = hec.events.lock().unwrap().clone();
        (events.len() >= 3).then_some(events)
    })
    .await
    .expect("three events reach the collector");
    assert_eq!(events.len(), 3);
    for (i, envelope) in events.iter().enumerate() {
        assert_eq!(envelope["index"], "web", "?index= goes into each envelope");
        assert_eq!(envelope["host"], HOST, "the record's host");
        assert_eq!(envelope["source"], "data-streaming");
        assert_eq!(envelope["sourcetype"], "_json");
        assert_eq!(
            envelope["event"],
            json!({"host": HOST, "request_id": format!("req-{i:06}"), "status": "200"})
        );
    }
    assert_eq!(
        *hec.requests.lock().unwrap(),
        2,
        "the busy answer (HEC code 9) was retried once"
    );
}

#[tokio::test]
async fn an_invalid_hec_token_is_a_visible_error_and_the_block_is_kept_aside() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (hec, url) = Hec::start(0).await;
    save_stream(&s.owner, &splunk_stream(&url, "not-the-token", s.domain_id)).await;
    let (status, _) = ingest(&s, "edge_applications", event(0, HOST)).await;
    assert_eq!(status, 200);
    let status = wait_for_status(&s, |status| !status["last_error"].is_null()).await;
    assert_eq!(
        status["last_error"], "HTTP 403 Forbidden: Invalid token (HEC code 4)",
        "{status}"
    );
    assert!(hec.events.lock().unwrap().is_empty());
    assert!(
        holds_failed_blocks(&s, 1).await,
        "the refused block waits for a redelivery, nothing lost"
    );
}

const ES_API_KEY: &str = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";

/// An Elasticsearch `_bulk` endpoint as documented: `POST /<index>/_bulk`,
/// `Authorization: ApiKey <key>`, `application/x-ndjson` action and document lines; keeps
/// documents by `_id` with `create` semantics (an existing id answers 409
/// `version_conflict_engine_exception`), and answers per-item errors in a 200: with
/// `reject_second_once`, the first request's second item 429
/// `es_rejected_execution_exception`; documents with a `"bad"` field 400
/// `mapper_parsing_exception`.
#[derive(Clone, Default)]
struct Bulk {
    docs: Arc<Mutex<std::collections::BTreeMap<String, Value>>>,
    requests: Arc<Mutex<usize>>,
    reject_second_once: Arc<Mutex<bool>>,
}

impl Bulk {
    async fn start() -> (Bulk, String) {
        let bulk = Bulk::default();
        let app = axum::Router::new()
            .route("/{index}/_bulk", axum::routing::post(Bulk::take))
            .with_state(bulk.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (bulk, url)
    }

    async fn take(
        axum::extract::State(bulk): axum::extract::State<Bulk>,
        axum::extract::Path(index): axum::extract::Path<String>,
        headers: HeaderMap,
        body: String,
    ) -> axum::response::Response {
        *bulk.requests.lock().unwrap() += 1;
        if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some(&format!("ApiKey {ES_API_KEY}"))
        {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": {"type": "security_exception", "reason": "unable to authenticate with provided credentials"}, "status": 401})),
            )
                .into_response();
        }
        assert_eq!(headers["content-type"], "application/x-ndjson");
        assert!(body.ends_with('\n'), "a _bulk body ends with a newline");
        let lines: Vec<&str> = body.lines().collect();
        let mut items = Vec::new();
        let mut errors = false;
        for (n, pair) in lines.chunks(2).enumerate() {
            let action: Value = serde_json::from_str(pair[0]).unwrap();
            let document: Value = serde_json::from_str(pair[1]).unwrap();
            let id = action["create"]["_id"]
                .as_str()
                .expect("a create with an _id")
                .to_string();
            let mut docs = bulk.docs.lock().unwrap();
            let mut reject = bulk.reject_second_once.lock().unwrap();
            let (status, error) = if n == 1 && *reject {
                *reject = false;
                (
                    429,
                    Some(
                        json!({"type": "es_rejected_execution_exception", "reason": "rejected execution"}),
                    ),
                )
            } else if document.get("bad").is_some() {
                (
                    400,
                    Some(
                        json!({"type": "mapper_parsing_exception", "reason": "failed to parse field [bad]"}),
                    ),
                )
            } else if docs.contains_key(&id) {
                (
                    409,
                    Some(
                        json!({"type": "version_conflict_engine_exception", "reason": "document already exists"}),
                    ),
                )
            } else {
                docs.insert(id.clone(), document);
                (201, None)
            };
            errors |= error.is_some();
            let mut item = json!({"_index": index, "_id": id, "status": status});
            if let Some(error) = error {
                item["error"] = error;
            }
            items.push(json!({ "create": item }));
        }
        axum::Json(json!({"took": 3, "errors": errors, "items": items})).into_response()
    }
}

fn elasticsearch_stream(url: &str, api_key: &str, domain_id: i64, template: &str) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::elasticsearch::TYPE);
    endpoint.set("url", url);
    endpoint.set("api_key", api_key);
    StreamForm {
        name: "Elasticsearch".into(),
        template: CUSTOM_TEMPLATE.into(),
        custom_template: template.into(),
        domain_ids: vec![domain_id],
        endpoint,
        ..StreamForm::default()
    }
}

#[tokio::test]
async fn elasticsearch_bulk_retries_items_rejected_for_load_without_duplicates() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (bulk, url) = Bulk::start().await;
    *bulk.reject_second_once.lock().unwrap() = true;
    let template = r#"{"host":"$host","request_id":"$request_id"}"#;
    save_stream(
        &s.owner,
        &elasticsearch_stream(
            &format!("{url}/logs-edge"),
            ES_API_KEY,
            s.domain_id,
            template,
        ),
    )
    .await;
    let body: Vec<String> = (0..3).map(|i| event(i, HOST)).collect();
    let (status, _) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200);
    // The first answer is a 200 with "errors": true (item 1: 429); the block is resent,
    // items 0 and 2 answer 409 (already indexed), item 1 is indexed.
    let docs = poll(Duration::from_secs(20), || async {
        let docs = bulk.docs.lock().unwrap().clone();
        (docs.len() >= 3).then_some(docs)
    })
    .await
    .expect("three documents indexed");
    assert_eq!(docs.len(), 3);
    assert_eq!(*bulk.requests.lock().unwrap(), 2, "one retry of the block");
    let block = docs
        .keys()
        .next()
        .unwrap()
        .rsplit_once('-')
        .unwrap()
        .0
        .to_string();
    for (n, (id, doc)) in docs.iter().enumerate() {
        assert_eq!(*id, format!("{block}-{n}"), "ids derive from the block");
        assert_eq!(doc["request_id"], format!("req-{n:06}"));
    }
    let status = wait_for_status(&s, |status| !status["last_success_at"].is_null()).await;
    assert!(
        status["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("es_rejected_execution_exception"),
        "{status}"
    );
}

#[tokio::test]
async fn elasticsearch_per_item_mapping_errors_refuse_the_block_naming_them() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (bulk, url) = Bulk::start().await;
    let template = r#"{"host":"$host","bad":"$status"}"#;
    save_stream(
        &s.owner,
        &elasticsearch_stream(
            &format!("{url}/logs-edge"),
            ES_API_KEY,
            s.domain_id,
            template,
        ),
    )
    .await;
    ingest(&s, "edge_applications", event(0, HOST)).await;
    let status = wait_for_status(&s, |status| !status["last_error"].is_null()).await;
    let error = status["last_error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "1 of 1 records refused; record 0: mapper_parsing_exception failed to parse field [bad]"
        ),
        "{error}"
    );
    assert!(bulk.docs.lock().unwrap().is_empty());
}

/// A QRadar HTTP Receiver log source as documented: every POST's body is one event.
#[derive(Clone, Default)]
struct HttpReceiver {
    events: Arc<Mutex<Vec<String>>>,
}

#[tokio::test]
async fn qradar_gets_one_event_per_record() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let receiver = HttpReceiver::default();
    let app = axum::Router::new()
        .fallback(
            |axum::extract::State(r): axum::extract::State<HttpReceiver>, body: String| async move {
                r.events.lock().unwrap().push(body);
                StatusCode::OK
            },
        )
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut endpoint = EndpointForm::new(&endpoints::qradar::TYPE);
    endpoint.set("url", &url);
    let stream = StreamForm {
        name: "QRadar".into(),
        template: CUSTOM_TEMPLATE.into(),
        custom_template: r#"{"host":"$host","request_id":"$request_id"}"#.into(),
        domain_ids: vec![s.domain_id],
        endpoint,
        ..StreamForm::default()
    };
    save_stream(&s.owner, &stream).await;
    let body: Vec<String> = (0..3).map(|i| event(i, HOST)).collect();
    ingest(&s, "edge_applications", body.join("\n")).await;
    let events = poll(Duration::from_secs(20), || async {
        let events = receiver.events.lock().unwrap().clone();
        (events.len() >= 3).then_some(events)
    })
    .await
    .expect("three events");
    let expected: Vec<String> = (0..3)
        .map(|i| json!({"host": HOST, "request_id": format!("req-{i:06}")}).to_string())
        .collect();
    assert_eq!(events, expected, "one request per record, in order");
}

const DD_API_KEY: &str = "0123456789abcdef0123456789abcdef";

/// Datadog's logs intake (API v2) as documented: `POST /api/v2/logs`, `DD-API-KEY`,
/// `Content-Type: application/json`, optionally `Content-Encoding: gzip`; a JSON array of
/// at most 1,000 log objects and at most `max_payload` bytes uncompressed (5 MB at
/// Datadog; smaller here so a block hits it). Answers 202 `{}`, and JSON:API errors: 403
/// for a wrong key, 413 over the payload limit, 400 for anything malformed.
#[derive(Clone, Default)]
struct Intake {
    logs: Arc<Mutex<Vec<Value>>>,
    too_large: Arc<Mutex<usize>>,
    max_payload: usize,
}

impl Intake {
    async fn start(max_payload: usize) -> (Intake, String) {
        let intake = Intake {
            max_payload,
            ..Intake::default()
        };
        let app = axum::Router::new()
            .route("/api/v2/logs", axum::routing::post(Intake::take))
            .with_state(intake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (intake, url)
    }

    async fn take(
        axum::extract::State(intake): axum::extract::State<Intake>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        let error = |status: StatusCode, title: &str, detail: &str| {
            let body =
                json!({"errors": [{"status": status.as_str(), "title": title, "detail": detail}]});
            (status, axum::Json(body)).into_response()
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if header("dd-api-key") != Some(DD_API_KEY) {
            return error(StatusCode::FORBIDDEN, "Forbidden", "Forbidden");
        }
        if header("content-type") != Some("application/json") {
            return error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "Content-Type must be application/json",
            );
        }
        let mut payload = Vec::new();
        if header("content-encoding") == Some("gzip") {
            use std::io::Read;
            if flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut payload)
                .is_err()
            {
                return error(StatusCode::BAD_REQUEST, "Bad Request", "invalid gzip");
            }
        } else {
            payload = body.to_vec();
        }
        if payload.len() > intake.max_payload {
            *intake.too_large.lock().unwrap() += 1;
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request Entity Too Large",
                "Payload too large",
            );
        }
        let logs: Vec<Value> = match serde_json::from_slice(&payload) {
            Ok(Value::Array(logs)) if logs.len() <= 1000 => logs,
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    "expected a JSON array of at most 1000 logs",
                );
            }
        };
        if !logs.iter().all(|log| log["message"].is_string()) {
            return error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "every log needs a message",
            );
        }
        intake.logs.lock().unwrap().extend(logs);
        (StatusCode::ACCEPTED, axum::Json(json!({}))).into_response()
    }
}

fn datadog_stream(site_url: &str, api_key: &str, domain_id: i64) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::datadog::TYPE);
    endpoint.set("site_url", site_url);
    endpoint.set("api_key", api_key);
    StreamForm {
        name: "Datadog".into(),
        template: CUSTOM_TEMPLATE.into(),
        custom_template: r#"{"host":"$host","request_id":"$request_id","status":"$status"}"#.into(),
        domain_ids: vec![domain_id],
        endpoint,
        ..StreamForm::default()
    }
}

#[tokio::test]
async fn datadog_gets_gzip_log_arrays_and_a_too_large_request_is_split_not_dropped() {
    let s = setup(2000, Duration::from_secs(1)).await;
    // Room for about two of this test's logs per request: the five-log request answers
    // 413 and is split until every part fits.
    let (intake, url) = Intake::start(400).await;
    save_stream(
        &s.owner,
        &datadog_stream(
            &format!("{url}?service=edge&ddtags=env:test"),
            DD_API_KEY,
            s.domain_id,
        ),
    )
    .await;
    let body: Vec<String> = (0..5).map(|i| event(i, HOST)).collect();
    let (status, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200, "{answer}");

    let logs = poll(Duration::from_secs(20), || async {
        let logs = intake.logs.lock().unwrap().clone();
        (logs.len() >= 5).then_some(logs)
    })
    .await
    .expect("five logs reach the intake");
    assert_eq!(logs.len(), 5, "each record once: {logs:?}");
    for (i, log) in logs.iter().enumerate() {
        assert_eq!(log["ddsource"], "data-streaming");
        assert_eq!(log["service"], "edge", "?service= on every log");
        assert_eq!(log["ddtags"], "env:test");
        assert_eq!(log["hostname"], HOST, "the record's host");
        let message: Value = serde_json::from_str(log["message"].as_str().unwrap()).unwrap();
        assert_eq!(
            message,
            json!({"host": HOST, "request_id": format!("req-{i:06}"), "status": "200"}),
            "the record is the message, in order"
        );
    }
    assert!(
        *intake.too_large.lock().unwrap() >= 1,
        "the intake answered 413"
    );
    let status = wait_for_status(&s, |status| !status["last_success_at"].is_null()).await;
    assert!(
        status["last_error"].is_null(),
        "a 413 is not a delivery error: {status}"
    );
}

#[tokio::test]
async fn a_wrong_datadog_api_key_is_a_visible_error_and_the_block_is_kept_aside() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (intake, url) = Intake::start(5_000_000).await;
    save_stream(&s.owner, &datadog_stream(&url, "not-the-key", s.domain_id)).await;
    ingest(&s, "edge_applications", event(0, HOST)).await;
    let status = wait_for_status(&s, |status| !status["last_error"].is_null()).await;
    assert_eq!(
        status["last_error"], "HTTP 403 Forbidden: Forbidden",
        "{status}"
    );
    assert!(intake.logs.lock().unwrap().is_empty());
    assert!(
        holds_failed_blocks(&s, 1).await,
        "the refused block waits for a redelivery"
    );
}
