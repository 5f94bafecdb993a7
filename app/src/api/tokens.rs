//! Ingest tokens: owners and editors create and revoke; the token is shown once.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ApiToken, CreatedApiToken, CreatedToken, IngestToken};

#[server(endpoint = "list_ingest_tokens")]
pub async fn list_ingest_tokens() -> Result<Vec<IngestToken>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            Ok(state.db.ingest_tokens(user.account_id).await?)
        }
        .await,
    )
}

#[server(endpoint = "create_ingest_token")]
pub async fn create_ingest_token(name: String) -> Result<CreatedToken, AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::create_ingest_token(&state, &Actor::console(&user), &name).await
        }
        .await,
    )
}

#[server(endpoint = "revoke_ingest_token")]
pub async fn revoke_ingest_token(id: i64) -> Result<(), AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::revoke_ingest_token(&state, &Actor::console(&user), id).await
        }
        .await,
    )
}

#[server(endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            let tokens = state.db.api_tokens(user.account_id).await?;
            // Owners see every member's tokens; others their own.
            Ok(tokens
                .into_iter()
                .filter(|t| user.role == crate::model::Role::Owner || t.user_email == user.email)
                .collect())
        }
        .await,
    )
}

/// A token acting as the signed-in user with `role` (no higher than theirs) for
/// `expires_in_days` days; its value is shown once.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    role: String,
    expires_in_days: String,
) -> Result<CreatedApiToken, AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            let role = role
                .parse::<crate::model::Role>()
                .map_err(|e| AppError::invalid("role", e))?;
            let days = expires_in_days.trim().parse::<u32>().map_err(|_| {
                AppError::invalid("expires_in_days", "Expiry must be a whole number of days")
            })?;
            operations::create_api_token(&state, &Actor::console(&user), &name, role, days).await
        }
        .await,
    )
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            operations::revoke_api_token(&state, &Actor::console(&user), id).await
        }
        .await,
    )
}
