//! Several instances on one PostgreSQL: what one of them saves, every other one applies.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::automation::{api_token, http_endpoint};
use crate::delivery::event;
use crate::helpers::{Storage, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

const HOST: &str = "cluster.acme.test";

/// Instance C runs before the account exists; everything is configured on instance A.
#[tokio::test]
async fn a_stream_saved_on_one_instance_delivers_from_another_within_a_second() {
    let a = spawn_app_with(Storage::Postgres, |s| {
        s.block_max_age = Duration::from_millis(200)
    })
    .await;
    let c = a.another_instance().await;
    let owner = a.set_up_owner("owner@acme.test").await;
    let api = api_token(&a, &owner, "owner").await;
    let receiver = Receiver::start().await;
    let (status, domain) = api.post("/domains", &json!({ "name": HOST })).await;
    assert_eq!(status, 201, "{domain}");
    let (_, token) = api.post("/ingest-tokens", &json!({ "name": "edge" })).await;
    let token = token["token"].as_str().unwrap().to_string();

    let (status, stream) = api
        .post(
            "/streams",
            &json!({ "name": "From A", "data_source": "edge_applications",
                     "template": "edge-applications-event-collector",
                     "domain_ids": [domain["id"]], "endpoint": http_endpoint(&receiver.url) }),
        )
        .await;
    assert_eq!(status, 201, "{stream}");
    let saved = Instant::now();

    // Events to C one after another (each answered before the next) until the receiver
    // has a record, within 2 s: C knows the token, the domain and the stream only through
    // A's notifications. The first record says when C started to route to the stream.
    let client = reqwest::Client::new();
    let mut sent_at = Vec::new();
    while receiver.records().is_empty() && saved.elapsed() < Duration::from_secs(2) {
        let i = sent_at.len();
        sent_at.push(saved.elapsed());
        client
            .post(format!("{}/ingest/edge_applications", c.address))
            .bearer_auth(&token)
            .body(event(i, HOST))
            .send()
            .await
            .unwrap();
    }
    let records = receiver.records();
    let first = records
        .iter()
        .map(|r| {
            let record: serde_json::Value = serde_json::from_str(r).unwrap();
            let id = record["request_id"].as_str().unwrap().to_string();
            id.trim_start_matches("req-").parse::<usize>().unwrap()
        })
        .min()
        .expect("C delivered the stream saved on A");
    assert!(
        sent_at[first] < Duration::from_secs(1),
        "C routed to the stream {:?} after A saved it",
        sent_at[first]
    );
    // From then on C took every event for the stream.
    let expected = sent_at.len() - first;
    let records = receiver
        .wait_for_records(expected, Duration::from_secs(10))
        .await;
    assert_eq!(
        records.len(),
        expected,
        "{first} of {} events before",
        sent_at.len()
    );
}

/// The sign-in limiter counts across instances: guesses spread over two of them are
/// limited as on one.
#[tokio::test]
async fn sign_in_attempts_are_limited_across_instances() {
    let a = spawn_app(Storage::Postgres).await;
    let b = a.another_instance().await;
    a.set_up_owner("owner@acme.test").await;
    let guess = |app: &crate::helpers::TestApp| {
        let browser = app.browser();
        async move {
            browser
                .call_json(
                    "sign_in",
                    &[
                        ("email", "owner@acme.test"),
                        ("password", "wrong password 1"),
                    ],
                )
                .await
                .0
        }
    };
    let max = app::backend::SignInLimiter::MAX_PER_EMAIL_AND_ADDRESS;
    for i in 0..max {
        let instance = if i % 2 == 0 { &a } else { &b };
        assert_eq!(guess(instance).await, 401, "guess {i}");
    }
    assert_eq!(guess(&a).await, 429);
    assert_eq!(guess(&b).await, 429);
}
