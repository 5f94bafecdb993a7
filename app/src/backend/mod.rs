//! Server-only code of the console: sessions, permission checks, the handle on the
//! running engine, and the state shared by request handlers and server functions.
//! Storage is the `storage` crate (re-exported here for the server functions).

pub mod activity;
pub mod auth;
pub mod operations;
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
    /// The account's edge inputs: last event and messages per outcome, per input (in
    /// cluster mode over every instance).
    fn edge_status(&self, account_id: i64) -> EngineFuture<model::EdgeStatus>;
    /// The ports the syslog inputs listen on (UDP, TCP); `None` when one is off.
    fn syslog_ports(&self) -> (Option<u16>, Option<u16>);
    /// Spools an Activity History event (one JSON line) for the account's streams of that
    /// source; resolves once it is on disk.
    fn publish_activity(&self, account_id: i64, event: Vec<u8>)
    -> EngineFuture<Result<(), String>>;
    /// Queues the stream's set-aside blocks again; returns how many.
    fn redeliver_failed(&self, stream_id: i64) -> usize;
    /// What waits in the stream's spool (nothing when the stream has no worker).
    fn spool_depth(&self, stream_id: i64) -> EngineFuture<model::SpoolDepth>;
    /// Cluster mode: the stream's bus lag and delivering instances; `None` otherwise.
    fn bus_delivery(
        &self,
        account_id: i64,
        stream_id: i64,
    ) -> EngineFuture<Option<model::BusDelivery>>;
    /// The destination check on the endpoint's hosts: a field error for each field that
    /// names a refused destination (private, loopback, this server…).
    fn check_destination(
        &self,
        endpoint: model::EndpointSettings,
    ) -> EngineFuture<Vec<model::FieldError>>;
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

/// A stream form within the server's bounds and to an allowed destination, parsed; or
/// the field errors saying why not (sizes first: nothing large is parsed).
pub async fn parse_stream_form(
    state: &AppState,
    form: &model::StreamForm,
) -> Result<model::stream::ParsedStream, AppError> {
    state
        .bounds
        .check_stream_form(form)
        .map_err(AppError::InvalidFields)?;
    let parsed = form.parse().map_err(AppError::InvalidFields)?;
    check_destination(state, &parsed.config.endpoint).await?;
    Ok(parsed)
}

/// The destination check on an endpoint's hosts, as field errors.
pub async fn check_destination(
    state: &AppState,
    endpoint: &model::EndpointSettings,
) -> Result<(), AppError> {
    let refused = state.engine.check_destination(endpoint.clone()).await;
    if refused.is_empty() {
        Ok(())
    } else {
        Err(AppError::InvalidFields(refused))
    }
}

/// A stream's dashboard: status, what waits in its spool, per-minute figures of the last
/// hour and per-half-hour ones of the last day.
pub async fn stream_dashboard(
    state: &AppState,
    account_id: i64,
    id: i64,
) -> Result<model::StreamDashboard, AppError> {
    use storage::telemetry::{MINUTE_MS as MINUTE, minute_of};
    let stream = state.db.stream(account_id, id, &state.secrets).await?;
    let status = state
        .db
        .stream_summaries(account_id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .map(|s| s.status)
        .unwrap_or_default();
    // Up to the end of the current minute, so the latest counts show.
    let until = minute_of(storage::db::now_millis()) + MINUTE;
    let last_hour = state
        .db
        .metric_series(account_id, id, until - 60 * MINUTE, until, MINUTE)
        .await?;
    // The end of the current half hour.
    let day_until = until + (30 * MINUTE - until.rem_euclid(30 * MINUTE)) % (30 * MINUTE);
    let last_day = state
        .db
        .metric_series(
            account_id,
            id,
            day_until - 48 * 30 * MINUTE,
            day_until,
            30 * MINUTE,
        )
        .await?;
    Ok(model::StreamDashboard {
        name: stream.config.name.as_str().to_string(),
        active: stream.config.active,
        status,
        spool: state.engine.spool_depth(id).await,
        bus: state.engine.bus_delivery(account_id, id).await,
        last_hour,
        last_day,
    })
}

/// Refuses one more of something an account holds `count` of, past its bound.
pub fn check_count(count: usize, bound: usize, what: &str, setting: &str) -> Result<(), AppError> {
    if count >= bound {
        return Err(AppError::Conflict(model::bounds::count_reached(
            count, what, setting,
        )));
    }
    Ok(())
}

/// Shared by every request handler and server function (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub passwords: std::sync::Arc<auth::Passwords>,
    /// A session ends this long after its sign-in, however active (`--session-lifetime`).
    pub session_lifetime: std::time::Duration,
    pub secrets: secrets::SecretBox,
    pub engine: std::sync::Arc<dyn EngineControl>,
    /// The operator's bounds on what an account may create.
    pub bounds: model::Bounds,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The nonce the server put in this response's Content-Security-Policy (a request
/// extension set by the server's security headers), for the page's inline scripts.
#[derive(Clone, Debug)]
pub struct CspNonce(pub std::sync::Arc<str>);

/// Provides the request's [`CspNonce`] to the rendering (hydration and streaming scripts).
pub fn provide_csp_nonce() {
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(nonce));
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
