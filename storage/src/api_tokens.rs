//! API tokens: a user's, stored as SHA-256 hashes, each with an expiry and a role. A token
//! acts with the lower of its role and its user's current role, read with every request,
//! so a role change caps it and a removal (ON DELETE CASCADE) revokes it at once.

use model::{ApiToken, Role};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, DbError, expect_row, now_millis};

/// Who a valid API token acts as.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenUser {
    pub user_id: i64,
    pub account_id: i64,
    pub email: String,
    /// The token's role, capped by the user's.
    pub role: Role,
}

const TOKEN_COLUMNS: &str = "t.id, t.name, t.token_prefix, t.role, t.expires_at, t.created_at, \
     u.email, u.role AS user_role";

fn role(row: &AnyRow, column: &str) -> Result<Role, DbError> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(DbError::Corrupt)
}

fn token_from_row(row: &AnyRow) -> Result<ApiToken, DbError> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("token_prefix")?,
        user_email: row.try_get("email")?,
        role: role(row, "role")?.capped_by(role(row, "user_role")?),
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
    })
}

pub struct NewApiToken<'a> {
    pub name: &'a str,
    pub hash: &'a str,
    pub display_prefix: &'a str,
    pub role: Role,
    pub expires_at: i64,
}

impl Db {
    pub async fn create_api_token(
        &self,
        account_id: i64,
        user_id: i64,
        token: NewApiToken<'_>,
    ) -> Result<ApiToken, DbError> {
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (account_id, user_id, name, token_hash, token_prefix, role, \
             expires_at, created_at) \
             SELECT $1, id, $2, $3, $4, $5, $6, $7 FROM users WHERE account_id = $1 AND id = $8 \
             RETURNING id",
        )
        .bind(account_id)
        .bind(token.name)
        .bind(token.hash)
        .bind(token.display_prefix)
        .bind(token.role.as_str())
        .bind(token.expires_at)
        .bind(now_millis())
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(DbError::NotFound)?
        .try_get("id")?;
        self.api_tokens(account_id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(DbError::NotFound)
    }

    /// The account's tokens, newest first (expired ones included until revoked).
    pub async fn api_tokens(&self, account_id: i64) -> Result<Vec<ApiToken>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t \
             JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id \
             WHERE t.account_id = $1 ORDER BY t.created_at DESC, t.id DESC"
        ))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token of the account; `owner_of` limits it to that user's own tokens.
    pub async fn revoke_api_token(
        &self,
        account_id: i64,
        id: i64,
        owner_of: Option<i64>,
    ) -> Result<(), DbError> {
        let done = match owner_of {
            Some(user_id) => {
                sqlx::query(
                    "DELETE FROM api_tokens WHERE account_id = $1 AND id = $2 AND user_id = $3",
                )
                .bind(account_id)
                .bind(id)
                .bind(user_id)
                .execute(self.pool())
                .await?
            }
            None => {
                sqlx::query("DELETE FROM api_tokens WHERE account_id = $1 AND id = $2")
                    .bind(account_id)
                    .bind(id)
                    .execute(self.pool())
                    .await?
            }
        };
        expect_row(done)
    }

    /// Who an unexpired token acts as, read with its user's current role.
    pub async fn api_token_user(&self, hash: &str) -> Result<Option<TokenUser>, DbError> {
        let row = sqlx::query(
            "SELECT t.user_id, t.account_id, t.role, u.email, u.role AS user_role \
             FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2",
        )
        .bind(hash)
        .bind(now_millis())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(TokenUser {
                user_id: row.try_get("user_id")?,
                account_id: row.try_get("account_id")?,
                email: row.try_get("email")?,
                role: role(&row, "role")?.capped_by(role(&row, "user_role")?),
            })
        })
        .transpose()
    }
}
