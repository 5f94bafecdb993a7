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
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::save_stream(&state, &Actor::console(&user), stream.id, &stream, None).await
        }
        .await,
    )
}

#[server(endpoint = "set_stream_active")]
pub async fn set_stream_active(id: i64, active: bool) -> Result<(), AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::set_stream_active(&state, &Actor::console(&user), id, active).await
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
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::delete_stream(&state, &Actor::console(&user), id, discard_waiting).await
        }
        .await,
    )
}

/// Queues the blocks the endpoint refused for good again (after the settings were fixed).
#[server(endpoint = "redeliver_failed")]
pub async fn redeliver_failed(id: i64) -> Result<usize, AppError> {
    use crate::backend::{activity::Actor, auth, operations, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            operations::redeliver_failed(&state, &Actor::console(&user), id).await
        }
        .await,
    )
}
