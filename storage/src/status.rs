//! Delivery status per stream: last success, last error, totals. Written by the engine
//! after each delivery attempt, read by the Data Streaming list.

use crate::db::{Db, DbError, now_millis};

impl Db {
    /// Adds a delivered block to the stream's totals.
    pub async fn record_delivery(
        &self,
        account_id: i64,
        stream_id: i64,
        records: i64,
        bytes: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO stream_status (stream_id, account_id, last_success_at, records_delivered, \
             bytes_delivered) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (stream_id) DO UPDATE SET last_success_at = excluded.last_success_at, \
             records_delivered = stream_status.records_delivered + excluded.records_delivered, \
             bytes_delivered = stream_status.bytes_delivered + excluded.bytes_delivered",
        )
        .bind(stream_id)
        .bind(account_id)
        .bind(now_millis())
        .bind(records)
        .bind(bytes)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed attempt (`reason` is short and holds no secret); `gave_up` counts
    /// a block the endpoint refused for good.
    pub async fn record_delivery_error(
        &self,
        account_id: i64,
        stream_id: i64,
        reason: &str,
        gave_up: bool,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO stream_status (stream_id, account_id, last_error_at, last_error, \
             blocks_failed) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (stream_id) DO UPDATE SET last_error_at = excluded.last_error_at, \
             last_error = excluded.last_error, \
             blocks_failed = stream_status.blocks_failed + excluded.blocks_failed",
        )
        .bind(stream_id)
        .bind(account_id)
        .bind(now_millis())
        .bind(reason)
        .bind(i64::from(gave_up))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Why the engine could not start each of these streams; the account's other streams
    /// run (their errors are cleared).
    pub async fn set_engine_errors(
        &self,
        account_id: i64,
        errors: &std::collections::HashMap<i64, String>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE stream_status SET engine_error = NULL \
             WHERE account_id = $1 AND engine_error IS NOT NULL",
        )
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        for (stream_id, error) in errors {
            // Through a SELECT of the stream: only this account's existing stream gets a row.
            sqlx::query(
                "INSERT INTO stream_status (stream_id, account_id, engine_error) \
                 SELECT id, account_id, $1 FROM streams WHERE account_id = $2 AND id = $3 \
                 ON CONFLICT (stream_id) DO UPDATE SET engine_error = excluded.engine_error",
            )
            .bind(error)
            .bind(account_id)
            .bind(stream_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// After a redelivery: the set-aside count starts again from zero.
    pub async fn reset_blocks_failed(
        &self,
        account_id: i64,
        stream_id: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE stream_status SET blocks_failed = 0 WHERE account_id = $1 AND stream_id = $2",
        )
        .bind(account_id)
        .bind(stream_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
