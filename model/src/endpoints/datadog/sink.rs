//! POSTs a block to the logs intake as JSON arrays within its documented limits
//! ([`MAX_LOGS`] logs and [`MAX_PAYLOAD_BYTES`] uncompressed per request), gzip-compressed.
//! A 413 (payload too large) splits that request in two and sends the halves: the records
//! are never resent as they were, and none is dropped.

use std::collections::VecDeque;
use std::io::Write;
use std::ops::Range;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};

use super::DatadogSettings;
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock, Sink,
    read_answer, record_host,
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

/// What one request's answer means for its logs.
enum Answer {
    Accepted(StatusCode),
    TooLarge,
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
        block
            .body
            .split(|b| *b == b'\n')
            .filter(|record| !record.is_empty())
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

    /// The logs cut into requests within the intake's limits, in order.
    fn requests(logs: &[Vec<u8>]) -> VecDeque<Range<usize>> {
        let mut requests = VecDeque::new();
        let (mut start, mut bytes) = (0, 2);
        for (i, log) in logs.iter().enumerate() {
            let full = i - start == MAX_LOGS || bytes + log.len() + 1 > MAX_PAYLOAD_BYTES;
            if i > start && full {
                requests.push_back(start..i);
                (start, bytes) = (i, 2);
            }
            bytes += log.len() + 1;
        }
        if start < logs.len() {
            requests.push_back(start..logs.len());
        }
        requests
    }

    async fn post(&self, logs: &[Vec<u8>]) -> Result<Answer, DeliveryError> {
        let body = gzip_array(logs).map_err(|e| DeliveryError::Terminal {
            reason: format!("gzip: {e}"),
        })?;
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
            return Ok(Answer::Accepted(status));
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Ok(Answer::TooLarge);
        }
        let bytes = read_answer(&mut response, ANSWER_READ_BYTES).await;
        Err(DeliveryError::for_status(status, reason(status, &bytes)))
    }

    async fn deliver_block(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let logs = self.logs(block);
        let mut pending = Self::requests(&logs);
        let (mut requests, mut status) = (0, StatusCode::ACCEPTED);
        while let Some(range) = pending.pop_front() {
            requests += 1;
            match self.post(&logs[range.clone()]).await? {
                Answer::Accepted(answered) => status = answered,
                Answer::TooLarge if range.len() > 1 => {
                    let middle = range.start + range.len() / 2;
                    pending.push_front(middle..range.end);
                    pending.push_front(range.start..middle);
                }
                Answer::TooLarge => {
                    return Err(DeliveryError::Terminal {
                        reason: format!(
                            "HTTP 413 Payload Too Large for a single log of {} bytes",
                            logs[range.start].len()
                        ),
                    });
                }
            }
        }
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

/// The logs as one JSON array, gzip-compressed.
fn gzip_array(logs: &[Vec<u8>]) -> std::io::Result<Vec<u8>> {
    let size: usize = logs.iter().map(|log| log.len() + 1).sum();
    let mut gzip =
        flate2::write::GzEncoder::new(Vec::with_capacity(size / 4), flate2::Compression::fast());
    gzip.write_all(b"[")?;
    for (i, log) in logs.iter().enumerate() {
        if i > 0 {
            gzip.write_all(b",")?;
        }
        gzip.write_all(log)?;
    }
    gzip.write_all(b"]")?;
    gzip.finish()
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
    fn requests_keep_to_the_intake_limits_in_order() {
        let small = vec![b"{}".to_vec(); 2500];
        let requests: Vec<_> = DatadogSink::requests(&small).into_iter().collect();
        assert_eq!(requests, [0..1000, 1000..2000, 2000..2500]);
        let big = vec![vec![b'x'; 2_000_000]; 3];
        let requests: Vec<_> = DatadogSink::requests(&big).into_iter().collect();
        assert_eq!(requests, [0..2, 2..3], "5 MB per request");
    }

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
