//! Server-only code: storage, sessions, permission checks, and the state shared by
//! request handlers and server functions.

pub mod auth;
pub mod db;
pub mod domains;
pub mod secrets;
pub mod session_store;
pub mod status;
pub mod streams;
pub mod telemetry;
pub mod tokens;
pub mod users;

use leptos::config::LeptosOptions;
use leptos::prelude::use_context;

pub use auth::SignInLimiter;
pub use db::{Db, DbBackend, DbError};

use crate::error::AppError;

/// The running engine, as the console drives it (the server's pipeline implements it).
pub trait EngineControl: Send + Sync {
    /// An account's streams, domains or ingest tokens changed: apply the new configuration.
    fn account_changed(&self, account_id: i64);
    /// Queues the stream's set-aside blocks again; returns how many.
    fn redeliver_failed(&self, stream_id: i64) -> usize;
    /// What waits in the stream's spool (nothing when the stream has no worker).
    fn spool_depth(
        &self,
        stream_id: i64,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = crate::model::SpoolDepth> + Send + 'static>,
    >;
    /// Sends one sample block ([`engine::sample_block`]) with the stream's settings, secrets
    /// filled in, once and without retries; reports what the endpoint answered.
    fn test_endpoint(
        &self,
        stream: streams::StreamRecord,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = crate::model::EndpointTestResult> + Send + 'static>,
    >;
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
