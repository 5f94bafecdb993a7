//! The ingest API: `POST /ingest/{edge_applications|waf_events}`, NDJSON, one event per
//! line, `Authorization: Bearer <ingest token>`. Answers what was accepted, which lines
//! were rejected and why, and how many events named a host that is not the account's.
//!
//! Bounded per request (the operator's [`model::Bounds`]): a record larger than
//! `--max-record-bytes` rejects its line; more than `--max-rendered-bytes` rendered in all
//! refuses the request (413); an account whose spools hold `--account-spool-max-bytes`
//! is refused (429), and so is everyone while the disk is below `--min-free-disk` (503).
//! A request from a Data Streaming stream (its hop header) is refused (508): no loops.
//!
//! The token is checked before the body is read, so an anonymous caller costs a header
//! parse; bodies are read under a size limit (413), a read timeout (408) and a bound on
//! how many are read at once (503).

use rustc_hash::FxHashMap;

use axum::Json;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::{DataSource, EventFields};
use serde::{Deserialize, Serialize};

use model::endpoints::sink::HOP_HEADER;

use crate::pipeline::Pipeline;
use crate::pipeline::stats::StreamLabels;

/// Rejected lines listed in one answer; the count covers them all.
const MAX_LISTED_REJECTIONS: usize = 100;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct IngestAnswer {
    pub accepted: usize,
    pub rejected_count: usize,
    pub rejected: Vec<RejectedLine>,
    /// Events whose `host` is not one of the account's domains: counted and dropped.
    pub unknown_host: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RejectedLine {
    /// 1-based line number in the request body.
    pub line: usize,
    pub reason: String,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// A refusal the sender should retry after `retry_after_secs`.
fn refuse_for(status: StatusCode, message: &str, retry_after_secs: u32) -> Response {
    let mut response = refuse(status, message);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(retry_after_secs),
    );
    response
}

/// What one ingest request may cost before it is rendered.
#[derive(Clone, Copy, Debug)]
pub struct IngestLimits {
    /// Largest body in bytes (413 past it).
    pub max_body: usize,
    /// The whole body must arrive within this (408 otherwise): a slow sender cannot hold
    /// a slot for long.
    pub read_timeout: Duration,
    /// Bodies read and processed at once, over all accounts (503 past it).
    pub max_concurrent: usize,
}

/// The ingest routes' state.
#[derive(Clone)]
pub struct IngestState {
    pipeline: Pipeline,
    limits: IngestLimits,
    bodies: Arc<tokio::sync::Semaphore>,
}

impl IngestState {
    pub fn new(pipeline: Pipeline, limits: IngestLimits) -> Self {
        IngestState {
            pipeline,
            limits,
            bodies: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent)),
        }
    }
}

pub async fn ingest(
    State(state): State<IngestState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let pipeline = &state.pipeline;
    if headers.contains_key(HOP_HEADER) {
        return refuse(
            StatusCode::LOOP_DETECTED,
            "this request was sent by a Data Streaming stream (X-Data-Streaming-Hop): \
             a stream cannot deliver into a Data Streaming ingest",
        );
    }
    // Activity History is written by the service itself, never sent in.
    let Some(source) = source
        .parse::<DataSource>()
        .ok()
        .filter(|source| source.has_hosts())
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            "unknown data source: use edge_applications or waf_events",
        );
    };
    let Some(account_id) = bearer_token(&headers).and_then(|t| pipeline.account_for_token(t))
    else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a valid ingest token is required (Authorization: Bearer …)",
        );
    };

    // A slot before the body is read; a request over the bound reads nothing.
    let Ok(_slot) = state.bodies.try_acquire() else {
        return refuse_for(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the server is reading {} ingest requests already: retry later",
                state.limits.max_concurrent
            ),
            1,
        );
    };
    let read = axum::body::to_bytes(body, state.limits.max_body);
    let body = match tokio::time::timeout(state.limits.read_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) if is_length_limit(&e) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the request body is larger than {} bytes (--ingest-max-body)",
                    state.limits.max_body
                ),
            );
        }
        Ok(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "the request body was cut off"),
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within {} (--ingest-read-timeout)",
                    humantime::format_duration(state.limits.read_timeout)
                ),
            );
        }
    };

    match accept(pipeline, account_id, source, &body).await {
        Ok(answer) => Json(answer).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// Why a whole batch of events was not taken; the sender should send it again (after
/// `retry_after_secs` when set).
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    pub retry_after_secs: Option<u32>,
}

impl Refusal {
    fn now(status: StatusCode, message: String) -> Refusal {
        Refusal {
            status,
            message,
            retry_after_secs: None,
        }
    }

    fn later(status: StatusCode, message: String, retry_after_secs: u32) -> Refusal {
        Refusal {
            status,
            message,
            retry_after_secs: Some(retry_after_secs),
        }
    }

    fn into_response(self) -> Response {
        match self.retry_after_secs {
            Some(secs) => refuse_for(self.status, &self.message, secs),
            None => refuse(self.status, &self.message),
        }
    }
}

/// Routes, renders and spools one account's batch of NDJSON events of `source`: the
/// ingest API's body, or the events the edge inputs (syslog, ModSecurity) gathered.
/// All or nothing: a refused batch left nothing in any spool.
pub async fn accept(
    pipeline: &Pipeline,
    account_id: i64,
    source: DataSource,
    body: &[u8],
) -> Result<IngestAnswer, Refusal> {
    let bounds = pipeline.bounds();
    if let Some(free) = pipeline.free_disk_below_floor() {
        return Err(Refusal::later(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the server's disk is almost full ({free} bytes free, below --min-free-disk \
                 {} bytes): retry later",
                bounds.min_free_disk_bytes
            ),
            30,
        ));
    }

    let mut answer = IngestAnswer::default();
    let Some(routes) = pipeline.routes(account_id) else {
        return Ok(answer);
    };
    // Per stream (a few per request): Fx hashing, the key is a small integer.
    let mut chunks: FxHashMap<i64, StreamChunk> = FxHashMap::default();
    let mut line_marks: Vec<(i64, usize, bool)> = Vec::new();
    let mut rendered = 0usize;
    // Lines found with memchr (SIMD): a byte-by-byte split costs more than the routing.
    let line_ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
    let mut line_start = 0;
    for (index, line_end) in line_ends.enumerate() {
        let line = &body[line_start..line_end];
        line_start = line_end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let fields = match EventFields::parse(line, &routes.field_set) {
            Ok(fields) => fields,
            Err(e) => {
                answer.reject(index + 1, e.to_string());
                continue;
            }
        };
        let host = if source.has_hosts() {
            match fields.host() {
                Some(host) => host,
                None => {
                    answer.reject(index + 1, "the event has no host".into());
                    continue;
                }
            }
        } else {
            // Its streams take every event (they have no domains).
            std::borrow::Cow::Borrowed("")
        };
        // Lowercased once (rarely needed): the domain set and the routing both take it.
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(host.to_ascii_lowercase())
        } else {
            host
        };
        if source.has_hosts() && !routes.domains.contains(host.as_ref()) {
            answer.unknown_host += 1;
            continue;
        }
        // This line's records so far, to take back if one of them is too large.
        line_marks.clear();
        let mut too_large = None;
        for (stream, kept) in routes
            .table
            .route(account_id, source, &host, fields.sampling_key())
        {
            let chunk = chunks.entry(stream.id).or_default();
            line_marks.push((stream.id, chunk.records.len(), kept));
            chunk.received += 1;
            if !kept {
                chunk.sampled_out += 1;
                continue;
            }
            let before = chunk.records.len();
            if stream
                .template
                .render_within(&fields, &mut chunk.records, bounds.record_bytes)
                .is_err()
            {
                too_large = Some(stream.id);
                break;
            }
            chunk.records.push(b'\n');
            rendered += chunk.records.len() - before;
        }
        if let Some(stream_id) = too_large {
            // Rare: take back what this line added (one more lookup per stream only here).
            for (id, len, kept) in &line_marks {
                if let Some(chunk) = chunks.get_mut(id) {
                    rendered -= chunk.records.len() - len;
                    chunk.records.truncate(*len);
                    chunk.received -= 1;
                    chunk.sampled_out -= u64::from(!kept);
                }
            }
            answer.reject(
                index + 1,
                format!(
                    "its record for stream {stream_id} would be larger than {} bytes \
                     (--max-record-bytes)",
                    bounds.record_bytes
                ),
            );
            continue;
        }
        answer.accepted += 1;
        if rendered > bounds.rendered_bytes {
            count_refused(pipeline, source, answer.accepted);
            return Err(Refusal::now(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "this request's records would be more than {} bytes rendered \
                     (--max-rendered-bytes): send fewer events per request",
                    bounds.rendered_bytes
                ),
            ));
        }
    }
    if let Some(bus) = pipeline.bus() {
        return to_bus(pipeline, bus, account_id, source, &routes, chunks, answer).await;
    }
    let has_records = chunks.values().any(|c| !c.records.is_empty());
    let account_spool: u64 = routes.spools.values().map(|s| s.bytes()).sum();
    if has_records && account_spool >= bounds.account_spool_bytes {
        return Err(account_full(
            pipeline,
            source,
            account_id,
            account_spool,
            &answer,
        ));
    }
    // All or nothing: a full spool refuses the whole request, so a retry duplicates nothing.
    if let Some(full) = chunks.iter().find_map(|(id, chunk)| {
        let full = !chunk.records.is_empty() && routes.spools.get(id).is_some_and(|s| s.is_full());
        full.then_some(id)
    }) {
        tracing::warn!(stream_id = full, "spool full: ingest refused");
        count_refused(pipeline, source, answer.accepted);
        return Err(Refusal::later(
            StatusCode::SERVICE_UNAVAILABLE,
            "a stream's spool is full (its endpoint is not keeping up): retry later".into(),
            5,
        ));
    }
    // Streams in id order: the order append_all locks their spools in.
    let mut taken: Vec<(i64, std::sync::Arc<crate::pipeline::Spool>, StreamChunk)> = chunks
        .into_iter()
        .filter_map(|(id, chunk)| Some((id, routes.spools.get(&id)?.clone(), chunk)))
        .collect();
    taken.sort_unstable_by_key(|(id, _, _)| *id);
    // On disk (page cache) before the answer: accepted records survive a crash. All
    // streams or none: a failed append on one takes the request back from every stream.
    // File I/O runs off the async workers so a busy spool does not stall other requests.
    let taken = match tokio::task::spawn_blocking(move || {
        let batch: Vec<(&crate::pipeline::Spool, &[u8])> = taken
            .iter()
            .filter(|(_, _, chunk)| !chunk.records.is_empty())
            .map(|(_, spool, chunk)| (&**spool, chunk.records.as_slice()))
            .collect();
        crate::pipeline::append_all(&batch).map(|()| taken)
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r)
    {
        Ok(taken) => taken,
        Err(e) => {
            tracing::error!(account_id, error = %e, "spool: append failed, request taken by no stream");
            count_refused(pipeline, source, answer.accepted);
            return Err(Refusal::now(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the spool could not be written: nothing of this request was taken, retry".into(),
            ));
        }
    };
    let taken = taken
        .iter()
        .map(|(stream_id, _, chunk)| (*stream_id, chunk));
    count_taken(pipeline, account_id, source, &answer, taken);
    Ok(answer)
}

/// Counts a batch once it was taken (spooled or on the bus): a refused request's retry is
/// not counted twice.
fn count_taken<'a>(
    pipeline: &Pipeline,
    account_id: i64,
    source: DataSource,
    answer: &IngestAnswer,
    taken: impl Iterator<Item = (i64, &'a StreamChunk)>,
) {
    let stats = pipeline.stats();
    for (stream_id, chunk) in taken {
        let labels = StreamLabels {
            account_id,
            stream_id,
        };
        stats.stream_received(&labels, chunk.received, chunk.sampled_out);
    }
    if source.has_hosts() {
        stats.ingest_request(answer.accepted, answer.rejected_count, answer.unknown_host);
    }
}

/// The account holds `waiting` bytes for its endpoints (in its spools, or on the bus), the
/// most `--account-spool-max-bytes` allows: 429 until they catch up.
fn account_full(
    pipeline: &Pipeline,
    source: DataSource,
    account_id: i64,
    waiting: u64,
    answer: &IngestAnswer,
) -> Refusal {
    tracing::warn!(account_id, waiting, "account spool limit: ingest refused");
    count_refused(pipeline, source, answer.accepted);
    Refusal::later(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "this account's streams hold {waiting} bytes waiting for their endpoints, the \
             most the server allows (--account-spool-max-bytes {}): retry later",
            pipeline.bounds().account_spool_bytes
        ),
        5,
    )
}

/// Cluster mode's end of [`accept`]: the batch's records go to the bus, each stream's in
/// one lane, and the answer waits for the bus's acknowledgement (every in-sync replica).
/// Refused whole when the account's or a stream's lag is past its limit. A produce that
/// fails after others of the batch succeeded answers 503: the sender's retry may then
/// deliver those records twice (at-least-once), never lose them.
async fn to_bus(
    pipeline: &Pipeline,
    bus: &crate::bus::Bus,
    account_id: i64,
    source: DataSource,
    routes: &crate::pipeline::AccountRoutes,
    chunks: FxHashMap<i64, StreamChunk>,
    answer: IngestAnswer,
) -> Result<IngestAnswer, Refusal> {
    let bounds = pipeline.bounds();
    let settings = pipeline.settings();
    let taken: Vec<(i64, StreamChunk)> = chunks
        .into_iter()
        .filter(|(id, _)| routes.bus_streams.contains_key(id))
        .collect();
    let has_records = taken.iter().any(|(_, c)| !c.records.is_empty());
    let account_lag = pipeline.bus_account_lag_bytes(account_id);
    if has_records && account_lag >= bounds.account_spool_bytes {
        return Err(account_full(
            pipeline,
            source,
            account_id,
            account_lag,
            &answer,
        ));
    }
    if let Some((full, _)) = taken.iter().find(|(id, chunk)| {
        !chunk.records.is_empty() && pipeline.bus_lag(*id).bytes >= settings.spool_max_bytes
    }) {
        tracing::warn!(stream_id = full, "bus lag limit: ingest refused");
        count_refused(pipeline, source, answer.accepted);
        return Err(Refusal::later(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "stream {full} has more than {} bytes on the bus waiting for its endpoint \
                 (--spool-max-bytes): retry later",
                settings.spool_max_bytes
            ),
            5,
        ));
    }
    let produced = futures_util::future::join_all(
        taken
            .iter()
            .filter(|(_, chunk)| !chunk.records.is_empty())
            .map(|(id, chunk)| async move {
                let budget = routes.bus_streams.get(id).copied().flatten();
                let outcome = bus
                    .produce(account_id, *id, &chunk.records, &settings.limits, budget)
                    .await;
                (*id, chunk, outcome)
            }),
    )
    .await;
    let mut failure = None;
    for (stream_id, chunk, outcome) in produced {
        let labels = StreamLabels {
            account_id,
            stream_id,
        };
        // What is on the bus counts in the lag, also from a request refused below.
        let (records, bytes) = match outcome {
            Ok(()) => (
                memchr::memchr_iter(b'\n', &chunk.records).count(),
                chunk.records.len(),
            ),
            Err(error) => {
                let on_bus = (error.on_bus_records, error.on_bus_bytes);
                failure = Some(error.reason);
                on_bus
            }
        };
        if records > 0 {
            pipeline.count_bus_accepted(labels, records, bytes);
        }
    }
    if let Some(error) = failure {
        tracing::error!(account_id, %error, "bus: produce failed, ingest refused");
        count_refused(pipeline, source, answer.accepted);
        return Err(Refusal::later(
            StatusCode::SERVICE_UNAVAILABLE,
            "the bus did not take this request's records: retry".into(),
            1,
        ));
    }
    let taken = taken.iter().map(|(stream_id, chunk)| (*stream_id, chunk));
    count_taken(pipeline, account_id, source, &answer, taken);
    Ok(answer)
}

/// The ingest counters are for events sent in, not for the service's own (Activity History).
fn count_refused(pipeline: &Pipeline, source: DataSource, accepted: usize) {
    if source.has_hosts() {
        pipeline.stats().ingest_refused(accepted);
    }
}

/// Whether reading the body stopped at its size limit.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// One request's share for one stream.
#[derive(Default)]
struct StreamChunk {
    /// Rendered records, each followed by `\n`.
    records: Vec<u8>,
    /// Events for the stream's domains, and those its sampling left out.
    received: u64,
    sampled_out: u64,
}

impl IngestAnswer {
    fn reject(&mut self, line: usize, reason: String) {
        self.rejected_count += 1;
        if self.rejected.len() < MAX_LISTED_REJECTIONS {
            self.rejected.push(RejectedLine { line, reason });
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (ingest and metrics tokens).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}
