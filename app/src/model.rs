//! Types shared by the server and the browser: what server functions take and return.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role in their account (see the product spec's Concepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including managing users.
    Owner,
    /// Manages domains, templates and streams.
    Editor,
    /// Read only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// Owners and editors change the account's configuration; viewers only read it.
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Owner | Role::Editor)
    }

    pub fn can_manage_users(self) -> bool {
        self == Role::Owner
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "unknown role {other:?}: use owner, editor or viewer"
            )),
        }
    }
}

/// The signed-in user, as the console sees them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub role: Role,
    pub account_name: String,
}

/// A member of the account, on the users page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

/// A hostname the account serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    pub id: i64,
    pub name: String,
}

/// Where a stream's blocks go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointType {
    Http,
    S3,
    Kafka,
}

impl EndpointType {
    pub const ALL: [EndpointType; 3] = [EndpointType::Http, EndpointType::S3, EndpointType::Kafka];

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::Http => "http",
            EndpointType::S3 => "s3",
            EndpointType::Kafka => "kafka",
        }
    }

    /// The names the seed's console uses.
    pub fn label(self) -> &'static str {
        match self {
            EndpointType::Http => "Standard HTTP/HTTPS POST",
            EndpointType::S3 => "Simple Storage Service (S3)",
            EndpointType::Kafka => "Apache Kafka",
        }
    }
}

impl FromStr for EndpointType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http" => Ok(EndpointType::Http),
            "s3" => Ok(EndpointType::S3),
            "kafka" => Ok(EndpointType::Kafka),
            other => Err(format!("unknown endpoint type {other:?}")),
        }
    }
}

/// One custom HTTP header. On edit the stored value is never sent back: `value` is blank
/// and `value_stored` says one exists; saving it blank keeps the stored value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeaderInput {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub value_stored: bool,
}

/// The endpoint part of the stream form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointInput {
    pub endpoint_type: EndpointType,
    // Standard HTTP/HTTPS POST
    pub url: String,
    pub headers: Vec<HeaderInput>,
    // S3
    pub host_url: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    /// Blank on edit keeps the stored secret (see `secret_key_stored`).
    pub secret_key: String,
    #[serde(default)]
    pub secret_key_stored: bool,
    pub prefix: String,
    pub content_type: String,
    // Apache Kafka
    pub bootstrap_servers: String,
    pub topic: String,
}

impl EndpointInput {
    /// Where the endpoint is (host and port), without path, query or credentials: for logs.
    pub fn host(&self) -> String {
        let address = match self.endpoint_type {
            EndpointType::Http => &self.url,
            EndpointType::S3 => &self.host_url,
            EndpointType::Kafka => return self.bootstrap_servers.trim().to_string(),
        };
        let after_scheme = address
            .trim()
            .split_once("://")
            .map_or(address.trim(), |(_, rest)| rest);
        let authority = after_scheme
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host)
            .to_string()
    }
}

impl Default for EndpointInput {
    fn default() -> Self {
        EndpointInput {
            endpoint_type: EndpointType::Http,
            url: String::new(),
            headers: Vec::new(),
            host_url: String::new(),
            bucket: String::new(),
            region: String::new(),
            access_key: String::new(),
            secret_key: String::new(),
            secret_key_stored: false,
            prefix: String::new(),
            content_type: S3_CONTENT_TYPES[0].to_string(),
            bootstrap_servers: String::new(),
            topic: String::new(),
        }
    }
}

pub const S3_CONTENT_TYPES: [&str; 2] = ["plain/text", "application/gzip"];

/// The stream form, as edited in the browser and saved by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamInput {
    /// `None` when creating.
    pub id: Option<i64>,
    pub name: String,
    /// `edge_applications` or `waf_events`.
    pub data_source: String,
    /// A preset id, or `custom` for the data set in `custom_template`.
    pub template: String,
    pub custom_template: String,
    pub all_domains: bool,
    pub domain_ids: Vec<i64>,
    /// Percent, 1–100; only with All Domains. Text so a non-number is reported, not lost.
    pub sampling: String,
    pub endpoint: EndpointInput,
    pub active: bool,
}

pub const CUSTOM_TEMPLATE: &str = "custom";

impl StreamInput {
    /// The template in force: the custom data set, or the chosen preset of the data source.
    /// The engine, the preview and the endpoint test all compile it here.
    pub fn compile_template(&self) -> Result<engine::Template, String> {
        let source = self
            .data_source
            .parse::<engine::DataSource>()
            .map_err(|e| e.to_string())?;
        let text = if self.template == CUSTOM_TEMPLATE {
            self.custom_template.clone()
        } else {
            engine::Preset::find(&self.template)
                .filter(|p| p.data_source == source)
                .map(|p| p.template_text())
                .ok_or_else(|| format!("no template {:?} for {source}", self.template))?
        };
        engine::Template::compile(&text, source).map_err(|e| e.to_string())
    }

    /// The sampling percentage in force: the form's value with All Domains, else 100.
    pub fn sampling_percent(&self) -> u8 {
        if self.all_domains {
            self.sampling.trim().parse().unwrap_or(100)
        } else {
            100
        }
    }
}

impl Default for StreamInput {
    fn default() -> Self {
        StreamInput {
            id: None,
            name: String::new(),
            data_source: "edge_applications".into(),
            template: "edge-applications-event-collector".into(),
            custom_template: String::new(),
            all_domains: false,
            domain_ids: Vec::new(),
            sampling: "100".into(),
            endpoint: EndpointInput::default(),
            active: true,
        }
    }
}

/// A problem with one field of a form: `field` is the input's key (e.g. `endpoint.url`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A stream in the Data Streaming list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamSummary {
    pub id: i64,
    pub name: String,
    pub data_source: String,
    pub template: String,
    pub endpoint_type: EndpointType,
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
}

impl DeliveryStatus {
    /// The list's one-line summary.
    pub fn summary(&self) -> String {
        let failing = match (self.last_error_at, self.last_success_at) {
            (Some(error), Some(success)) => error > success,
            (Some(_), None) => true,
            _ => false,
        };
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
        self.summary().starts_with("Error")
    }
}

/// An ingest token as listed on the console (the token itself is shown once, at creation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IngestToken {
    pub id: i64,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A token just created: the only time its secret value is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: String,
    pub listed: IngestToken,
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

/// The stream dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamDashboard {
    pub name: String,
    pub active: bool,
    pub status: DeliveryStatus,
    pub spool: SpoolDepth,
    /// Per minute, the last hour (oldest first, 60 points).
    pub last_hour: Vec<MetricPoint>,
    /// Per 30 minutes, the last day (oldest first, 48 points).
    pub last_day: Vec<MetricPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_host_leaves_out_credentials_path_and_query() {
        let mut endpoint = EndpointInput {
            url: "https://user:pw@siem.acme.test:8443/in?token=secret".into(),
            ..EndpointInput::default()
        };
        assert_eq!(endpoint.host(), "siem.acme.test:8443");
        endpoint.endpoint_type = EndpointType::S3;
        endpoint.host_url = "http://127.0.0.1:9000".into();
        assert_eq!(endpoint.host(), "127.0.0.1:9000");
        endpoint.endpoint_type = EndpointType::Kafka;
        endpoint.bootstrap_servers = " k1:9092,k2:9092 ".into();
        assert_eq!(endpoint.host(), "k1:9092,k2:9092");
    }
}
