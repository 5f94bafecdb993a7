//! The activity history: an append-only list of each account's configuration changes.

use model::{ActivityEntry, Via};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, DbError, now_millis};

/// Entries kept per account: older ones are dropped as new ones come.
pub const KEPT_PER_ACCOUNT: i64 = 100_000;

/// A change to record; `changes` is a JSON object with secrets already masked.
pub struct NewActivity<'a> {
    pub actor: &'a str,
    pub via: Via,
    pub action: &'a str,
    pub target: &'a str,
    pub changes: &'a str,
}

fn entry_from_row(row: &AnyRow) -> Result<ActivityEntry, DbError> {
    let via: String = row.try_get("via")?;
    Ok(ActivityEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        via: match via.as_str() {
            "api" => Via::Api,
            "console" => Via::Console,
            other => return Err(DbError::Corrupt(format!("unknown via {other:?}"))),
        },
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        changes: row.try_get("changes")?,
    })
}

impl Db {
    pub async fn record_activity(
        &self,
        account_id: i64,
        activity: NewActivity<'_>,
    ) -> Result<ActivityEntry, DbError> {
        let row = sqlx::query(
            "INSERT INTO activity (account_id, at, actor, via, action, target, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id, at, actor, via, action, target, changes",
        )
        .bind(account_id)
        .bind(now_millis())
        .bind(activity.actor)
        .bind(activity.via.as_str())
        .bind(activity.action)
        .bind(activity.target)
        .bind(activity.changes)
        .fetch_one(self.pool())
        .await?;
        let entry = entry_from_row(&row)?;
        self.drop_old_activity(account_id).await?;
        Ok(entry)
    }

    /// Keeps the account's newest [`KEPT_PER_ACCOUNT`] entries: a tenant changing its
    /// configuration in a loop cannot grow the table without bound.
    async fn drop_old_activity(&self, account_id: i64) -> Result<(), DbError> {
        let oldest_kept = sqlx::query(
            "SELECT id FROM activity WHERE account_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2",
        )
        .bind(account_id)
        .bind(KEPT_PER_ACCOUNT - 1)
        .fetch_optional(self.pool())
        .await?;
        if let Some(row) = oldest_kept {
            let id: i64 = row.try_get("id")?;
            sqlx::query("DELETE FROM activity WHERE account_id = $1 AND id < $2")
                .bind(account_id)
                .bind(id)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    /// The account's newest entries first, at most `limit`, older than `before` when given.
    pub async fn activity(
        &self,
        account_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ActivityEntry>, DbError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, via, action, target, changes FROM activity \
             WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(account_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }
}
