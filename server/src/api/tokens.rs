//! `/api/v1/ingest-tokens`: the tokens that send events in. A token's value is in the
//! creation's answer only.

use app::backend::{AppState, operations};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{ApiError, Body, Id, Params};
use super::{PageInfo, PageParams};

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestToken {
    pub id: i64,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl From<model::IngestToken> for IngestToken {
    fn from(t: model::IngestToken) -> IngestToken {
        IngestToken {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: model::rfc3339_utc(t.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedIngestToken {
    /// The token: `Authorization: Bearer <token>` on `POST /ingest/{source}`. Shown once.
    pub token: String,
    #[serde(flatten)]
    pub listed: IngestToken,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestTokenInput {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestTokenPage {
    pub items: Vec<IngestToken>,
    pub page: PageInfo,
}

#[utoipa::path(get, path = "/api/v1/ingest-tokens", tag = "ingest tokens", operation_id = "list_ingest_tokens",
    params(PageParams),
    responses((status = 200, description = "The account's ingest tokens, oldest first", body = IngestTokenPage)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<IngestTokenPage>, ApiError> {
    let tokens = state.db.ingest_tokens(actor.account_id).await?;
    let (items, page) = page.page(tokens.into_iter().map(IngestToken::from).collect())?;
    Ok(axum::Json(IngestTokenPage { items, page }))
}

#[utoipa::path(post, path = "/api/v1/ingest-tokens", tag = "ingest tokens", operation_id = "create_ingest_token",
    request_body = IngestTokenInput,
    responses(
        (status = 201, description = "Created: the token is in this answer only", body = CreatedIngestToken),
        (status = 409, description = "The account has as many ingest tokens as it may", body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Body(input): Body<IngestTokenInput>,
) -> Result<impl IntoResponse, ApiError> {
    let created = operations::create_ingest_token(&state, &actor, &input.name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedIngestToken {
            token: created.token,
            listed: created.listed.into(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/ingest-tokens/{id}", tag = "ingest tokens", operation_id = "get_ingest_token",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The token (without its value)", body = IngestToken)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<axum::Json<IngestToken>, ApiError> {
    state
        .db
        .ingest_tokens(actor.account_id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .map(|t| axum::Json(t.into()))
        .ok_or_else(|| app::error::AppError::NotFound.into())
}

#[utoipa::path(delete, path = "/api/v1/ingest-tokens/{id}", tag = "ingest tokens", operation_id = "revoke_ingest_token",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Revoked: events sent with it are refused from now")))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    operations::revoke_ingest_token(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
