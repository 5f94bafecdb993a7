//! POSTs a block and classifies the answer.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::HttpSettings;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock, Sink,
};

/// Receivers can de-duplicate on this header (delivery is at-least-once).
pub const BLOCK_ID_HEADER: &str = "X-Block-Id";
/// How much of an error answer's body is kept, and read.
const ANSWER_EXCERPT_CHARS: usize = 200;
const ANSWER_READ_BYTES: usize = 4096;

/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct HttpSink {
    clients: Clients,
    client: reqwest::Client,
    url: reqwest::Url,
    /// Custom headers, values from the stream's (decrypted) secrets.
    headers: HeaderMap,
}

impl HttpSink {
    pub fn new(clients: &Clients, settings: &HttpSettings) -> Result<HttpSink, String> {
        let mut headers = HeaderMap::new();
        for header in &settings.headers {
            let label = header.name.as_str();
            let name = HeaderName::from_bytes(label.as_bytes())
                .map_err(|e| format!("Header {label}: {e}"))?;
            let value = header
                .value
                .value()
                .ok_or_else(|| format!("Header {label}: its value is not available"))?;
            let mut value =
                HeaderValue::from_str(value).map_err(|e| format!("Header {label}: {e}"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let url = settings.url.url().clone();
        Ok(HttpSink {
            clients: clients.clone(),
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
            headers,
        })
    }

    async fn post(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let response = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/x-ndjson")
            .header(BLOCK_ID_HEADER, block.id.to_string())
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(block.body.clone())
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(Acknowledged {
                answer: format!("HTTP {status}"),
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let reason = if status.is_redirection() {
            format!("HTTP {status} (redirects are not followed: use the final URL)")
        } else {
            // The start of the endpoint's answer says why, for the delivery log and the
            // endpoint test.
            let excerpt = self.answer_excerpt(response).await;
            if excerpt.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {excerpt}")
            }
        };
        if is_retryable(status) {
            Err(DeliveryError::Retryable {
                reason,
                retry_after,
            })
        } else {
            Err(DeliveryError::Terminal { reason })
        }
    }
}

impl HttpSink {
    /// The first [`ANSWER_EXCERPT_CHARS`] characters of an error answer's body, on one line,
    /// without the stream's header values (endpoints often echo a rejected key). Reads at
    /// most [`ANSWER_READ_BYTES`], however large the body.
    async fn answer_excerpt(&self, mut response: reqwest::Response) -> String {
        let mut body = Vec::new();
        while body.len() < ANSWER_READ_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        body.truncate(ANSWER_READ_BYTES);
        let mut text = String::from_utf8_lossy(&body).into_owned();
        for value in self.headers.values() {
            if let Ok(secret) = value.to_str()
                && !secret.is_empty()
            {
                text = text.replace(secret, "<redacted>");
            }
        }
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| !c.is_control())
            .take(ANSWER_EXCERPT_CHARS)
            .collect()
    }
}

impl Sink for HttpSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.post(block))
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(
        DeliveryError::for_status(status, String::new()),
        DeliveryError::Retryable { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 422, 508] {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }
}
