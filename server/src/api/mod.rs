//! The automation API, `/api/v1`: the console's configuration as JSON resources, for
//! scripts and Terraform-like tools. Authenticated by API tokens ([`auth`]); errors in one
//! shape ([`error`]); every change goes through the console's own operations
//! (`app::backend::operations`: same rules, same field names, same activity history).
//!
//! Layout: [`auth`] and [`error`] (extractors), then one file per resource: [`domains`],
//! [`templates`] (custom ones, and the read-only presets), [`streams`] (with status,
//! delivery log, dashboard figures and redeliver), [`tokens`] (ingest tokens),
//! [`sources`] (data sources and their variables), [`activity`]; [`reference`] serves the
//! OpenAPI document and its reference page. The document is generated from the handlers:
//! `routes!` registers each handler and its entry together, so they cannot drift.

pub mod activity;
pub mod auth;
pub mod domains;
pub mod error;
pub mod reference;
pub mod sources;
pub mod streams;
pub mod templates;
pub mod tokens;

use app::backend::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Response};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Data Streaming API",
        description = "Configure data streams, templates, domains and ingest tokens; read \
            delivery status, logs and the activity history. Authenticate with an API token \
            (console: API tokens) as `Authorization: Bearer dsa_…`. Changes to one resource \
            are guarded by `ETag` / `If-Match`.",
    ),
    security(("api_token" = [])),
    tags(
        (name = "streams", description = "Data streams and what they delivered"),
        (name = "templates", description = "Custom templates (shared by streams) and presets"),
        (name = "domains", description = "The account's domains"),
        (name = "ingest tokens", description = "Tokens that send events in"),
        (name = "data sources", description = "Data sources and their variables"),
        (name = "activity", description = "The history of configuration changes"),
    )
)]
struct ApiDoc;

/// The API's routes with its reference page, and their OpenAPI document as served (built
/// together).
pub fn router() -> (Router<AppState>, serde_json::Value) {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(streams::list, streams::create))
        .routes(routes!(
            streams::get,
            streams::replace,
            streams::patch,
            streams::delete
        ))
        .routes(routes!(streams::status))
        .routes(routes!(streams::deliveries))
        .routes(routes!(streams::dashboard))
        .routes(routes!(streams::redeliver))
        .routes(routes!(templates::list, templates::create))
        .routes(routes!(
            templates::get,
            templates::replace,
            templates::patch,
            templates::delete
        ))
        .routes(routes!(templates::list_presets))
        .routes(routes!(templates::get_preset))
        .routes(routes!(domains::list, domains::create))
        .routes(routes!(
            domains::get,
            domains::replace,
            domains::patch,
            domains::delete
        ))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::get, tokens::revoke))
        .routes(routes!(sources::list))
        .routes(routes!(sources::get))
        .routes(routes!(activity::list))
        .split_for_parts();
    // After the routes: a modifier given to `#[openapi]` would run before they are added.
    let mut document = document;
    Conventions.modify(&mut document);
    let mut document =
        serde_json::to_value(&document).expect("the generated OpenAPI document serialises");
    add_links(&mut document);
    let router = router.merge(reference::router(&document));
    (router, document)
}

/// What every operation shares, added to the generated document: the bearer scheme and the
/// error answers in [`ErrorBody`]'s shape.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        let error = |description: &str| -> RefOr<Response> {
            utoipa::openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
                .into()
        };
        for (path, item) in document.paths.paths.iter_mut() {
            let with_id = path.contains('{');
            let operations = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, false),
            ];
            for (operation, has_body) in operations {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let responses = &mut operation.responses.responses;
                let mut add = |status: &str, description: &str| {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description));
                };
                add("400", "Bad query parameters or a body that is not JSON");
                add("401", "No valid, unexpired API token");
                add("403", "The token's role does not allow this");
                if with_id {
                    add("404", "No such resource in the token's account");
                }
                if has_body {
                    add("413", "The body is larger than the server takes");
                    add("415", "The body is not JSON (Content-Type)");
                    add(
                        "422",
                        "Bad input: each field's problem, named as on the console",
                    );
                }
            }
        }
    }
}

/// From each creation's answer (`$response.body#/id`) to the operations on what it made.
/// Written into the JSON: utoipa 5.5 serialises a link's `operationId` as `operation_id`.
fn add_links(document: &mut serde_json::Value) {
    let links: [(&str, &[&str]); 4] = [
        (
            "create_stream",
            &[
                "get_stream",
                "replace_stream",
                "patch_stream",
                "delete_stream",
                "get_stream_status",
                "get_stream_dashboard",
                "list_stream_deliveries",
                "redeliver_stream",
            ],
        ),
        (
            "create_template",
            &[
                "get_template",
                "replace_template",
                "patch_template",
                "delete_template",
            ],
        ),
        (
            "create_domain",
            &[
                "get_domain",
                "replace_domain",
                "patch_domain",
                "delete_domain",
            ],
        ),
        (
            "create_ingest_token",
            &["get_ingest_token", "revoke_ingest_token"],
        ),
    ];
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(post) = item.get_mut("post") else {
            continue;
        };
        let Some((_, targets)) = links
            .iter()
            .find(|(from, _)| post["operationId"].as_str() == Some(*from))
        else {
            continue;
        };
        let created = &mut post["responses"]["201"];
        for target in *targets {
            created["links"][*target] = serde_json::json!({
                "operationId": target,
                "parameters": { "id": "$response.body#/id" },
            });
        }
    }
}

/// A list's `name` filter: whether a name contains it, case-insensitively (all pass
/// without one).
pub fn name_filter(needle: Option<String>) -> impl Fn(&str) -> bool {
    let needle = needle.map(|n| n.to_lowercase());
    move |name| {
        needle
            .as_ref()
            .is_none_or(|n| name.to_lowercase().contains(n))
    }
}

/// `limit` and `offset` of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// At most this many items (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Skip this many items first (default 0).
    #[param(minimum = 0)]
    pub offset: Option<u32>,
}

/// Where a list page starts and how long it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    /// Items matching the filters, on every page.
    pub total: usize,
    pub limit: u32,
    pub offset: u32,
}

impl PageParams {
    /// The page of `items`, and where it is.
    pub fn page<T>(&self, items: Vec<T>) -> Result<(Vec<T>, PageInfo), ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::query("limit", "limit must be from 1 to 200"));
        }
        let offset = self.offset.unwrap_or(0);
        let info = PageInfo {
            total: items.len(),
            limit,
            offset,
        };
        let page = items
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Ok((page, info))
    }
}

/// The `ETag` of a revision.
pub fn etag(revision: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{revision}\"")) {
        headers.insert(header::ETAG, value);
    }
    headers
}

/// The revision an `If-Match` names: `None` without one (or `*`); else the first strong
/// tag that is a revision, or `Some(-1)` (it matches nothing: 412). Weak tags never match
/// (RFC 9110: If-Match compares strongly).
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(header::IF_MATCH)?.to_str().unwrap_or("").trim();
    if value == "*" {
        return None;
    }
    let revision = value.split(',').find_map(|tag| {
        tag.trim()
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse::<i64>().ok())
    });
    Some(revision.unwrap_or(-1))
}

/// Applies a JSON Merge Patch (RFC 7396) to a resource's current representation.
pub fn merge_patch<T: Serialize, U: serde::de::DeserializeOwned>(
    current: &T,
    patch: &serde_json::Value,
) -> Result<U, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::field("body", "A merge patch is a JSON object"));
    }
    let mut merged = serde_json::to_value(current)
        .map_err(|e| ApiError::from(app::backend::auth::internal("patch", e)))?;
    json_patch::merge(&mut merged, patch);
    serde_json::from_value(merged).map_err(|e| ApiError::field("body", e.to_string()))
}
