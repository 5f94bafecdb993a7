//! tower-sessions store on the console's database (SQLite or Postgres through sqlx `Any`),
//! so sessions survive a restart. Records are stored as JSON under the SHA-256 of their
//! id (the cookie's value never reaches the database), with the user they belong to.

use async_trait::async_trait;
use sqlx::Row;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use storage::db::{Db, now_millis};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        DbSessionStore { db }
    }

    /// Removes expired sessions; called periodically by the server.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now_millis())
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

/// Ends every session of `user_id` (a password change, a removal).
pub async fn end_sessions_of(db: &Db, user_id: i64) -> Result<u64, storage::DbError> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}

/// The stored key of a session id.
fn key(id: &Id) -> String {
    storage::tokens::token_hash(&id.to_string())
}

/// The signed-in user a record belongs to (none before sign-in).
fn user_of(record: &Record) -> Option<i64> {
    record
        .data
        .get(super::auth::SESSION_USER_ID)
        .and_then(|v| v.as_i64())
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry_millis(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id on the (astronomically unlikely) collision, never an overwrite.
        loop {
            let json = serde_json::to_string(&record).map_err(backend)?;
            let done = sqlx::query(
                "INSERT INTO sessions (id, record, expires_at, user_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(key(&record.id))
            .bind(json)
            .bind(expiry_millis(record))
            .bind(user_of(record))
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let json = serde_json::to_string(&record).map_err(backend)?;
        sqlx::query(
            "INSERT INTO sessions (id, record, expires_at, user_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record, \
             expires_at = excluded.expires_at, user_id = excluded.user_id",
        )
        .bind(key(&record.id))
        .bind(json)
        .bind(expiry_millis(record))
        .bind(user_of(record))
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query("SELECT record FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(key(id))
            .bind(now_millis())
            .fetch_optional(self.db.pool())
            .await
            .map_err(backend)?;
        match row {
            None => Ok(None),
            Some(row) => {
                let json: String = row.try_get("record").map_err(backend)?;
                serde_json::from_str(&json).map(Some).map_err(backend)
            }
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key(id))
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
