//! Start the real application on port 0, with SQLite in a temp dir or a fresh Postgres DB,
//! and talk to it as the browser does.

use std::sync::atomic::{AtomicU32, Ordering};

use app::backend::Db;
use clap::Parser;
use reqwest::StatusCode;
use server::settings::{Cli, LogFormat, Settings};
use server::startup::Application;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    /// Where the syslog inputs listen, when the settings turned them on.
    pub edge: dataplane::edge::EdgeListeners,
    pub settings: Settings,
    /// The same database the server uses, for arranging other accounts' data.
    pub db: Db,
    // Dropped with the app: removes the data directory.
    _data_dir: std::sync::Arc<tempfile::TempDir>,
}

/// A name no other test run uses (topics, buckets, consumer groups).
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Runs `probe` every 50 ms until it answers `Some`, or `timeout` passed (`None`): a test
/// waits for the state it needs, never a fixed time.
pub async fn poll<T, Probe>(
    timeout: std::time::Duration,
    mut probe: impl FnMut() -> Probe,
) -> Option<T>
where
    Probe: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut every = tokio::time::interval(std::time::Duration::from_millis(50));
    loop {
        every.tick().await;
        if let Some(value) = probe().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
    }
}

/// The server's `/metrics` text, scraped with `token`.
pub async fn scrape(address: &str, token: &str) -> String {
    reqwest::Client::new()
        .get(format!("{address}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Reads a required test-service setting; the test command (`scripts/test.sh`) sets them all.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh, which starts the test services")
    })
}

/// A new, empty Postgres database on the test server; returns its URL.
pub async fn fresh_postgres_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let admin_url = required_env("DS_TEST_POSTGRES_URL");
    let name = format!(
        "ds_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&admin_url)
        .await
        .expect("connect to the test Postgres server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("a URL ending in /database");
    format!("{base}/{name}")
}

/// The server's settings for a test: the defaults, on port 0, SQLite in `data_dir`, no
/// demo; the test services on loopback are allowed destinations (this server's own
/// address stays refused).
pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    let mut settings = Cli::try_parse_from(["data-streaming"])
        .expect("the default settings parse")
        .settings;
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.data_dir = data_dir.to_path_buf();
    settings.database_url = None;
    settings.site_root = data_dir.join("site");
    settings.demo_rate = 0;
    settings.allow_destinations = vec!["127.0.0.0/8".parse().unwrap()];
    // Test machines' disks are small: the floor is for production.
    settings.min_free_disk = 0;
    settings
}

#[derive(Clone, Copy, Debug)]
pub enum Storage {
    Sqlite,
    Postgres,
}

pub async fn spawn_app(storage: Storage) -> TestApp {
    spawn_app_with(storage, |_| {}).await
}

/// With settings adjusted by `adjust` (e.g. small block limits).
pub async fn spawn_app_with(storage: Storage, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let database_url = match storage {
        Storage::Sqlite => None,
        Storage::Postgres => Some(fresh_postgres_database().await),
    };
    let mut settings = test_settings(data_dir.path());
    settings.database_url = database_url;
    adjust(&mut settings);
    start(settings, std::sync::Arc::new(data_dir)).await
}

async fn start(settings: Settings, data_dir: std::sync::Arc<tempfile::TempDir>) -> TestApp {
    server::telemetry::init(LogFormat::Text);
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let edge = app.edge_listeners();
    tokio::spawn(app.run_until_stopped());
    let db = Db::connect(&settings.effective_database_url())
        .await
        .unwrap();
    TestApp {
        address,
        edge,
        settings,
        db,
        _data_dir: data_dir,
    }
}

impl TestApp {
    /// A second server on the same database and data directory (a restart).
    pub async fn restart(&self) -> TestApp {
        start(self.settings.clone(), self._data_dir.clone()).await
    }

    /// Another instance on the same database and secret key, with a data directory (and
    /// spool) of its own: a second server of a cluster.
    pub async fn another_instance(&self) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let mut settings = self.settings.clone();
        settings.secret_key_file = Some(self.settings.effective_secret_key_file());
        settings.data_dir = data_dir.path().to_path_buf();
        settings.site_root = data_dir.path().join("site");
        settings.database_url = Some(self.settings.effective_database_url());
        start(settings, std::sync::Arc::new(data_dir)).await
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn browser(&self) -> Browser {
        Browser {
            address: self.address.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Sets up the first account and owner; returns the owner's signed-in browser.
    pub async fn set_up_owner(&self, email: &str) -> Browser {
        let owner = self.browser();
        let r = owner
            .call(
                "set_up",
                &[
                    ("account_name", "Acme"),
                    ("email", email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{:?}",
            r.status()
        );
        owner
    }

    /// Signs in a new browser.
    pub async fn sign_in(&self, email: &str, password: &str) -> Browser {
        let b = self.browser();
        let r = b
            .call("sign_in", &[("email", email), ("password", password)])
            .await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "sign-in of {email} failed: {:?}",
            r.status()
        );
        b
    }
}

pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
}

impl Browser {
    /// Calls a server function as the console's pages do (same-origin form POST).
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{function}", self.address))
            .header("Origin", &self.address)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn call_json(
        &self,
        function: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, serde_json::Value) {
        let r = self.call(function, form).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, body)
    }

    /// Calls a server function that takes a stream form (`save_stream`, `test_endpoint`)
    /// as the stream form page does (JSON); the status and the answer.
    pub async fn send_stream(
        &self,
        function: &str,
        stream: &app::model::StreamForm,
    ) -> (u16, serde_json::Value) {
        let r = self
            .client
            .post(format!("{}/api/{function}", self.address))
            .header("Origin", &self.address)
            .json(&serde_json::json!({ "stream": stream }))
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }
}

/// A 422 answer's field errors as (field, message), in the form's order.
pub fn invalid_fields(answer: &serde_json::Value) -> Vec<(String, String)> {
    answer["InvalidFields"]
        .as_array()
        .unwrap_or_else(|| panic!("no field errors: {answer}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().into(),
                e["message"].as_str().unwrap().into(),
            )
        })
        .collect()
}
