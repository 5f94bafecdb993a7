//! `/api/v1/activity`: the account's configuration changes, newest first (owners).

use app::backend::AppState;
use app::error::AppError;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, Params};

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityEntry {
    pub id: i64,
    /// RFC 3339, UTC.
    pub time: String,
    /// The email of who made the change.
    pub actor: String,
    /// `console` or `api`.
    pub via: String,
    /// `<kind>.<verb>`, e.g. `stream.update`.
    pub action: String,
    /// `<kind>/<id>`, e.g. `stream/12`.
    pub target: String,
    /// Each changed field with `from` and `to` (secrets masked).
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityPage {
    pub items: Vec<ActivityEntry>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// Only entries older than this id.
    pub before: Option<i64>,
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/activity", tag = "activity", operation_id = "list_activity",
    params(ActivityParams),
    responses((status = 200, description = "Configuration changes, newest first", body = ActivityPage)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(params): Params<ActivityParams>,
) -> Result<axum::Json<ActivityPage>, ApiError> {
    if actor.role != model::Role::Owner {
        return Err(AppError::Forbidden.into());
    }
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::query("limit", "limit must be from 1 to 200"));
    }
    let entries = state
        .db
        .activity(actor.account_id, params.before, i64::from(limit))
        .await?;
    let next_before = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let items = entries
        .into_iter()
        .map(|e| ActivityEntry {
            id: e.id,
            time: model::rfc3339_utc(e.at),
            actor: e.actor,
            via: e.via.as_str().to_string(),
            action: e.action,
            target: e.target,
            changes: serde_json::from_str(&e.changes).unwrap_or_default(),
        })
        .collect();
    Ok(axum::Json(ActivityPage { items, next_before }))
}
