//! Operations routes beside the console: liveness, readiness and Prometheus metrics. No
//! session: probes and scrapers call them (metrics with their own token).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use app::backend::Db;

use dataplane::ingest::bearer_token;
use dataplane::pipeline::Pipeline;

#[derive(Clone)]
pub struct Operations {
    pub db: Db,
    pub pipeline: Pipeline,
    pub passwords: Arc<app::backend::auth::Passwords>,
    /// SHA-256 of the metrics token; `None`: `/metrics` is off.
    pub metrics_token_hash: Option<Arc<str>>,
}

pub fn operations_router(operations: Operations) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(operations)
}

/// Liveness and storage check: 200 when the database answers, 503 otherwise.
async fn healthz(State(ops): State<Operations>) -> (StatusCode, &'static str) {
    match ops.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}

/// Ready to take traffic: the engine runs (it started before the server listened), the
/// database answers and the spool folder can be written (in cluster mode: the bus answers).
async fn readyz(State(ops): State<Operations>) -> (StatusCode, String) {
    if let Err(e) = ops.db.ping().await {
        tracing::error!(error = %e, "readiness: database unreachable");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: database unreachable\n".into(),
        );
    }
    if let Some(bus) = ops.pipeline.bus() {
        if let Err(e) = bus.check().await {
            tracing::error!(error = %e, "readiness: bus unreachable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the bus (Kafka) does not answer\n".into(),
            );
        }
        return (StatusCode::OK, "ready\n".into());
    }
    if let Err(e) = ops.pipeline.check_spool_writable().await {
        tracing::error!(error = %e, "readiness: spool not writable");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the spool folder cannot be written\n".into(),
        );
    }
    (StatusCode::OK, "ready\n".into())
}

async fn metrics(State(ops): State<Operations>, headers: HeaderMap) -> Response {
    let Some(expected) = &ops.metrics_token_hash else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are off: start the server with --metrics-token (DS_METRICS_TOKEN)\n",
        )
            .into_response();
    };
    let presented = bearer_token(&headers).map(app::backend::tokens::token_hash);
    // Hashes compared, so the time taken says nothing about the token.
    if presented.as_deref() != Some(&**expected) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "the metrics token is required (Authorization: Bearer …)\n",
        )
            .into_response();
    }
    let pipeline = ops.pipeline.clone();
    let Ok(mut text) = tokio::task::spawn_blocking(move || pipeline.metrics_text()).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    console_metrics(&mut text, &ops.passwords);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The console's own figures, before the exposition's `# EOF`.
fn console_metrics(text: &mut String, passwords: &app::backend::auth::Passwords) {
    if text.ends_with("# EOF\n") {
        text.truncate(text.len() - "# EOF\n".len());
    }
    text.push_str(&format!(
        "# HELP ds_password_checks Password hashes computed or verified (sign-in, set-up, \
         password changes).\n# TYPE ds_password_checks counter\n\
         ds_password_checks_total {}\n# EOF\n",
        passwords.checks()
    ));
}
