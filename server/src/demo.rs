//! Demo mode (`--demo-receiver`): on an empty database, a demo account with a domain, an
//! ingest token and an active stream to a local receiver; then the built-in generator sends
//! it events, so a newcomer sees them flow. Credentials go to a private file, not the log.

use std::path::{Path, PathBuf};

use app::backend::secrets::SecretBox;
use app::backend::{Db, auth, tokens};
use app::model::{EndpointType, HeaderInput, StreamInput};

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_DOMAIN: &str = "shop.example.com";
pub const CREDENTIALS_FILE: &str = "demo-credentials.txt";

/// The demo stream's endpoint from `--demo-receiver`: an `http(s)://` URL, or (for
/// benchmarks) `kafka://host:port[,host:port]/topic` or `s3://ACCESS:SECRET@host:port/bucket`
/// (path-style, plain http, region us-east-1).
fn demo_endpoint(stream: &mut StreamInput, target: &str) -> Result<(), String> {
    let endpoint = &mut stream.endpoint;
    if let Some(rest) = target.strip_prefix("kafka://") {
        let (servers, topic) = rest
            .split_once('/')
            .ok_or("--demo-receiver: kafka://servers/topic")?;
        endpoint.endpoint_type = EndpointType::Kafka;
        endpoint.bootstrap_servers = servers.to_string();
        endpoint.topic = topic.to_string();
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
        endpoint.endpoint_type = EndpointType::S3;
        endpoint.host_url = format!("http://{host}");
        endpoint.bucket = bucket.to_string();
        endpoint.region = "us-east-1".into();
        endpoint.access_key = access.to_string();
        endpoint.secret_key = secret.to_string();
        endpoint.prefix = "demo".into();
    } else {
        endpoint.url = target.to_string();
        endpoint.headers = vec![HeaderInput {
            name: "X-Demo".into(),
            value: "data-streaming".into(),
            value_stored: false,
        }];
    }
    Ok(())
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
    let hash = auth::hash_password(password.clone())
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
    let mut stream = StreamInput {
        name: "Demo stream".into(),
        domain_ids: vec![domain.id],
        ..StreamInput::default()
    };
    demo_endpoint(&mut stream, receiver_url)?;
    let errors = app::validation::stream::stream_errors(&stream);
    if let Some(e) = errors.first() {
        return Err(format!("--demo-receiver: {}", e.message));
    }
    db.save_stream(owner.account_id, &stream, secrets)
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
