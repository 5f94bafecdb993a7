//! `/api/v1/domains`: the hostnames the account serves.

use app::backend::{AppState, operations};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, Body, Id, Params};
use super::{PageInfo, PageParams, etag, if_match, merge_patch};

#[derive(Debug, Serialize, ToSchema)]
pub struct Domain {
    pub id: i64,
    /// A hostname, e.g. `www.example.com`.
    pub name: String,
    /// Bumped on every change; the `ETag`.
    pub revision: i64,
}

impl From<model::Domain> for Domain {
    fn from(d: model::Domain) -> Domain {
        Domain {
            id: d.id,
            name: d.name,
            revision: d.revision,
        }
    }
}

/// A domain as written.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainInput {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainPage {
    pub items: Vec<Domain>,
    pub page: PageInfo,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DomainFilter {
    /// Only domains whose name contains this (case-insensitive).
    pub name: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/domains", tag = "domains", operation_id = "list_domains",
    params(DomainFilter, PageParams),
    responses((status = 200, description = "The account's domains, by name", body = DomainPage)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(filter): Params<DomainFilter>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<DomainPage>, ApiError> {
    let named = super::name_filter(filter.name);
    let domains: Vec<Domain> = state
        .db
        .domains(actor.account_id)
        .await?
        .into_iter()
        .filter(|d| named(&d.name))
        .map(Domain::from)
        .collect();
    let (items, page) = page.page(domains)?;
    Ok(axum::Json(DomainPage { items, page }))
}

#[utoipa::path(post, path = "/api/v1/domains", tag = "domains", operation_id = "create_domain",
    request_body = DomainInput,
    responses(
        (status = 201, description = "Created", body = Domain, headers(("ETag" = String))),
        (status = 409, description = "The account has this domain, or as many as it may", body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Body(input): Body<DomainInput>,
) -> Result<impl IntoResponse, ApiError> {
    let domain = operations::create_domain(&state, &actor, &input.name).await?;
    Ok((
        StatusCode::CREATED,
        etag(domain.revision),
        axum::Json(Domain::from(domain)),
    ))
}

#[utoipa::path(get, path = "/api/v1/domains/{id}", tag = "domains", operation_id = "get_domain",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The domain", body = Domain, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<impl IntoResponse, ApiError> {
    let domain = operations::domain(&state, &actor, id).await?;
    Ok((etag(domain.revision), axum::Json(Domain::from(domain))))
}

async fn write(
    state: &AppState,
    actor: &app::backend::activity::Actor,
    id: i64,
    input: DomainInput,
    expected_revision: Option<i64>,
) -> Result<impl IntoResponse + use<>, ApiError> {
    let domain =
        operations::rename_domain(state, actor, id, &input.name, expected_revision).await?;
    Ok((etag(domain.revision), axum::Json(Domain::from(domain))))
}

#[utoipa::path(put, path = "/api/v1/domains/{id}", tag = "domains", operation_id = "replace_domain",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The ETag read: refused with 412 if it changed since")),
    request_body = DomainInput,
    responses(
        (status = 200, description = "Replaced", body = Domain, headers(("ETag" = String))),
        (status = 409, description = "The account has this domain already", body = super::ErrorBody),
        (status = 412, description = "Changed since the ETag in If-Match", body = super::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    headers: HeaderMap,
    Body(input): Body<DomainInput>,
) -> Result<impl IntoResponse, ApiError> {
    write(&state, &actor, id, input, if_match(&headers)).await
}

#[utoipa::path(patch, path = "/api/v1/domains/{id}", tag = "domains", operation_id = "patch_domain",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The ETag read: refused with 412 if it changed since")),
    request_body(content = serde_json::Value, content_type = "application/merge-patch+json",
        description = "A JSON Merge Patch of the domain's fields"),
    responses(
        (status = 200, description = "Changed", body = Domain, headers(("ETag" = String))),
        (status = 409, description = "The account has this domain already", body = super::ErrorBody),
        (status = 412, description = "Changed since the ETag in If-Match", body = super::ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
    headers: HeaderMap,
    Body(patch): Body<serde_json::Value>,
) -> Result<impl IntoResponse, ApiError> {
    let current = operations::domain(&state, &actor, id).await?;
    // Without If-Match, still only onto the revision the patch was merged with.
    let expected = if_match(&headers).or(Some(current.revision));
    let input: DomainInput = merge_patch(&DomainInput { name: current.name }, &patch)?;
    write(&state, &actor, id, input, expected).await
}

#[utoipa::path(delete, path = "/api/v1/domains/{id}", tag = "domains", operation_id = "delete_domain",
    params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Streams list it (named in the message)", body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    operations::delete_domain(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
