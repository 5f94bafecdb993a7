//! The account's domains. Every query names its account.

use sqlx::Row;

use crate::db::{Db, DbError, expect_row, now_millis};
use model::Domain;

impl Db {
    pub async fn domains(&self, account_id: i64) -> Result<Vec<Domain>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, revision FROM domains WHERE account_id = $1 ORDER BY name",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Domain {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    revision: r.try_get("revision")?,
                })
            })
            .collect()
    }

    pub async fn create_domain(&self, account_id: i64, name: &str) -> Result<Domain, DbError> {
        let id: i64 = sqlx::query(
            "INSERT INTO domains (account_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(account_id)
        .bind(name)
        .bind(now_millis())
        .fetch_one(self.pool())
        .await
        .map_err(|e| DbError::on_unique(e, "this domain"))?
        .try_get("id")?;
        Ok(Domain {
            id,
            name: name.to_string(),
            revision: 1,
        })
    }

    /// Renames a domain (only at `expected_revision`, when given: else `Stale`).
    pub async fn rename_domain(
        &self,
        account_id: i64,
        id: i64,
        name: &str,
        expected_revision: Option<i64>,
    ) -> Result<(), DbError> {
        let current = self
            .domains(account_id)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(DbError::NotFound)?;
        if expected_revision.is_some_and(|r| r != current.revision) {
            return Err(DbError::Stale);
        }
        expect_row(
            sqlx::query(
                "UPDATE domains SET name = $1, revision = revision + 1 \
                 WHERE account_id = $2 AND id = $3 AND revision = $4",
            )
            .bind(name)
            .bind(account_id)
            .bind(id)
            .bind(current.revision)
            .execute(self.pool())
            .await
            .map_err(|e| DbError::on_unique(e, "this domain"))?,
        )
        .map_err(|_| DbError::Stale)
    }

    pub async fn delete_domain(&self, account_id: i64, id: i64) -> Result<(), DbError> {
        expect_row(
            sqlx::query("DELETE FROM domains WHERE account_id = $1 AND id = $2")
                .bind(account_id)
                .bind(id)
                .execute(self.pool())
                .await?,
        )
    }
}
