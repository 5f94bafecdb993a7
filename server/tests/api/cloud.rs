//! Cloud destinations with no server that runs here: Azure Monitor's Logs Ingestion API
//! and BigQuery's insertAll, each tested against a receiver in this file that checks the
//! sign-in (Entra ID's client-credentials form; the service account's JWT, its signature
//! verified with the account's public key) and the ingestion call's documented shape, and
//! answers the documented errors; and Firehose's PutRecordBatch where moto cannot answer
//! as AWS does (a call that succeeds in part).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::endpoints::{self, EndpointForm};
use app::model::{CUSTOM_TEMPLATE, StreamForm};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::delivery::{
    HOST, Setup, event, holds_failed_blocks, ingest, save_stream, setup, wait_for_status,
};
use crate::helpers::poll;

const TEMPLATE: &str = r#"{"host":"$host","request_id":"$request_id","status":"$status"}"#;

fn stream(name: &str, endpoint: EndpointForm, domain_id: i64, template: &str) -> StreamForm {
    StreamForm {
        name: name.into(),
        template: CUSTOM_TEMPLATE.into(),
        custom_template: template.into(),
        domain_ids: vec![domain_id],
        endpoint,
        ..StreamForm::default()
    }
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn records(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| json!({"host": HOST, "request_id": format!("req-{i:06}"), "status": "200"}))
        .collect()
}

async fn ingest_events(s: &Setup, count: usize) {
    let body: Vec<String> = (0..count).map(|i| event(i, HOST)).collect();
    let (status, answer) = ingest(s, "edge_applications", body.join("\n")).await;
    assert_eq!(status, 200, "{answer}");
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const CLIENT_SECRET: &str = "Qx8Q~monitor-client-secret";
const DCR: &str = "dcr-0123456789abcdef0123456789abcdef";
const DCR_STREAM: &str = "Custom-EdgeLogs_CL";

/// Entra ID's token endpoint and a data collection endpoint, as documented: `POST
/// /<tenant>/oauth2/v2.0/token` takes the client-credentials form (`client_id`,
/// `client_secret`, `scope` = `https://monitor.azure.com//.default`, `grant_type`) and
/// answers `{token_type, expires_in, access_token}` or `{error, error_description}` (401
/// invalid_client for a wrong secret); `POST /dataCollectionRules/<DCR>/streams/<stream>
/// ?api-version=2023-01-01` takes `Authorization: Bearer`, a JSON array of objects
/// (gzip allowed) of at most `max_call` bytes, and answers 204, or `{"error":{code,
/// message}}`: 401 for a token it does not know, 413 over the size limit, 404 for another
/// rule.
#[derive(Clone, Default)]
struct Monitor {
    records: Arc<Mutex<Vec<Value>>>,
    tokens_issued: Arc<Mutex<usize>>,
    /// The token the ingestion accepts; `None` after it "expired".
    valid_token: Arc<Mutex<Option<String>>>,
    /// Treat the first token as expired at the first call (a 401).
    expire_first_token: bool,
    too_large: Arc<Mutex<usize>>,
    max_call: usize,
}

impl Monitor {
    async fn start(max_call: usize, expire_first_token: bool) -> (Monitor, String) {
        let monitor = Monitor {
            max_call,
            expire_first_token,
            ..Monitor::default()
        };
        let app = axum::Router::new()
            .route(
                "/{tenant}/oauth2/v2.0/token",
                axum::routing::post(Monitor::token),
            )
            .route(
                "/dataCollectionRules/{dcr}/streams/{stream}",
                axum::routing::post(Monitor::ingest),
            )
            .with_state(monitor.clone());
        (monitor, serve(app).await)
    }

    async fn token(
        State(monitor): State<Monitor>,
        Path(tenant): Path<String>,
        Form(form): Form<HashMap<String, String>>,
    ) -> Response {
        let error = |status: StatusCode, error: &str, description: &str| {
            let body =
                json!({"error": error, "error_description": description, "error_codes": [7000215]});
            (status, axum::Json(body)).into_response()
        };
        let field = |name: &str| form.get(name).map(String::as_str);
        if tenant != TENANT {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "AADSTS90002: Tenant not found.",
            );
        }
        if field("grant_type") != Some("client_credentials")
            || field("scope") != Some("https://monitor.azure.com//.default")
        {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "AADSTS900144: The request body must contain the client-credentials grant for Azure Monitor.",
            );
        }
        if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
            return error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided.",
            );
        }
        let mut issued = monitor.tokens_issued.lock().unwrap();
        *issued += 1;
        let token = format!("eyJ0eXAiOiJKV1Qi.token-{issued}");
        *monitor.valid_token.lock().unwrap() = Some(token.clone());
        axum::Json(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}))
            .into_response()
    }

    async fn ingest(
        State(monitor): State<Monitor>,
        Path((dcr, stream)): Path<(String, String)>,
        Query(query): Query<HashMap<String, String>>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> Response {
        let error = |status: StatusCode, code: &str, message: &str| {
            let body = json!({"error": {"code": code, "message": message}});
            (status, axum::Json(body)).into_response()
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if query.get("api-version").map(String::as_str) != Some("2023-01-01") {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersion",
                "The api-version is missing or not supported.",
            );
        }
        if dcr != DCR || stream != DCR_STREAM {
            return error(
                StatusCode::NOT_FOUND,
                "NotFound",
                "Data collection rule or stream not found.",
            );
        }
        {
            let mut valid = monitor.valid_token.lock().unwrap();
            if monitor.expire_first_token && *monitor.tokens_issued.lock().unwrap() == 1 {
                *valid = None;
            }
            let given = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
            if valid.is_none() || given != valid.as_deref() {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "InvalidToken",
                    "The token has expired.",
                );
            }
        }
        if header("content-type") != Some("application/json") {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "Content-Type must be application/json.",
            );
        }
        let payload = crate::receiver::unpack(header("content-encoding"), &body);
        if payload.len() > monitor.max_call {
            *monitor.too_large.lock().unwrap() += 1;
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "ContentLengthLimitExceeded",
                "Maximum allowed content length exceeded.",
            );
        }
        match serde_json::from_slice(&payload) {
            Ok(Value::Array(items)) if items.iter().all(Value::is_object) => {
                monitor.records.lock().unwrap().extend(items);
                StatusCode::NO_CONTENT.into_response()
            }
            _ => error(
                StatusCode::BAD_REQUEST,
                "InvalidPayload",
                "The body must be a JSON array of objects.",
            ),
        }
    }
}

fn azure_monitor_stream(url: &str, client_secret: &str, domain_id: i64) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::azure_monitor::TYPE);
    endpoint.set("data_collection_endpoint", url);
    endpoint.set("dcr_immutable_id", DCR);
    endpoint.set("stream_name", DCR_STREAM);
    endpoint.set("tenant_id", TENANT);
    endpoint.set("client_id", CLIENT_ID);
    endpoint.set("client_secret", client_secret);
    endpoint.set("authority_url", url);
    stream("Azure Monitor", endpoint, domain_id, TEMPLATE)
}

#[tokio::test]
async fn azure_monitor_signs_in_with_client_credentials_and_renews_an_expired_token() {
    let s = setup(2000, Duration::from_secs(1)).await;
    // Room for about two records per call: the five-record call answers 413 and is split.
    let (monitor, url) = Monitor::start(200, true).await;
    save_stream(
        &s.owner,
        &azure_monitor_stream(&url, CLIENT_SECRET, s.domain_id),
    )
    .await;
    ingest_events(&s, 5).await;

    let received = poll(Duration::from_secs(30), || async {
        let received = monitor.records.lock().unwrap().clone();
        (received.len() >= 5).then_some(received)
    })
    .await
    .expect("five records reach the stream");
    assert_eq!(received, records(5), "each record once, in order");
    assert_eq!(
        *monitor.tokens_issued.lock().unwrap(),
        2,
        "the token answered 401 was dropped and a new one asked for"
    );
    assert!(
        *monitor.too_large.lock().unwrap() >= 1,
        "a call answered 413"
    );
    let status = wait_for_status(&s, |status| status["records_delivered"] == 5).await;
    assert_eq!(
        status["last_error"],
        "HTTP 401 Unauthorized: InvalidToken: The token has expired. (the next attempt signs in again)",
        "the 401 was a retried error: {status}"
    );
}

#[tokio::test]
async fn a_wrong_azure_client_secret_is_a_visible_error_and_the_block_is_kept_aside() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (monitor, url) = Monitor::start(1_000_000, false).await;
    save_stream(
        &s.owner,
        &azure_monitor_stream(&url, "not-the-secret", s.domain_id),
    )
    .await;
    ingest_events(&s, 1).await;
    let status = wait_for_status(&s, |status| !status["last_error"].is_null()).await;
    assert_eq!(
        status["last_error"],
        "Azure sign-in: HTTP 401 Unauthorized: invalid_client: AADSTS7000215: Invalid client secret provided.",
        "{status}"
    );
    assert!(monitor.records.lock().unwrap().is_empty());
    assert!(
        holds_failed_blocks(&s, 1).await,
        "the refused block waits for a redelivery"
    );
}

const CLIENT_EMAIL: &str = "streamer@edge-logs.iam.gserviceaccount.com";
const ACCESS_TOKEN: &str = "ya29.c.test-access-token";

/// An RSA key pair made by openssl: (PKCS #8 private PEM, SPKI public PEM).
async fn rsa_key_pair() -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("key.pem");
    let run = |args: Vec<&str>| {
        let mut command = tokio::process::Command::new("openssl");
        command.args(args);
        async move {
            let out = command.output().await.expect("openssl runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
    };
    let path = private.to_str().unwrap();
    run(vec![
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        path,
    ])
    .await;
    let public = run(vec!["pkey", "-in", path, "-pubout"]).await;
    (std::fs::read_to_string(&private).unwrap(), public)
}

/// Google's token endpoint and BigQuery's `tabledata.insertAll`, as documented. The token
/// endpoint takes `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an RS256
/// `assertion` whose signature must verify with the service account's public key, `iss`
/// the account, `aud` the token URI, `scope` BigQuery's, at most an hour long; it answers
/// `{access_token, expires_in, token_type}` or 400 `invalid_grant`. insertAll takes the
/// bearer token and `{rows: [{insertId, json}]}`; rows whose `json` has a field the table
/// lacks are `invalid` (the others `stopped`: nothing inserted); an `insertId` seen before
/// is not inserted again (BigQuery's best-effort de-duplication).
#[derive(Clone)]
struct BigQuery {
    public_key: Arc<jsonwebtoken::DecodingKey>,
    token_uri: Arc<Mutex<String>>,
    /// Inserted rows by insertId.
    rows: Arc<Mutex<BTreeMap<String, Value>>>,
    rows_received: Arc<Mutex<usize>>,
    tokens_issued: Arc<Mutex<usize>>,
    /// Insert the first request's rows, then answer it 503 as if the answer were lost.
    lose_first_answer: Arc<Mutex<bool>>,
}

impl BigQuery {
    const COLUMNS: [&str; 3] = ["host", "request_id", "status"];

    async fn start(public_pem: &str, lose_first_answer: bool) -> (BigQuery, String) {
        let bigquery = BigQuery {
            public_key: Arc::new(
                jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap(),
            ),
            token_uri: Arc::default(),
            rows: Arc::default(),
            rows_received: Arc::default(),
            tokens_issued: Arc::default(),
            lose_first_answer: Arc::new(Mutex::new(lose_first_answer)),
        };
        let app = axum::Router::new()
            .route("/token", axum::routing::post(BigQuery::token))
            .route(
                "/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}/insertAll",
                axum::routing::post(BigQuery::insert_all),
            )
            .with_state(bigquery.clone());
        let url = serve(app).await;
        *bigquery.token_uri.lock().unwrap() = format!("{url}/token");
        (bigquery, url)
    }

    fn key_json(&self, private_pem: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": "edge-logs",
            "private_key_id": "4f1e9c0d2b",
            "private_key": private_pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "token_uri": *self.token_uri.lock().unwrap(),
        })
        .to_string()
    }

    async fn token(
        State(bigquery): State<BigQuery>,
        Form(form): Form<HashMap<String, String>>,
    ) -> Response {
        let invalid_grant = |description: &str| {
            let body = json!({"error": "invalid_grant", "error_description": description});
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        };
        if form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})),
            )
                .into_response();
        }
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[bigquery.token_uri.lock().unwrap().clone()]);
        validation.set_issuer(&[CLIENT_EMAIL]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
        let assertion = form.get("assertion").cloned().unwrap_or_default();
        let claims =
            match jsonwebtoken::decode::<Value>(&assertion, &bigquery.public_key, &validation) {
                Ok(data) => data.claims,
                Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
                    return invalid_grant("Invalid JWT Signature.");
                }
                Err(e) => return invalid_grant(&format!("Invalid JWT: {e}")),
            };
        let lifetime = claims["exp"].as_u64().unwrap_or(0) - claims["iat"].as_u64().unwrap_or(0);
        let scopes = claims["scope"].as_str().unwrap_or_default();
        if lifetime > 3600
            || !scopes
                .split(' ')
                .any(|s| s == "https://www.googleapis.com/auth/bigquery.insertdata")
        {
            return invalid_grant(
                "Invalid JWT: the token must last at most 3600 s and ask for a BigQuery scope.",
            );
        }
        *bigquery.tokens_issued.lock().unwrap() += 1;
        axum::Json(
            json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
        )
        .into_response()
    }

    async fn insert_all(
        State(bigquery): State<BigQuery>,
        Path((project, dataset, table)): Path<(String, String, String)>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> Response {
        let error = |status: StatusCode, reason: &str, message: &str| {
            let body = json!({"error": {"code": status.as_u16(), "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}});
            (status, axum::Json(body)).into_response()
        };
        let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
        if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Request had invalid authentication credentials.",
            );
        }
        if (project.as_str(), dataset.as_str(), table.as_str()) != ("edge-logs", "edge", "requests")
        {
            return error(
                StatusCode::NOT_FOUND,
                "notFound",
                &format!("Not found: Table {project}:{dataset}.{table}"),
            );
        }
        let request: Value = match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(_) => return error(StatusCode::BAD_REQUEST, "parseError", "Parse Error"),
        };
        let rows = request["rows"].as_array().cloned().unwrap_or_default();
        let well_formed = rows.len() <= 50_000
            && rows.iter().all(|row| {
                row["insertId"].as_str().is_some_and(|id| id.len() <= 128)
                    && row["json"].is_object()
            });
        if !well_formed || request["skipInvalidRows"] != false {
            return error(StatusCode::BAD_REQUEST, "invalid", "Invalid rows");
        }
        *bigquery.rows_received.lock().unwrap() += rows.len();
        let invalid = rows.iter().position(|row| {
            let json = row["json"].as_object().unwrap();
            json.keys().any(|k| !Self::COLUMNS.contains(&k.as_str()))
        });
        if let Some(bad) = invalid {
            let unknown = rows[bad]["json"]
                .as_object()
                .unwrap()
                .keys()
                .find(|k| !Self::COLUMNS.contains(&k.as_str()))
                .unwrap()
                .clone();
            let errors: Vec<Value> = (0..rows.len())
                .map(|i| {
                    let (reason, message) = if i == bad {
                        ("invalid", format!("no such field: {unknown}."))
                    } else {
                        ("stopped", String::new())
                    };
                    json!({"index": i, "errors": [{"reason": reason, "location": if i == bad { unknown.as_str() } else { "" }, "message": message}]})
                })
                .collect();
            return axum::Json(
                json!({"kind": "bigquery#tableDataInsertAllResponse", "insertErrors": errors}),
            )
            .into_response();
        }
        {
            let mut stored = bigquery.rows.lock().unwrap();
            for row in rows {
                let id = row["insertId"].as_str().unwrap().to_string();
                stored.entry(id).or_insert(row["json"].clone());
            }
        }
        if std::mem::take(&mut *bigquery.lose_first_answer.lock().unwrap()) {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "backendError",
                "Backend Error",
            );
        }
        axum::Json(json!({"kind": "bigquery#tableDataInsertAllResponse"})).into_response()
    }
}

fn bigquery_stream(api_url: &str, key_json: &str, domain_id: i64, template: &str) -> StreamForm {
    let mut endpoint = EndpointForm::new(&endpoints::bigquery::TYPE);
    endpoint.set("project_id", "edge-logs");
    endpoint.set("dataset_id", "edge");
    endpoint.set("table_id", "requests");
    endpoint.set("service_account_key", key_json);
    endpoint.set("api_url", api_url);
    stream("BigQuery", endpoint, domain_id, template)
}

#[tokio::test]
async fn bigquery_signs_in_with_the_service_account_and_a_resent_block_is_deduplicated() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (private, public) = rsa_key_pair().await;
    let (bigquery, url) = BigQuery::start(&public, true).await;
    save_stream(
        &s.owner,
        &bigquery_stream(&url, &bigquery.key_json(&private), s.domain_id, TEMPLATE),
    )
    .await;
    ingest_events(&s, 5).await;

    let rows_received = poll(Duration::from_secs(30), || async {
        let received = *bigquery.rows_received.lock().unwrap();
        (received >= 10).then_some(received)
    })
    .await
    .expect("the block is sent again after the lost answer");
    assert_eq!(rows_received, 10, "the block's five rows, twice");
    let rows = bigquery.rows.lock().unwrap().clone();
    assert_eq!(
        rows.len(),
        5,
        "the second send was de-duplicated by insertId: {rows:?}"
    );
    let mut in_order: Vec<(usize, Value)> = rows
        .into_iter()
        .map(|(id, json)| (id.rsplit_once('-').unwrap().1.parse().unwrap(), json))
        .collect();
    in_order.sort_by_key(|(index, _)| *index);
    let values: Vec<Value> = in_order.into_iter().map(|(_, json)| json).collect();
    assert_eq!(
        values,
        records(5),
        "each record is one row, by its place in the block"
    );
    assert_eq!(
        *bigquery.tokens_issued.lock().unwrap(),
        1,
        "the token is kept for the retry"
    );
    wait_for_status(&s, |status| !status["last_success_at"].is_null()).await;
}

#[tokio::test]
async fn a_key_bigquery_does_not_know_and_a_row_it_refuses_are_visible_errors() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let (private, public) = rsa_key_pair().await;
    let (other_private, _) = rsa_key_pair().await;
    let (bigquery, url) = BigQuery::start(&public, false).await;
    save_stream(
        &s.owner,
        &bigquery_stream(
            &url,
            &bigquery.key_json(&other_private),
            s.domain_id,
            TEMPLATE,
        ),
    )
    .await;
    ingest_events(&s, 1).await;
    let status = wait_for_status(&s, |status| !status["last_error"].is_null()).await;
    assert_eq!(
        status["last_error"],
        "Google sign-in: HTTP 400 Bad Request: invalid_grant: Invalid JWT Signature.",
        "{status}"
    );
    assert!(
        holds_failed_blocks(&s, 1).await,
        "the refused block is kept"
    );

    // The right key, and a template with a field the table lacks: the request fails whole.
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    let mut edited = bigquery_stream(
        &url,
        &bigquery.key_json(&private),
        s.domain_id,
        r#"{"host":"$host","request_id":"$request_id","colour":"blue"}"#,
    );
    edited.id = list[0]["id"].as_i64();
    save_stream(&s.owner, &edited).await;
    ingest_events(&s, 2).await;
    let status = wait_for_status(&s, |status| {
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("BigQuery"))
    })
    .await;
    assert_eq!(
        status["last_error"],
        "BigQuery refused record 1 of the block: invalid: no such field: colour.",
        "{status}"
    );
    assert!(bigquery.rows.lock().unwrap().is_empty(), "nothing inserted");
    assert!(
        holds_failed_blocks(&s, 2).await,
        "both refused blocks are kept"
    );
}

/// Firehose's `PutRecordBatch` as documented (JSON 1.1: `X-Amz-Target:
/// Firehose_20150804.PutRecordBatch`, `{"DeliveryStreamName", "Records": [{"Data":
/// <base64>}]}`), for what moto cannot do: answer a call that succeeds in part. Records whose
/// text is in `failing` are answered `ServiceUnavailableException` (`FailedPutCount`) for
/// their first `failures` sends; the rest are kept. Signatures are not checked here (moto's
/// test does).
#[derive(Clone, Default)]
struct PartialFirehose {
    kept: Arc<Mutex<Vec<String>>>,
    /// Records per call, in order.
    calls: Arc<Mutex<Vec<usize>>>,
    failing: Arc<Mutex<HashMap<String, usize>>>,
}

impl PartialFirehose {
    async fn start(failing: &[&str], failures: usize) -> (PartialFirehose, String) {
        let firehose = PartialFirehose::default();
        *firehose.failing.lock().unwrap() = failing
            .iter()
            .map(|text| (text.to_string(), failures))
            .collect();
        let app = axum::Router::new()
            .route("/", axum::routing::post(PartialFirehose::put_record_batch))
            .with_state(firehose.clone());
        (firehose, serve(app).await)
    }

    async fn put_record_batch(
        State(firehose): State<PartialFirehose>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> Response {
        use base64::Engine;
        let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
        let request: Value = serde_json::from_slice(&body).unwrap_or_default();
        let records = request["Records"].as_array().cloned().unwrap_or_default();
        if target != Some("Firehose_20150804.PutRecordBatch")
            || request["DeliveryStreamName"] != "edge-logs"
            || records.is_empty()
            || records.len() > 500
        {
            let error = json!({"__type": "InvalidArgumentException", "message": "bad request"});
            return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
        }
        firehose.calls.lock().unwrap().push(records.len());
        let mut failed = 0;
        let answers: Vec<Value> = records
            .iter()
            .map(|record| {
                let data = base64::engine::general_purpose::STANDARD
                    .decode(record["Data"].as_str().unwrap_or_default())
                    .unwrap();
                let text = String::from_utf8(data).unwrap();
                let text = text.strip_suffix('\n').expect("each record ends in its newline");
                let mut failing = firehose.failing.lock().unwrap();
                match failing.get_mut(text) {
                    Some(left) if *left > 0 => {
                        *left -= 1;
                        failed += 1;
                        json!({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
                    }
                    _ => {
                        firehose.kept.lock().unwrap().push(text.to_string());
                        json!({"RecordId": format!("rec-{}", firehose.kept.lock().unwrap().len())})
                    }
                }
            })
            .collect();
        let answer =
            json!({"FailedPutCount": failed, "Encrypted": false, "RequestResponses": answers});
        (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/x-amz-json-1.1",
            )],
            answer.to_string(),
        )
            .into_response()
    }
}

#[tokio::test]
async fn a_firehose_call_that_fails_in_part_resends_only_the_failed_records() {
    let s = setup(2000, Duration::from_secs(1)).await;
    let rendered: Vec<String> = records(6).iter().map(Value::to_string).collect();
    // Records 2 and 5 fail three sends, the sink's own three calls; the data plane's retry
    // of the block then sends only them.
    let (firehose, url) = PartialFirehose::start(&[&rendered[1], &rendered[4]], 3).await;
    let mut endpoint = EndpointForm::new(&endpoints::firehose::TYPE);
    endpoint.set("stream_name", "edge-logs");
    endpoint.set("region", "us-east-1");
    endpoint.set("access_key", "AKIAEXAMPLE");
    endpoint.set("secret_key", "secret");
    endpoint.set("endpoint_url", &url);
    save_stream(
        &s.owner,
        &stream("Firehose", endpoint, s.domain_id, TEMPLATE),
    )
    .await;
    ingest_events(&s, 6).await;

    let status = wait_for_status(&s, |status| status["records_delivered"] == 6).await;
    let mut kept = firehose.kept.lock().unwrap().clone();
    kept.sort();
    assert_eq!(kept, rendered, "each record once: {status}");
    assert_eq!(
        *firehose.calls.lock().unwrap(),
        [6, 2, 2, 2],
        "the first call had all six; every later one only the two that failed"
    );
}
