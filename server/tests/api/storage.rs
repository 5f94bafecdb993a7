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
