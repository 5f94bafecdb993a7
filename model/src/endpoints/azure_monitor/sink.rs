//! Signs in with the client credentials grant (the token kept until shortly before it
//! expires), then POSTs the block's records as gzip JSON arrays of at most
//! [`MAX_CALL_BYTES`] to the stream. Records go as the template rendered them: each must be
//! a JSON object whose fields the rule's stream declares. A 413 splits that call in two, a
//! 401 drops the token so the retry signs in again, a 429 waits for its Retry-After.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};

use super::AzureMonitorSettings;
use crate::endpoints::oauth::TokenEndpoint;
use crate::endpoints::sink::{
    Acknowledged, BatchAnswer, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock,
    Sink, batches, gzip_json_array, read_answer, records, retry_after, send_splitting,
};

/// Bytes per call at most, uncompressed (the API's 1 MB, which counts both ways).
pub const MAX_CALL_BYTES: usize = 1_000_000;
/// How much of an error answer is read.
const ANSWER_READ_BYTES: usize = 4096;
/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct AzureMonitorSink {
    clients: Clients,
    client: reqwest::Client,
    url: reqwest::Url,
    token: TokenEndpoint,
    client_id: String,
    client_secret: String,
    scope: &'static str,
}

impl AzureMonitorSink {
    pub fn new(
        clients: &Clients,
        settings: &AzureMonitorSettings,
    ) -> Result<AzureMonitorSink, String> {
        let client_secret = settings
            .client_secret
            .value()
            .ok_or("Client Secret: its value is not available")?;
        let url = settings.ingestion_url();
        Ok(AzureMonitorSink {
            clients: clients.clone(),
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
            token: TokenEndpoint::new(clients, settings.token_url(), "Azure sign-in")?,
            client_id: settings.client_id.as_str().to_string(),
            client_secret: client_secret.to_string(),
            scope: settings.scope(),
        })
    }

    async fn post(&self, records: &[&[u8]]) -> Result<BatchAnswer, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let bearer = self
            .token
            .bearer(&self.clients, || {
                Ok(vec![
                    ("client_id", self.client_id.clone()),
                    ("client_secret", self.client_secret.clone()),
                    ("scope", self.scope.to_string()),
                    ("grant_type", "client_credentials".to_string()),
                ])
            })
            .await?;
        let mut response = self
            .client
            .post(self.url.clone())
            .header(AUTHORIZATION, bearer)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(gzip_json_array(records)?)
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(BatchAnswer::Accepted(status));
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Ok(BatchAnswer::TooLarge);
        }
        let wait = retry_after(&response);
        let reason = reason(status, &read_answer(&mut response, ANSWER_READ_BYTES).await);
        match status {
            StatusCode::UNAUTHORIZED => {
                self.token.forget().await;
                Err(DeliveryError::Retryable {
                    reason: format!("{reason} (the next attempt signs in again)"),
                    retry_after: None,
                })
            }
            StatusCode::TOO_MANY_REQUESTS => Err(DeliveryError::Retryable {
                reason,
                retry_after: wait,
            }),
            _ => Err(DeliveryError::for_status(status, reason)),
        }
    }

    async fn deliver_block(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        let records: Vec<&[u8]> = records(block).collect();
        let sizes: Vec<usize> = records.iter().map(|r| r.len()).collect();
        let batches = batches(&sizes, usize::MAX, MAX_CALL_BYTES);
        let (status, calls) = send_splitting(batches, |range| self.post(&records[range])).await?;
        Ok(Acknowledged::after_requests(
            status,
            calls,
            "ingestion call",
        ))
    }
}

impl Sink for AzureMonitorSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_block(block))
    }
}

/// `HTTP <status>: <code>: <message>` from the API's `{"error":{"code","message"}}`.
fn reason(status: StatusCode, answer: &[u8]) -> String {
    let answer: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
    let code = answer["error"]["code"].as_str().unwrap_or_default();
    let message: String = answer["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    match (code, message.as_str()) {
        ("", "") => format!("HTTP {status}"),
        (code, "") => format!("HTTP {status}: {code}"),
        ("", message) => format!("HTTP {status}: {message}"),
        (code, message) => format!("HTTP {status}: {code}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_names_its_code_and_message() {
        let answer = br#"{"error":{"code":"OperationFailed","message":"The authentication token provided does not have access to ingest data for the data collection rule"}}"#;
        assert_eq!(
            reason(StatusCode::FORBIDDEN, answer),
            "HTTP 403 Forbidden: OperationFailed: The authentication token provided does not have access to ingest data for the data collection rule"
        );
        assert_eq!(
            reason(StatusCode::BAD_GATEWAY, b"<html>"),
            "HTTP 502 Bad Gateway"
        );
    }
}
