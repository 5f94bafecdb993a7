use crate::helpers::{Storage, spawn_app};

async fn healthz_and_home_page(storage: Storage, database: &str) {
    let app = spawn_app(storage).await;
    let anonymous = app.browser();

    let health = anonymous.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");

    // Pages need a session.
    let home = anonymous.get("/").await;
    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()["location"], "/sign-in");

    let owner = app.set_up_owner("owner@acme.test").await;
    let home = owner.get("/").await;
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("<title>Data Streaming</title>"), "{html}");
    assert!(
        html.contains("/pkg/data-streaming.js"),
        "hydration script missing: {html}"
    );
    assert!(html.contains(r#"id="check-service""#), "{html}");

    // The server function behind the hydration-only button, called as the browser does.
    let (status, body) = owner.call_json("service_status", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], database);

    let missing = owner.get("/no-such-page").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn healthz_and_home_page_on_sqlite() {
    healthz_and_home_page(Storage::Sqlite, "SQLite").await;
}

#[tokio::test]
async fn healthz_and_home_page_on_postgres() {
    healthz_and_home_page(Storage::Postgres, "PostgreSQL").await;
}

#[tokio::test]
async fn unreachable_database_stops_start_up_naming_the_setting() {
    let data_dir = tempfile::tempdir().unwrap();
    let settings = server::settings::Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_path_buf(),
        database_url: Some("postgres://nobody:secret@127.0.0.1:1/none".into()),
        site_root: data_dir.path().join("site"),
        secure_cookies: false,
        admin_email: None,
        admin_password: None,
        admin_account: "My account".into(),
        secret_key: None,
        secret_key_file: None,
        block_max_records: 2000,
        block_max_age: std::time::Duration::from_secs(60),
        ingest_max_body: 16 * 1024 * 1024,
        demo_receiver: None,
        demo_rate: 0,
        log_format: server::settings::LogFormat::Text,
    };
    let err = match server::startup::Application::build(settings).await {
        Ok(_) => panic!("start-up must fail on an unreachable database"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("DATABASE_URL"), "{err}");
    assert!(!err.contains("secret"), "password leaked: {err}");
}
