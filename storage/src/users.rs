//! Users of an account. Every query that reads or changes a user names its account.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, DbError, expect_row, now_millis};
use model::{Member, Role};

/// A user row with its password hash: server-only. `Debug` hides the hash.
#[derive(Clone)]
pub struct UserRecord {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    pub fn member(&self) -> Member {
        Member {
            id: self.id,
            email: self.email.clone(),
            role: self.role,
        }
    }
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord, DbError> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: role.parse().map_err(|e: String| DbError::Corrupt(e))?,
    })
}

const USER_COLUMNS: &str = "id, account_id, email, password_hash, role";

impl Db {
    pub async fn count_users(&self) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Creates the first account and its owner in one transaction, only while no user exists.
    pub async fn create_first_owner(
        &self,
        account_name: &str,
        email: &str,
        password_hash: &str,
    ) -> Result<UserRecord, DbError> {
        let mut tx = self.pool().begin().await?;
        let existing: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if existing > 0 {
            return Err(DbError::Conflict("the first user"));
        }
        let account_id: i64 =
            sqlx::query("INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(account_name)
                .bind(now_millis())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| DbError::on_unique(e, "an account with this name"))?
                .try_get("id")?;
        let user_id: i64 = sqlx::query(
            "INSERT INTO users (account_id, email, password_hash, role, created_at) \
             VALUES ($1, $2, $3, 'owner', $4) RETURNING id",
        )
        .bind(account_id)
        .bind(email)
        .bind(password_hash)
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        tx.commit().await?;
        Ok(UserRecord {
            id: user_id,
            account_id,
            email: email.to_string(),
            password_hash: password_hash.to_string(),
            role: Role::Owner,
        })
    }

    pub async fn create_user(
        &self,
        account_id: i64,
        email: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<UserRecord, DbError> {
        let id: i64 = sqlx::query(
            "INSERT INTO users (account_id, email, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(account_id)
        .bind(email)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now_millis())
        .fetch_one(self.pool())
        .await
        .map_err(|e| DbError::on_unique(e, "a user with this email"))?
        .try_get("id")?;
        Ok(UserRecord {
            id,
            account_id,
            email: email.to_string(),
            password_hash: password_hash.to_string(),
            role,
        })
    }

    /// Sign-in looks users up by email across accounts: emails are unique.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The session's user; the session stores both ids, so the account is always named.
    pub async fn user(&self, account_id: i64, user_id: i64) -> Result<UserRecord, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND id = $2"
        ))
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(DbError::NotFound)?;
        user_from_row(&row)
    }

    pub async fn users(&self, account_id: i64) -> Result<Vec<UserRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 ORDER BY email"
        ))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Changes another user's role while `acting_owner` is still an owner of the account:
    /// `Ok(false)` (nothing changed) when they no longer are. The account row is locked
    /// first, so two owners demoting each other at once run one after the other and the
    /// second finds itself no longer an owner: an account always keeps an owner.
    pub async fn set_role_as_owner(
        &self,
        account_id: i64,
        acting_owner: i64,
        user_id: i64,
        role: Role,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool().begin().await?;
        if !lock_account_as_owner(&mut tx, account_id, acting_owner).await? {
            return Ok(false);
        }
        expect_row(
            sqlx::query("UPDATE users SET role = $1 WHERE account_id = $2 AND id = $3")
                .bind(role.as_str())
                .bind(account_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?,
        )?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn set_password_hash(
        &self,
        account_id: i64,
        user_id: i64,
        password_hash: &str,
    ) -> Result<(), DbError> {
        expect_row(
            sqlx::query("UPDATE users SET password_hash = $1 WHERE account_id = $2 AND id = $3")
                .bind(password_hash)
                .bind(account_id)
                .bind(user_id)
                .execute(self.pool())
                .await?,
        )
    }

    /// Removes another user while `acting_owner` is still an owner (see
    /// [`Db::set_role_as_owner`]); `Ok(false)` when they no longer are.
    pub async fn delete_user_as_owner(
        &self,
        account_id: i64,
        acting_owner: i64,
        user_id: i64,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool().begin().await?;
        if !lock_account_as_owner(&mut tx, account_id, acting_owner).await? {
            return Ok(false);
        }
        expect_row(
            sqlx::query("DELETE FROM users WHERE account_id = $1 AND id = $2")
                .bind(account_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?,
        )?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Takes the account's row lock (a write on Postgres; SQLite's write lock), then answers
/// whether `user_id` is (still) an owner: changes of members run one at a time.
async fn lock_account_as_owner(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    user_id: i64,
) -> Result<bool, DbError> {
    sqlx::query("UPDATE accounts SET name = name WHERE id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    let owner = sqlx::query(
        "SELECT 1 AS one FROM users WHERE account_id = $1 AND id = $2 AND role = 'owner'",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(owner.is_some())
}
