//! Start the real application on port 0, with SQLite in a temp dir or a fresh Postgres DB.

use std::sync::atomic::{AtomicU32, Ordering};

use server::settings::{LogFormat, Settings};
use server::startup::Application;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    // Dropped with the app: removes the data directory.
    _data_dir: tempfile::TempDir,
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

pub enum Storage {
    Sqlite,
    Postgres,
}

pub async fn spawn_app(storage: Storage) -> TestApp {
    server::telemetry::init(LogFormat::Text);
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let database_url = match storage {
        Storage::Sqlite => None,
        Storage::Postgres => Some(fresh_postgres_database().await),
    };
    let settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_path_buf(),
        database_url,
        site_root: data_dir.path().join("site"),
        log_format: LogFormat::Text,
    };
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        _data_dir: data_dir,
    }
}
