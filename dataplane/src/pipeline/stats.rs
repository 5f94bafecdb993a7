//! What the engine did, per stream: Prometheus counters, histograms and gauges for
//! `/metrics`, and the same counts per minute plus every delivery attempt for the console
//! (written to the database in batches, off the hot path).
//!
//! Ingest adds its counts once per request and stream, a worker once per attempt: a few
//! atomic adds and a short lock per block, nothing per record.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use model::{
    AttemptOutcome, DeliveryAttempt, EdgeInput, EdgeInputStatus, EdgeOutcome, EdgeStatus,
    SpoolDepth,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use storage::Db;
use storage::bus::{BusLag, EdgeCount};
use storage::db::now_millis;
use storage::telemetry::{AttemptRecord, MinuteCounts, minute_of};

use model::endpoints::sink::{Acknowledged, DeliveryError, OutgoingBlock};

/// How often counts and attempts reach the database.
const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Attempts waiting for the database, at most (the oldest go first if it is down).
const MAX_BUFFERED_ATTEMPTS: usize = 10_000;
/// Minute counts are kept at least this long (the dashboard's day).
const MIN_METRICS_RETENTION: Duration = Duration::from_secs(25 * 3600);

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamLabels {
    pub account_id: i64,
    pub stream_id: i64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IngestLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EdgeLabels {
    input: &'static str,
    outcome: &'static str,
}

/// One account's edge inputs, in [`EdgeInput::ALL`] and [`EdgeOutcome::ALL`] order.
#[derive(Default)]
struct EdgeAccount {
    last_event_at: [Option<i64>; EdgeInput::ALL.len()],
    counts: [[u64; EdgeOutcome::ALL.len()]; EdgeInput::ALL.len()],
}

/// An account's messages of one edge input with one outcome.
type EdgeKey = (i64, EdgeInput, EdgeOutcome);

fn latency_histogram() -> Histogram {
    // 5 ms … ~82 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

type HistogramFamily = Family<StreamLabels, Histogram, fn() -> Histogram>;

pub struct Stats {
    registry: Registry,
    received: Family<StreamLabels, Counter>,
    sampled_out: Family<StreamLabels, Counter>,
    delivered_records: Family<StreamLabels, Counter>,
    delivered_bytes: Family<StreamLabels, Counter>,
    failed_attempts: Family<StreamLabels, Counter>,
    refused_blocks: Family<StreamLabels, Counter>,
    latency: HistogramFamily,
    spool_bytes: Family<StreamLabels, Gauge>,
    spool_blocks: Family<StreamLabels, Gauge>,
    spool_failed_blocks: Family<StreamLabels, Gauge>,
    bus_lag_records: Family<StreamLabels, Gauge>,
    bus_lag_bytes: Family<StreamLabels, Gauge>,
    ingest_events: Family<IngestLabels, Counter>,
    edge_messages: Family<EdgeLabels, Counter>,
    /// Per account that sent a message with a valid token (bounded by the accounts).
    edge_accounts: Mutex<HashMap<i64, EdgeAccount>>,
    /// Cluster mode: edge counts not yet added to the totals all instances read.
    edge_unshared: Mutex<HashMap<EdgeKey, (i64, i64)>>,
    share_edge: std::sync::atomic::AtomicBool,
    active_streams: Gauge,
    minutes: Mutex<HashMap<(i64, i64, i64), MinuteCounts>>,
    attempts: Mutex<VecDeque<AttemptRecord>>,
    /// One scrape at a time: a scrape resets the spool gauges before it refills them.
    scraping: Mutex<()>,
}

impl Default for Stats {
    fn default() -> Self {
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let mut stats = Stats {
            registry: Registry::with_prefix("ds"),
            received: Family::default(),
            sampled_out: Family::default(),
            delivered_records: Family::default(),
            delivered_bytes: Family::default(),
            failed_attempts: Family::default(),
            refused_blocks: Family::default(),
            latency,
            spool_bytes: Family::default(),
            spool_blocks: Family::default(),
            spool_failed_blocks: Family::default(),
            bus_lag_records: Family::default(),
            bus_lag_bytes: Family::default(),
            ingest_events: Family::default(),
            edge_messages: Family::default(),
            edge_accounts: Mutex::default(),
            edge_unshared: Mutex::default(),
            share_edge: std::sync::atomic::AtomicBool::new(false),
            active_streams: Gauge::default(),
            minutes: Mutex::default(),
            attempts: Mutex::default(),
            scraping: Mutex::default(),
        };
        let stream_counters = [
            (
                "stream_events_received",
                "Events for the stream's domains, before sampling",
                &stats.received,
            ),
            (
                "stream_events_sampled_out",
                "Events left out by the stream's sampling",
                &stats.sampled_out,
            ),
            (
                "stream_records_delivered",
                "Records the endpoint acknowledged",
                &stats.delivered_records,
            ),
            (
                "stream_bytes_delivered",
                "Bytes of the blocks the endpoint acknowledged",
                &stats.delivered_bytes,
            ),
            (
                "stream_delivery_failures",
                "Failed delivery attempts (retried or refused)",
                &stats.failed_attempts,
            ),
            (
                "stream_blocks_refused",
                "Blocks the endpoint refused for good (set aside)",
                &stats.refused_blocks,
            ),
        ];
        for (name, help, family) in stream_counters {
            stats.registry.register(name, help, family.clone());
        }
        stats.registry.register(
            "stream_delivery_latency_seconds",
            "From a block's sealing to the endpoint's acknowledgement",
            stats.latency.clone(),
        );
        let spool_gauges = [
            (
                "spool_bytes",
                "Bytes waiting in the stream's spool",
                &stats.spool_bytes,
            ),
            (
                "spool_blocks",
                "Sealed blocks waiting for delivery",
                &stats.spool_blocks,
            ),
            (
                "spool_failed_blocks",
                "Blocks set aside until redelivered",
                &stats.spool_failed_blocks,
            ),
            (
                "bus_lag_records",
                "Cluster mode: the stream's records on the bus, accepted and not yet delivered",
                &stats.bus_lag_records,
            ),
            (
                "bus_lag_bytes",
                "Cluster mode: the bytes of those records",
                &stats.bus_lag_bytes,
            ),
        ];
        for (name, help, family) in spool_gauges {
            stats.registry.register(name, help, family.clone());
        }
        stats.registry.register(
            "ingest_events",
            "Events received by the ingest API, by outcome (accepted, rejected, unknown_host, refused)",
            stats.ingest_events.clone(),
        );
        stats.registry.register(
            "edge_messages",
            "Messages from the edge inputs (input: nginx, modsecurity), by outcome (accepted, \
             no_token, malformed, oversize, unknown_host, refused)",
            stats.edge_messages.clone(),
        );
        stats.registry.register(
            "active_streams",
            "Streams with a running worker (cluster mode: streams delivered from the bus)",
            stats.active_streams.clone(),
        );
        stats
    }
}

impl Stats {
    /// One ingest request's events: accepted, rejected (bad lines), unknown host.
    pub fn ingest_request(&self, accepted: usize, rejected: usize, unknown_host: usize) {
        for (outcome, count) in [
            ("accepted", accepted),
            ("rejected", rejected),
            ("unknown_host", unknown_host),
        ] {
            if count > 0 {
                self.ingest_events
                    .get_or_create(&IngestLabels { outcome })
                    .inc_by(count as u64);
            }
        }
    }

    /// A stream that no longer runs: its series leave `/metrics` (counters restart from
    /// zero if it runs again, which Prometheus' `rate()` expects).
    pub fn forget(&self, stream: &StreamLabels) {
        for family in [
            &self.received,
            &self.sampled_out,
            &self.delivered_records,
            &self.delivered_bytes,
            &self.failed_attempts,
            &self.refused_blocks,
        ] {
            family.remove(stream);
        }
        self.latency.remove(stream);
    }

    /// `count` messages of an edge input with one outcome; `account_id` when they carried
    /// a valid token (then they also count on that account's Ingest page).
    pub fn edge_messages(
        &self,
        input: EdgeInput,
        outcome: EdgeOutcome,
        account_id: Option<i64>,
        count: u64,
    ) {
        if count == 0 {
            return;
        }
        self.edge_messages
            .get_or_create(&EdgeLabels {
                input: input.as_str(),
                outcome: outcome.as_str(),
            })
            .inc_by(count);
        let Some(account_id) = account_id else {
            return;
        };
        let input_index = input as usize;
        let outcome_index = EdgeOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or_default();
        let now = now_millis();
        let mut accounts = self.edge_accounts.lock().unwrap_or_else(|p| p.into_inner());
        let account = accounts.entry(account_id).or_default();
        account.counts[input_index][outcome_index] += count;
        account.last_event_at[input_index] = Some(now);
        drop(accounts);
        if self.share_edge.load(std::sync::atomic::Ordering::Relaxed) {
            let mut unshared = self.edge_unshared.lock().unwrap_or_else(|p| p.into_inner());
            let (messages, last) = unshared.entry((account_id, input, outcome)).or_default();
            *messages += count as i64;
            *last = now;
        }
    }

    /// Cluster mode: the edge counts are added to totals every instance reads (at each
    /// flush), and [`edge_status_of`] makes the Edge page from them.
    pub fn share_edge_counts(&self) {
        self.share_edge
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The account's edge inputs since the server started.
    pub fn edge_status(&self, account_id: i64) -> EdgeStatus {
        let accounts = self.edge_accounts.lock().unwrap_or_else(|p| p.into_inner());
        let account = accounts.get(&account_id);
        EdgeStatus {
            inputs: EdgeInput::ALL
                .iter()
                .map(|input| {
                    let index = *input as usize;
                    EdgeInputStatus {
                        input: *input,
                        last_event_at: account.and_then(|a| a.last_event_at[index]),
                        counts: EdgeOutcome::ALL
                            .iter()
                            .enumerate()
                            .map(|(o, outcome)| {
                                (*outcome, account.map_or(0, |a| a.counts[index][o]))
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    /// A request refused whole (full spool, write failure): its events were not taken.
    pub fn ingest_refused(&self, events: usize) {
        self.ingest_events
            .get_or_create(&IngestLabels { outcome: "refused" })
            .inc_by(events as u64);
    }

    /// One request's events for one stream.
    pub fn stream_received(&self, stream: &StreamLabels, received: u64, sampled_out: u64) {
        self.received.get_or_create(stream).inc_by(received);
        if sampled_out > 0 {
            self.sampled_out.get_or_create(stream).inc_by(sampled_out);
        }
        self.add_minute(stream, |c| {
            c.received += received as i64;
            c.sampled_out += sampled_out as i64;
        });
    }

    /// One delivery attempt of `block`, delivered or not.
    pub fn attempt(
        &self,
        stream: &StreamLabels,
        block: &OutgoingBlock,
        outcome: &Result<Acknowledged, DeliveryError>,
        duration: Duration,
    ) {
        let (kind, answer) = match outcome {
            Ok(acknowledged) => {
                let latency = block.sealed_at.elapsed().unwrap_or_default();
                self.delivered_records
                    .get_or_create(stream)
                    .inc_by(block.records as u64);
                self.delivered_bytes
                    .get_or_create(stream)
                    .inc_by(block.body.len() as u64);
                self.latency
                    .get_or_create(stream)
                    .observe(latency.as_secs_f64());
                self.add_minute(stream, |c| {
                    c.delivered += block.records as i64;
                    c.bytes += block.body.len() as i64;
                    c.latency_ms_sum += latency.as_millis() as i64;
                    c.latency_count += 1;
                });
                (AttemptOutcome::Delivered, acknowledged.answer.clone())
            }
            Err(error) => {
                self.failed_attempts.get_or_create(stream).inc();
                let refused = matches!(error, DeliveryError::Terminal { .. });
                if refused {
                    self.refused_blocks.get_or_create(stream).inc();
                }
                self.add_minute(stream, |c| c.failed += 1);
                let kind = if refused {
                    AttemptOutcome::Refused
                } else {
                    AttemptOutcome::Failed
                };
                (kind, error.to_string())
            }
        };
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if attempts.len() >= MAX_BUFFERED_ATTEMPTS {
            attempts.pop_front();
        }
        attempts.push_back(AttemptRecord {
            account_id: stream.account_id,
            stream_id: stream.stream_id,
            attempt: DeliveryAttempt {
                at: now_millis(),
                block_id: block.id.to_string(),
                records: block.records as i64,
                outcome: kind,
                answer,
                duration_ms: duration.as_millis() as i64,
            },
        });
    }

    fn add_minute(&self, stream: &StreamLabels, add: impl FnOnce(&mut MinuteCounts)) {
        let key = (stream.account_id, stream.stream_id, minute_of(now_millis()));
        let mut minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        add(minutes.entry(key).or_default());
    }

    /// The Prometheus text exposition, with spool gauges (or, in cluster mode, bus lag
    /// gauges) as of now.
    pub fn encode(
        &self,
        active_streams: usize,
        spools: &[(StreamLabels, SpoolDepth)],
        bus_lags: &[(StreamLabels, BusLag)],
    ) -> String {
        let _one_scrape = self.scraping.lock().unwrap_or_else(|p| p.into_inner());
        self.active_streams.set(active_streams as i64);
        // Streams that stopped leave the gauges.
        self.spool_bytes.clear();
        self.spool_blocks.clear();
        self.spool_failed_blocks.clear();
        self.bus_lag_records.clear();
        self.bus_lag_bytes.clear();
        for (stream, lag) in bus_lags {
            self.bus_lag_records
                .get_or_create(stream)
                .set(lag.records as i64);
            self.bus_lag_bytes
                .get_or_create(stream)
                .set(lag.bytes as i64);
        }
        for (stream, depth) in spools {
            self.spool_bytes
                .get_or_create(stream)
                .set(depth.bytes as i64);
            self.spool_blocks
                .get_or_create(stream)
                .set(depth.blocks as i64);
            self.spool_failed_blocks
                .get_or_create(stream)
                .set(depth.failed_blocks as i64);
        }
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        text
    }

    /// Writes what accumulated since the last flush; on failure keeps it for the next.
    pub async fn flush(&self, db: &Db) {
        let edge: Vec<_> =
            std::mem::take(&mut *self.edge_unshared.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        let counts: Vec<EdgeCount> = edge
            .iter()
            .map(
                |((account_id, input, outcome), (messages, last))| EdgeCount {
                    account_id: *account_id,
                    input: input.as_str(),
                    outcome: outcome.as_str(),
                    messages: *messages,
                    last_event_at: *last,
                },
            )
            .collect();
        if !counts.is_empty()
            && let Err(e) = db.add_edge_counts(&counts).await
        {
            tracing::warn!(error = %e, "edge counts not shared yet");
            let mut pending = self.edge_unshared.lock().unwrap_or_else(|p| p.into_inner());
            for (key, (messages, last)) in edge {
                let kept = pending.entry(key).or_default();
                kept.0 += messages;
                kept.1 = kept.1.max(last);
            }
        }
        let minutes: Vec<_> =
            std::mem::take(&mut *self.minutes.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        if !minutes.is_empty()
            && let Err(e) = db.add_minute_counts(&minutes).await
        {
            tracing::warn!(error = %e, "stream metrics not stored yet");
            let mut pending = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
            for (key, counts) in minutes {
                *pending.entry(key).or_default() += counts;
            }
        }
        let attempts: Vec<AttemptRecord> =
            std::mem::take(&mut *self.attempts.lock().unwrap_or_else(|p| p.into_inner())).into();
        if !attempts.is_empty()
            && let Err(e) = db.add_delivery_attempts(&attempts).await
        {
            tracing::warn!(error = %e, "delivery log not stored yet");
            let mut pending = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            let newer = std::mem::replace(&mut *pending, attempts.into());
            pending.extend(newer);
            let excess = pending.len().saturating_sub(MAX_BUFFERED_ATTEMPTS);
            pending.drain(..excess);
        }
    }
}

/// The Edge page's status from the totals every instance adds to (cluster mode):
/// `(input, outcome, messages, last event)` rows as [`Db::edge_counts`] reads them.
pub fn edge_status_of(rows: &[(String, String, i64, i64)]) -> EdgeStatus {
    EdgeStatus {
        inputs: EdgeInput::ALL
            .iter()
            .map(|input| {
                let of_input = || rows.iter().filter(|r| r.0 == input.as_str());
                EdgeInputStatus {
                    input: *input,
                    last_event_at: of_input().map(|r| r.3).max(),
                    counts: EdgeOutcome::ALL
                        .iter()
                        .map(|outcome| {
                            let messages = of_input()
                                .filter(|r| r.1 == outcome.as_str())
                                .map(|r| r.2.max(0) as u64)
                                .sum();
                            (*outcome, messages)
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// Flushes the stats every [`FLUSH_EVERY`] and, hourly, forgets log entries older than
/// `retention` (minute counts: at least a day).
pub fn spawn_writer(stats: Arc<Stats>, db: Db, retention: Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(FLUSH_EVERY);
        let mut last_prune: Option<std::time::Instant> = None;
        loop {
            every.tick().await;
            stats.flush(&db).await;
            if last_prune.is_some_and(|at| at.elapsed() < Duration::from_secs(3600)) {
                continue;
            }
            last_prune = Some(std::time::Instant::now());
            let now = now_millis();
            let log_before = now - retention.as_millis() as i64;
            let metrics_before = now - retention.max(MIN_METRICS_RETENTION).as_millis() as i64;
            match db.account_ids().await {
                Ok(accounts) => {
                    for account_id in accounts {
                        if let Err(e) = db
                            .prune_telemetry(account_id, log_before, metrics_before)
                            .await
                        {
                            tracing::warn!(account_id, error = %e, "delivery log pruning failed");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "delivery log pruning failed"),
            }
        }
    });
}
