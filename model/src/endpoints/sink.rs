//! The I/O side of the endpoint types: every type's `sink.rs` answers the one small
//! [`Sink`] trait (deliver one block, once; retries are the data plane's).

use std::collections::VecDeque;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::time::Duration;

use std::sync::Arc;

use bytes::Bytes;

use super::destination::{DestinationError, DestinationPolicy};

/// A sealed block on its way out. `id` is fixed per block so receivers can de-duplicate
/// a block delivered twice (at-least-once).
#[derive(Clone, Debug)]
pub struct OutgoingBlock {
    pub id: uuid::Uuid,
    pub records: usize,
    /// Records joined by `\n`.
    pub body: Bytes,
    /// When the block was sealed (in S3 object keys).
    pub sealed_at: std::time::SystemTime,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    /// May succeed later: connection errors, timeouts, 408, 429, 5xx.
    #[error("{reason}")]
    Retryable {
        reason: String,
        /// What the endpoint asked for (Retry-After).
        retry_after: Option<Duration>,
    },
    /// Will not succeed as configured: other 4xx, bad credentials, bad settings.
    #[error("{reason}")]
    Terminal { reason: String },
}

/// The endpoint took the block; `answer` says what it answered (e.g. `HTTP 200 OK`).
#[derive(Clone, Debug, PartialEq)]
pub struct Acknowledged {
    pub answer: String,
}

impl Acknowledged {
    /// A block sent in several requests: the last status and how many (`HEC request`).
    pub fn after_requests(
        status: reqwest::StatusCode,
        requests: usize,
        what: &str,
    ) -> Acknowledged {
        Acknowledged {
            answer: format!(
                "HTTP {status}, {requests} {what}{}",
                if requests == 1 { "" } else { "s" }
            ),
        }
    }
}

pub type DeliveryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Acknowledged, DeliveryError>> + Send + 'a>>;

/// What the sinks build their outbound clients with: the destination check, so every
/// connection goes to an address it allowed (see [`super::destination`]).
#[derive(Clone, Debug)]
pub struct Clients {
    pub destinations: Arc<DestinationPolicy>,
}

/// The header every HTTP delivery carries; this server's ingest refuses requests with it,
/// so no stream delivers into a Data Streaming ingest (no loops between streams).
pub const HOP_HEADER: &str = "X-Data-Streaming-Hop";

impl Clients {
    /// An HTTP client for one endpoint (`port`: its URL's): names resolved and checked by
    /// the destination policy, addresses written in the URL checked by the sink. A redirect
    /// would turn the POST into a GET and carry the custom (secret) headers to another
    /// host: 3xx is an error instead. No proxy: the checked address is the one connected to.
    pub fn http(&self, port: u16) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver {
                destinations: self.destinations.clone(),
                port,
            }))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))
    }

    /// The HTTP client of the AWS SDKs (S3, Firehose), resolving through the destination
    /// policy.
    pub fn aws_http(&self) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .build_with_resolver(CheckedResolver {
                destinations: self.destinations.clone(),
                port: 0,
            })
    }

    /// An address written in a URL (no resolver runs for it): checked here.
    pub fn check_literal(&self, url: &url::Url) -> Result<(), DeliveryError> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
            _ => return Ok(()),
        };
        let port = url.port_or_known_default().unwrap_or(0);
        self.destinations
            .check(&ip.to_string(), std::net::SocketAddr::new(ip, port))
            .map_err(|refusal| DeliveryError::Terminal {
                reason: refusal.to_string(),
            })
    }
}

impl DeliveryError {
    /// A non-success HTTP answer: 408, 429 and 5xx are retried, anything else is terminal.
    /// 508 Loop Detected is what a Data Streaming ingest answers a delivery: retrying loops.
    pub fn for_status(status: reqwest::StatusCode, reason: String) -> DeliveryError {
        use reqwest::StatusCode;
        let retryable = status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
            || (status.is_server_error() && status != StatusCode::LOOP_DETECTED);
        if retryable {
            DeliveryError::Retryable {
                reason,
                retry_after: None,
            }
        } else {
            DeliveryError::Terminal { reason }
        }
    }

    /// An HTTP request that got no answer: the destination check's refusal, or retried
    /// (described without the URL, which may carry a token in its query).
    pub fn for_request(e: &reqwest::Error) -> DeliveryError {
        DeliveryError::from_destination(e).unwrap_or_else(|| {
            let reason = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                let mut text = e.to_string();
                if let Some(url) = e.url() {
                    text = text.replace(url.as_str(), "<endpoint>");
                }
                text
            };
            DeliveryError::Retryable {
                reason,
                retry_after: None,
            }
        })
    }

    /// A client error that the destination check caused, if it did.
    pub fn from_destination(error: &(dyn std::error::Error + 'static)) -> Option<DeliveryError> {
        DestinationError::find_in(error).map(DeliveryError::from)
    }
}

/// Refused for good is terminal (the operator or the user must change something); not
/// resolvable now is retried.
impl From<&DestinationError> for DeliveryError {
    fn from(error: &DestinationError) -> DeliveryError {
        match error {
            DestinationError::Refused(refusal) => DeliveryError::Terminal {
                reason: refusal.to_string(),
            },
            unresolved => DeliveryError::Retryable {
                reason: unresolved.to_string(),
                retry_after: None,
            },
        }
    }
}

/// Resolves a destination name for a client, returning only the addresses the policy
/// allows (the client connects to those).
#[derive(Clone, Debug)]
struct CheckedResolver {
    destinations: Arc<DestinationPolicy>,
    /// 0 when the client does not say (S3).
    port: u16,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let addrs = resolver
                .destinations
                .resolve(name.as_str(), resolver.port)
                .await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl aws_smithy_runtime_api::client::dns::ResolveDns for CheckedResolver {
    fn resolve_dns<'a>(
        &'a self,
        name: &'a str,
    ) -> aws_smithy_runtime_api::client::dns::DnsFuture<'a> {
        use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDnsError};
        DnsFuture::new(async move {
            self.destinations
                .resolve(name, self.port)
                .await
                .map(|addrs| addrs.into_iter().map(|a| a.ip()).collect())
                .map_err(ResolveDnsError::new)
        })
    }
}

/// Up to `limit` bytes of an answer's body (endpoints may answer an error at any length).
pub async fn read_answer(response: &mut reqwest::Response, limit: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    while bytes.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(limit);
    bytes
}

/// The escaped text of a record's top-level `"host":"…"`, as the template rendered it: the
/// SIEMs' host field.
pub fn record_host(record: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\"host\":\"";
    let start = memchr::memmem::find(record, KEY)? + KEY.len();
    let mut end = start;
    while end < record.len() {
        match record[end] {
            b'\\' => end += 2,
            b'"' => return record.get(start..end),
            // Not a JSON string (a custom template's text): no host rather than bad JSON.
            0..=0x1f => return None,
            _ => end += 1,
        }
    }
    None
}

/// Consecutive batches of items (`sizes`, in bytes) within a request's limits: at most
/// `max_items`, and at most `max_bytes` counting one separator per item and the two
/// brackets of a JSON array. An item alone past `max_bytes` is a batch of its own.
pub fn batches(sizes: &[usize], max_items: usize, max_bytes: usize) -> VecDeque<Range<usize>> {
    let mut batches = VecDeque::new();
    let (mut start, mut bytes) = (0, 2);
    for (i, size) in sizes.iter().enumerate() {
        let full = i - start == max_items || bytes + size + 1 > max_bytes;
        if i > start && full {
            batches.push_back(start..i);
            (start, bytes) = (i, 2);
        }
        bytes += size + 1;
    }
    if start < sizes.len() {
        batches.push_back(start..sizes.len());
    }
    batches
}

/// What an intake answered one batch.
pub enum BatchAnswer {
    Accepted(reqwest::StatusCode),
    /// 413: the batch is split in halves and each sent again.
    TooLarge,
}

/// Sends every batch with `post`, in order, splitting one answered 413 in two (never
/// resent as it was, nothing dropped); a single item answered 413 is terminal. Answers the
/// last status and how many requests it took.
pub async fn send_splitting<Post, Answer>(
    mut pending: VecDeque<Range<usize>>,
    mut post: Post,
) -> Result<(reqwest::StatusCode, usize), DeliveryError>
where
    Post: FnMut(Range<usize>) -> Answer,
    Answer: Future<Output = Result<BatchAnswer, DeliveryError>>,
{
    let (mut requests, mut status) = (0, reqwest::StatusCode::OK);
    while let Some(range) = pending.pop_front() {
        requests += 1;
        match post(range.clone()).await? {
            BatchAnswer::Accepted(answered) => status = answered,
            BatchAnswer::TooLarge if range.len() > 1 => {
                let middle = range.start + range.len() / 2;
                pending.push_front(middle..range.end);
                pending.push_front(range.start..middle);
            }
            BatchAnswer::TooLarge => {
                return Err(DeliveryError::Terminal {
                    reason: format!("HTTP 413 Payload Too Large for record {}", range.start + 1),
                });
            }
        }
    }
    Ok((status, requests))
}

/// The items as one JSON array (each item already JSON), gzip-compressed.
pub fn gzip_json_array<Item: AsRef<[u8]>>(items: &[Item]) -> Result<Vec<u8>, DeliveryError> {
    use std::io::Write;
    let size: usize = items.iter().map(|item| item.as_ref().len() + 1).sum();
    let mut gzip =
        flate2::write::GzEncoder::new(Vec::with_capacity(size / 4), flate2::Compression::fast());
    let written: std::io::Result<()> = (|| {
        gzip.write_all(b"[")?;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                gzip.write_all(b",")?;
            }
            gzip.write_all(item.as_ref())?;
        }
        gzip.write_all(b"]")
    })();
    written
        .and_then(|()| gzip.finish())
        .map_err(|e| DeliveryError::Terminal {
            reason: format!("gzip: {e}"),
        })
}

/// The seconds an answer's `Retry-After` asks to wait.
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The records of a block, without their newlines.
pub fn records(block: &OutgoingBlock) -> impl Iterator<Item = &[u8]> {
    block
        .body
        .split(|b| *b == b'\n')
        .filter(|record| !record.is_empty())
}

/// Delivers one block to an endpoint, once (retries are the caller's).
pub trait Sink: Send + Sync {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_to_the_request_limits_in_order() {
        let small = vec![2; 2500];
        let cut: Vec<_> = batches(&small, 1000, 5_000_000).into_iter().collect();
        assert_eq!(cut, [0..1000, 1000..2000, 2000..2500]);
        let big = vec![2_000_000; 3];
        let cut: Vec<_> = batches(&big, 1000, 5_000_000).into_iter().collect();
        assert_eq!(cut, [0..2, 2..3], "5 MB per request");
        let cut: Vec<_> = batches(&[10, 7_000_000, 10], 1000, 5_000_000)
            .into_iter()
            .collect();
        assert_eq!(cut, [0..1, 1..2, 2..3], "an item past the limit alone");
    }

    #[test]
    fn a_record_host_is_found_with_its_escapes() {
        assert_eq!(
            record_host(br#"{"a":"x","host":"w\"x.example","b":1}"#),
            Some(&br#"w\"x.example"#[..])
        );
        assert_eq!(record_host(br#"{"a":"x"}"#), None);
    }
}
