//! Cloud destinations against servers that speak their APIs: Amazon Data Firehose against
//! moto (which delivers a Firehose stream to its own S3, read back through S3's API) and
//! Azure Blob Storage against Azurite (read back through the Blob service's API).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use app::model::endpoints::{self, EndpointForm};
use app::model::{CUSTOM_TEMPLATE, StreamForm};
use aws_sdk_s3::config::{Credentials, Region};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hmac::Mac;

use crate::delivery::{
    HOST, Setup, event, holds_failed_blocks, ingest, save_stream, setup, wait_for_status,
};
use crate::endpoints::objects;
use crate::helpers::{poll, required_env, unique};

const TEMPLATE: &str = r#"{"host":"$host","request_id":"$request_id"}"#;

/// The records the template renders for events `0..count`.
fn rendered(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!(r#"{{"host":"{HOST}","request_id":"req-{i:06}"}}"#))
        .collect()
}

fn stream(name: &str, endpoint: EndpointForm, domain_id: i64) -> StreamForm {
    StreamForm {
        name: name.into(),
        template: CUSTOM_TEMPLATE.into(),
        custom_template: TEMPLATE.into(),
        domain_ids: vec![domain_id],
        endpoint,
        ..StreamForm::default()
    }
}

async fn ingest_events(s: &Setup, count: usize) {
    let body: Vec<String> = (0..count).map(|i| event(i, HOST)).collect();
    let (status, answer) = ingest(s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200, "{answer}");
}

/// moto's S3 and Firehose, with the IAM key `scripts/services.sh` made.
fn moto() -> (aws_sdk_s3::Client, aws_sdk_firehose::Client) {
    let credentials = Credentials::new(
        required_env("DS_TEST_AWS_ACCESS_KEY"),
        required_env("DS_TEST_AWS_SECRET_KEY"),
        None,
        None,
        "test",
    );
    let endpoint = required_env("DS_TEST_AWS_ENDPOINT");
    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(&endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials.clone())
        .force_path_style(true)
        .build();
    let firehose = aws_sdk_firehose::Config::builder()
        .behavior_version_latest()
        .endpoint_url(&endpoint)
        .region(aws_sdk_firehose::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .build();
    (
        aws_sdk_s3::Client::from_conf(s3),
        aws_sdk_firehose::Client::from_conf(firehose),
    )
}

/// A bucket and a Direct PUT Firehose stream that delivers to it.
async fn firehose_to_bucket() -> (aws_sdk_s3::Client, String, String) {
    let (s3, firehose) = moto();
    let bucket = unique("ds-firehose");
    let name = unique("edge-logs");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    firehose
        .create_delivery_stream()
        .delivery_stream_name(&name)
        .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::DirectPut)
        .extended_s3_destination_configuration(
            aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::123456789012:role/firehose-delivery")
                .bucket_arn(format!("arn:aws:s3:::{bucket}"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (s3, bucket, name)
}

fn firehose_stream(name: &str, secret_key: &str, domain_id: i64) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::firehose::TYPE);
    endpoint.set("stream_name", name);
    endpoint.set("region", "us-east-1");
    endpoint.set("access_key", required_env("DS_TEST_AWS_ACCESS_KEY"));
    endpoint.set("secret_key", secret_key);
    endpoint.set("endpoint_url", required_env("DS_TEST_AWS_ENDPOINT"));
    stream("Firehose", endpoint, domain_id)
}

/// The records Firehose wrote to the bucket, sorted (its objects' names end in a random id).
async fn records_in_bucket(s3: &aws_sdk_s3::Client, bucket: &str, count: usize) -> Vec<String> {
    poll(Duration::from_secs(30), || async {
        let mut lines: Vec<String> = objects(s3, bucket)
            .await
            .into_iter()
            .flat_map(|(_, _, body)| body.lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
        lines.sort();
        (lines.len() >= count).then_some(lines)
    })
    .await
    .unwrap_or_default()
}

#[tokio::test]
async fn firehose_records_arrive_in_the_streams_bucket_once_each() {
    let s = setup(100, Duration::from_millis(300)).await;
    let (s3, bucket, name) = firehose_to_bucket().await;
    save_stream(
        &s.owner,
        &firehose_stream(&name, &required_env("DS_TEST_AWS_SECRET_KEY"), s.domain_id),
    )
    .await;
    ingest_events(&s, 250).await;

    let found = records_in_bucket(&s3, &bucket, 250).await;
    let mut expected = rendered(250);
    expected.sort();
    assert_eq!(found, expected, "every record once, as rendered");
    let status = wait_for_status(&s, |status| status["records_delivered"] == 250).await;
    assert!(status["last_error"].is_null(), "{status}");
}

#[tokio::test]
async fn a_wrong_aws_secret_key_is_a_visible_error_and_nothing_is_lost() {
    let s = setup(100, Duration::from_millis(300)).await;
    let (s3, bucket, name) = firehose_to_bucket().await;
    let id = save_stream(
        &s.owner,
        &firehose_stream(&name, "not-the-secret-key", s.domain_id),
    )
    .await;
    ingest_events(&s, 20).await;
    let status = wait_for_status(&s, |status| !status["last_error"].is_null()).await;
    assert_eq!(status["last_error"], "Firehose HTTP 403", "{status}");
    assert!(
        holds_failed_blocks(&s, 1).await,
        "the refused block is kept"
    );
    assert!(objects(&s3, &bucket).await.is_empty());

    // The right key, then Redeliver: the kept block arrives.
    let mut fixed = firehose_stream(&name, &required_env("DS_TEST_AWS_SECRET_KEY"), s.domain_id);
    fixed.id = Some(id);
    save_stream(&s.owner, &fixed).await;
    let (code, queued) = s
        .owner
        .call_json("redeliver_failed", &[("id", &id.to_string())])
        .await;
    assert_eq!((code.as_u16(), queued), (200, serde_json::json!(1)));
    let mut expected = rendered(20);
    expected.sort();
    assert_eq!(records_in_bucket(&s3, &bucket, 20).await, expected);
}

/// An account SAS for Azurite's account, signed with its key (the string to sign of
/// version 2020-12-06 and later: account, sp, ss, srt, st, se, sip, spr, sv, ses).
fn account_sas(key: &str, permissions: &str, resource_types: &str) -> String {
    let account = "devstoreaccount1";
    let expiry = SystemTime::now() + Duration::from_secs(3600);
    let expiry = httpdate_iso(expiry);
    let version = "2022-11-02";
    let to_sign = format!(
        "{account}\n{permissions}\nb\n{resource_types}\n\n{expiry}\n\nhttps,http\n{version}\n\n"
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", version)
        .append_pair("ss", "b")
        .append_pair("srt", resource_types)
        .append_pair("sp", permissions)
        .append_pair("se", &expiry)
        .append_pair("spr", "https,http")
        .append_pair("sig", &signature)
        .finish()
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn httpdate_iso(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (y, mo, d, h, mi, s) = app::model::delivery::utc_fields(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// A new container in Azurite; the SAS that lists and reads it.
async fn azurite_container() -> (String, String) {
    let container = unique("ds-blob");
    let full = account_sas(&required_env("DS_TEST_AZURITE_KEY"), "rwdlac", "sco");
    let created = reqwest::Client::new()
        .put(format!(
            "{}/{container}?restype=container&{full}",
            required_env("DS_TEST_AZURITE_URL")
        ))
        .header("x-ms-version", "2023-11-03")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    (container, full)
}

/// The container's blobs, by name: (name, body), read through the Blob service's API.
async fn blobs(container: &str, sas: &str) -> Vec<(String, String)> {
    let base = format!("{}/{container}", required_env("DS_TEST_AZURITE_URL"));
    let client = reqwest::Client::new();
    let list = client
        .get(format!("{base}?restype=container&comp=list&{sas}"))
        .header("x-ms-version", "2023-11-03")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut found = Vec::new();
    for part in list.split("<Name>").skip(1) {
        let name = part.split("</Name>").next().unwrap().to_string();
        let body = client
            .get(format!("{base}/{name}?{sas}"))
            .header("x-ms-version", "2023-11-03")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        found.push((name, body));
    }
    found
}

/// Forwards to Azurite, but answers the first request 503 after Azurite took it: the
/// answer of a stored blob lost on the way back. Counts what Azurite answered.
#[derive(Clone, Default)]
struct LossyGateway {
    target: String,
    answers: Arc<Mutex<Vec<(String, u16, String)>>>,
}

impl LossyGateway {
    async fn start() -> (LossyGateway, String) {
        let gateway = LossyGateway {
            target: required_env("DS_TEST_AZURITE_URL"),
            ..LossyGateway::default()
        };
        let app = axum::Router::new()
            .fallback(LossyGateway::forward)
            .with_state(gateway.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (gateway, url)
    }

    async fn forward(
        axum::extract::State(gateway): axum::extract::State<LossyGateway>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> Response {
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut request = reqwest::Client::new().put(format!(
            "{}{}",
            gateway.target.trim_end_matches("/devstoreaccount1"),
            path_and_query
        ));
        for name in [
            "x-ms-version",
            "x-ms-blob-type",
            "content-type",
            "if-none-match",
        ] {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value.as_bytes());
            }
        }
        let answer = request.body(body).send().await.unwrap();
        let status = answer.status().as_u16();
        let code = answer
            .headers()
            .get("x-ms-error-code")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let mut answers = gateway.answers.lock().unwrap();
        answers.push((uri.path().to_string(), status, code.clone()));
        if answers.len() == 1 {
            return (StatusCode::SERVICE_UNAVAILABLE, "gateway lost the answer").into_response();
        }
        let mut response = StatusCode::from_u16(status).unwrap().into_response();
        if !code.is_empty() {
            response
                .headers_mut()
                .insert("x-ms-error-code", code.parse().unwrap());
        }
        response
    }
}

fn blob_stream(service_url: &str, container: &str, sas: &str, domain_id: i64) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::azure_blob::TYPE);
    endpoint.set("account", "devstoreaccount1");
    endpoint.set("container", container);
    endpoint.set("sas_token", sas);
    endpoint.set("prefix", "edge");
    endpoint.set("key_layout", "prefix/YYYY/MM/DD/HH/TIME_ID");
    endpoint.set("service_url", service_url);
    stream("Azure Blob", endpoint, domain_id)
}

#[tokio::test]
async fn azure_blobs_hold_each_block_once_even_when_a_stored_blobs_answer_is_lost() {
    let s = setup(100, Duration::from_millis(300)).await;
    let (container, read_sas) = azurite_container().await;
    let (gateway, gateway_url) = LossyGateway::start().await;
    // Create and write only: the SAS a user gives the stream.
    let write_sas = account_sas(&required_env("DS_TEST_AZURITE_KEY"), "cw", "o");
    save_stream(
        &s.owner,
        &blob_stream(
            &format!("{gateway_url}/devstoreaccount1"),
            &container,
            &write_sas,
            s.domain_id,
        ),
    )
    .await;
    ingest_events(&s, 150).await;

    let found = poll(Duration::from_secs(30), || async {
        let found = blobs(&container, &read_sas).await;
        let records: usize = found.iter().map(|(_, body)| body.lines().count()).sum();
        (records >= 150).then_some(found)
    })
    .await
    .expect("150 records reach the container");
    assert_eq!(found.len(), 2, "one blob per block (100 + 50): {found:?}");
    let mut records: Vec<String> = found
        .iter()
        .flat_map(|(_, body)| body.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    records.sort();
    let mut expected = rendered(150);
    expected.sort();
    assert_eq!(records, expected, "each record once");
    for (name, _) in &found {
        let parts: Vec<&str> = name.split('/').collect();
        assert_eq!(
            (parts.len(), parts[0]),
            (6, "edge"),
            "named like the S3 object: {name}"
        );
    }
    wait_for_status(&s, |status| status["records_delivered"] == 150).await;
    let answers = gateway.answers.lock().unwrap().clone();
    let first = &answers[0];
    assert_eq!(first.1, 201, "Azurite stored the first blob: {answers:?}");
    assert!(
        answers.iter().any(|(path, status, code)| path == &first.0
            && *status == 409
            && code == "BlobAlreadyExists"),
        "the retried block met its blob and did not write another: {answers:?}"
    );
}

#[tokio::test]
async fn a_bad_sas_is_a_visible_error_and_nothing_is_lost() {
    let s = setup(100, Duration::from_millis(300)).await;
    let (container, read_sas) = azurite_container().await;
    // Signed with another key.
    let wrong_key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    let id = save_stream(
        &s.owner,
        &blob_stream(
            &required_env("DS_TEST_AZURITE_URL"),
            &container,
            &account_sas(&wrong_key, "cw", "o"),
            s.domain_id,
        ),
    )
    .await;
    ingest_events(&s, 30).await;
    let status = wait_for_status(&s, |status| !status["last_error"].is_null()).await;
    let error = status["last_error"].as_str().unwrap();
    assert!(
        error.starts_with("Azure Blob HTTP 403 Forbidden: AuthorizationFailure"),
        "{status}"
    );
    assert!(
        holds_failed_blocks(&s, 1).await,
        "the refused block is kept"
    );
    assert!(blobs(&container, &read_sas).await.is_empty());

    let mut fixed = blob_stream(
        &required_env("DS_TEST_AZURITE_URL"),
        &container,
        &account_sas(&required_env("DS_TEST_AZURITE_KEY"), "cw", "o"),
        s.domain_id,
    );
    fixed.id = Some(id);
    save_stream(&s.owner, &fixed).await;
    let (code, queued) = s
        .owner
        .call_json("redeliver_failed", &[("id", &id.to_string())])
        .await;
    assert_eq!((code.as_u16(), queued), (200, serde_json::json!(1)));
    let found = poll(Duration::from_secs(30), || async {
        let found = blobs(&container, &read_sas).await;
        (!found.is_empty()).then_some(found)
    })
    .await
    .unwrap_or_default();
    let records: Vec<&str> = found.iter().flat_map(|(_, body)| body.lines()).collect();
    assert_eq!(records, rendered(30), "the kept block, once fixed");
}
