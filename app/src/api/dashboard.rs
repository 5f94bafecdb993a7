//! The stream dashboard, its delivery log, and the form's "Test endpoint" button.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::{DeliveryAttempt, EndpointTestResult, StreamDashboard, StreamForm};

/// Entries shown in the delivery log.
pub const DELIVERY_LOG_ROWS: i64 = 200;

#[server(endpoint = "stream_dashboard")]
pub async fn get_stream_dashboard(id: i64) -> Result<StreamDashboard, AppError> {
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            crate::backend::stream_dashboard(&state, user.account_id, id).await
        }
        .await,
    )
}

/// The stream's latest delivery attempts, newest first; `outcome` blank for all, or
/// `delivered`, `failed`, `refused`.
#[server(endpoint = "delivery_log")]
pub async fn delivery_log(id: i64, outcome: String) -> Result<Vec<DeliveryAttempt>, AppError> {
    use crate::backend::{auth, respond, state};
    use crate::model::{AttemptOutcome, FieldError};
    respond(
        async {
            let state = state()?;
            let user = auth::require_user(&state).await?;
            let outcome = match outcome.trim() {
                "" => None,
                text => Some(AttemptOutcome::parse(text).ok_or_else(|| {
                    AppError::InvalidFields(vec![FieldError {
                        field: "outcome".into(),
                        message: "Outcome must be delivered, failed or refused".into(),
                    }])
                })?),
            };
            // 404 unless the stream is this account's.
            state.db.stream(user.account_id, id, &state.secrets).await?;
            Ok(state
                .db
                .delivery_attempts(user.account_id, id, outcome, DELIVERY_LOG_ROWS)
                .await?)
        }
        .await,
    )
}

/// Sends one sample block (the preview's records) with the form's current settings, saved
/// or not; blank secrets of a saved stream are its stored ones, for the same destination.
#[server(endpoint = "test_endpoint", input = Json)]
pub async fn test_endpoint(stream: StreamForm) -> Result<EndpointTestResult, AppError> {
    use crate::backend::streams::fill_stored_secrets;
    use crate::backend::{auth, respond, state};
    respond(
        async {
            let state = state()?;
            let user = auth::require_editor(&state).await?;
            state
                .bounds
                .check_stream_form(&stream)
                .map_err(AppError::InvalidFields)?;
            // Only what the test uses: the endpoint, the data source and the template.
            let errors: Vec<_> = stream
                .parse()
                .err()
                .unwrap_or_default()
                .into_iter()
                .filter(|e| {
                    e.field.starts_with("endpoint")
                        || e.field.ends_with("template")
                        || e.field == "data_source"
                })
                .collect();
            if !errors.is_empty() {
                return Err(AppError::InvalidFields(errors));
            }
            let invalid = |message: String| AppError::invalid("template", message);
            let template = stream.compile_template().map_err(invalid)?;
            let mut endpoint = model::EndpointSettings::parse(&stream.endpoint)
                .map_err(AppError::InvalidFields)?;
            crate::backend::check_destination(&state, &endpoint).await?;
            let saved = match stream.id {
                Some(id) => Some(
                    state
                        .db
                        .stream(user.account_id, id, &state.secrets)
                        .await?
                        .config
                        .endpoint,
                ),
                None => None,
            };
            fill_stored_secrets(&mut endpoint, saved.as_ref())
                .map_err(|e| AppError::InvalidFields(vec![e]))?;
            // Who sent what where.
            let endpoint_type = endpoint.endpoint_type().id;
            let endpoint_host = endpoint.endpoint().host();
            let result = state.engine.test_endpoint(template, endpoint).await;
            tracing::info!(
                account_id = user.account_id,
                user_id = user.id,
                stream_id = stream.id,
                endpoint_type,
                endpoint_host,
                delivered = result.delivered,
                "endpoint tested"
            );
            Ok(result)
        }
        .await,
    )
}
