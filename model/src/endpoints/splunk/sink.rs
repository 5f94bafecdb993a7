//! POSTs a block to HEC as event envelopes, in requests of at most [`MAX_REQUEST_BYTES`],
//! and classifies HEC's answers by its documented status codes and `code` values.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use super::SplunkSettings;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock, Sink,
    read_answer, record_host, records,
};

/// Bytes per HEC request at most (Splunk Cloud's limit per request; Enterprise allows
/// more): a larger block goes out in several requests, in order.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// How much of an error answer is read.
const ANSWER_READ_BYTES: usize = 4096;
/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// `source` and `sourcetype` of every event, and `host` when a record names none.
const SOURCE: &str = "data-streaming";
const SOURCETYPE: &str = "_json";

pub struct SplunkSink {
    clients: Clients,
    client: reqwest::Client,
    url: reqwest::Url,
    authorization: HeaderValue,
    /// `,"index":"…"` or nothing.
    index_member: String,
}

impl SplunkSink {
    pub fn new(clients: &Clients, settings: &SplunkSettings) -> Result<SplunkSink, String> {
        let token = settings
            .hec_token
            .value()
            .ok_or("HEC Token: its value is not available")?;
        let mut authorization = HeaderValue::from_str(&format!("Splunk {token}"))
            .map_err(|e| format!("HEC Token: {e}"))?;
        authorization.set_sensitive(true);
        let url = settings.event_url();
        let index_member = settings
            .index()
            .map(|index| format!(",\"index\":{}", serde_json::Value::from(index)))
            .unwrap_or_default();
        Ok(SplunkSink {
            clients: clients.clone(),
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
            authorization,
            index_member,
        })
    }

    /// The block's records as HEC event envelopes, cut into request bodies.
    fn bodies(&self, block: &OutgoingBlock) -> Vec<Bytes> {
        let time = block
            .sealed_at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64 / 1000.0);
        let mut bodies = Vec::new();
        let mut body = Vec::with_capacity(block.body.len().min(MAX_REQUEST_BYTES) + 1024);
        for record in records(block) {
            let mut envelope = Vec::with_capacity(record.len() + 128);
            envelope.extend_from_slice(format!("{{\"time\":{time:.3},\"host\":").as_bytes());
            match record_host(record) {
                Some(host) => {
                    envelope.push(b'"');
                    envelope.extend_from_slice(host);
                    envelope.push(b'"');
                }
                None => envelope.extend_from_slice(format!("\"{SOURCE}\"").as_bytes()),
            }
            envelope.extend_from_slice(
                format!(
                    ",\"source\":\"{SOURCE}\",\"sourcetype\":\"{SOURCETYPE}\"{},\"event\":",
                    self.index_member
                )
                .as_bytes(),
            );
            if record.first() == Some(&b'{') {
                envelope.extend_from_slice(record);
            } else {
                let text = String::from_utf8_lossy(record);
                envelope.extend_from_slice(
                    serde_json::Value::from(text.as_ref())
                        .to_string()
                        .as_bytes(),
                );
            }
            envelope.extend_from_slice(b"}\n");
            if !body.is_empty() && body.len() + envelope.len() > MAX_REQUEST_BYTES {
                bodies.push(Bytes::from(std::mem::take(&mut body)));
            }
            body.extend_from_slice(&envelope);
        }
        if !body.is_empty() {
            bodies.push(Bytes::from(body));
        }
        bodies
    }

    async fn post(&self, body: Bytes) -> Result<StatusCode, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let response = self
            .client
            .post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::for_request(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(status);
        }
        // HEC answers {"text": "...", "code": N}; read a few KB of it at most.
        let mut response = response;
        let bytes = read_answer(&mut response, ANSWER_READ_BYTES).await;
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let text = answer["text"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>();
        let reason = match answer["code"].as_i64() {
            Some(code) => format!("HTTP {status}: {text} (HEC code {code})"),
            None => format!("HTTP {status}"),
        };
        Err(classify(status, reason))
    }

    async fn deliver_block(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        let bodies = self.bodies(block);
        let requests = bodies.len();
        let mut status = StatusCode::OK;
        for body in bodies {
            status = self.post(body).await?;
        }
        Ok(Acknowledged::after_requests(
            status,
            requests,
            "HEC request",
        ))
    }
}

impl Sink for SplunkSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_block(block))
    }
}

/// HEC's documented answers: 503 "Server is busy" (code 9), 500 "Internal server error"
/// (8), 429 and 408 are retried; 400 (no data, invalid data format, incorrect index, event
/// field missing or blank), 401 (token required, invalid authorization), 403 (token
/// disabled, invalid token), 404 and 413 are not.
fn classify(status: StatusCode, reason: String) -> DeliveryError {
    DeliveryError::for_status(status, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hec_codes_are_classified_as_documented() {
        for (status, retryable) in [
            (503, true),
            (500, true),
            (429, true),
            (400, false),
            (401, false),
            (403, false),
            (413, false),
        ] {
            let error = classify(StatusCode::from_u16(status).unwrap(), String::new());
            assert_eq!(
                matches!(error, DeliveryError::Retryable { .. }),
                retryable,
                "{status}"
            );
        }
    }
}
