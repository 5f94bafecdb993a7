//! The automation API (`/api/v1`) as a script drives it: API tokens, a stream's whole life
//! cycle, ETag / If-Match, templates as resources, the activity history (and its data
//! source), and the OpenAPI document checked against the router and by schemathesis.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::delivery::event;
use crate::helpers::{Browser, PASSWORD, Storage, TestApp, poll, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

const HOST: &str = "api.acme.test";
const HEADER_SECRET: &str = "receiver-secret-7f3a";

/// An API client: a bearer token and the server's address.
pub struct Api {
    pub address: String,
    pub token: String,
    client: reqwest::Client,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .request(method.clone(), format!("{}/api/v1{path}", self.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            let content_type = if method == reqwest::Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            request = request
                .header("content-type", content_type)
                .body(body.to_string());
        }
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        let r = request.send().await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.send(reqwest::Method::GET, path, None, None).await;
        (status, body)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let (status, _, body) = self
            .send(reqwest::Method::POST, path, Some(body), None)
            .await;
        (status, body)
    }

    /// A resource and its `ETag`.
    async fn read(&self, path: &str) -> (Value, String) {
        let (status, headers, body) = self.send(reqwest::Method::GET, path, None, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        (body, headers["etag"].to_str().unwrap().to_string())
    }

    async fn put(&self, path: &str, body: &Value, tag: &str) -> (StatusCode, Value) {
        let (status, _, body) = self
            .send(reqwest::Method::PUT, path, Some(body), Some(tag))
            .await;
        (status, body)
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.send(reqwest::Method::DELETE, path, None, None).await;
        (status, body)
    }
}

/// A token of `role` made on the console by the signed-in `user`.
pub async fn api_token(app: &TestApp, user: &Browser, role: &str) -> Api {
    let (status, created) = user
        .call_json(
            "create_api_token",
            &[
                ("name", "automation"),
                ("role", role),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("dsa_"), "{token}");
    Api {
        address: app.address.clone(),
        token,
        client: reqwest::Client::new(),
    }
}

pub fn http_endpoint(url: &str) -> Value {
    json!({
        "type": "http",
        "fields": { "url": url },
        "lists": { "headers": [{ "name": "X-Api-Key", "value": HEADER_SECRET }] }
    })
}

async fn send_events(app: &TestApp, token: &str, range: std::ops::Range<usize>) {
    let body: Vec<String> = range.map(|i| event(i, HOST)).collect();
    let r = reqwest::Client::new()
        .post(format!("{}/ingest/edge_applications", app.address))
        .bearer_auth(token)
        .body(body.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn life_cycle(storage: Storage) {
    let app = spawn_app_with(storage, |s| s.block_max_age = Duration::from_millis(300)).await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let api = api_token(&app, &owner, "editor").await;
    let receiver = Receiver::start().await;

    let (status, domain) = api.post("/domains", &json!({ "name": HOST })).await;
    assert_eq!(status, 201, "{domain}");
    let data_set = r#"{"host": "$host", "id": "$request_id", "status": "$status"}"#;
    let (status, template) = api
        .post(
            "/templates",
            &json!({ "name": "Hosts", "data_source": "edge_applications", "data_set": data_set }),
        )
        .await;
    assert_eq!(status, 201, "{template}");
    let template_id = template["id"].as_i64().unwrap();

    // A bad stream is refused with the console's field names, and nothing is created.
    let (status, refused) = api
        .post(
            "/streams",
            &json!({ "name": "", "data_source": "edge_applications", "template_id": template_id,
                     "domain_ids": [domain["id"]], "endpoint": http_endpoint("ftp://x") }),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let fields: Vec<&str> = refused["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "endpoint.url"], "{refused}");

    let (status, headers, stream) = api
        .send(
            reqwest::Method::POST,
            "/streams",
            Some(&json!({
                "name": "SIEM", "data_source": "edge_applications", "template_id": template_id,
                "domain_ids": [domain["id"]], "endpoint": http_endpoint(&receiver.url)
            })),
            None,
        )
        .await;
    assert_eq!(status, 201, "{stream}");
    let id = stream["id"].as_i64().unwrap();
    let created_tag = headers["etag"].to_str().unwrap().to_string();
    // The header's value is write-only.
    assert_eq!(
        stream["endpoint"]["lists"]["headers"][0]["value"],
        "********"
    );
    assert!(!stream.to_string().contains(HEADER_SECRET));

    let (status, created) = api.post("/ingest-tokens", &json!({ "name": "edge" })).await;
    assert_eq!(status, 201, "{created}");
    let ingest_token = created["token"].as_str().unwrap().to_string();
    send_events(&app, &ingest_token, 0..30).await;
    let records = receiver.wait_for_records(30, Duration::from_secs(10)).await;
    let expected: Vec<Value> = (0..30)
        .map(|i| json!({ "host": HOST, "id": format!("req-{i:06}"), "status": "200" }))
        .collect();
    let received: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    assert_eq!(received, expected);
    assert!(
        receiver
            .accepted()
            .iter()
            .all(|b| b.headers["x-api-key"] == HEADER_SECRET)
    );

    // The delivery is in the status and the log.
    let status_seen = poll(Duration::from_secs(10), || async {
        let (_, status) = api.get(&format!("/streams/{id}/status")).await;
        (status["records_delivered"] == 30).then_some(status)
    })
    .await
    .expect("the status counts the 30 records");
    assert!(status_seen["last_success_at"].is_string(), "{status_seen}");
    let log = poll(Duration::from_secs(10), || async {
        let (_, log) = api
            .get(&format!("/streams/{id}/deliveries?outcome=delivered"))
            .await;
        let records: i64 = log
            .as_array()?
            .iter()
            .map(|a| a["records"].as_i64().unwrap())
            .sum();
        (records == 30).then_some(log)
    })
    .await
    .expect("the delivery log holds the 30 records");
    assert!(log[0]["block_id"].is_string());

    // A change with the ETag read goes through; one with a stale ETag is refused.
    let (status, headers, patched) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/streams/{id}"),
            Some(&json!({ "name": "SIEM (prod)" })),
            Some(&created_tag),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "SIEM (prod)");
    assert_ne!(headers["etag"].to_str().unwrap(), created_tag);
    let mut replacement = patched.clone();
    for key in ["id", "revision"] {
        replacement.as_object_mut().unwrap().remove(key);
    }
    replacement["name"] = json!("overwritten");
    let (status, stale) = api
        .put(&format!("/streams/{id}"), &replacement, &created_tag)
        .await;
    assert_eq!(status, 412, "{stale}");
    let (_, current) = api.get(&format!("/streams/{id}")).await;
    assert_eq!(
        current["name"], "SIEM (prod)",
        "the stale write changed nothing"
    );

    // What a GET answered, written back as it is (the header masked), keeps the secret;
    // the mask toward a new destination is refused (the secret was not saved for it).
    let (read, tag) = api.read(&format!("/streams/{id}")).await;
    let mut echoed = read.clone();
    for key in ["id", "revision"] {
        echoed.as_object_mut().unwrap().remove(key);
    }
    let mut elsewhere = echoed.clone();
    elsewhere["endpoint"]["fields"]["url"] = json!("http://127.0.0.1:9/other");
    let (status, refused) = api.put(&format!("/streams/{id}"), &elsewhere, &tag).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["fields"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("endpoint.headers"),
        "{refused}"
    );
    let (status, replaced) = api.put(&format!("/streams/{id}"), &echoed, &tag).await;
    assert_eq!(status, 200, "{replaced}");

    // The shared template edited through the API: its stream sends the new shape at once.
    let (_, template_tag) = api.read(&format!("/templates/{template_id}")).await;
    let edited = json!({ "name": "Hosts", "data_source": "edge_applications",
                         "data_set": r#"{"id": "$request_id", "uri": "$request_uri"}"# });
    let (status, body) = api
        .put(&format!("/templates/{template_id}"), &edited, &template_tag)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = api
        .put(&format!("/templates/{template_id}"), &edited, &template_tag)
        .await;
    assert_eq!(status, 412, "a stale template ETag");
    send_events(&app, &ingest_token, 30..40).await;
    let records = receiver.wait_for_records(40, Duration::from_secs(10)).await;
    let last: Value = serde_json::from_str(&records[39]).unwrap();
    assert_eq!(last, json!({ "id": "req-000039", "uri": "/p?i=39" }));
    assert!(
        receiver
            .accepted()
            .iter()
            .all(|b| b.headers["x-api-key"] == HEADER_SECRET),
        "the header's secret is the one first sent"
    );

    // A template in use cannot be deleted; the stream can, then the template can.
    let (status, in_use) = api.delete(&format!("/templates/{template_id}")).await;
    assert_eq!(status, 409, "{in_use}");
    assert!(
        in_use["message"].as_str().unwrap().contains("SIEM (prod)"),
        "{in_use}"
    );
    let gone = poll(Duration::from_secs(10), || async {
        let (status, _) = api.delete(&format!("/streams/{id}")).await;
        (status == 204).then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "the stream is deleted once its spool is empty"
    );
    assert_eq!(api.get(&format!("/streams/{id}")).await.0, 404);
    assert_eq!(
        api.delete(&format!("/templates/{template_id}")).await.0,
        204
    );
}

#[tokio::test]
async fn a_whole_life_cycle_through_the_api_on_sqlite() {
    life_cycle(Storage::Sqlite).await;
}

#[tokio::test]
async fn a_whole_life_cycle_through_the_api_on_postgres() {
    life_cycle(Storage::Postgres).await;
}

#[tokio::test]
async fn api_tokens_act_with_the_lower_role_and_go_with_their_user() {
    let app = spawn_app(Storage::Sqlite).await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let (status, member) = owner
        .call_json(
            "add_member",
            &[
                ("email", "ed@acme.test"),
                ("role", "editor"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{member}");
    let editor = app.sign_in("ed@acme.test", PASSWORD).await;

    // No higher than the owner's role, and shown once: the list has only its prefix.
    let (status, refused) = editor
        .call_json(
            "create_api_token",
            &[("name", "x"), ("role", "owner"), ("expires_in_days", "30")],
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["Invalid"]["field"], "role", "{refused}");
    let api = api_token(&app, &editor, "editor").await;
    let (_, listed) = editor.call_json("list_api_tokens", &[]).await;
    assert_eq!(listed[0]["role"], "editor");
    assert!(!listed.to_string().contains(&api.token));
    let viewer_api = api_token(&app, &editor, "viewer").await;

    let domain = json!({ "name": HOST });
    assert_eq!(viewer_api.post("/domains", &domain).await.0, 403);
    assert_eq!(viewer_api.get("/domains").await.0, 200);
    let (status, created) = api.post("/domains", &domain).await;
    assert_eq!(status, 201, "{created}");
    // The history is the owners': an editor can neither read it nor stream it.
    assert_eq!(api.get("/activity").await.0, 403);
    let audit = json!({ "name": "Audit", "data_source": "activity_history",
                        "template": "activity-history-collector",
                        "endpoint": http_endpoint("http://127.0.0.1:9/") });
    assert_eq!(api.post("/streams", &audit).await.0, 403);

    // The owner makes the editor a viewer: the editor token is capped at once.
    let user_id = member["id"].as_i64().unwrap().to_string();
    let (status, _) = owner
        .call_json("change_role", &[("user_id", &user_id), ("role", "viewer")])
        .await;
    assert_eq!(status, 200);
    let other = json!({ "name": "other.acme.test" });
    assert_eq!(api.post("/domains", &other).await.0, 403);
    let (_, listed) = owner.call_json("list_api_tokens", &[]).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["role"] == "viewer")
    );

    // Removed: their tokens go with them.
    let (status, _) = owner
        .call_json("remove_member", &[("user_id", &user_id)])
        .await;
    assert_eq!(status, 200);
    let (status, answer) = api.get("/domains").await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("API token"));
    assert_eq!(viewer_api.get("/domains").await.0, 401);
    // Nor does a session cookie or an ingest token open the API.
    assert_eq!(owner.get("/api/v1/domains").await.status(), 401);
}

#[tokio::test]
async fn the_activity_history_records_console_and_api_changes_and_streams_them() {
    let app = spawn_app_with(Storage::Sqlite, |s| {
        s.block_max_age = Duration::from_millis(300)
    })
    .await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let api = api_token(&app, &owner, "owner").await;
    let receiver = Receiver::start().await;

    // An Activity History stream has no domains; its own creation is its first entry.
    let (status, history) = api
        .post(
            "/streams",
            &json!({ "name": "Audit", "data_source": "activity_history",
                     "template": "activity-history-collector",
                     "endpoint": http_endpoint(&receiver.url) }),
        )
        .await;
    assert_eq!(status, 201, "{history}");
    // Through the console: a domain; through the API: a stream with a secret header.
    let (status, _) = owner.call_json("add_domain", &[("name", HOST)]).await;
    assert_eq!(status, 200);
    let (_, domains) = api.get("/domains").await;
    let domain_id = domains["items"][0]["id"].clone();
    let (status, stream) = api
        .post(
            "/streams",
            &json!({ "name": "SIEM", "data_source": "edge_applications",
                     "template": "edge-applications-event-collector", "domain_ids": [domain_id],
                     "endpoint": http_endpoint(&format!("{}/siem", receiver.url)) }),
        )
        .await;
    assert_eq!(status, 201, "{stream}");

    let (status, listed) = api.get("/activity").await;
    assert_eq!(status, 200, "{listed}");
    let actions: Vec<(&str, &str)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["via"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("stream.create", "api"),
            ("domain.create", "console"),
            ("stream.create", "api"),
            ("api_token.create", "console"),
        ]
    );
    let newest = &listed["items"][0];
    assert_eq!(newest["actor"], "owner@acme.test");
    assert_eq!(newest["target"], format!("stream/{}", stream["id"]));
    assert_eq!(
        newest["changes"]["name"],
        json!({ "from": null, "to": "SIEM" })
    );
    assert_eq!(
        newest["changes"]["endpoint.headers"]["to"][0],
        json!({ "name": "X-Api-Key", "value": "********" })
    );
    assert!(!listed.to_string().contains(HEADER_SECRET));

    // The Audit stream delivers the entries recorded once it ran, as its template renders
    // them.
    let records = receiver.wait_for_records(2, Duration::from_secs(10)).await;
    let records: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    let sent: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["via"].as_str().unwrap(),
                r["actor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("domain.create", "console", "owner@acme.test"),
            ("stream.create", "api", "owner@acme.test"),
        ]
    );
    // The preset sends each value as a string: the changes are a JSON text.
    let changes: Value = serde_json::from_str(records[0]["changes"].as_str().unwrap()).unwrap();
    assert_eq!(changes["name"]["to"], HOST);
    assert!(
        records
            .iter()
            .all(|r| r["time"].as_str().unwrap().ends_with('Z'))
    );
    assert!(!receiver.records().concat().contains(HEADER_SECRET));

    // Events of the source cannot be sent in: only the service writes them.
    let r = reqwest::Client::new()
        .post(format!("{}/ingest/activity_history", app.address))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Every route of `/api/v1` is in the document with its methods (each documented path
/// answers the rest with 405 and an `Allow` of exactly the documented ones); then the
/// document passes openapi-spec-validator and schemathesis (`scripts/api-check.sh`) finds
/// no 5xx and no answer outside it, on every operation, with its links.
#[tokio::test]
async fn the_openapi_document_matches_the_router_and_passes_schemathesis() {
    // Destinations resolve through a DNS server that is not there: fuzzed hosts fail fast.
    let app = spawn_app_with(Storage::Sqlite, |s| {
        s.destination_dns = Some("127.0.0.1:9".parse().unwrap());
    })
    .await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let api = api_token(&app, &owner, "owner").await;

    let (_, routes_document) = server::api::router();
    let served: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served["openapi"].as_str().unwrap(), "3.1.0");
    assert_eq!(served, routes_document);
    let paths = served["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{} paths", paths.len());
    let client = reqwest::Client::new();
    for (path, item) in paths {
        let mut documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
            .map(|k| k.to_uppercase())
            .collect();
        let concrete = path.replace("{id}", "1");
        for method in &documented {
            let r = client
                .request(
                    method.parse().unwrap(),
                    format!("{}{concrete}", app.address),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                401,
                "{method} {path} is routed (and needs a token)"
            );
        }
        let r = client
            .request(
                reqwest::Method::from_bytes(b"TRACE").unwrap(),
                format!("{}{concrete}", app.address),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{path}");
        let mut allowed: Vec<String> = r.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| m != "HEAD")
            .collect();
        allowed.sort();
        documented.sort();
        assert_eq!(allowed, documented, "{path}: the router's methods");
        // No catch-all answers: every JSON answer names its schema.
        for (method, operation) in item.as_object().unwrap() {
            for (status, answer) in operation["responses"].as_object().unwrap() {
                if let Some(content) = answer.get("content") {
                    let schema = &content["application/json"]["schema"];
                    assert!(
                        schema.get("$ref").is_some()
                            || schema.get("items").is_some_and(|i| i.get("$ref").is_some()),
                        "{method} {path} {status}: {schema}"
                    );
                }
            }
        }
    }

    // Something for the operations on one resource to find.
    let (status, _) = api.post("/domains", &json!({ "name": HOST })).await;
    assert_eq!(status, 201);
    let check = tokio::process::Command::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/api-check.sh"),
    )
    .arg(&app.address)
    .arg(&api.token)
    .status()
    .await
    .expect("scripts/api-check.sh runs");
    assert!(check.success(), "api-check.sh: {check}");
}

#[tokio::test]
async fn one_accounts_token_reaches_nothing_of_another() {
    let app = spawn_app(Storage::Sqlite).await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let api = api_token(&app, &owner, "owner").await;
    let (_, domain) = api.post("/domains", &json!({ "name": HOST })).await;
    let (_, template) = api
        .post(
            "/templates",
            &json!({ "name": "T", "data_source": "edge_applications", "data_set": r#"{"h": "$host"}"# }),
        )
        .await;
    let (status, stream) = api
        .post(
            "/streams",
            &json!({ "name": "S", "data_source": "edge_applications", "template_id": template["id"],
                     "domain_ids": [domain["id"]], "endpoint": http_endpoint("http://127.0.0.1:9/") }),
        )
        .await;
    assert_eq!(status, 201, "{stream}");
    let (_, token) = api.post("/ingest-tokens", &json!({ "name": "edge" })).await;

    // Another account and its owner, arranged in the database.
    let other = app.db.create_account("Other").await.unwrap();
    let hash = app::backend::auth::Passwords::default()
        .hash(PASSWORD.to_string())
        .await
        .unwrap();
    app.db
        .create_user(other.id, "eve@other.test", &hash, app::model::Role::Owner)
        .await
        .unwrap();
    let eve = app.sign_in("eve@other.test", PASSWORD).await;
    let eve_api = api_token(&app, &eve, "owner").await;

    for path in [
        format!("/streams/{}", stream["id"]),
        format!("/streams/{}/status", stream["id"]),
        format!("/streams/{}/deliveries", stream["id"]),
        format!("/templates/{}", template["id"]),
        format!("/domains/{}", domain["id"]),
        format!("/ingest-tokens/{}", token["id"]),
    ] {
        assert_eq!(eve_api.get(&path).await.0, 404, "GET {path}");
    }
    assert_eq!(
        eve_api
            .delete(&format!("/ingest-tokens/{}", token["id"]))
            .await
            .0,
        404
    );
    assert_eq!(
        eve_api
            .delete(&format!("/streams/{}", stream["id"]))
            .await
            .0,
        404
    );
    let (_, listed) = eve_api.get("/streams").await;
    assert_eq!(listed["page"]["total"], 0);
    let (_, activity) = eve_api.get("/activity").await;
    assert_eq!(
        activity["items"].as_array().unwrap().len(),
        1,
        "only Eve's own token: {activity}"
    );

    // Naming the first account's template or domain in Eve's stream is a field error.
    let (_, eve_domain) = eve_api
        .post("/domains", &json!({ "name": "eve.test" }))
        .await;
    let borrowed_template = json!({ "name": "X", "data_source": "edge_applications",
        "template_id": template["id"], "domain_ids": [eve_domain["id"]],
        "endpoint": http_endpoint("http://127.0.0.1:9/") });
    let (status, refused) = eve_api.post("/streams", &borrowed_template).await;
    assert_eq!(
        (status.as_u16(), refused["fields"][0]["field"].clone()),
        (422, json!("template_id")),
        "{refused}"
    );
    let borrowed_domain = json!({ "name": "Y", "data_source": "edge_applications",
        "template": "edge-applications-event-collector", "domain_ids": [domain["id"]],
        "endpoint": http_endpoint("http://127.0.0.1:9/") });
    let (status, refused) = eve_api.post("/streams", &borrowed_domain).await;
    assert_eq!(
        (status.as_u16(), refused["fields"][0]["field"].clone()),
        (422, json!("domains")),
        "{refused}"
    );
}

#[tokio::test]
async fn a_stream_form_never_rewrites_a_shared_template_behind_its_back() {
    let app = spawn_app(Storage::Sqlite).await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let api = api_token(&app, &owner, "owner").await;
    let (_, domain) = api.post("/domains", &json!({ "name": HOST })).await;
    let shared = r#"{"h": "$host"}"#;
    let (_, template) = api
        .post(
            "/templates",
            &json!({ "name": "Shared", "data_source": "edge_applications", "data_set": shared }),
        )
        .await;
    let stream = |name: &str| {
        json!({ "name": name, "data_source": "edge_applications", "template_id": template["id"],
                "domain_ids": [domain["id"]], "endpoint": http_endpoint("http://127.0.0.1:9/") })
    };
    let (_, first) = api.post("/streams", &stream("First")).await;
    let (status, _) = api.post("/streams", &stream("Second")).await;
    assert_eq!(status, 201);

    // The console's form of the first stream, switched to "New Custom Template".
    let (_, mut form) = owner
        .call_json("get_stream", &[("id", &first["id"].to_string())])
        .await;
    form["custom_template_id"] = Value::Null;
    form["custom_template"] = json!(r#"{"own": "$request_id"}"#);
    form["endpoint"]["values"]["url"] = json!("http://127.0.0.1:9/");
    let form: app::model::StreamForm = serde_json::from_value(form).unwrap();
    let (status, body) = owner.send_stream("save_stream", &form).await;
    assert_eq!(status, 200, "{body}");

    let (_, after) = api.get(&format!("/templates/{}", template["id"])).await;
    assert_eq!(
        after["data_set"], shared,
        "the shared template is unchanged"
    );
    let used_by: Vec<&str> = after["used_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(used_by, ["Second"]);
    let (_, first) = api.get(&format!("/streams/{}", first["id"])).await;
    assert_ne!(first["template_id"], template["id"]);
    let (_, own) = api
        .get(&format!("/templates/{}", first["template_id"]))
        .await;
    assert_eq!(own["data_set"], r#"{"own": "$request_id"}"#);
}
