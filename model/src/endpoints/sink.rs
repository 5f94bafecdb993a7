//! The I/O side of the endpoint types: every type's `sink.rs` answers the one small
//! [`Sink`] trait (deliver one block, once; retries are the data plane's).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

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

pub type DeliveryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Acknowledged, DeliveryError>> + Send + 'a>>;

/// The outbound clients the sinks share. Each type builds its connections in one place
/// (its sink's constructor), so a destination check can be added there.
#[derive(Clone)]
pub struct Clients {
    /// HTTP endpoints. A redirect would turn the POST into a GET and carry the custom
    /// (secret) headers to another host: 3xx is an error instead.
    pub http: reqwest::Client,
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }
}

/// Delivers one block to an endpoint, once (retries are the caller's).
pub trait Sink: Send + Sync {
    fn deliver<'a>(&'a self, block: &'a OutgoingBlock) -> DeliveryFuture<'a>;
}
