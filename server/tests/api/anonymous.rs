//! What an anonymous caller can make the server do: set-up and sign-in hash only within
//! their bounds, the sign-in limiter holds against parallel guesses without locking the
//! real user out, and ingest reads no body before the token, nor for long, nor many at
//! once.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::delivery::{HOST, setup_on};
use crate::helpers::{Browser, PASSWORD, Storage, TestApp, scrape, spawn_app_with};

const METRICS_TOKEN: &str = "anonymous-scrape-0123456789";
const OWNER: &str = "owner@acme.test";

async fn app_with_metrics() -> TestApp {
    spawn_app_with(Storage::Sqlite, |s| {
        s.metrics_token = Some(METRICS_TOKEN.into())
    })
    .await
}

/// `ds_password_checks_total` from `/metrics`: how many argon2 hashes the server computed.
async fn password_checks(app: &TestApp) -> u64 {
    let text = scrape(&app.address, METRICS_TOKEN).await;
    text.lines()
        .find_map(|l| l.strip_prefix("ds_password_checks_total "))
        .unwrap_or_else(|| panic!("no ds_password_checks_total in {text}"))
        .parse()
        .unwrap()
}

/// A browser whose connections come from `address` (any of 127/8 reaches the server).
fn browser_from(app: &TestApp, address: &str) -> Browser {
    Browser {
        address: app.address.clone(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(address.parse::<IpAddr>().unwrap())
            .build()
            .unwrap(),
    }
}

#[tokio::test]
async fn set_up_after_the_first_user_answers_409_without_hashing() {
    let app = app_with_metrics().await;
    app.set_up_owner(OWNER).await;
    let before = password_checks(&app).await;
    for i in 0..5 {
        let email = format!("intruder{i}@evil.test");
        let (status, body) = app
            .browser()
            .call_json(
                "set_up",
                &[
                    ("account_name", "Mine"),
                    ("email", &email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body.to_string().contains("already set up"), "{body}");
    }
    assert_eq!(password_checks(&app).await, before, "no hash was computed");
}

#[tokio::test]
async fn parallel_wrong_sign_ins_get_at_most_the_limits_number_of_checks() {
    let app = app_with_metrics().await;
    app.set_up_owner(OWNER).await;
    let before = password_checks(&app).await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..200 {
        let browser = app.browser();
        guesses.spawn(async move {
            let password = format!("wrong guess number {i}");
            browser
                .call_json("sign_in", &[("email", OWNER), ("password", &password)])
                .await
                .0
        });
    }
    let answers = guesses.join_all().await;
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + limited, 200, "{answers:?}");
    assert!(
        (1..=5).contains(&checked),
        "{checked} guesses were checked, the limit is 5 per email and address"
    );
    let hashed = password_checks(&app).await - before;
    assert!(
        hashed <= 5,
        "{hashed} password hashes for 200 guesses, the limit is 5"
    );
}

#[tokio::test]
async fn a_flood_for_one_email_does_not_lock_the_user_out_of_their_address() {
    let app = app_with_metrics().await;
    app.set_up_owner(OWNER).await;
    let attacker = browser_from(&app, "127.0.0.2");
    let mut limited = false;
    for i in 0..30 {
        let password = format!("wrong guess number {i}");
        let (status, _) = attacker
            .call_json("sign_in", &[("email", OWNER), ("password", &password)])
            .await;
        limited |= status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "the attacker's address is limited");
    let owner = browser_from(&app, "127.0.0.1");
    let (status, body) = owner
        .call_json("sign_in", &[("email", OWNER), ("password", PASSWORD)])
        .await;
    assert_eq!(status, StatusCode::OK, "the real user signs in: {body}");
}

#[tokio::test]
async fn long_emails_and_passwords_are_refused_before_hashing() {
    let app = app_with_metrics().await;
    app.set_up_owner(OWNER).await;
    let before = password_checks(&app).await;
    let huge = "p".repeat(200_000);
    let (status, body) = app
        .browser()
        .call_json("sign_in", &[("email", OWNER), ("password", &huge)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("password"), "{body}");
    assert!(body.to_string().contains("at most 1024 bytes"), "{body}");
    let long_email = format!("{}@acme.test", "e".repeat(300));
    let (status, body) = app
        .browser()
        .call_json("sign_in", &[("email", &long_email), ("password", PASSWORD)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("email"), "{body}");
    assert_eq!(password_checks(&app).await, before, "no hash was computed");
}

/// Sends an ingest request's head and the first bytes of a body that never completes.
async fn stalled_ingest(address: &str, token: &str) -> TcpStream {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /ingest/edge_applications HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/x-ndjson\r\n\
         Content-Length: 1000000\r\n\r\n{{\"host\":\"{HOST}\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// The status code of the answer on `stream`, or `None` if none came within `wait`.
async fn answer_status(stream: &mut TcpStream, wait: Duration) -> Option<u16> {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    let read = async {
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buffer).await.ok()?;
            if n == 0 {
                return None;
            }
            answer.extend_from_slice(&buffer[..n]);
        }
        let line = String::from_utf8_lossy(&answer).to_string();
        line.split(' ').nth(1)?.parse().ok()
    };
    tokio::time::timeout(wait, read).await.ok().flatten()
}

#[tokio::test]
async fn ingest_checks_the_token_before_it_reads_the_body() {
    let s = setup_on(Storage::Sqlite, |_| {}).await;
    let mut stream = stalled_ingest(&s.app.address, "not-a-token").await;
    assert_eq!(
        answer_status(&mut stream, Duration::from_secs(5)).await,
        Some(401),
        "a wrong token is answered without waiting for the body"
    );
}

#[tokio::test]
async fn ingest_bodies_are_bounded_in_time_and_in_number() {
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.ingest_read_timeout = Duration::from_secs(2);
        settings.ingest_max_concurrent = 2;
    })
    .await;
    let mut first = stalled_ingest(&s.app.address, &s.token).await;
    let mut second = stalled_ingest(&s.app.address, &s.token).await;
    // While both slots are held by bodies that do not arrive, a third request is refused.
    let client = reqwest::Client::new();
    let url = format!("{}/ingest/edge_applications", s.app.address);
    let refused = crate::helpers::poll(Duration::from_secs(2), || async {
        let r = client
            .post(&url)
            .bearer_auth(&s.token)
            .body(format!("{{\"host\":\"{HOST}\"}}\n"))
            .send()
            .await
            .unwrap();
        (r.status() == StatusCode::SERVICE_UNAVAILABLE).then(|| r.headers().clone())
    })
    .await
    .expect("a third body at once is refused with 503");
    assert!(refused.contains_key("retry-after"));
    for stream in [&mut first, &mut second] {
        assert_eq!(
            answer_status(stream, Duration::from_secs(10)).await,
            Some(408),
            "a body that does not arrive within --ingest-read-timeout is answered 408"
        );
    }
    // The slots are free again.
    let r = client
        .post(&url)
        .bearer_auth(&s.token)
        .body(format!("{{\"host\":\"{HOST}\"}}\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
