//! Ingest tokens: owners and editors create and revoke; the token is shown once.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CreatedToken, IngestToken};

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
    use crate::backend::{auth, respond, state, tokens};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            let name = crate::validation::required("name", &name)?;
            let count = state.db.ingest_tokens(user.account_id).await?.len();
            crate::backend::check_count(
                count,
                state.bounds.ingest_tokens,
                "ingest tokens",
                "--max-ingest-tokens",
            )?;
            let (token, hash) = tokens::new_token();
            let prefix: String = token.chars().take(10).collect();
            let listed = state
                .db
                .create_ingest_token(user.account_id, &name, &hash, &prefix)
                .await?;
            crate::backend::apply_configuration(&state, user.account_id).await?;
            tracing::info!(
                account_id = user.account_id,
                token_id = listed.id,
                "ingest token created"
            );
            Ok(CreatedToken { token, listed })
        }
        .await,
    )
}

#[server(endpoint = "revoke_ingest_token")]
pub async fn revoke_ingest_token(id: i64) -> Result<(), AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            state.db.revoke_ingest_token(user.account_id, id).await?;
            crate::backend::apply_configuration(&state, user.account_id).await?;
            tracing::info!(
                account_id = user.account_id,
                token_id = id,
                "ingest token revoked"
            );
            Ok(())
        }
        .await,
    )
}
