use crate::helpers::{Storage, spawn_app};

async fn healthz_and_home_page(storage: Storage, database: &str) {
    let app = spawn_app(storage).await;

    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");

    let home = app.client.get(&app.address).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("<title>Data Streaming</title>"), "{html}");
    assert!(
        html.contains("/pkg/data-streaming.js"),
        "hydration script missing: {html}"
    );
    assert!(html.contains(r#"id="check-service""#), "{html}");

    // The server function behind the hydration-only button, called as the browser does.
    let status = app
        .client
        .post(format!("{}/api/service_status", app.address))
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    let body: serde_json::Value = status.json().await.unwrap();
    assert_eq!(body["database"], database);

    let missing = app
        .client
        .get(format!("{}/no-such-page", app.address))
        .send()
        .await
        .unwrap();
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
        log_format: server::settings::LogFormat::Text,
    };
    let err = match server::startup::Application::build(settings).await {
        Ok(_) => panic!("start-up must fail on an unreachable database"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("DATABASE_URL"), "{err}");
    assert!(!err.contains("secret"), "password leaked: {err}");
}
