//! POSTs a block to the logs intake as JSON arrays within its documented limits
//! ([`MAX_LOGS`] logs and [`MAX_PAYLOAD_BYTES`] uncompressed per request), gzip-compressed.
//! A 413 (payload too large) splits that request in two and sends the halves: the records
//! are never resent as they were, and none is dropped.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};

use super::DatadogSettings;
use crate::endpoints::sink::{
    Acknowledged, BatchAnswer, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock,
    Sink, batches, gzip_json_array, read_answer, record_host, records, send_splitting,
};

/// Logs per request at most (the intake's "maximum array size").
pub const MAX_LOGS: usize = 1000;
/// Uncompressed bytes per request at most (the intake's 5 MB).
pub const MAX_PAYLOAD_BYTES: usize = 5_000_000;
/// How much of an error answer is read.
const ANSWER_READ_BYTES: usize = 4096;
/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// `ddsource` unless the site URL's query names one.
const SOURCE: &str = "data-streaming";

pub struct DatadogSink {
    clients: Clients,
    client: reqwest::Client,
    url: reqwest::Url,
    api_key: HeaderValue,
    /// `{"ddsource":…,` and the query's other attributes: how every log object starts.
    log_start: Vec<u8>,
}

impl DatadogSink {
    pub fn new(clients: &Clients, settings: &DatadogSettings) -> Result<DatadogSink, String> {
        let key = settings
            .api_key
            .value()
            .ok_or("API Key: its value is not available")?;
        let mut api_key = HeaderValue::from_str(key).map_err(|e| format!("API Key: {e}"))?;
        api_key.set_sensitive(true);
        let mut attributes = settings.attributes();
        if !attributes.iter().any(|(name, _)| *name == "ddsource") {
            attributes.insert(0, ("ddsource", SOURCE.into()));
        }
        let mut log_start = b"{".to_vec();
        for (name, value) in attributes {
            log_start.extend_from_slice(
                format!("\"{name}\":{},", serde_json::Value::from(value)).as_bytes(),
            );
        }
        let url = settings.intake_url();
        Ok(DatadogSink {
            clients: clients.clone(),
            client: clients.http(url.port_or_known_default().unwrap_or(0))?,
            url,
            api_key,
            log_start,
        })
    }

    /// One log object per record: the attributes, the record's `hostname`, and the record
    /// as `message` (Datadog parses a JSON message into attributes).
    fn logs(&self, block: &OutgoingBlock) -> Vec<Vec<u8>> {
        records(block)
            .map(|record| {
                let mut log = Vec::with_capacity(self.log_start.len() + record.len() * 5 / 4 + 64);
                log.extend_from_slice(&self.log_start);
                if let Some(host) = record_host(record) {
                    log.extend_from_slice(b"\"hostname\":\"");
                    log.extend_from_slice(host);
                    log.extend_from_slice(b"\",");
                }
                log.extend_from_slice(b"\"message\":");
                // Rendered records are UTF-8; the lossy copy is only for one that is not.
                // Writing a string into a Vec cannot fail.
                let _ = match std::str::from_utf8(record) {
                    Ok(text) => serde_json::to_writer(&mut log, text),
                    Err(_) => serde_json::to_writer(&mut log, &String::from_utf8_lossy(record)),
                };
                log.push(b'}');
                log
            })
            .collect()
    }

    async fn post(&self, logs: &[Vec<u8>]) -> Result<BatchAnswer, DeliveryError> {
        let body = gzip_json_array(logs)?;
        let mut response = self
            .client
            .post(self.url.clone())
            .header("DD-API-KEY", self.api_key.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT)
            .body(body)
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
        let bytes = read_answer(&mut response, ANSWER_READ_BYTES).await;
        Err(DeliveryError::for_status(status, reason(status, &bytes)))
    }

    async fn deliver_block(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let logs = self.logs(block);
        let sizes: Vec<usize> = logs.iter().map(Vec::len).collect();
        let batches = batches(&sizes, MAX_LOGS, MAX_PAYLOAD_BYTES);
        let (status, requests) = send_splitting(batches, |range| self.post(&logs[range])).await?;
        Ok(Acknowledged::after_requests(
            status,
            requests,
            "intake request",
        ))
    }
}

impl Sink for DatadogSink {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_block(block))
    }
}

/// `HTTP <status>: <detail>` from the intake's JSON:API error answer
/// (`{"errors":[{"status","title","detail"}]}`, or `{"errors":["…"]}`).
fn reason(status: StatusCode, answer: &[u8]) -> String {
    let answer: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
    let first = &answer["errors"][0];
    let text = first["detail"]
        .as_str()
        .or(first["title"].as_str())
        .or(first.as_str())
        .unwrap_or_default();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_names_its_detail() {
        let answer =
            br#"{"errors":[{"status":"403","title":"Forbidden","detail":"Invalid API key"}]}"#;
        assert_eq!(
            reason(StatusCode::FORBIDDEN, answer),
            "HTTP 403 Forbidden: Invalid API key"
        );
        assert_eq!(
            reason(StatusCode::BAD_REQUEST, br#"{"errors":["Bad Request"]}"#),
            "HTTP 400 Bad Request: Bad Request"
        );
        assert_eq!(
            reason(StatusCode::BAD_GATEWAY, b"<html>"),
            "HTTP 502 Bad Gateway"
        );
    }
}
