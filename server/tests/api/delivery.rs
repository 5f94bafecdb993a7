//! The engine end to end: ingest API → routing → templates → blocks → a real HTTP receiver.

use std::collections::HashSet;
use std::time::Duration;

use app::model::endpoints::{self, EndpointForm, Pair};
use app::model::{CUSTOM_TEMPLATE, StreamForm};
use serde_json::{Value, json};

use server::settings::Settings;

use crate::helpers::{Browser, Storage, TestApp, poll, spawn_app_with};
use crate::receiver::Receiver;

pub const HOST: &str = "shop.acme.test";

pub struct Setup {
    pub app: TestApp,
    pub owner: Browser,
    pub token: String,
    pub domain_id: i64,
}

pub async fn setup(max_records: u32, max_age: Duration) -> Setup {
    setup_with(max_records, max_age, 1 << 30).await
}

pub async fn setup_with(max_records: u32, max_age: Duration, spool_max_bytes: u64) -> Setup {
    setup_on(Storage::Sqlite, |s| {
        s.block_max_records = max_records;
        s.block_max_age = max_age;
        s.spool_max_bytes = spool_max_bytes;
    })
    .await
}

/// An owner with a domain ([`HOST`]) and an ingest token, on `storage`.
pub async fn setup_on(storage: Storage, adjust: impl FnOnce(&mut Settings)) -> Setup {
    let app = spawn_app_with(storage, |s| {
        s.ingest_max_body = 4 * 1024 * 1024;
        adjust(s);
    })
    .await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let (_, domain) = owner.call_json("add_domain", &[("name", HOST)]).await;
    let (status, created) = owner
        .call_json("create_ingest_token", &[("name", "edge")])
        .await;
    assert_eq!(status, 200, "{created}");
    Setup {
        token: created["token"].as_str().unwrap().to_string(),
        domain_id: domain["id"].as_i64().unwrap(),
        app,
        owner,
    }
}

pub fn http_stream(name: &str, url: &str, domain_id: i64, template: &str) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::http::TYPE);
    endpoint.set("url", url);
    endpoint.rows_mut("headers").push(Pair {
        name: "X-Api-Key".into(),
        value: "receiver-secret".into(),
    });
    StreamForm {
        name: name.into(),
        template: CUSTOM_TEMPLATE.into(),
        custom_template: template.into(),
        domain_ids: vec![domain_id],
        endpoint,
        ..StreamForm::default()
    }
}

pub async fn save_stream(owner: &Browser, stream: &StreamForm) -> i64 {
    let (status, body) = owner.send_stream("save_stream", stream).await;
    assert_eq!(status, 200, "{body}");
    body.as_i64().unwrap()
}

pub fn event(i: usize, host: &str) -> String {
    json!({"host": host, "request_id": format!("req-{i:06}"), "status": 200, "request_uri": format!("/p?i={i}")})
        .to_string()
}

pub async fn ingest(setup: &Setup, source: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/ingest/{source}", setup.app.address))
        .bearer_auth(&setup.token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Polls `function(id, …)` until `done` holds (the engine writes its counts every 2 s).
pub async fn wait_for(
    s: &Setup,
    function: &str,
    form: &[(&str, &str)],
    done: impl Fn(&Value) -> bool,
) -> Value {
    poll(Duration::from_secs(10), || async {
        let (status, body) = s.owner.call_json(function, form).await;
        assert_eq!(status, 200, "{function}: {body}");
        done(&body).then_some(body)
    })
    .await
    .unwrap_or_else(|| panic!("{function} never showed what was expected"))
}

/// Polls the stream list until the first stream's status satisfies `done`; that status.
pub async fn wait_for_status(s: &Setup, done: impl Fn(&Value) -> bool) -> Value {
    poll(Duration::from_secs(30), || async {
        let (_, list) = s.owner.call_json("list_streams", &[]).await;
        let status = list[0]["status"].clone();
        done(&status).then_some(status)
    })
    .await
    .unwrap_or_else(|| panic!("the stream's status never showed what was expected"))
}

/// Whether the first stream's spool comes to hold `count` refused blocks, kept for a
/// redelivery (nothing lost).
pub async fn holds_failed_blocks(s: &Setup, count: u64) -> bool {
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    let id = list[0]["id"].as_i64().unwrap().to_string();
    poll(Duration::from_secs(10), || async {
        let (_, dashboard) = s.owner.call_json("stream_dashboard", &[("id", &id)]).await;
        (dashboard["spool"]["failed_blocks"].as_u64()? == count).then_some(())
    })
    .await
    .is_some()
}

pub fn sum(points: &Value, field: &str) -> i64 {
    points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[field].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn exactly_the_expected_records_arrive_in_blocks() {
    let s = setup(100, Duration::from_millis(500)).await;
    let receiver = Receiver::start().await;
    let template =
        r#"{"host": "$host", "id": "$request_id", "status": "$status", "ua": "$http_user_agent"}"#;
    save_stream(
        &s.owner,
        &http_stream("SIEM", &receiver.url, s.domain_id, template),
    )
    .await;

    let mut body: Vec<String> = (0..250).map(|i| event(i, HOST)).collect();
    body.insert(10, "not json".into());
    body.insert(20, event(999_999, "other.example.com"));
    body.insert(30, r#"{"request_id":"no-host"}"#.into());
    let (status, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["accepted"], 250, "{answer}");
    assert_eq!(answer["unknown_host"], 1);
    assert_eq!(answer["rejected_count"], 2);
    assert_eq!(answer["rejected"][0]["line"], 11);
    assert_eq!(answer["rejected"][1]["line"], 31);
    assert_eq!(answer["rejected"][1]["reason"], "the event has no host");

    let records = receiver
        .wait_for_records(250, Duration::from_secs(10))
        .await;
    assert_eq!(records.len(), 250);
    for (i, record) in records.iter().enumerate() {
        let value: Value = serde_json::from_str(record).unwrap();
        assert_eq!(
            value,
            json!({"host": HOST, "id": format!("req-{i:06}"), "status": "200", "ua": "-"})
        );
    }
    let blocks = receiver.accepted();
    let sizes: Vec<usize> = blocks.iter().map(|b| b.body.split('\n').count()).collect();
    assert_eq!(
        sizes,
        [100, 100, 50],
        "two full blocks, then the rest after 500 ms"
    );
    let mut block_ids = HashSet::new();
    for block in &blocks {
        assert!(!block.body.ends_with('\n') && !block.body.contains("\n\n"));
        assert_eq!(block.headers["x-api-key"], "receiver-secret");
        assert_eq!(block.headers["content-type"], "application/x-ndjson");
        assert!(block_ids.insert(block.headers["x-block-id"].to_str().unwrap().to_string()));
    }
}

#[tokio::test]
async fn ingest_refuses_bad_tokens_and_oversized_bodies() {
    let s = setup(2000, Duration::from_secs(60)).await;
    let r = reqwest::Client::new()
        .post(format!("{}/ingest/edge_applications", s.app.address))
        .bearer_auth("dsi_not-a-token")
        .body(event(1, HOST))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, _) = ingest(&s, "edge_applications", "x".repeat(5 * 1024 * 1024)).await;
    assert_eq!(status, 413);
    let (status, _) = ingest(&s, "no_such_source", event(1, HOST)).await;
    assert_eq!(status, 404);
    // A revoked token is refused at once.
    let (_, tokens) = s.owner.call_json("list_ingest_tokens", &[]).await;
    let id = tokens[0]["id"].as_i64().unwrap().to_string();
    s.owner
        .call_json("revoke_ingest_token", &[("id", &id)])
        .await;
    let (status, _) = ingest(&s, "edge_applications", event(1, HOST)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn sampling_ten_percent_of_100000_events() {
    let s = setup(2000, Duration::from_millis(300)).await;
    let receiver = Receiver::start().await;
    let mut stream = http_stream(
        "Sampled",
        &receiver.url,
        s.domain_id,
        r#"{"id": "$request_id"}"#,
    );
    stream.all_domains = true;
    stream.domain_ids.clear();
    stream.sampling = "10".into();
    let id = save_stream(&s.owner, &stream).await.to_string();

    let mut accepted = 0;
    for batch in 0..20 {
        let body: Vec<String> = (0..5000).map(|i| event(batch * 5000 + i, HOST)).collect();
        let (status, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
        assert_eq!(status, 200);
        accepted += answer["accepted"].as_u64().unwrap();
    }
    assert_eq!(accepted, 100_000);
    // Every event either delivered or sampled out, as the stream's dashboard counts them.
    let dashboard = wait_for(&s, "stream_dashboard", &[("id", &id)], |d| {
        sum(&d["last_hour"], "delivered") + sum(&d["last_hour"], "sampled_out") == 100_000
    })
    .await;
    let delivered = sum(&dashboard["last_hour"], "delivered") as usize;
    let records = receiver
        .wait_for_records(delivered, Duration::from_secs(10))
        .await;
    let kept = records.len();
    assert!((9_000..=11_000).contains(&kept), "kept {kept} of 100,000");
    let unique: HashSet<&String> = records.iter().collect();
    assert_eq!(unique.len(), kept, "no record twice");
    eprintln!(
        "sampling 10 %: kept {kept} of 100000 ({:.2} %)",
        kept as f64 / 1000.0
    );
}

#[tokio::test]
async fn inactive_streams_receive_nothing_and_activation_applies_within_a_second() {
    let s = setup(2000, Duration::from_millis(200)).await;
    let active = Receiver::start().await;
    let inactive = Receiver::start().await;
    let on_id = save_stream(
        &s.owner,
        &http_stream("On", &active.url, s.domain_id, r#"{"id": "$request_id"}"#),
    )
    .await;
    let mut off = http_stream(
        "Off",
        &inactive.url,
        s.domain_id,
        r#"{"id": "$request_id"}"#,
    );
    off.active = false;
    let off_id = save_stream(&s.owner, &off).await;

    let body: Vec<String> = (0..50).map(|i| event(i, HOST)).collect();
    ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(
        active
            .wait_for_records(50, Duration::from_secs(5))
            .await
            .len(),
        50
    );
    // Once the engine's counts for that request are written, the inactive stream has none.
    wait_for(&s, "stream_dashboard", &[("id", &on_id.to_string())], |d| {
        sum(&d["last_hour"], "received") == 50
    })
    .await;
    let (_, off) = s
        .owner
        .call_json("stream_dashboard", &[("id", &off_id.to_string())])
        .await;
    assert_eq!(sum(&off["last_hour"], "received"), 0);
    assert!(
        inactive.accepted().is_empty(),
        "an inactive stream receives nothing"
    );

    let (status, _) = s
        .owner
        .call_json(
            "set_stream_active",
            &[("id", &off_id.to_string()), ("active", "true")],
        )
        .await;
    assert_eq!(status, 200);
    ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(
        inactive
            .wait_for_records(50, Duration::from_secs(5))
            .await
            .len(),
        50
    );
}

#[tokio::test]
async fn a_new_template_switches_over_without_losing_or_duplicating_records() {
    let s = setup(2000, Duration::from_millis(200)).await;
    let receiver = Receiver::start().await;
    let mut stream = http_stream(
        "Switch",
        &receiver.url,
        s.domain_id,
        r#"{"old": "$request_id"}"#,
    );
    stream.id = Some(save_stream(&s.owner, &stream).await);

    let total = 4_000;
    let sender = {
        let (address, token) = (s.app.address.clone(), s.token.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for batch in 0..40 {
                let body: Vec<String> = (0..100).map(|i| event(batch * 100 + i, HOST)).collect();
                let r = client
                    .post(format!("{address}/ingest/edge_applications"))
                    .bearer_auth(&token)
                    .body(body.join("\n"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };
    // Switch while traffic flows: once the first old-template records arrived.
    receiver.wait_for_records(1, Duration::from_secs(10)).await;
    stream.custom_template = r#"{"new": "$request_id"}"#.into();
    stream.endpoint.rows_mut("headers")[0].value = String::new(); // blank: the stored value is kept
    stream.endpoint.stored.insert("headers.x-api-key".into());
    save_stream(&s.owner, &stream).await;
    sender.await.unwrap();

    let records = receiver
        .wait_for_records(total, Duration::from_secs(10))
        .await;
    assert_eq!(records.len(), total, "every record once");
    let mut ids = HashSet::new();
    let (mut old, mut new) = (0, 0);
    for record in &records {
        let value: Value = serde_json::from_str(record).unwrap();
        let id = match (value.get("old"), value.get("new")) {
            (Some(id), None) => {
                assert_eq!(new, 0, "no old-template record after the switch");
                old += 1;
                id
            }
            (None, Some(id)) => {
                new += 1;
                id
            }
            _ => panic!("unexpected record {record}"),
        };
        assert!(
            ids.insert(id.as_str().unwrap().to_string()),
            "duplicate {id}"
        );
    }
    assert!(
        old > 0 && new > 0,
        "the switch happened mid-stream: {old} old, {new} new"
    );
    let headers_kept = receiver
        .accepted()
        .iter()
        .all(|b| b.headers["x-api-key"] == "receiver-secret");
    assert!(headers_kept, "the stored header value is kept on save");
}

#[tokio::test]
async fn a_receiver_answering_503_three_times_still_gets_every_record_once() {
    let s = setup(50, Duration::from_millis(200)).await;
    let receiver = Receiver::start().await;
    receiver.fail_first(&[503, 503, 503]);
    save_stream(
        &s.owner,
        &http_stream(
            "Flaky",
            &receiver.url,
            s.domain_id,
            r#"{"id": "$request_id"}"#,
        ),
    )
    .await;
    let body: Vec<String> = (0..200).map(|i| event(i, HOST)).collect();
    ingest(&s, "edge_applications", body.join("\n")).await;
    let records = receiver
        .wait_for_records(200, Duration::from_secs(20))
        .await;
    assert_eq!(receiver.refused(), 3);
    assert_eq!(records.len(), 200);
    let unique: HashSet<&String> = records.iter().collect();
    assert_eq!(unique.len(), 200, "each record once");
}
