//! The sign-in limiter's counts, in the database so that every instance on it shares them.

use sqlx::Row;

use crate::db::{Db, DbError};

impl Db {
    /// Takes one attempt under each `(key, max)` within a window of `window_ms` — all or
    /// none: `Ok(None)` when taken, `Ok(Some(ms))` with the time left while a key has used
    /// up its attempts. Each key's row is locked until the answer (Postgres), so instances
    /// taking attempts at once cannot pass the limit together.
    pub async fn take_sign_in_attempt(
        &self,
        keys: &[(String, u32)],
        now: i64,
        window_ms: i64,
    ) -> Result<Option<i64>, DbError> {
        // Windows over are forgotten (this keeps the table to the last window's keys); on its
        // own, so the transaction below locks only the caller's keys, always in one order.
        sqlx::query("DELETE FROM sign_in_attempts WHERE window_start <= $1")
            .bind(now - window_ms)
            .execute(self.pool())
            .await?;
        let mut tx = self.pool().begin().await?;
        let mut refused = None;
        for (key, max) in keys {
            let row = sqlx::query(
                "INSERT INTO sign_in_attempts (key, window_start, attempts) VALUES ($1, $2, 0) \
                 ON CONFLICT (key) DO UPDATE SET attempts = sign_in_attempts.attempts \
                 RETURNING window_start, attempts",
            )
            .bind(key)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let (start, attempts): (i64, i64) =
                (row.try_get("window_start")?, row.try_get("attempts")?);
            if attempts >= i64::from(*max) {
                refused = Some((start + window_ms - now).max(1));
            }
        }
        if refused.is_some() {
            tx.rollback().await?;
            return Ok(refused);
        }
        for (key, _) in keys {
            sqlx::query("UPDATE sign_in_attempts SET attempts = attempts + 1 WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(None)
    }

    /// Forgets a key's attempts (a right password).
    pub async fn forget_sign_in_attempts(&self, key: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE key = $1")
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;

    #[tokio::test]
    async fn attempts_are_counted_per_key_within_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let keys = |email: &str| vec![(format!("pair:{email}"), 2), ("addr:a".to_string(), 3)];
        let window = 300_000;
        assert_eq!(
            db.take_sign_in_attempt(&keys("x"), 1_000, window)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            db.take_sign_in_attempt(&keys("x"), 2_000, window)
                .await
                .unwrap(),
            None
        );
        // The pair's 2 are used: refused until its window ends, and nothing taken.
        assert_eq!(
            db.take_sign_in_attempt(&keys("x"), 3_000, window)
                .await
                .unwrap(),
            Some(298_000)
        );
        assert_eq!(
            db.take_sign_in_attempt(&keys("y"), 4_000, window)
                .await
                .unwrap(),
            None
        );
        // The address's 3 are used now, whatever the email.
        assert!(
            db.take_sign_in_attempt(&keys("z"), 5_000, window)
                .await
                .unwrap()
                .is_some()
        );
        // A new window starts afresh; a forgotten key too.
        assert_eq!(
            db.take_sign_in_attempt(&keys("x"), 301_001, window)
                .await
                .unwrap(),
            None
        );
        db.forget_sign_in_attempts("pair:x").await.unwrap();
        assert_eq!(
            db.take_sign_in_attempt(&keys("x"), 301_002, window)
                .await
                .unwrap(),
            None
        );
    }
}
