//! Operator settings: every one is a flag and an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use model::endpoints::destination::Allowed;

#[derive(Debug, Parser)]
#[command(
    name = "data-streaming",
    version,
    about = "Data Streaming: streams edge request logs and WAF events to your endpoints."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Server settings (when no subcommand is given, the server runs).
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Send realistic events to an ingest API at a chosen rate.
    Generate(crate::tools::generate::GenerateArgs),
    /// A local HTTP endpoint that counts the records it receives (demo, benchmarks).
    Receive(crate::tools::receive::ReceiveArgs),
}

#[derive(Clone, Debug, clap::Args)]
pub struct Settings {
    /// Address and port the console and APIs listen on.
    #[arg(
        long,
        env = "DS_BIND",
        default_value = "127.0.0.1:3000",
        value_name = "ADDR:PORT"
    )]
    pub bind: SocketAddr,

    /// Directory for the embedded SQLite database, the delivery spool and keys; created if missing.
    #[arg(long, env = "DS_DATA_DIR", default_value = "data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Database URL (`postgres://user:pass@host/db` or `sqlite://file`); overrides the
    /// SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory holding the built web assets (`pkg/` with the wasm, JS and CSS).
    #[arg(
        long,
        env = "DS_SITE_ROOT",
        default_value = "target/site",
        value_name = "DIR"
    )]
    pub site_root: PathBuf,

    /// Key that encrypts stored secrets (S3 secret keys, header values): 32 bytes,
    /// base64. Overrides the key file.
    #[arg(
        long,
        env = "DS_SECRET_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// File holding that key; created with a random key on first start.
    /// Default: `secret.key` in the data directory.
    #[arg(long, env = "DS_SECRET_KEY_FILE", value_name = "FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Mark the session cookie `Secure`: set this when the console is served over https
    /// (directly or behind a TLS-terminating proxy).
    #[arg(long, env = "DS_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// A console session ends this long after its sign-in, however active it was (it also
    /// ends after 12 hours without use).
    #[arg(long, env = "DS_SESSION_LIFETIME", default_value = "24h", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub session_lifetime: std::time::Duration,

    /// For unattended installs: with no user in the database, create the first account
    /// and its owner with this email (and `DS_ADMIN_PASSWORD`).
    #[arg(
        long,
        env = "DS_ADMIN_EMAIL",
        value_name = "EMAIL",
        requires = "admin_password"
    )]
    pub admin_email: Option<String>,

    /// The first owner's password (environment only is advisable: flags show in `ps`).
    #[arg(
        long,
        env = "DS_ADMIN_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<String>,

    /// The first account's name, with `DS_ADMIN_EMAIL`.
    #[arg(
        long,
        env = "DS_ADMIN_ACCOUNT",
        value_name = "NAME",
        default_value = "My account"
    )]
    pub admin_account: String,

    /// A block is sealed when it holds this many records.
    #[arg(long, env = "DS_BLOCK_MAX_RECORDS", default_value_t = 2000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub block_max_records: u32,

    /// …or this long after its first record (e.g. `60s`, `500ms`).
    #[arg(long, env = "DS_BLOCK_MAX_AGE", default_value = "60s", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub block_max_age: std::time::Duration,

    /// Spool size limit per stream in bytes; past it ingest answers 503 (Retry-After)
    /// until the stream's endpoint catches up.
    #[arg(long, env = "DS_SPOOL_MAX_BYTES", default_value_t = 1 << 30, value_name = "BYTES")]
    pub spool_max_bytes: u64,

    /// How long the delivery log keeps each attempt (e.g. `7d`, `12h`). The dashboard's
    /// minute counts are kept as long, and at least a day.
    #[arg(long, env = "DS_DELIVERY_LOG_RETENTION", default_value = "7d", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub delivery_log_retention: std::time::Duration,

    /// Token a Prometheus scraper sends (`Authorization: Bearer …`) to read `/metrics`;
    /// without it `/metrics` is off.
    #[arg(
        long,
        env = "DS_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        value_parser = metrics_token
    )]
    pub metrics_token: Option<String>,

    /// Largest ingest request body in bytes; larger ones are answered 413.
    #[arg(long, env = "DS_INGEST_MAX_BODY", default_value_t = 16 * 1024 * 1024, value_name = "BYTES")]
    pub ingest_max_body: usize,

    /// An ingest request's body must arrive within this; slower ones are answered 408.
    #[arg(long, env = "DS_INGEST_READ_TIMEOUT", default_value = "30s", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub ingest_read_timeout: std::time::Duration,

    /// Ingest request bodies read at once, over all accounts; past it ingest answers 503.
    #[arg(long, env = "DS_INGEST_MAX_CONCURRENT", default_value_t = 64, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub ingest_max_concurrent: u32,

    /// Syslog over UDP for nginx's `access_log syslog:` (e.g. `0.0.0.0:5514`); off when
    /// unset. Each message authenticates with the ingest token it carries.
    #[arg(long, env = "DS_SYSLOG_UDP", value_name = "ADDR")]
    pub syslog_udp: Option<std::net::SocketAddr>,

    /// Syslog over TCP (RFC 6587 octet counting or newline framing) for relays such as
    /// rsyslog and syslog-ng; off when unset.
    #[arg(long, env = "DS_SYSLOG_TCP", value_name = "ADDR")]
    pub syslog_tcp: Option<std::net::SocketAddr>,

    /// Largest syslog message (UDP datagram or TCP frame); larger ones are counted and
    /// dropped.
    #[arg(long, env = "DS_SYSLOG_MAX_MESSAGE_BYTES", default_value_t = 65_507, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(512..=16 * 1024 * 1024))]
    pub syslog_max_message_bytes: u64,

    /// Open syslog TCP connections at most, over all senders; more are closed at once.
    #[arg(long, env = "DS_SYSLOG_TCP_MAX_CONNECTIONS", default_value_t = 256, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub syslog_tcp_max_connections: u32,

    /// A syslog TCP connection silent this long is closed (relays reconnect).
    #[arg(long, env = "DS_SYSLOG_TCP_IDLE_TIMEOUT", default_value = "5m", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub syslog_tcp_idle_timeout: std::time::Duration,

    /// Demo mode: with an empty database, seed a demo account (domain, ingest token and a
    /// stream to this URL) and write its credentials to `demo-credentials.txt` in the data
    /// directory.
    #[arg(long, env = "DS_DEMO_RECEIVER", value_name = "URL")]
    pub demo_receiver: Option<String>,

    /// Demo mode through a real edge: where a private nginx with ModSecurity and the OWASP
    /// CRS listens (e.g. `127.0.0.1:3080`), in front of a small local origin; the generator
    /// then sends real HTTP requests (a share of them attacks) through it. Needs
    /// `--syslog-udp` and Debian's nginx, libnginx-mod-http-modsecurity and modsecurity-crs;
    /// without them the generator sends NDJSON to the ingest API.
    #[arg(long, env = "DS_DEMO_EDGE", value_name = "ADDR")]
    pub demo_edge: Option<std::net::SocketAddr>,

    /// Demo mode: events per second the built-in generator sends (0: none).
    #[arg(long, env = "DS_DEMO_RATE", default_value_t = 50, value_name = "N")]
    pub demo_rate: u32,

    /// Destinations a stream may deliver to although they are loopback, private,
    /// link-local, shared or reserved addresses: CIDRs (`10.20.0.0/16`), addresses and
    /// host names (`siem.internal`, `*.corp.example`), comma-separated. This server's own
    /// listen address stays refused.
    #[arg(long, env = "DS_ALLOW_DESTINATIONS", value_name = "CIDR|HOST,...",
          value_delimiter = ',', value_parser = parse_allowed)]
    pub allow_destinations: Vec<Allowed>,

    /// Resolve destination host names with this DNS server (UDP, `IP:PORT`) instead of the
    /// system's resolver.
    #[arg(long, env = "DS_DESTINATION_DNS", value_name = "IP:PORT")]
    pub destination_dns: Option<SocketAddr>,

    /// A block is also sealed before a record would take it past this many bytes.
    #[arg(long, env = "DS_BLOCK_MAX_BYTES", default_value_t = 10 * 1024 * 1024, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub block_max_bytes: u64,

    /// Largest custom template (Data Set) in bytes.
    #[arg(long, env = "DS_MAX_TEMPLATE_BYTES", default_value_t = 64 * 1024, value_name = "BYTES")]
    pub max_template_bytes: usize,

    /// Largest rendered record in bytes: an event whose record would be larger is a
    /// rejected line.
    #[arg(long, env = "DS_MAX_RECORD_BYTES", default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub max_record_bytes: usize,

    /// Most bytes one ingest request may render over all streams (413 above).
    #[arg(long, env = "DS_MAX_RENDERED_BYTES", default_value_t = 256 * 1024 * 1024, value_name = "BYTES")]
    pub max_rendered_bytes: usize,

    /// Streams per account.
    #[arg(long, env = "DS_MAX_STREAMS", default_value_t = 100, value_name = "N")]
    pub max_streams: usize,

    /// Domains per account.
    #[arg(long, env = "DS_MAX_DOMAINS", default_value_t = 1000, value_name = "N")]
    pub max_domains: usize,

    /// Ingest tokens per account.
    #[arg(
        long,
        env = "DS_MAX_INGEST_TOKENS",
        default_value_t = 100,
        value_name = "N"
    )]
    pub max_ingest_tokens: usize,

    /// Custom templates per account.
    #[arg(
        long,
        env = "DS_MAX_TEMPLATES",
        default_value_t = 100,
        value_name = "N"
    )]
    pub max_templates: usize,

    /// API tokens per account.
    #[arg(
        long,
        env = "DS_MAX_API_TOKENS",
        default_value_t = 100,
        value_name = "N"
    )]
    pub max_api_tokens: usize,

    /// Custom headers per stream.
    #[arg(long, env = "DS_MAX_HEADERS", default_value_t = 32, value_name = "N")]
    pub max_headers: usize,

    /// Spool bytes over all of an account's streams; past it ingest answers 429 for that
    /// account until its endpoints catch up.
    #[arg(long, env = "DS_ACCOUNT_SPOOL_MAX_BYTES", default_value_t = 4 << 30, value_name = "BYTES")]
    pub account_spool_max_bytes: u64,

    /// Free disk space under the data directory below which ingest answers 503, so spools
    /// never fill the disk the database lives on.
    #[arg(long, env = "DS_MIN_FREE_DISK", default_value_t = 1 << 30, value_name = "BYTES")]
    pub min_free_disk: u64,

    /// Log format on standard output.
    #[arg(long, env = "DS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Cluster mode: `kafka://host:port,host:port…`, the Kafka cluster that carries accepted
    /// records from ingest to delivery instead of this instance's spool (PostgreSQL
    /// required; README "Running several instances").
    #[arg(long, env = "DS_BUS", value_name = "URL", value_parser = parse_bus)]
    pub bus: Option<String>,

    /// Cluster mode: the topic records go through (created if missing).
    #[arg(
        long,
        env = "DS_BUS_TOPIC",
        default_value = "data-streaming-records",
        value_name = "NAME"
    )]
    pub bus_topic: String,

    /// Cluster mode: the topic's partitions when created: at most this many instances
    /// deliver at once.
    #[arg(long, env = "DS_BUS_PARTITIONS", default_value_t = 12, value_name = "N",
          value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub bus_partitions: i32,

    /// Cluster mode: replicas per partition when the topic is created (`-1`: the Kafka
    /// cluster's default).
    #[arg(long, env = "DS_BUS_REPLICATION", default_value_t = -1, value_name = "N",
          value_parser = clap::value_parser!(i32).range(-1..=100))]
    pub bus_replication: i32,

    /// Cluster mode: how long the topic keeps records when created (an endpoint down for
    /// longer loses what is older).
    #[arg(long, env = "DS_BUS_RETENTION", default_value = "7d", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub bus_retention: std::time::Duration,

    /// Cluster mode: the consumer group every instance's delivery joins.
    #[arg(
        long,
        env = "DS_BUS_GROUP",
        default_value = "data-streaming",
        value_name = "NAME"
    )]
    pub bus_group: String,

    /// Cluster mode: an instance silent this long loses its partitions to the others.
    #[arg(long, env = "DS_BUS_SESSION_TIMEOUT", default_value = "10s", value_name = "DURATION",
          value_parser = humantime::parse_duration)]
    pub bus_session_timeout: std::time::Duration,

    /// Cluster mode: partitions one stream's records spread over (round-robin per
    /// request): how many instances' cores a busy stream can use.
    #[arg(long, env = "DS_BUS_LANES", default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub bus_lanes: u32,

    /// Cluster mode: bytes of one stream's records one partition's delivery holds in
    /// memory; past it the stream's records wait in the partition (its other streams go on).
    #[arg(long, env = "DS_BUS_STREAM_MEMORY", default_value_t = 8 << 20, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(65_536..))]
    pub bus_stream_memory: u64,

    /// Cluster mode: bytes one partition's delivery holds in memory over all its streams;
    /// past it the partition's reading pauses until deliveries take them.
    #[arg(long, env = "DS_BUS_PARTITION_MEMORY", default_value_t = 64 << 20, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(65_536..))]
    pub bus_partition_memory: u64,

    /// Cluster mode: this instance's name on the dashboard (default: host name and port).
    #[arg(long, env = "DS_INSTANCE_NAME", value_name = "NAME")]
    pub instance_name: Option<String>,
}

/// `kafka://host:port[,host:port…]` → librdkafka's `host:port,host:port`.
fn parse_bus(text: &str) -> Result<String, String> {
    let brokers = text
        .trim()
        .strip_prefix("kafka://")
        .ok_or("the bus must be a kafka:// URL, e.g. kafka://10.0.0.5:9092,10.0.0.6:9092")?;
    let mut servers = Vec::new();
    for server in brokers.trim_end_matches('/').split(',') {
        let server = server.trim();
        match server.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
                servers.push(server.to_string());
            }
            _ => return Err(format!("{server:?} is not host:port")),
        }
    }
    Ok(servers.join(","))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn parse_allowed(text: &str) -> Result<Allowed, String> {
    text.parse()
}

/// A metrics token long enough not to be guessed.
fn metrics_token(text: &str) -> Result<String, String> {
    let token = text.trim();
    if token.chars().count() < 16 {
        return Err("the metrics token must be at least 16 characters".into());
    }
    Ok(token.to_string())
}

impl Settings {
    /// The database URL in force: `--database-url`, else SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("data-streaming.db").display()
            ),
        }
    }
}

impl Settings {
    /// The bounds on what a request or an account may cost.
    /// The edge inputs: syslog listeners and their bounds.
    pub fn edge(&self) -> dataplane::edge::EdgeSettings {
        dataplane::edge::EdgeSettings {
            syslog_udp: self.syslog_udp,
            syslog_tcp: self.syslog_tcp,
            max_message_bytes: self.syslog_max_message_bytes as usize,
            tcp_max_connections: self.syslog_tcp_max_connections as usize,
            tcp_idle_timeout: self.syslog_tcp_idle_timeout,
        }
    }

    pub fn bounds(&self) -> model::Bounds {
        model::Bounds {
            template_bytes: self.max_template_bytes,
            record_bytes: self.max_record_bytes,
            rendered_bytes: self.max_rendered_bytes,
            streams: self.max_streams,
            domains: self.max_domains,
            ingest_tokens: self.max_ingest_tokens,
            templates: self.max_templates,
            api_tokens: self.max_api_tokens,
            headers: self.max_headers,
            account_spool_bytes: self.account_spool_max_bytes,
            min_free_disk_bytes: self.min_free_disk,
        }
    }

    /// Cluster mode's settings, when `--bus` is set; `port`: the one this instance bound.
    /// Tenants see the instance's name ("Delivered by"): by default it is derived from the
    /// host's name and this port without showing them (logged at start for the operator).
    pub fn bus_settings(&self, port: u16) -> Option<dataplane::bus::BusSettings> {
        let brokers = self.bus.clone()?;
        let instance = self.instance_name.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "instance".into());
            let address = format!("{host}:{port}");
            let name = format!("instance-{}", &storage::tokens::token_hash(&address)[..8]);
            tracing::info!(instance = %name, %address, "cluster mode: this instance's name");
            name
        });
        Some(dataplane::bus::BusSettings {
            brokers,
            topic: self.bus_topic.clone(),
            partitions: self.bus_partitions,
            replication: self.bus_replication,
            retention: self.bus_retention,
            group: self.bus_group.clone(),
            session_timeout: self.bus_session_timeout,
            lanes: self.bus_lanes,
            instance,
            memory: dataplane::bus::BusMemory {
                stream_memory: self.bus_stream_memory,
                partition_memory: self.bus_partition_memory,
            },
        })
    }

    /// The secret-key file in force.
    pub fn effective_secret_key_file(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bind_names_the_setting() {
        let err = Cli::try_parse_from(["data-streaming", "--bind", "nonsense"]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--bind"), "{text}");
        assert!(text.contains("nonsense"), "{text}");
    }

    #[test]
    fn a_short_metrics_token_names_the_setting() {
        let err = Cli::try_parse_from(["data-streaming", "--metrics-token", "  "]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--metrics-token"), "{text}");
        assert!(text.contains("at least 16 characters"), "{text}");
    }

    #[test]
    fn the_defaults_are_the_documented_bounds() {
        let cli = Cli::try_parse_from(["data-streaming"]).unwrap();
        assert_eq!(cli.settings.bounds(), model::Bounds::default());
        assert_eq!(
            u64::from(cli.settings.block_max_records),
            engine::BlockLimits::default().max_records as u64
        );
        assert_eq!(
            cli.settings.block_max_bytes,
            engine::BlockLimits::default().max_bytes
        );
    }

    #[test]
    fn a_bad_destination_exception_names_the_setting() {
        let err = Cli::try_parse_from(["data-streaming", "--allow-destinations", "10.0.0.0/8,a b"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--allow-destinations"), "{err}");
        assert!(err.contains("neither a CIDR"), "{err}");
    }

    #[test]
    fn the_bus_is_a_list_of_brokers() {
        let cli = Cli::try_parse_from([
            "data-streaming",
            "--bus",
            "kafka://10.0.0.5:9092, kafka-2.internal:9093",
        ])
        .unwrap();
        assert_eq!(
            cli.settings.bus.as_deref(),
            Some("10.0.0.5:9092,kafka-2.internal:9093")
        );
        for bad in [
            "10.0.0.5:9092",
            "kafka://host",
            "kafka://host:0",
            "kafka://:9092",
        ] {
            let err = Cli::try_parse_from(["data-streaming", "--bus", bad])
                .unwrap_err()
                .to_string();
            assert!(err.contains("--bus"), "{bad}: {err}");
        }
    }

    #[test]
    fn sqlite_in_data_dir_by_default() {
        let cli = Cli::try_parse_from(["data-streaming", "--data-dir", "/tmp/x"]).unwrap();
        assert_eq!(
            cli.settings.effective_database_url(),
            "sqlite:///tmp/x/data-streaming.db?mode=rwc"
        );
    }
}
