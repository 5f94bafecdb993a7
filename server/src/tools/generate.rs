//! `data-streaming generate`: realistic events for an account's domains, sent to the
//! ingest API over several connections, at a chosen rate or as fast as possible.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use engine::DataSource;
use engine::generate::EventGenerator;

use dataplane::ingest::IngestAnswer;

#[derive(Clone, Debug, clap::Args)]
pub struct GenerateArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Ingest token (or use --token-file / DS_INGEST_TOKEN).
    #[arg(long, env = "DS_INGEST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// File whose `token=` line (or whole content) is the ingest token.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// `edge_applications` or `waf_events`.
    #[arg(long, default_value = "edge_applications")]
    pub source: DataSource,
    /// Hosts the events are for (the account's domains), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub hosts: Vec<String>,
    /// Events per second in all (0: as fast as the server takes them).
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Stop after this many events (0: run until --duration or interrupted).
    #[arg(long, default_value_t = 0)]
    pub events: u64,
    /// Stop after this long (e.g. `30s`).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Events per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Parallel connections.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Print only the final summary.
    #[arg(long)]
    pub quiet: bool,
    /// Send to a syslog input instead of the ingest API, as nginx would (the token in each
    /// message): `udp://HOST:PORT` (a datagram per event) or `tcp://HOST:PORT`
    /// (octet-counted frames). Edge Applications only.
    #[arg(long, value_name = "URL")]
    pub syslog: Option<String>,
}

/// A syslog input to send to.
enum SyslogTarget {
    Udp(tokio::net::UdpSocket),
    Tcp(tokio::net::TcpStream),
}

impl SyslogTarget {
    async fn connect(url: &str) -> Result<SyslogTarget, String> {
        if let Some(address) = url.strip_prefix("udp://") {
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            socket
                .connect(address)
                .await
                .map_err(|e| format!("{address}: {e}"))?;
            Ok(SyslogTarget::Udp(socket))
        } else if let Some(address) = url.strip_prefix("tcp://") {
            let stream = tokio::net::TcpStream::connect(address)
                .await
                .map_err(|e| format!("{address}: {e}"))?;
            Ok(SyslogTarget::Tcp(stream))
        } else {
            Err(format!(
                "--syslog {url}: use udp://HOST:PORT or tcp://HOST:PORT"
            ))
        }
    }

    /// Sends each NDJSON line of `body` as one RFC 3164 message with the token in its JSON.
    async fn send(
        &mut self,
        body: &[u8],
        token: &str,
        frames: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let header = format!("<190>Dec  2 00:36:16 datastream: {{\"ds_token\":\"{token}\",");
        frames.clear();
        for line in body.split(|b| *b == b'\n').filter(|l| l.len() > 1) {
            let len = header.len() + line.len() - 1;
            match self {
                SyslogTarget::Udp(socket) => {
                    frames.clear();
                    frames.extend_from_slice(header.as_bytes());
                    frames.extend_from_slice(&line[1..]);
                    socket.send(frames).await?;
                }
                SyslogTarget::Tcp(_) => {
                    frames.extend_from_slice(format!("{len} ").as_bytes());
                    frames.extend_from_slice(header.as_bytes());
                    frames.extend_from_slice(&line[1..]);
                }
            }
        }
        if let SyslogTarget::Tcp(stream) = self {
            use tokio::io::AsyncWriteExt;
            stream.write_all(frames).await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    accepted: AtomicU64,
    /// Answered 503 or not reached: resent.
    refused_requests: AtomicU64,
    /// Answered another error: that batch is not resent.
    failed_requests: AtomicU64,
}

pub fn read_token(args: &GenerateArgs) -> Result<String, String> {
    if let Some(token) = &args.token {
        return Ok(token.trim().to_string());
    }
    let path = args
        .token_file
        .as_ref()
        .ok_or("give --token, --token-file or DS_INGEST_TOKEN")?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("token="))
        .unwrap_or(text.trim());
    Ok(token.trim().to_string())
}

pub async fn run(args: GenerateArgs) -> Result<(), String> {
    if !args.source.has_hosts() {
        return Err(format!(
            "--source: {} events are written by the service itself",
            args.source
        ));
    }
    let token = read_token(&args)?;
    let endpoint = format!(
        "{}/ingest/{}",
        args.url.trim_end_matches('/'),
        args.source.as_str()
    );
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let deadline = args.duration.map(|d| started + d);
    let connections = args.connections.max(1);
    let per_connection_limit = (args.events > 0).then(|| args.events.div_ceil(connections as u64));
    let client = reqwest::Client::new();

    let mut tasks = Vec::new();
    for connection in 0..connections {
        let (client, endpoint, token, counters, args) = (
            client.clone(),
            endpoint.clone(),
            token.clone(),
            counters.clone(),
            args.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let mut generator =
                EventGenerator::new(args.source, args.hosts.clone(), connection as u64 + 1)
                    .starting_at(now);
            let mut body = Vec::with_capacity(args.batch * 1600);
            let mut syslog = match &args.syslog {
                Some(url) => match SyslogTarget::connect(url).await {
                    Ok(target) => Some(target),
                    Err(e) => {
                        eprintln!("{e}");
                        return;
                    }
                },
                None => None,
            };
            let mut frames = Vec::new();
            let mut sent_here = 0u64;
            let per_connection_rate = args.rate as f64 / connections as f64;
            let connection_started = Instant::now();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let mut count = args.batch as u64;
                if let Some(limit) = per_connection_limit {
                    count = count.min(limit - sent_here);
                    if count == 0 {
                        break;
                    }
                }
                body.clear();
                generator.write_batch(count as usize, &mut body);
                if let Some(target) = syslog.as_mut()
                    && let Err(e) = target.send(&body, &token, &mut frames).await
                {
                    counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                    eprintln!("syslog send failed: {e}");
                }
                // Resend the same body until the server takes it: 503 (a full spool) says
                // when to come back; nothing is lost or sent twice.
                while syslog.is_none() {
                    let result = client
                        .post(&endpoint)
                        .bearer_auth(&token)
                        .header("Content-Type", "application/x-ndjson")
                        .body(body.clone())
                        .send()
                        .await;
                    match result {
                        Ok(r) if r.status().is_success() => {
                            let answer: IngestAnswer = r.json().await.unwrap_or_default();
                            counters
                                .accepted
                                .fetch_add(answer.accepted as u64, Ordering::Relaxed);
                            break;
                        }
                        Ok(r) if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                            counters.refused_requests.fetch_add(1, Ordering::Relaxed);
                            let wait = r
                                .headers()
                                .get(reqwest::header::RETRY_AFTER)
                                .and_then(|v| v.to_str().ok()?.parse().ok())
                                .unwrap_or(1);
                            tokio::time::sleep(Duration::from_secs(wait)).await;
                        }
                        Ok(r) => {
                            counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                            eprintln!("ingest answered {}: batch dropped", r.status());
                            break;
                        }
                        Err(e) => {
                            counters.refused_requests.fetch_add(1, Ordering::Relaxed);
                            eprintln!("ingest request failed: {e}; retrying");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                }
                sent_here += count;
                counters.sent.fetch_add(count, Ordering::Relaxed);
                if per_connection_rate > 0.0 {
                    // Pace to the rate: sleep until this connection's schedule catches up.
                    let due = Duration::from_secs_f64(sent_here as f64 / per_connection_rate);
                    if let Some(wait) = due.checked_sub(connection_started.elapsed()) {
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }));
    }
    let reporter = (!args.quiet).then(|| {
        let counters = counters.clone();
        tokio::spawn(async move {
            let mut every_second = tokio::time::interval(Duration::from_secs(1));
            every_second.tick().await;
            loop {
                every_second.tick().await;
                println!(
                    "sent {} · accepted {} · {:.0} events/s",
                    counters.sent.load(Ordering::Relaxed),
                    counters.accepted.load(Ordering::Relaxed),
                    counters.sent.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
                );
            }
        })
    });
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent = counters.sent.load(Ordering::Relaxed);
    println!(
        "generated {sent} events in {elapsed:.2} s: {:.0} events/s; accepted {}; requests resent {}; failed {}",
        sent as f64 / elapsed,
        counters.accepted.load(Ordering::Relaxed),
        counters.refused_requests.load(Ordering::Relaxed),
        counters.failed_requests.load(Ordering::Relaxed)
    );
    Ok(())
}
