//! Streams through the server functions, on SQLite and Postgres: validation, storage,
//! secrets sealed at rest and never answered, isolation between accounts.

use app::backend::auth::Passwords;
use app::model::endpoints::{self, EndpointForm, Pair};
use app::model::{Domains, EndpointSettings, Role, SamplingPercent, Secret, StreamForm};
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, Storage, TestApp, spawn_app};

const S3_SECRET: &str = "s3-secret-abc123";
const HEADER_SECRET: &str = "header-secret-xyz789";

async fn save(browser: &Browser, stream: &StreamForm) -> (reqwest::StatusCode, Value) {
    let r = browser
        .client
        .post(format!("{}/api/save_stream", browser.address))
        .header("Origin", &browser.address)
        .json(&json!({ "stream": stream }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

fn http_stream(domain_id: i64) -> StreamForm {
    let mut s = StreamForm {
        name: "SIEM".into(),
        domain_ids: vec![domain_id],
        ..StreamForm::default()
    };
    s.endpoint.set("url", "https://siem.acme.test/ingest");
    s.endpoint.rows_mut("headers").push(Pair {
        name: "X-Api-Key".into(),
        value: HEADER_SECRET.into(),
    });
    s
}

fn s3_stream() -> StreamForm {
    let mut s = StreamForm {
        name: "Archive".into(),
        data_source: "waf_events".into(),
        template: "waf-event-collector".into(),
        all_domains: true,
        sampling: "10".into(),
        ..StreamForm::default()
    };
    s.endpoint = EndpointForm::new(&endpoints::s3::TYPE);
    s.endpoint.set("host_url", "http://127.0.0.1:18014");
    s.endpoint.set("bucket", "acme-logs");
    s.endpoint.set("region", "us-east-1");
    s.endpoint.set("access_key", "AKIA");
    s.endpoint.set("secret_key", S3_SECRET);
    s.endpoint.set("prefix", "waf_logs");
    s
}

async fn streams_round_trip(storage: Storage) {
    let app: TestApp = spawn_app(storage).await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let (_, domain) = owner
        .call_json("add_domain", &[("name", "shop.acme.test")])
        .await;
    let domain_id = domain["id"].as_i64().unwrap();

    // Invalid input: every problem named, nothing stored.
    let mut bad = http_stream(domain_id);
    bad.name = String::new();
    bad.endpoint.set("url", "ftp://x");
    bad.endpoint.rows_mut("headers")[0].name = "Host".into();
    let (status, body) = save(&owner, &bad).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["InvalidFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "endpoint.url", "endpoint.headers.0.name"]);
    let (_, list) = owner.call_json("list_streams", &[]).await;
    assert_eq!(list, json!([]));

    // Create two streams; names are unique per account.
    let (status, http_id) = save(&owner, &http_stream(domain_id)).await;
    assert_eq!(status, 200, "{http_id}");
    let (status, s3_id) = save(&owner, &s3_stream()).await;
    assert_eq!(status, 200, "{s3_id}");
    let (status, body) = save(&owner, &http_stream(domain_id)).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["InvalidFields"][0]["message"],
        "Another stream already has this name"
    );

    // Secrets are sealed at rest and never answered.
    let raw: Vec<(String, String)> =
        sqlx::query_as("SELECT endpoint_config, endpoint_secrets FROM streams")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    for (config, sealed) in &raw {
        for secret in [S3_SECRET, HEADER_SECRET] {
            assert!(
                !config.contains(secret) && !sealed.contains(secret),
                "{secret} stored in clear"
            );
        }
    }
    let (status, s3) = owner
        .call_json("get_stream", &[("id", &s3_id.to_string())])
        .await;
    assert_eq!(status, 200);
    assert_eq!(s3["endpoint"]["values"]["secret_key"], "");
    assert_eq!(s3["endpoint"]["stored"], json!(["secret_key"]));
    assert_eq!(s3["sampling"], "10");
    let (_, http) = owner
        .call_json("get_stream", &[("id", &http_id.to_string())])
        .await;
    assert_eq!(http["endpoint"]["lists"]["headers"][0]["value"], "");
    assert_eq!(http["endpoint"]["stored"], json!(["headers.x-api-key"]));
    assert_eq!(http["domain_ids"], json!([domain_id]));

    // Saving with the secret left blank keeps the stored one.
    let mut edited: StreamForm = serde_json::from_value(s3).unwrap();
    edited.sampling = "25".into();
    let (status, _) = save(&owner, &edited).await;
    assert_eq!(status, 200);
    let account_id = app
        .db
        .user_by_email("owner@acme.test")
        .await
        .unwrap()
        .unwrap()
        .account_id;
    let stored = app
        .db
        .stream(account_id, s3_id.as_i64().unwrap(), &secrets(&app))
        .await
        .unwrap();
    let EndpointSettings::S3(s3_settings) = &stored.config.endpoint else {
        panic!("an S3 stream: {stored:?}");
    };
    assert_eq!(s3_settings.secret_key, Secret::Given(S3_SECRET.into()));
    assert_eq!(
        stored.config.domains,
        Some(Domains::All {
            sampling: SamplingPercent::try_from(25).unwrap()
        })
    );

    // A domain used by a stream cannot be removed; the message names the stream.
    let (status, body) = owner
        .call_json("remove_domain", &[("id", &domain_id.to_string())])
        .await;
    assert_eq!(status, 409);
    assert!(body.to_string().contains("SIEM"), "{body}");

    // Toggle and delete.
    let (status, _) = owner
        .call_json(
            "set_stream_active",
            &[("id", &http_id.to_string()), ("active", "false")],
        )
        .await;
    assert_eq!(status, 200);
    let (_, list) = owner.call_json("list_streams", &[]).await;
    let siem = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "SIEM")
        .unwrap();
    assert_eq!(siem["active"], false);

    // Another account: none of it is visible or changeable (404), even by id.
    let other = app.db.create_account("Globex").await.unwrap();
    let hash = Passwords::default().hash(PASSWORD.into()).await.unwrap();
    app.db
        .create_user(other.id, "b@globex.test", &hash, Role::Owner)
        .await
        .unwrap();
    let b = app.sign_in("b@globex.test", PASSWORD).await;
    let (_, b_list) = b.call_json("list_streams", &[]).await;
    assert_eq!(b_list, json!([]));
    for (function, form) in [
        ("get_stream", vec![("id", http_id.to_string())]),
        ("delete_stream", vec![("id", http_id.to_string())]),
        (
            "set_stream_active",
            vec![("id", http_id.to_string()), ("active", "true".into())],
        ),
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _) = b.call_json(function, &form).await;
        assert_eq!(status, 404, "{function}");
    }
    let mut hijack: StreamForm = serde_json::from_value(http).unwrap();
    hijack.name = "Hijacked".into();
    hijack.endpoint.rows_mut("headers")[0].value = "x".into();
    let (status, _) = save(&b, &hijack).await;
    assert_eq!(status, 404, "updating another account's stream by id");
    let mut foreign_domain = http_stream(domain_id);
    foreign_domain.name = "Uses A's domain".into();
    let (status, _) = save(&b, &foreign_domain).await;
    assert_eq!(status, 422, "another account's domain id is refused");

    let (status, _) = owner
        .call_json("delete_stream", &[("id", &http_id.to_string())])
        .await;
    assert_eq!(status, 200);
    let (_, list) = owner.call_json("list_streams", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

fn secrets(app: &TestApp) -> app::backend::secrets::SecretBox {
    app::backend::secrets::SecretBox::load_or_create(&app.settings.effective_secret_key_file())
        .unwrap()
}

#[tokio::test]
async fn streams_on_sqlite() {
    streams_round_trip(Storage::Sqlite).await;
}

#[tokio::test]
async fn streams_on_postgres() {
    streams_round_trip(Storage::Postgres).await;
}

/// Stored secrets only go where they were saved for: a changed destination needs them
/// again, on save and on Test endpoint.
#[tokio::test]
async fn a_changed_destination_needs_its_secrets_again() {
    let app = spawn_app(Storage::Sqlite).await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let (_, s3_id) = save(&owner, &s3_stream()).await;
    let (_, form) = owner
        .call_json("get_stream", &[("id", &s3_id.to_string())])
        .await;
    let mut moved: StreamForm = serde_json::from_value(form).unwrap();
    moved.endpoint.set("bucket", "attacker-bucket");
    let (status, body) = save(&owner, &moved).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["InvalidFields"][0]["field"], "endpoint.secret_key");
    assert!(
        body.to_string().contains("the destination changed"),
        "{body}"
    );
    let r = owner
        .client
        .post(format!("{}/api/test_endpoint", owner.address))
        .header("Origin", &owner.address)
        .json(&json!({ "stream": moved }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "Test endpoint does not use the stored secret either"
    );
    // Same destination: the blank secret is the stored one.
    moved.endpoint.set("bucket", "acme-logs");
    moved.sampling = "20".into();
    let (status, body) = save(&owner, &moved).await;
    assert_eq!(status, 200, "{body}");
}
