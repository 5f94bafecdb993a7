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
/// or `zstd+http://` compresses), or, for benchmarks, a type's scheme with a local address
/// (plain http, fixed demo credentials; `receive` answers as each of the HTTP-based ones):
/// `kafka://servers/topic`, `s3://ACCESS:SECRET@host:port/bucket` (path-style, region
/// us-east-1), `firehose://ACCESS:SECRET@host:port/stream` (region us-east-1),
/// `azure-blob://host:port/account/container?<SAS>`, `splunk://host:port` (token `demo`),
/// `elasticsearch://host:port/index` (API key `demo`), `datadog://host:port` (API key
/// `demo`), `qradar://host:port`, `azure-monitor://host:port` (the token endpoint and the
/// DCE both there) and `bigquery://host:port?key=<PEM file>` (the key's `token_uri` there).
fn demo_endpoint(target: &str) -> Result<EndpointForm, String> {
    let (scheme, rest) = target.split_once("://").unwrap_or(("", target));
    let with = |kind: &'static endpoints::EndpointType, values: &[(&str, String)]| {
        let mut endpoint = EndpointForm::new(kind);
        for (key, value) in values {
            endpoint.set(key, value.as_str());
        }
        endpoint
    };
    let http = format!("http://{rest}");
    // `ACCESS:SECRET@host:port/name`.
    let keyed = |form: &str| -> Result<(String, String, String, String), String> {
        let usage = || format!("--demo-receiver: {form}");
        let (credentials, location) = rest.rsplit_once('@').ok_or_else(usage)?;
        let (access, secret) = credentials.split_once(':').ok_or_else(usage)?;
        let (host, name) = location.split_once('/').ok_or_else(usage)?;
        Ok((
            access.into(),
            secret.into(),
            format!("http://{host}"),
            name.into(),
        ))
    };
    Ok(match scheme {
        "datadog" => with(
            &endpoints::datadog::TYPE,
            &[("site_url", http), ("api_key", "demo".into())],
        ),
        "qradar" => with(&endpoints::qradar::TYPE, &[("url", http)]),
        "elasticsearch" => with(
            &endpoints::elasticsearch::TYPE,
            &[("url", http), ("api_key", "demo".into())],
        ),
        "splunk" => with(
            &endpoints::splunk::TYPE,
            &[("url", http), ("hec_token", "demo".into())],
        ),
        "kafka" => {
            let (servers, topic) = rest
                .split_once('/')
                .ok_or("--demo-receiver: kafka://servers/topic")?;
            with(
                &endpoints::kafka::TYPE,
                &[
                    ("bootstrap_servers", servers.into()),
                    ("topic", topic.into()),
                ],
            )
        }
        "s3" => {
            let (access, secret, host, bucket) = keyed("s3://ACCESS:SECRET@host:port/bucket")?;
            with(
                &endpoints::s3::TYPE,
                &[
                    ("host_url", host),
                    ("bucket", bucket),
                    ("region", "us-east-1".into()),
                    ("access_key", access),
                    ("secret_key", secret),
                    ("prefix", "demo".into()),
                ],
            )
        }
        "firehose" => {
            let (access, secret, host, stream) =
                keyed("firehose://ACCESS:SECRET@host:port/stream")?;
            with(
                &endpoints::firehose::TYPE,
                &[
                    ("endpoint_url", host),
                    ("stream_name", stream),
                    ("region", "us-east-1".into()),
                    ("access_key", access),
                    ("secret_key", secret),
                ],
            )
        }
        "azure-blob" => {
            let usage = "--demo-receiver: azure-blob://host:port/account/container?SAS";
            let (location, sas) = rest.split_once('?').ok_or(usage)?;
            let (service, container) = location.rsplit_once('/').ok_or(usage)?;
            let account = service.rsplit_once('/').ok_or(usage)?.1;
            with(
                &endpoints::azure_blob::TYPE,
                &[
                    ("service_url", format!("http://{service}")),
                    ("account", account.into()),
                    ("container", container.into()),
                    ("sas_token", sas.into()),
                    ("prefix", "demo".into()),
                ],
            )
        }
        "azure-monitor" => with(
            &endpoints::azure_monitor::TYPE,
            &[
                ("data_collection_endpoint", http.clone()),
                ("authority_url", http),
                ("dcr_immutable_id", format!("dcr-{}", "0".repeat(32))),
                ("stream_name", "Custom-Demo_CL".into()),
                ("tenant_id", "00000000-0000-0000-0000-000000000000".into()),
                ("client_id", "00000000-0000-0000-0000-000000000000".into()),
                ("client_secret", "demo".into()),
            ],
        ),
        "bigquery" => {
            let usage = "--demo-receiver: bigquery://host:port?key=<PEM file>";
            let (host, pem) = rest.split_once("?key=").ok_or(usage)?;
            let pem = std::fs::read_to_string(pem).map_err(|e| format!("{usage}: {pem}: {e}"))?;
            let key = serde_json::json!({
                "type": "service_account",
                "client_email": "demo@demo.iam.gserviceaccount.com",
                "private_key": pem,
                "token_uri": format!("http://{host}/token"),
            });
            with(
                &endpoints::bigquery::TYPE,
                &[
                    ("project_id", "demo-project".into()),
                    ("dataset_id", "demo".into()),
                    ("table_id", "edge".into()),
                    ("service_account_key", key.to_string()),
                    ("api_url", format!("http://{host}")),
                ],
            )
        }
        _ => {
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
            endpoint
        }
    })
}

/// The hosts the demo stream connects to (the operator named them with `--demo-receiver`,
/// so the destination check allows them). Nothing when the target does not parse: seeding
/// reports that.
pub fn demo_hosts(target: &str) -> Vec<endpoints::destination::Allowed> {
    demo_endpoint(target)
        .ok()
        .and_then(|form| endpoints::EndpointSettings::parse(&form).ok())
        .map(|settings| settings.endpoint().addresses())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|address| address.host.parse().ok())
        .collect()
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
    db.save_stream(owner.account_id, None, &parsed, secrets, None)
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
