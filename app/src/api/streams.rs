//! Data streams: everyone signed in reads; owners and editors change. Secrets never come
//! back: the form returned for editing has them blank, with flags saying they are stored.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::{StreamForm, StreamSummary};

#[server(endpoint = "list_streams")]
pub async fn list_streams() -> Result<Vec<StreamSummary>, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            Ok(state.db.stream_summaries(user.account_id).await?)
        }
        .await,
    )
}

#[server(endpoint = "get_stream")]
pub async fn get_stream(id: i64) -> Result<StreamForm, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            let stream = state.db.stream(user.account_id, id, &state.secrets).await?;
            Ok(stream.for_browser())
        }
        .await,
    )
}

/// Parses with the same rules as the browser, then creates or updates; returns the id
/// once the running engine applied the change.
#[server(endpoint = "save_stream", input = Json)]
pub async fn save_stream(stream: StreamForm) -> Result<i64, AppError> {
    use crate::backend::{DbError, apply_configuration, auth, respond, state};
    use crate::model::FieldError;
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            let parsed = crate::backend::parse_stream_form(&state, &stream).await?;
            if stream.id.is_none() {
                let count = state.db.stream_summaries(user.account_id).await?.len();
                crate::backend::check_count(
                    count,
                    state.bounds.streams,
                    "streams",
                    "--max-streams",
                )?;
            }
            match state
                .db
                .save_stream(user.account_id, stream.id, &parsed, &state.secrets)
                .await
            {
                Ok(id) => {
                    tracing::info!(account_id = user.account_id, stream_id = id, "stream saved");
                    apply_configuration(&state, user.account_id).await?;
                    Ok(id)
                }
                Err(DbError::Conflict(_)) => Err(AppError::InvalidFields(vec![FieldError::new(
                    "name",
                    "Another stream already has this name",
                )])),
                Err(DbError::InvalidField(error)) => Err(AppError::InvalidFields(vec![error])),
                Err(DbError::NotFound) if stream.id.is_none() => {
                    Err(AppError::InvalidFields(vec![FieldError::new(
                        "domains",
                        "A chosen domain no longer exists",
                    )]))
                }
                Err(e) => Err(e.into()),
            }
        }
        .await,
    )
}

#[server(endpoint = "set_stream_active")]
pub async fn set_stream_active(id: i64, active: bool) -> Result<(), AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            state
                .db
                .set_stream_active(user.account_id, id, active)
                .await?;
            crate::backend::apply_configuration(&state, user.account_id).await?;
            Ok(())
        }
        .await,
    )
}

/// Deletes a stream. With records still waiting for its endpoint it asks first (409, what
/// waits); `discard_waiting` confirms, and the stream's spool is removed with it.
#[server(endpoint = "delete_stream")]
pub async fn delete_stream(
    id: i64,
    #[server(default)] discard_waiting: bool,
) -> Result<(), AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            // The stream is the account's before anything is asked of the engine.
            state.db.stream(user.account_id, id, &state.secrets).await?;
            let waiting = state.engine.spool_depth(id).await;
            if waiting.bytes > 0 && !discard_waiting {
                return Err(AppError::Conflict(format!(
                    "This stream has {} bytes in {} block(s) waiting for its endpoint \
                     ({} set aside): deleting it discards them. Delete it anyway?",
                    waiting.bytes, waiting.blocks, waiting.failed_blocks
                )));
            }
            state.db.delete_stream(user.account_id, id).await?;
            crate::backend::apply_configuration(&state, user.account_id).await?;
            tracing::info!(
                account_id = user.account_id,
                stream_id = id,
                "stream deleted"
            );
            Ok(())
        }
        .await,
    )
}

/// Queues the blocks the endpoint refused for good again (after the settings were fixed).
#[server(endpoint = "redeliver_failed")]
pub async fn redeliver_failed(id: i64) -> Result<usize, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            // 404 unless the stream is this account's.
            state.db.stream(user.account_id, id, &state.secrets).await?;
            let queued = state.engine.redeliver_failed(id);
            state.db.reset_blocks_failed(user.account_id, id).await?;
            tracing::info!(
                account_id = user.account_id,
                stream_id = id,
                queued,
                "failed blocks queued again"
            );
            Ok(queued)
        }
        .await,
    )
}
