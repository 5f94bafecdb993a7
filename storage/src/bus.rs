//! What cluster mode (`--bus`, PostgreSQL only) keeps where every instance sees it: each
//! stream's delivery progress per bus partition, the records put on and taken off the bus
//! per stream (its lag), and each account's edge message counts.

use std::collections::HashMap;

use sqlx::Row;

use crate::db::{Db, DbError, now_millis};

/// One stream's records on the bus, accepted and not yet delivered (over all instances).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusLag {
    pub account_id: i64,
    pub records: u64,
    pub bytes: u64,
}

/// How far one stream's delivery got in one partition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamProgress {
    /// Its records below this offset were delivered.
    pub next_offset: i64,
    /// The block being sent when last heard of ends below this offset.
    pub sending_until: Option<i64>,
}

/// One stream's records in one partition of a bus topic, delivered by `instance`.
#[derive(Clone, Copy, Debug)]
pub struct BusLane<'a> {
    pub account_id: i64,
    pub stream_id: i64,
    pub topic: &'a str,
    pub partition: i32,
    pub instance: &'a str,
}

/// Records and bytes one instance put on the bus since its last flush, per stream.
#[derive(Clone, Copy, Debug, Default)]
pub struct LagDelta {
    pub account_id: i64,
    pub accepted_records: i64,
    pub accepted_bytes: i64,
}

impl Db {
    /// A block of `stream_id`'s records from `partition` was acknowledged: its records up
    /// to `next_offset` (exclusive) need not be delivered again. When that moves the
    /// stream's progress on (a block delivered twice counts once), its `records` and
    /// `bytes` come off the stream's lag, in the same transaction.
    pub async fn record_bus_progress(
        &self,
        lane: &BusLane<'_>,
        next_offset: i64,
        records: i64,
        bytes: i64,
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await?;
        let moved = sqlx::query(
            "INSERT INTO bus_progress (stream_id, account_id, topic, bus_partition, next_offset, \
             instance, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (stream_id, topic, bus_partition) DO UPDATE SET \
             next_offset = excluded.next_offset, \
             sending_until = CASE WHEN bus_progress.sending_until > excluded.next_offset \
             THEN bus_progress.sending_until END, \
             instance = excluded.instance, delivered_at = excluded.delivered_at \
             WHERE bus_progress.next_offset < excluded.next_offset",
        )
        .bind(lane.stream_id)
        .bind(lane.account_id)
        .bind(lane.topic)
        .bind(lane.partition)
        .bind(next_offset)
        .bind(lane.instance)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if moved {
            sqlx::query(
                "INSERT INTO bus_lag (stream_id, account_id, delivered_records, delivered_bytes) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (stream_id) DO UPDATE SET \
                 delivered_records = bus_lag.delivered_records + excluded.delivered_records, \
                 delivered_bytes = bus_lag.delivered_bytes + excluded.delivered_bytes",
            )
            .bind(lane.stream_id)
            .bind(lane.account_id)
            .bind(records)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A block of `stream_id`'s records from `partition`, ending below `sending_until`, is
    /// being sent (before its first attempt).
    pub async fn record_bus_sending(
        &self,
        lane: &BusLane<'_>,
        sending_until: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO bus_progress (stream_id, account_id, topic, bus_partition, next_offset, \
             sending_until, instance, delivered_at) VALUES ($1, $2, $3, $4, 0, $5, $6, 0) \
             ON CONFLICT (stream_id, topic, bus_partition) DO UPDATE SET \
             sending_until = excluded.sending_until",
        )
        .bind(lane.stream_id)
        .bind(lane.account_id)
        .bind(lane.topic)
        .bind(lane.partition)
        .bind(sending_until)
        .bind(lane.instance)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Per stream, how far its delivery got in the topic's `partition` (a new owner skips
    /// what was delivered). The operator's partition, not a tenant's: every account's
    /// streams.
    pub async fn bus_progress(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<HashMap<i64, StreamProgress>, DbError> {
        let rows = sqlx::query(
            "SELECT stream_id, next_offset, sending_until FROM bus_progress \
             WHERE topic = $1 AND bus_partition = $2",
        )
        .bind(topic)
        .bind(partition)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let progress = StreamProgress {
                    next_offset: row.try_get("next_offset")?,
                    sending_until: row.try_get("sending_until")?,
                };
                Ok((row.try_get("stream_id")?, progress))
            })
            .collect()
    }

    /// The instances that delivered the stream's records since `since_ms`, latest first.
    pub async fn bus_delivering_instances(
        &self,
        account_id: i64,
        stream_id: i64,
        since_ms: i64,
    ) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query(
            "SELECT instance, MAX(delivered_at) AS latest FROM bus_progress \
             WHERE account_id = $1 AND stream_id = $2 AND delivered_at >= $3 \
             GROUP BY instance ORDER BY latest DESC",
        )
        .bind(account_id)
        .bind(stream_id)
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("instance")?))
            .collect()
    }

    /// Adds one instance's accepted counts to the streams' totals (a stream deleted
    /// meanwhile has no row to add to: its counts are dropped).
    pub async fn add_bus_lag(&self, deltas: &HashMap<i64, LagDelta>) -> Result<(), DbError> {
        // One transaction: a failed write is retried whole, never counted twice.
        let mut tx = self.pool().begin().await?;
        for (stream_id, delta) in deltas {
            sqlx::query(
                "INSERT INTO bus_lag (stream_id, account_id, accepted_records, accepted_bytes) \
                 SELECT $1, $2, $3, $4 \
                 WHERE EXISTS (SELECT 1 FROM streams WHERE id = $1 AND account_id = $2) \
                 ON CONFLICT (stream_id) DO UPDATE SET \
                 accepted_records = bus_lag.accepted_records + excluded.accepted_records, \
                 accepted_bytes = bus_lag.accepted_bytes + excluded.accepted_bytes",
            )
            .bind(stream_id)
            .bind(delta.account_id)
            .bind(delta.accepted_records)
            .bind(delta.accepted_bytes)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every stream's bus lag, over all accounts (operator-level: the engine's limits and
    /// `/metrics`). An instance killed before it shared its last accepted counts (at most
    /// 0.5 s of them) leaves a stream's delivered count above its accepted one: the lag is
    /// then 0.
    pub async fn bus_lags(&self) -> Result<HashMap<i64, BusLag>, DbError> {
        let rows = sqlx::query(
            "SELECT stream_id, account_id, accepted_records - delivered_records AS records, \
             accepted_bytes - delivered_bytes AS bytes FROM bus_lag",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let records: i64 = row.try_get("records")?;
                let bytes: i64 = row.try_get("bytes")?;
                Ok((
                    row.try_get("stream_id")?,
                    BusLag {
                        account_id: row.try_get("account_id")?,
                        records: records.max(0) as u64,
                        bytes: bytes.max(0) as u64,
                    },
                ))
            })
            .collect()
    }
}

/// One account's edge messages of one input and outcome, counted on one instance.
#[derive(Clone, Debug)]
pub struct EdgeCount {
    pub account_id: i64,
    pub input: &'static str,
    pub outcome: &'static str,
    pub messages: i64,
    pub last_event_at: i64,
}

impl Db {
    /// Adds one instance's edge counts to the totals every instance reads (cluster mode).
    pub async fn add_edge_counts(&self, counts: &[EdgeCount]) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await?;
        for count in counts {
            sqlx::query(
                "INSERT INTO edge_counts (account_id, input, outcome, messages, last_event_at) \
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $1) \
                 ON CONFLICT (account_id, input, outcome) DO UPDATE SET \
                 messages = edge_counts.messages + excluded.messages, \
                 last_event_at = GREATEST(edge_counts.last_event_at, excluded.last_event_at)",
            )
            .bind(count.account_id)
            .bind(count.input)
            .bind(count.outcome)
            .bind(count.messages)
            .bind(count.last_event_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The account's edge counts over every instance: (input, outcome, messages, last event).
    pub async fn edge_counts(
        &self,
        account_id: i64,
    ) -> Result<Vec<(String, String, i64, i64)>, DbError> {
        let rows = sqlx::query(
            "SELECT input, outcome, messages, last_event_at FROM edge_counts WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("input")?,
                    row.try_get("outcome")?,
                    row.try_get("messages")?,
                    row.try_get("last_event_at")?,
                ))
            })
            .collect()
    }
}
