//! Ingest tokens: created and revoked on the console, stored as SHA-256 hashes.

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Db, DbError, expect_row, now_millis};
use model::IngestToken;

const TOKEN_PREFIX: &str = "dsi_";
/// API tokens look different, so a leaked one is recognised for what it is.
pub const API_TOKEN_PREFIX: &str = "dsa_";

/// A new random ingest token (shown once) and its hash (stored).
pub fn new_token() -> (String, String) {
    new_token_with_prefix(TOKEN_PREFIX)
}

/// 256 random bits after `prefix`, and the token's hash.
pub fn new_token_with_prefix(prefix: &str) -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Db {
    pub async fn create_ingest_token(
        &self,
        account_id: i64,
        name: &str,
        hash: &str,
        display_prefix: &str,
    ) -> Result<IngestToken, DbError> {
        let created_at = now_millis();
        let id: i64 = sqlx::query(
            "INSERT INTO ingest_tokens (account_id, name, token_hash, token_prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(account_id)
        .bind(name)
        .bind(hash)
        .bind(display_prefix)
        .bind(created_at)
        .fetch_one(self.pool())
        .await?
        .try_get("id")?;
        Ok(IngestToken {
            id,
            name: name.to_string(),
            prefix: display_prefix.to_string(),
            created_at,
        })
    }

    pub async fn ingest_tokens(&self, account_id: i64) -> Result<Vec<IngestToken>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, token_prefix, created_at FROM ingest_tokens \
             WHERE account_id = $1 ORDER BY created_at",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IngestToken {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    prefix: r.try_get("token_prefix")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn revoke_ingest_token(&self, account_id: i64, id: i64) -> Result<(), DbError> {
        expect_row(
            sqlx::query("DELETE FROM ingest_tokens WHERE account_id = $1 AND id = $2")
                .bind(account_id)
                .bind(id)
                .execute(self.pool())
                .await?,
        )
    }

    /// Every valid token hash with its account: the ingest API's in-memory table.
    pub async fn all_ingest_token_hashes(&self) -> Result<Vec<(String, i64)>, DbError> {
        let rows = sqlx::query("SELECT token_hash, account_id FROM ingest_tokens")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("token_hash")?, r.try_get("account_id")?)))
            .collect()
    }

    /// Every account id, for loading the engine at start-up.
    pub async fn account_ids(&self) -> Result<Vec<i64>, DbError> {
        let rows = sqlx::query("SELECT id FROM accounts ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(DbError::from))
            .collect()
    }
}
