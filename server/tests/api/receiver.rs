//! A real HTTP receiver for delivery tests: records what it accepted (a compressed body
//! unpacked as its `Content-Encoding` says, as web servers do), and can answer failures
//! first.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    /// Unpacked.
    pub body: String,
    /// The body's size as sent.
    pub sent_bytes: usize,
}

#[derive(Default)]
struct Inner {
    accepted: Vec<Received>,
    /// Statuses to answer before accepting (consumed in order).
    failures: Vec<u16>,
    refused: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

async fn take(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut inner = inner.lock().unwrap();
    if !inner.failures.is_empty() {
        inner.refused += 1;
        return StatusCode::from_u16(inner.failures.remove(0)).unwrap();
    }
    let unpacked = unpack(
        headers.get("content-encoding").map(|v| v.to_str().unwrap()),
        &body,
    );
    inner.accepted.push(Received {
        headers,
        body: String::from_utf8(unpacked).unwrap(),
        sent_bytes: body.len(),
    });
    StatusCode::OK
}

/// A body as its `Content-Encoding` (none, gzip or zstd) packed it.
pub fn unpack(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    match encoding {
        None => body.to_vec(),
        Some("gzip") => {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut plain)
                .unwrap();
            plain
        }
        Some("zstd") => zstd::decode_all(body).unwrap(),
        Some(other) => panic!("unknown Content-Encoding {other}"),
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/logs", post(take))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let url = format!("http://{}/logs", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inner }
    }

    /// Answer these statuses to the next requests, then accept.
    pub fn fail_first(&self, statuses: &[u16]) {
        self.inner
            .lock()
            .unwrap()
            .failures
            .extend_from_slice(statuses);
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.inner.lock().unwrap().accepted.clone()
    }

    pub fn refused(&self) -> usize {
        self.inner.lock().unwrap().refused
    }

    /// Every accepted record, in arrival order.
    pub fn records(&self) -> Vec<String> {
        self.accepted()
            .iter()
            .flat_map(|r| r.body.split('\n').map(str::to_string).collect::<Vec<_>>())
            .collect()
    }

    /// Waits until `count` records arrived (or `timeout` passed); returns them.
    pub async fn wait_for_records(&self, count: usize, timeout: Duration) -> Vec<String> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let records = self.records();
            if records.len() >= count || tokio::time::Instant::now() >= until {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
