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
    // The home page is the account's overview: streams, the edge connection, spools.
    assert!(html.contains(r#"id="account-overview""#), "{html}");
    assert!(html.contains(r#"id="edge-indicator""#), "{html}");
    let account = owner.get("/account").await.text().await.unwrap();
    assert!(account.contains(r#"id="check-service""#), "{account}");

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
    let mut settings = crate::helpers::test_settings(data_dir.path());
    settings.database_url = Some("postgres://nobody:secret@127.0.0.1:1/none".into());
    let err = match server::startup::Application::build(settings).await {
        Ok(_) => panic!("start-up must fail on an unreachable database"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("DATABASE_URL"), "{err}");
    assert!(!err.contains("secret"), "password leaked: {err}");
}
