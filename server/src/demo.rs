//! Demo mode (`--demo-receiver`): on an empty database, a demo account with a domain, an
//! ingest token and an active stream to a local receiver; then the built-in generator sends
//! it events, so a newcomer sees them flow. Credentials go to a private file, not the log.

use std::path::{Path, PathBuf};

use app::backend::auth;

use crate::tools::edge::{self, EdgeConfig, RunningEdge};
use model::StreamForm;
use model::endpoints::{self, EndpointForm, Pair};
use storage::secrets::SecretBox;
use storage::{Db, tokens};

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_DOMAIN: &str = "shop.example.com";
pub const CREDENTIALS_FILE: &str = "demo-credentials.txt";

/// The demo stream's endpoint from `--demo-receiver`: an `http(s)://` URL (`gzip+http://`
/// or `zstd+http://` compresses), or (for benchmarks) `kafka://host:port[,host:port]/topic` or `s3://ACCESS:SECRET@host:port/bucket`
/// (path-style, plain http, region us-east-1), or `splunk://host:port` (an HTTP Event
/// Collector on plain http, token `demo`), or `elasticsearch://host:port/index` (plain
/// http, API key `demo`), or `datadog://host:port` (a logs intake on plain http, API key
/// `demo`), or `qradar://host:port` (an HTTP Receiver on plain http).
fn demo_endpoint(target: &str) -> Result<EndpointForm, String> {
    if let Some(address) = target.strip_prefix("datadog://") {
        let mut endpoint = EndpointForm::new(&endpoints::datadog::TYPE);
        endpoint.set("site_url", format!("http://{address}"));
        endpoint.set("api_key", "demo");
        Ok(endpoint)
    } else if let Some(address) = target.strip_prefix("qradar://") {
        let mut endpoint = EndpointForm::new(&endpoints::qradar::TYPE);
        endpoint.set("url", format!("http://{address}"));
        Ok(endpoint)
    } else if let Some(rest) = target.strip_prefix("elasticsearch://") {
        let mut endpoint = EndpointForm::new(&endpoints::elasticsearch::TYPE);
        endpoint.set("url", format!("http://{rest}"));
        endpoint.set("api_key", "demo");
        Ok(endpoint)
    } else if let Some(address) = target.strip_prefix("splunk://") {
        let mut endpoint = EndpointForm::new(&endpoints::splunk::TYPE);
        endpoint.set("url", format!("http://{address}"));
        endpoint.set("hec_token", "demo");
        Ok(endpoint)
    } else if let Some(rest) = target.strip_prefix("kafka://") {
        let (servers, topic) = rest
            .split_once('/')
            .ok_or("--demo-receiver: kafka://servers/topic")?;
        let mut endpoint = EndpointForm::new(&endpoints::kafka::TYPE);
        endpoint.set("bootstrap_servers", servers);
        endpoint.set("topic", topic);
        Ok(endpoint)
    } else if let Some(rest) = target.strip_prefix("s3://") {
        let (credentials, location) = rest
            .rsplit_once('@')
            .ok_or("--demo-receiver: s3://ACCESS:SECRET@host:port/bucket")?;
        let (access, secret) = credentials
            .split_once(':')
            .ok_or("--demo-receiver: s3://ACCESS:SECRET@…")?;
        let (host, bucket) = location
            .split_once('/')
            .ok_or("--demo-receiver: s3://…@host:port/bucket")?;
        let mut endpoint = EndpointForm::new(&endpoints::s3::TYPE);
        endpoint.set("host_url", format!("http://{host}"));
        endpoint.set("bucket", bucket);
        endpoint.set("region", "us-east-1");
        endpoint.set("access_key", access);
        endpoint.set("secret_key", secret);
        endpoint.set("prefix", "demo");
        Ok(endpoint)
    } else {
        let mut endpoint = EndpointForm::new(&endpoints::http::TYPE);
        // `gzip+http://…`, `zstd+http://…`: the HTTP endpoint with that compression.
        let target = match target.split_once("+http") {
            Some((compression, rest)) if ["gzip", "zstd"].contains(&compression) => {
                endpoint.set("compression", compression);
                format!("http{rest}")
            }
            _ => target.to_string(),
        };
        endpoint.set("url", target);
        endpoint.rows_mut("headers").push(Pair {
            name: "X-Demo".into(),
            value: "data-streaming".into(),
        });
        Ok(endpoint)
    }
}

/// Seeds the demo account unless users exist; returns the credentials file in force.
pub async fn seed(
    db: &Db,
    secrets: &SecretBox,
    receiver_url: &str,
    data_dir: &Path,
) -> Result<Option<PathBuf>, String> {
    let path = data_dir.join(CREDENTIALS_FILE);
    if db.count_users().await.map_err(|e| e.to_string())? > 0 {
        return Ok(path.exists().then_some(path));
    }
    let (password, _) = tokens::new_token();
    let password = password.trim_start_matches("dsi_")[..16].to_string();
    let hash = auth::Passwords::default()
        .hash(password.clone())
        .await
        .map_err(|e| e.to_string())?;
    let owner = db
        .create_first_owner("Demo", DEMO_EMAIL, &hash)
        .await
        .map_err(|e| e.to_string())?;
    let domain = db
        .create_domain(owner.account_id, DEMO_DOMAIN)
        .await
        .map_err(|e| e.to_string())?;
    let (token, token_hash) = tokens::new_token();
    db.create_ingest_token(
        owner.account_id,
        "demo generator",
        &token_hash,
        &token[..10],
    )
    .await
    .map_err(|e| e.to_string())?;
    let stream = StreamForm {
        name: "Demo stream".into(),
        domain_ids: vec![domain.id],
        endpoint: demo_endpoint(receiver_url)?,
        ..StreamForm::default()
    };
    let parsed = stream
        .parse()
        .map_err(|errors| format!("--demo-receiver: {}", errors[0].message))?;
    db.save_stream(owner.account_id, None, &parsed, secrets)
        .await
        .map_err(|e| e.to_string())?;
    write_private(
        &path,
        &format!("email={DEMO_EMAIL}\npassword={password}\ntoken={token}\nhost={DEMO_DOMAIN}\n"),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    tracing::info!(credentials = %path.display(), "demo account seeded");
    Ok(Some(path))
}

/// The demo through a real edge (`--demo-edge`): a private nginx + ModSecurity in front
/// of a local origin, sending to this server's syslog and ModSecurity inputs, and real
/// requests through it. `None` (the caller falls back to the NDJSON generator) when the
/// edge cannot run here; the reason is logged.
pub async fn start_edge(
    settings: &crate::settings::Settings,
    credentials: &Path,
    local_addr: std::net::SocketAddr,
    syslog_udp: Option<std::net::SocketAddr>,
    pipeline: &dataplane::pipeline::Pipeline,
) -> Option<RunningEdge> {
    let listen = settings.demo_edge?;
    let fallback = |why: &str| {
        tracing::warn!(
            reason = why,
            "demo: no real edge, the generator sends NDJSON instead"
        );
        None
    };
    if !edge::installed() {
        return fallback(
            "nginx, libnginx-mod-http-modsecurity or modsecurity-crs is not installed",
        );
    }
    let Some(syslog) = syslog_udp else {
        return fallback("--syslog-udp is not set");
    };
    let token = std::fs::read_to_string(credentials)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("token=").map(str::to_string))?;
    let Some(account_id) = pipeline.account_for_token(&token) else {
        return fallback("the demo token in demo-credentials.txt is no longer valid");
    };
    let origin = match edge::serve_origin("127.0.0.1:0".parse().ok()?).await {
        Ok(origin) => origin,
        Err(e) => return fallback(&format!("the demo origin cannot listen: {e}")),
    };
    let config = EdgeConfig {
        listen,
        server_name: DEMO_DOMAIN.into(),
        origin,
        syslog,
        product_url: format!("http://{local_addr}"),
        token,
        account_id,
        file_log: None,
    };
    let running = match RunningEdge::start(&settings.data_dir.join("demo-edge"), &config) {
        Ok(running) => running,
        Err(e) => return fallback(&e),
    };
    tracing::info!(edge = %format!("http://{listen}"), host = DEMO_DOMAIN, "demo: requests go through a real nginx + ModSecurity edge");
    tokio::spawn(edge::browse(
        format!("http://{listen}"),
        DEMO_DOMAIN,
        settings.demo_rate,
    ));
    Some(running)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}
