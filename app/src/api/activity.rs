//! The activity history: owners read it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::ActivityEntry;

/// The newest entries first, `limit` (1–200) at a time, older than `before` when given.
#[server(endpoint = "list_activity")]
pub async fn list_activity(
    #[server(default)] before: Option<i64>,
    #[server(default)] limit: Option<i64>,
) -> Result<Vec<ActivityEntry>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_owner(&state).await?;
            let limit = limit.unwrap_or(100).clamp(1, 200);
            Ok(state.db.activity(user.account_id, before, limit).await?)
        }
        .await,
    )
}
