//! Demo mode (`--demo-receiver`): on an empty database, a demo account with a domain, an
//! ingest token and an active stream to a local receiver; then the built-in generator sends
//! it events, so a newcomer sees them flow. Credentials go to a private file, not the log.

use std::path::{Path, PathBuf};

use app::backend::auth;
use model::StreamForm;
use model::endpoints::{self, EndpointForm, Pair};
use storage::secrets::SecretBox;
use storage::{Db, tokens};

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_DOMAIN: &str = "shop.example.com";
pub const CREDENTIALS_FILE: &str = "demo-credentials.txt";

/// The demo stream's endpoint from `--demo-receiver`: an `http(s)://` URL, or (for
/// benchmarks) `kafka://host:port[,host:port]/topic` or `s3://ACCESS:SECRET@host:port/bucket`
/// (path-style, plain http, region us-east-1).
fn demo_endpoint(target: &str) -> Result<EndpointForm, String> {
    if let Some(rest) = target.strip_prefix("kafka://") {
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
