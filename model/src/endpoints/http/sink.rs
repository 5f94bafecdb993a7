//! POSTs a block in the stream's payload format, compressed as chosen, and classifies the
//! answer.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::HttpSettings;
use super::payload::{Compression, PayloadFormat, Separator};
use crate::endpoints::sink::{
    Acknowledged, Clients, DeliveryError, DeliveryFuture, HOP_HEADER, OutgoingBlock, Sink,
    read_answer,
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
    payload_format: PayloadFormat,
    separator: Separator,
    compression: Compression,
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
            payload_format: settings.payload_format.clone(),
            separator: settings.log_line_separator.clone(),
            compression: settings.compression,
        })
    }

    /// What the payload is, for `Content-Type`.
    fn content_type(&self) -> &'static str {
        match self.payload_format.before().trim_start().as_bytes().first() {
            None if self.separator.as_bytes() == b"\n" => "application/x-ndjson",
            Some(b'[' | b'{') => "application/json",
            _ => "text/plain; charset=utf-8",
        }
    }

    async fn post(&self, block: &OutgoingBlock) -> Result<Acknowledged, DeliveryError> {
        self.clients.check_literal(&self.url)?;
        let payload = frame(&self.payload_format, &self.separator, &block.body);
        let mut request = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, self.content_type())
            .header(BLOCK_ID_HEADER, block.id.to_string())
            .header(HOP_HEADER, "1")
            .timeout(TIMEOUT);
        request = match self.compression {
            Compression::None => request.body(payload),
            compression => {
                let compressed =
                    compress(compression, &payload).map_err(|e| DeliveryError::Terminal {
                        reason: format!("{}: {e}", compression.as_str()),
                    })?;
                request
                    .header(CONTENT_ENCODING, compression.as_str())
                    .body(compressed)
            }
        };
        let response = request
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
        let body = read_answer(&mut response, ANSWER_READ_BYTES).await;
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

/// The block as the payload format and separator say; the default (`$dataset`, `\n`) is
/// the block as it is.
fn frame(format: &PayloadFormat, separator: &Separator, body: &bytes::Bytes) -> bytes::Bytes {
    let separator = separator.as_bytes();
    if format.is_default() && separator == b"\n" {
        return body.clone();
    }
    let (before, after) = (format.before(), format.after());
    let mut payload =
        Vec::with_capacity(before.len() + body.len() * separator.len().max(1) + after.len());
    payload.extend_from_slice(before.as_bytes());
    let records = body.strip_suffix(b"\n").unwrap_or(body);
    for (i, record) in records.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            payload.extend_from_slice(separator);
        }
        payload.extend_from_slice(record);
    }
    payload.extend_from_slice(after.as_bytes());
    payload.into()
}

/// Compressed fast (gzip level 1, zstd level 1): on the hot path, bytes matter less than
/// keeping up.
fn compress(compression: Compression, payload: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    match compression {
        Compression::None => Ok(payload.to_vec()),
        Compression::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(payload.len() / 4),
                flate2::Compression::fast(),
            );
            encoder.write_all(payload)?;
            encoder.finish()
        }
        Compression::Zstd => zstd::bulk::compress(payload, 1),
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
    fn a_block_is_framed_as_its_payload_format_says() {
        let body = bytes::Bytes::from_static(b"{\"a\":1}\n{\"a\":2}\n");
        let array = PayloadFormat::parse("[$dataset]").unwrap();
        let comma = Separator::parse(",").unwrap();
        assert_eq!(&frame(&array, &comma, &body)[..], br#"[{"a":1},{"a":2}]"#);
        let lines = Separator::default();
        assert_eq!(frame(&PayloadFormat::default(), &lines, &body), body);
        let wrapped = PayloadFormat::parse(r#"{"logs":[$dataset]}"#).unwrap();
        let crlf = Separator::parse("\\r\\n").unwrap();
        assert_eq!(
            &frame(&wrapped, &crlf, &body)[..],
            b"{\"logs\":[{\"a\":1}\r\n{\"a\":2}]}"
        );
    }

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
