//! Storage: one code path for SQLite (the embedded default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver with `$n` placeholders, which both backends
//! accept, so every query is written once. Timestamps are Unix milliseconds (BIGINT).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    /// A write that named a revision (the API's `If-Match`) found another one.
    #[error("changed since it was read")]
    Stale,
    /// A delete refused while other objects use it (their names).
    #[error("{what} is used by {}", .by.join(", "))]
    InUse { what: &'static str, by: Vec<String> },
    /// Input that only the database can refuse (a stored secret that is not there, a
    /// custom template that is gone), naming its field.
    #[error("{}", .0.message)]
    InvalidField(model::FieldError),
    #[error("unexpected value in the database: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

impl DbError {
    /// Maps a unique-constraint violation to `Conflict(what)`, anything else to `Query`.
    pub(crate) fn on_unique(err: sqlx::Error, what: &'static str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Conflict(what),
            _ => DbError::Query(err),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbBackend {
    Sqlite,
    Postgres,
}

impl fmt::Display for DbBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbBackend::Sqlite => "SQLite",
            DbBackend::Postgres => "PostgreSQL",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: DbBackend,
    /// For connections outside the pool (Postgres `LISTEN`).
    url: std::sync::Arc<str>,
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            DbBackend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DbBackend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(redact_url(url)));
        };
        let options = AnyConnectOptions::from_str(url).map_err(DbError::Connect)?;
        let is_sqlite = backend == DbBackend::Sqlite;
        let pool = AnyPoolOptions::new()
            // SQLite serialises writers anyway; a small pool avoids lock contention.
            .max_connections(if is_sqlite { 4 } else { 16 })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if is_sqlite {
                        // With WAL, NORMAL stays consistent and survives a process crash
                        // without an fsync per commit (the delivery status is written per block).
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(connection)
                            .await?;
                    }
                    Ok(())
                })
            })
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        if backend == DbBackend::Sqlite {
            // WAL lets readers proceed during a write; foreign keys are off by default.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        Ok(Db {
            pool,
            backend,
            url: url.into(),
        })
    }

    /// Applies the pending migrations of this backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            DbBackend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            DbBackend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn create_account(&self, name: &str) -> Result<Account, DbError> {
        let created_at = now_millis();
        let row =
            sqlx::query("INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(created_at)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| DbError::on_unique(e, "an account with this name"))?;
        Ok(Account {
            id: row.try_get("id")?,
            name: name.to_string(),
            created_at,
        })
    }

    pub async fn account(&self, id: i64) -> Result<Account, DbError> {
        let row = sqlx::query("SELECT id, name, created_at FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        Ok(Account {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// `NotFound` unless the statement touched a row (an id of another account touches none).
pub fn expect_row(result: sqlx::any::AnyQueryResult) -> Result<(), DbError> {
    if result.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact_url("postgres://ds:s3cret@127.0.0.1:5432/ds"),
            "postgres://ds:***@127.0.0.1:5432/ds"
        );
        assert_eq!(redact_url("sqlite:///data/ds.db"), "sqlite:///data/ds.db");
    }
}
