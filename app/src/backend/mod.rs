//! Server-only code of the console: sessions, permission checks, the handle on the
//! running engine, and the state shared by request handlers and server functions.
//! Storage is the `storage` crate (re-exported here for the server functions).

pub mod auth;
pub mod session_store;

pub use storage::{db, secrets, streams, telemetry, tokens, users};

use leptos::config::LeptosOptions;
use leptos::prelude::use_context;

pub use auth::SignInLimiter;
pub use storage::{Db, DbBackend, DbError};

use crate::error::AppError;

/// A future the engine answers with.
pub type EngineFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// The running engine, as the console drives it (the server implements it on the data
/// plane's pipeline).
pub trait EngineControl: Send + Sync {
    /// An account's streams, domains or ingest tokens changed: applies the new
    /// configuration; resolves once the running engine uses it.
    fn apply(&self, account_id: i64) -> EngineFuture<Result<(), String>>;
    /// Queues the stream's set-aside blocks again; returns how many.
    fn redeliver_failed(&self, stream_id: i64) -> usize;
    /// What waits in the stream's spool (nothing when the stream has no worker).
    fn spool_depth(&self, stream_id: i64) -> EngineFuture<model::SpoolDepth>;
    /// Sends one sample block ([`engine::sample_block`]) rendered with `template` to the
    /// endpoint (secrets filled in), once and without retries; reports what it answered.
    fn test_endpoint(
        &self,
        template: engine::Template,
        endpoint: model::EndpointSettings,
    ) -> EngineFuture<model::EndpointTestResult>;
}

/// Applies an account's changed configuration before the server function answers, so
/// what the user sees next is what runs. A failure (the change is saved; the next change
/// applies it) is a server error to the user.
pub async fn apply_configuration(state: &AppState, account_id: i64) -> Result<(), AppError> {
    state
        .engine
        .apply(account_id)
        .await
        .map_err(|e| auth::internal("applying the configuration", e))
}

/// Shared by every request handler and server function (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub sign_in_limiter: SignInLimiter,
    pub secrets: secrets::SecretBox,
    pub engine: std::sync::Arc<dyn EngineControl>,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, inside a server function.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>()
        .ok_or_else(|| auth::internal("state", "AppState missing from context"))
}

/// Sets the response's HTTP status from the error (401, 403, 404, 409, 422, 429, 500).
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result
        && let Some(options) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(e.status())
    {
        options.set_status(status);
    }
    result
}
