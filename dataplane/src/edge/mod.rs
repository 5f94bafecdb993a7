//! The edge inputs: a real nginx + ModSecurity edge sends its events natively, with no
//! shipper in between.
//!
//! Layout, in data-flow order:
//! - [`syslog`]: nginx's `access_log syslog:` over UDP, and TCP (RFC 6587 octet counting
//!   or newline framing) for relays; RFC 3164 and RFC 5424 headers. The message is the
//!   JSON of the generated `log_format` ([`engine::edge::nginx_log_format`]): an Edge
//!   Applications event as it is, with the ingest token under [`engine::edge::TOKEN_KEY`].
//! - [`modsecurity`]: `POST /ingest/modsecurity/{token}`, what `SecAuditLogType HTTPS` +
//!   `SecAuditLogFormat JSON` sends: one audit entry, mapped to a WAF Events event (and to
//!   the `waf_*` values of the request's Edge Applications event).
//! - [`join`]: Edge Applications events wait up to [`join::JOIN_WINDOW`] for their request's
//!   ModSecurity verdict (the two arrive in either order, over different transports).
//! - then [`crate::ingest::accept`], the ingest API's own routing, rendering and spooling.
//!
//! Every message is counted by outcome on `/metrics` (`ds_edge_messages_total`), and on
//! the account's Ingest page when it carried a valid token.

pub mod join;
pub mod modsecurity;
pub mod syslog;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::DataSource;
use model::{EdgeInput, EdgeOutcome};

use crate::ingest;
use crate::pipeline::Pipeline;
use join::Join;

/// Events per call of [`ingest::accept`]: well under its per-request bounds.
const EVENTS_PER_BATCH: usize = 1000;

/// Where the edge inputs listen and what they take.
#[derive(Clone, Debug)]
pub struct EdgeSettings {
    /// `--syslog-udp`: off when `None`.
    pub syslog_udp: Option<SocketAddr>,
    /// `--syslog-tcp`: off when `None`.
    pub syslog_tcp: Option<SocketAddr>,
    /// Largest syslog message (a UDP datagram or a TCP frame).
    pub max_message_bytes: usize,
    /// Open syslog TCP connections, over all senders.
    pub tcp_max_connections: usize,
    /// A syslog TCP connection that sends nothing this long is closed.
    pub tcp_idle_timeout: Duration,
}

/// The addresses the syslog inputs listen on (port 0 resolved).
#[derive(Clone, Copy, Debug, Default)]
pub struct EdgeListeners {
    pub syslog_udp: Option<SocketAddr>,
    pub syslog_tcp: Option<SocketAddr>,
}

/// The edge inputs' shared state: the engine and the join of the two sources.
#[derive(Clone)]
pub struct Edge {
    pipeline: Pipeline,
    join: Arc<Mutex<Join>>,
    max_message_bytes: usize,
    /// ModSecurity entries being read.
    entries: Arc<tokio::sync::Semaphore>,
}

impl Edge {
    /// Binds the syslog inputs the settings name and starts the join's flusher.
    pub async fn start(
        pipeline: Pipeline,
        settings: &EdgeSettings,
    ) -> std::io::Result<(Edge, EdgeListeners)> {
        let edge = Edge {
            pipeline,
            join: Arc::default(),
            max_message_bytes: settings.max_message_bytes,
            entries: Arc::new(tokio::sync::Semaphore::new(
                modsecurity::MAX_ENTRIES_AT_ONCE,
            )),
        };
        let mut listeners = EdgeListeners::default();
        if let Some(address) = settings.syslog_udp {
            listeners.syslog_udp = Some(syslog::listen_udp(edge.clone(), address).await?);
        }
        if let Some(address) = settings.syslog_tcp {
            listeners.syslog_tcp = Some(syslog::listen_tcp(edge.clone(), address, settings).await?);
        }
        tokio::spawn(edge.clone().flush_joined());
        Ok((edge, listeners))
    }

    fn count(&self, input: EdgeInput, outcome: EdgeOutcome, account_id: Option<i64>, n: u64) {
        self.pipeline
            .stats()
            .edge_messages(input, outcome, account_id, n);
    }

    /// The account of an ingest token.
    fn account_for_token(&self, token: &str) -> Option<i64> {
        self.pipeline.account_for_token(token)
    }

    /// Every [`join::TICK`]: the Edge Applications events whose verdict arrived or whose
    /// wait ended go to their streams.
    async fn flush_joined(self) {
        let mut tick = tokio::time::interval(join::TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let ready = self
                .join
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take_ready(std::time::Instant::now());
            for (account_id, events) in ready {
                for batch in events.chunks(EVENTS_PER_BATCH) {
                    let body = batch.join(&b'\n');
                    // A refused batch is counted in ingest(); the edge cannot resend it.
                    let _ = self
                        .ingest(
                            EdgeInput::Nginx,
                            account_id,
                            DataSource::EdgeApplications,
                            &body,
                            batch.len() as u64,
                        )
                        .await;
                }
            }
        }
    }

    /// Hands `events` (NDJSON) of one account to ingest and counts what became of them.
    /// The edge cannot be asked to send a refused batch again: it is counted and dropped.
    async fn ingest(
        &self,
        input: EdgeInput,
        account_id: i64,
        source: DataSource,
        body: &[u8],
        events: u64,
    ) -> Result<(), ingest::Refusal> {
        let account = Some(account_id);
        match ingest::accept(&self.pipeline, account_id, source, body).await {
            Ok(answer) => {
                self.count(
                    input,
                    EdgeOutcome::Accepted,
                    account,
                    answer.accepted as u64,
                );
                self.count(
                    input,
                    EdgeOutcome::Malformed,
                    account,
                    answer.rejected_count as u64,
                );
                self.count(
                    input,
                    EdgeOutcome::UnknownHost,
                    account,
                    answer.unknown_host as u64,
                );
                if let Some(reason) = answer.rejected.first() {
                    tracing::debug!(account_id, input = input.as_str(), reason = %reason.reason, "edge event rejected");
                }
                Ok(())
            }
            Err(refusal) => {
                tracing::warn!(account_id, input = input.as_str(), events, reason = %refusal.message, "edge events refused");
                self.count(input, EdgeOutcome::Refused, account, events);
                Err(refusal)
            }
        }
    }
}

/// The text of the JSON string member `"key":"…"` in `bytes` (the first one), found
/// without parsing: the edge's own format puts it there, unescaped.
fn string_member<'a>(bytes: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let needle = format!("\"{key}\":\"");
    let start = memchr::memmem::find(bytes, needle.as_bytes())? + needle.len();
    let len = memchr::memchr(b'"', &bytes[start..])?;
    Some(&bytes[start..start + len])
}
