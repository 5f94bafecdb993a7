//! The storage layer passes the same tests on SQLite and on Postgres.

use app::backend::{Db, DbError};

use crate::helpers::fresh_postgres_database;

async fn accounts_round_trip(db: Db) {
    db.migrate().await.expect("migrations apply");
    db.migrate().await.expect("migrations are idempotent");

    let acme = db.create_account("Acme").await.unwrap();
    let globex = db.create_account("Globex").await.unwrap();
    assert_ne!(acme.id, globex.id);
    assert_eq!(db.account(acme.id).await.unwrap(), acme);
    assert_eq!(db.account(globex.id).await.unwrap().name, "Globex");

    match db.create_account("Acme").await {
        Err(DbError::Conflict(_)) => {}
        other => panic!("a duplicate name must be a conflict, got {other:?}"),
    }
    match db.account(globex.id + 1000).await {
        Err(DbError::NotFound) => {}
        other => panic!("a missing account must be NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn accounts_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(db.backend().to_string(), "SQLite");
    accounts_round_trip(db).await;
}

#[tokio::test]
async fn accounts_on_postgres() {
    let db = Db::connect(&fresh_postgres_database().await).await.unwrap();
    assert_eq!(db.backend().to_string(), "PostgreSQL");
    accounts_round_trip(db).await;
}

/// A stream saved before the typed configuration (migration 0006: inline custom template,
/// flat endpoint settings, secrets as `secret_key` + `header_values`) loads after the
/// remaining migrations.
async fn a_stream_stored_in_the_old_shape_loads(db: Db, folder: &str) {
    use app::backend::secrets::SecretBox;
    use app::model::{Domains, EndpointSettings, SamplingPercent, Secret, TemplateChoice};

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(folder);
    let mut before = sqlx::migrate::Migrator::new(path).await.unwrap();
    before.migrations = before.migrations[..6].to_vec().into();
    before.run(db.pool()).await.unwrap();
    let account = db.create_account("Acme").await.unwrap();
    let secrets =
        SecretBox::from_base64_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    let sealed = secrets.seal(r#"{"secret_key":"","header_values":{"x-api-key":"old-secret"}}"#);
    let config = r#"{"endpoint_type":"http","url":"https://siem.acme.test/in","headers":[{"name":"X-Api-Key","value":"","value_stored":false}],"host_url":"","bucket":"","region":"","access_key":"","secret_key":"","secret_key_stored":false,"prefix":"","content_type":"plain/text","bootstrap_servers":"","topic":""}"#;
    sqlx::query(
        "INSERT INTO streams (account_id, name, data_source, template, custom_template, \
         all_domains, sampling, endpoint_type, endpoint_config, endpoint_secrets, active, \
         created_at, updated_at) VALUES ($1, 'Old', 'edge_applications', 'custom', \
         '{\"id\": \"$request_id\"}', 1, 30, 'http', $2, $3, 1, 0, 0)",
    )
    .bind(account.id)
    .bind(config)
    .bind(&sealed)
    .execute(db.pool())
    .await
    .unwrap();

    db.migrate().await.expect("the remaining migrations apply");
    let streams = db.streams(account.id, &secrets).await.unwrap();
    let old = streams[0].as_ref().expect("the old row loads");
    assert!(
        matches!(old.config.template, TemplateChoice::Custom(_)),
        "{old:?}"
    );
    assert_eq!(
        old.custom_data_set.as_deref(),
        Some(r#"{"id": "$request_id"}"#)
    );
    assert!(old.template().is_ok());
    assert_eq!(
        old.config.domains,
        Some(Domains::All {
            sampling: SamplingPercent::try_from(30).unwrap()
        })
    );
    let EndpointSettings::Http(http) = &old.config.endpoint else {
        panic!("{old:?}");
    };
    assert_eq!(http.url.as_str(), "https://siem.acme.test/in");
    assert_eq!(http.headers[0].value, Secret::Given("old-secret".into()));
}

#[tokio::test]
async fn old_shape_stream_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    a_stream_stored_in_the_old_shape_loads(Db::connect(&url).await.unwrap(), "sqlite").await;
}

#[tokio::test]
async fn old_shape_stream_on_postgres() {
    let db = Db::connect(&fresh_postgres_database().await).await.unwrap();
    a_stream_stored_in_the_old_shape_loads(db, "postgres").await;
}
