//! What the AWS SDK destinations (S3, Firehose) share: the SDK's settings (static keys, the
//! checked HTTP client, timeouts) and how an SDK error becomes a delivery error.

use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::region::Region;

use super::sink::{Clients, DeliveryError};

/// The SDK settings of one destination: its endpoint, region and keys, the HTTP client
/// that resolves through the destination policy, and timeouts so that a stalled host fails
/// the attempt (then retried) instead of hanging delivery.
pub fn sdk_config(
    clients: &Clients,
    endpoint_url: &str,
    region: &str,
    access_key: &str,
    secret_key: &str,
) -> aws_types::SdkConfig {
    let credentials = aws_credential_types::Credentials::new(
        access_key,
        secret_key,
        None,
        None,
        "data-streaming",
    );
    aws_types::SdkConfig::builder()
        .behavior_version(
            aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
        )
        .endpoint_url(endpoint_url.trim_end_matches('/'))
        .region(Region::new(region.to_string()))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .http_client(clients.aws_http())
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .build()
}

/// `<service> <code> (HTTP <status>)`: terminal for the codes a retry cannot fix (the
/// settings must change first) and other 4xx but 408, 429 and a skewed clock; retried
/// otherwise.
pub fn classify<E>(
    service: &str,
    terminal_codes: &[&str],
    error: SdkError<E, HttpResponse>,
) -> DeliveryError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(refused) = DeliveryError::from_destination(&error) {
        return refused;
    }
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.code().map(str::to_string);
    let reason = match (&code, status) {
        (Some(code), Some(status)) => format!("{service} {code} (HTTP {status})"),
        (None, Some(status)) => format!("{service} HTTP {status}"),
        (_, None) => match &error {
            SdkError::TimeoutError(_) => format!("{service} request timed out"),
            SdkError::DispatchFailure(_) => format!("cannot connect to the {service} host"),
            _ => format!("{service} request could not be built"),
        },
    };
    // A request that cannot be built (e.g. a host URL the SDK rejects) will not improve.
    let terminal = matches!(error, SdkError::ConstructionFailure(_))
        || code.as_deref().is_some_and(|c| terminal_codes.contains(&c))
        || (status.is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429)
            && code.as_deref() != Some("RequestTimeTooSkewed"));
    if terminal {
        DeliveryError::Terminal { reason }
    } else {
        DeliveryError::Retryable {
            reason,
            retry_after: None,
        }
    }
}
