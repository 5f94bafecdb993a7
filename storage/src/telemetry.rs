//! What the engine did, per stream: minute counts for the dashboard's charts and the
//! delivery log. The engine writes in batches; the console reads, always by account.

use sqlx::Row;

use crate::db::{Db, DbError};
use model::{AttemptOutcome, DeliveryAttempt, MetricPoint};

pub const MINUTE_MS: i64 = 60_000;

/// Counts of one stream over one minute, added to what is stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MinuteCounts {
    pub received: i64,
    pub sampled_out: i64,
    pub delivered: i64,
    pub failed: i64,
    pub bytes: i64,
    pub latency_ms_sum: i64,
    pub latency_count: i64,
}

impl std::ops::AddAssign for MinuteCounts {
    fn add_assign(&mut self, other: MinuteCounts) {
        self.received += other.received;
        self.sampled_out += other.sampled_out;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.bytes += other.bytes;
        self.latency_ms_sum += other.latency_ms_sum;
        self.latency_count += other.latency_count;
    }
}

/// A delivery attempt on its way to the log.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub account_id: i64,
    pub stream_id: i64,
    pub attempt: DeliveryAttempt,
}

/// The start of the minute `at` (Unix milliseconds) falls in.
pub fn minute_of(at: i64) -> i64 {
    at - at.rem_euclid(MINUTE_MS)
}

impl Db {
    /// Adds counts to their minutes. `(account_id, stream_id, minute)` keys; a stream
    /// deleted meanwhile is skipped.
    pub async fn add_minute_counts(
        &self,
        counts: &[((i64, i64, i64), MinuteCounts)],
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await?;
        for ((account_id, stream_id, minute), c) in counts {
            sqlx::query(
                "INSERT INTO stream_metrics (stream_id, account_id, minute, received, sampled_out, \
                 delivered, failed, bytes, latency_ms_sum, latency_count) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
                 WHERE EXISTS (SELECT 1 FROM streams WHERE id = $1 AND account_id = $2) \
                 ON CONFLICT (stream_id, minute) DO UPDATE SET \
                 received = stream_metrics.received + excluded.received, \
                 sampled_out = stream_metrics.sampled_out + excluded.sampled_out, \
                 delivered = stream_metrics.delivered + excluded.delivered, \
                 failed = stream_metrics.failed + excluded.failed, \
                 bytes = stream_metrics.bytes + excluded.bytes, \
                 latency_ms_sum = stream_metrics.latency_ms_sum + excluded.latency_ms_sum, \
                 latency_count = stream_metrics.latency_count + excluded.latency_count",
            )
            .bind(stream_id)
            .bind(account_id)
            .bind(minute)
            .bind(c.received)
            .bind(c.sampled_out)
            .bind(c.delivered)
            .bind(c.failed)
            .bind(c.bytes)
            .bind(c.latency_ms_sum)
            .bind(c.latency_count)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stream's counts from `since` to `until`, in intervals of `step_ms` (oldest
    /// first, empty intervals included).
    pub async fn metric_series(
        &self,
        account_id: i64,
        stream_id: i64,
        since: i64,
        until: i64,
        step_ms: i64,
    ) -> Result<Vec<MetricPoint>, DbError> {
        let rows = sqlx::query(
            "SELECT minute, received, sampled_out, delivered, failed, bytes, latency_ms_sum, \
             latency_count FROM stream_metrics \
             WHERE account_id = $1 AND stream_id = $2 AND minute >= $3 AND minute < $4",
        )
        .bind(account_id)
        .bind(stream_id)
        .bind(since)
        .bind(until)
        .fetch_all(self.pool())
        .await?;
        let slots = ((until - since) / step_ms).max(0) as usize;
        let mut points: Vec<MetricPoint> = (0..slots)
            .map(|i| MetricPoint {
                at: since + i as i64 * step_ms,
                ..MetricPoint::default()
            })
            .collect();
        let mut latency = vec![(0i64, 0i64); slots];
        for row in rows {
            let slot = ((row.try_get::<i64, _>("minute")? - since) / step_ms) as usize;
            let Some(point) = points.get_mut(slot) else {
                continue;
            };
            point.received += row.try_get::<i64, _>("received")?;
            point.sampled_out += row.try_get::<i64, _>("sampled_out")?;
            point.delivered += row.try_get::<i64, _>("delivered")?;
            point.failed += row.try_get::<i64, _>("failed")?;
            point.bytes += row.try_get::<i64, _>("bytes")?;
            latency[slot].0 += row.try_get::<i64, _>("latency_ms_sum")?;
            latency[slot].1 += row.try_get::<i64, _>("latency_count")?;
        }
        for (point, (sum, count)) in points.iter_mut().zip(latency) {
            point.latency_ms = (count > 0).then(|| sum / count);
            point.latency_count = count;
        }
        Ok(points)
    }

    /// Appends attempts to the delivery log; a stream deleted meanwhile is skipped.
    pub async fn add_delivery_attempts(&self, attempts: &[AttemptRecord]) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await?;
        for record in attempts {
            let a = &record.attempt;
            sqlx::query(
                "INSERT INTO delivery_attempts (stream_id, account_id, at, block_id, records, \
                 outcome, answer, duration_ms) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                 WHERE EXISTS (SELECT 1 FROM streams WHERE id = $1 AND account_id = $2)",
            )
            .bind(record.stream_id)
            .bind(record.account_id)
            .bind(a.at)
            .bind(&a.block_id)
            .bind(a.records)
            .bind(a.outcome.as_str())
            .bind(&a.answer)
            .bind(a.duration_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stream's latest attempts, newest first, optionally of one outcome.
    pub async fn delivery_attempts(
        &self,
        account_id: i64,
        stream_id: i64,
        outcome: Option<AttemptOutcome>,
        limit: i64,
    ) -> Result<Vec<DeliveryAttempt>, DbError> {
        let rows = sqlx::query(
            "SELECT at, block_id, records, outcome, answer, duration_ms FROM delivery_attempts \
             WHERE account_id = $1 AND stream_id = $2 AND ($3 = '' OR outcome = $3) \
             ORDER BY at DESC, id DESC LIMIT $4",
        )
        .bind(account_id)
        .bind(stream_id)
        .bind(outcome.map_or("", AttemptOutcome::as_str))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let outcome: String = row.try_get("outcome")?;
                Ok(DeliveryAttempt {
                    at: row.try_get("at")?,
                    block_id: row.try_get("block_id")?,
                    records: row.try_get("records")?,
                    outcome: AttemptOutcome::parse(&outcome)
                        .ok_or_else(|| DbError::Corrupt(format!("outcome {outcome:?}")))?,
                    answer: row.try_get("answer")?,
                    duration_ms: row.try_get("duration_ms")?,
                })
            })
            .collect()
    }

    /// Forgets the account's log entries before `log_before` and minute counts before
    /// `metrics_before`. Returns the log rows removed.
    pub async fn prune_telemetry(
        &self,
        account_id: i64,
        log_before: i64,
        metrics_before: i64,
    ) -> Result<u64, DbError> {
        let removed =
            sqlx::query("DELETE FROM delivery_attempts WHERE account_id = $1 AND at < $2")
                .bind(account_id)
                .bind(log_before)
                .execute(self.pool())
                .await?
                .rows_affected();
        sqlx::query("DELETE FROM stream_metrics WHERE account_id = $1 AND minute < $2")
            .bind(account_id)
            .bind(metrics_before)
            .execute(self.pool())
            .await?;
        Ok(removed)
    }
}
