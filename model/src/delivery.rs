//! What the data plane reports back to the console: delivery status, the delivery log,
//! per-minute counts, spool depth, endpoint tests.

use serde::{Deserialize, Serialize};

use crate::stream::TemplateChoice;

/// A stream in the Data Streaming list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamSummary {
    pub id: i64,
    pub name: String,
    pub data_source: engine::DataSource,
    pub template: TemplateChoice,
    /// The endpoint type's label, e.g. "Apache Kafka".
    pub endpoint_label: String,
    /// Where the endpoint is (host and port, or the brokers), without credentials.
    pub endpoint_host: String,
    pub active: bool,
    pub status: DeliveryStatus,
}

/// What the engine last did for a stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    /// Unix milliseconds.
    pub last_success_at: Option<i64>,
    pub last_error_at: Option<i64>,
    /// A status code or a short reason.
    pub last_error: Option<String>,
    pub records_delivered: i64,
    pub bytes_delivered: i64,
    /// Blocks the endpoint refused for good.
    pub blocks_failed: i64,
    /// Why the engine could not start the stream (bad settings, a spool that cannot open).
    pub engine_error: Option<String>,
}

impl DeliveryStatus {
    /// The list's one-line summary.
    pub fn summary(&self) -> String {
        let failing = match (self.last_error_at, self.last_success_at) {
            (Some(error), Some(success)) => error > success,
            (Some(_), None) => true,
            _ => false,
        };
        if let Some(error) = &self.engine_error {
            return format!("Not running: {error}");
        }
        match (
            failing,
            &self.last_error,
            self.last_error_at,
            self.last_success_at,
        ) {
            (true, Some(reason), Some(at), _) => {
                format!("Error: {reason} ({})", format_utc_millis(at))
            }
            (_, _, _, Some(at)) => format!(
                "OK {} · {} records",
                format_utc_millis(at),
                self.records_delivered
            ),
            _ => "—".to_string(),
        }
    }

    pub fn is_failing(&self) -> bool {
        let summary = self.summary();
        summary.starts_with("Error") || summary.starts_with("Not running")
    }
}

/// UTC calendar fields of a Unix time in seconds: (year, month, day, hour, minute, second).
/// (Howard Hinnant's days-to-civil algorithm: no time-zone data needed, same in the browser.)
pub fn utc_fields(unix_secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (days, rem) = (unix_secs.div_euclid(86_400), unix_secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2026-11-25 18:42:01 UTC`, for Unix milliseconds.
pub fn format_utc_millis(unix_millis: i64) -> String {
    let (y, mo, d, h, mi, s) = utc_fields(unix_millis.div_euclid(1000));
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// Unix milliseconds as RFC 3339 in UTC, to the millisecond (`2026-11-14T12:00:01.250Z`).
pub fn rfc3339_utc(unix_millis: i64) -> String {
    let (y, mo, d, h, mi, s) = utc_fields(unix_millis.div_euclid(1000));
    let ms = unix_millis.rem_euclid(1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// What "Test endpoint" sent and what the endpoint answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointTestResult {
    /// The endpoint took the block.
    pub delivered: bool,
    /// The endpoint's answer: status code and reason, or the error.
    pub answer: String,
    pub records: usize,
    pub duration_ms: u64,
}

/// One delivery attempt of a block, in the stream's delivery log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// Unix milliseconds.
    pub at: i64,
    pub block_id: String,
    pub records: i64,
    pub outcome: AttemptOutcome,
    /// The endpoint's answer: status code, or the error.
    pub answer: String,
    pub duration_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Delivered,
    /// Failed; will be retried.
    Failed,
    /// Refused for good: set aside until redelivered.
    Refused,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 3] = [
        AttemptOutcome::Delivered,
        AttemptOutcome::Failed,
        AttemptOutcome::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Refused => "refused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "Delivered",
            AttemptOutcome::Failed => "Failed (retried)",
            AttemptOutcome::Refused => "Refused (set aside)",
        }
    }

    pub fn parse(text: &str) -> Option<AttemptOutcome> {
        AttemptOutcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// A stream's counts over one interval of a dashboard chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Start of the interval, Unix milliseconds.
    pub at: i64,
    /// Events for the stream's domains (before sampling).
    pub received: i64,
    pub sampled_out: i64,
    pub delivered: i64,
    /// Failed delivery attempts.
    pub failed: i64,
    pub bytes: i64,
    /// Mean time from a block's sealing to its acknowledgement, milliseconds…
    pub latency_ms: Option<i64>,
    /// …over this many blocks.
    pub latency_count: i64,
}

/// What waits in a stream's spool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpoolDepth {
    pub blocks: u64,
    pub bytes: u64,
    /// Blocks refused for good, waiting for a redelivery.
    pub failed_blocks: u64,
}

/// Cluster mode: a stream's records on the bus and who delivers them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BusDelivery {
    /// Accepted by any instance, not yet delivered.
    pub lag_records: u64,
    pub lag_bytes: u64,
    /// The instances that delivered the stream's blocks in the last minutes, latest first.
    pub delivered_by: Vec<String>,
}

/// The stream dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamDashboard {
    pub name: String,
    pub active: bool,
    pub status: DeliveryStatus,
    pub spool: SpoolDepth,
    /// Cluster mode only (the spool is then empty).
    pub bus: Option<BusDelivery>,
    /// Per minute, the last hour (oldest first, 60 points).
    pub last_hour: Vec<MetricPoint>,
    /// Per 30 minutes, the last day (oldest first, 48 points).
    pub last_day: Vec<MetricPoint>,
}

/// An edge input: nginx's access log over syslog, or ModSecurity's audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EdgeInput {
    Nginx,
    ModSecurity,
}

impl EdgeInput {
    pub const ALL: [EdgeInput; 2] = [EdgeInput::Nginx, EdgeInput::ModSecurity];

    /// The `input` label on `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeInput::Nginx => "nginx",
            EdgeInput::ModSecurity => "modsecurity",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EdgeInput::Nginx => "nginx access log (syslog)",
            EdgeInput::ModSecurity => "ModSecurity audit log",
        }
    }
}

/// What happened to an edge message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EdgeOutcome {
    /// Taken into the spools of the streams it routes to.
    Accepted,
    /// No ingest token, or one that is not valid (counted on `/metrics` only).
    NoToken,
    /// Not a syslog message with a JSON event, or not an audit entry.
    Malformed,
    /// Larger than the server takes.
    Oversize,
    /// Its host is not one of the account's domains.
    UnknownHost,
    /// Not taken: a spool or the account's limit was full.
    Refused,
}

impl EdgeOutcome {
    pub const ALL: [EdgeOutcome; 6] = [
        EdgeOutcome::Accepted,
        EdgeOutcome::NoToken,
        EdgeOutcome::Malformed,
        EdgeOutcome::Oversize,
        EdgeOutcome::UnknownHost,
        EdgeOutcome::Refused,
    ];

    /// The `outcome` label on `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeOutcome::Accepted => "accepted",
            EdgeOutcome::NoToken => "no_token",
            EdgeOutcome::Malformed => "malformed",
            EdgeOutcome::Oversize => "oversize",
            EdgeOutcome::UnknownHost => "unknown_host",
            EdgeOutcome::Refused => "refused",
        }
    }
}

/// One edge input of an account, since the server started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeInputStatus {
    pub input: EdgeInput,
    /// When its last message with this account's token arrived (ms since the epoch).
    pub last_event_at: Option<i64>,
    /// Messages per outcome, in [`EdgeOutcome::ALL`] order (no-token ones name no account).
    pub counts: Vec<(EdgeOutcome, u64)>,
}

/// The account's edge connection: one entry per input, in [`EdgeInput::ALL`] order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeStatus {
    pub inputs: Vec<EdgeInputStatus>,
}
