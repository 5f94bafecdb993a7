-- Per stream and minute: what the engine did (the dashboard's charts). Written in batches
-- by the engine, kept as long as the delivery log (at least a day).
CREATE TABLE stream_metrics (
    stream_id      BIGINT NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Start of the minute, Unix milliseconds.
    minute         BIGINT NOT NULL,
    received       BIGINT NOT NULL DEFAULT 0,
    sampled_out    BIGINT NOT NULL DEFAULT 0,
    delivered      BIGINT NOT NULL DEFAULT 0,
    failed         BIGINT NOT NULL DEFAULT 0,
    bytes          BIGINT NOT NULL DEFAULT 0,
    latency_ms_sum BIGINT NOT NULL DEFAULT 0,
    latency_count  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (stream_id, minute)
);
CREATE INDEX stream_metrics_account ON stream_metrics (account_id, stream_id, minute);

-- Every delivery attempt of a block (the delivery log), kept for a configurable period.
CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id    BIGINT NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    block_id     TEXT   NOT NULL,
    records      BIGINT NOT NULL,
    -- delivered, failed (retried) or refused (set aside).
    outcome      TEXT   NOT NULL,
    -- Status code and reason, or the error; never a secret.
    answer       TEXT   NOT NULL,
    duration_ms  BIGINT NOT NULL
);
CREATE INDEX delivery_attempts_stream ON delivery_attempts (account_id, stream_id, at);
CREATE INDEX delivery_attempts_at ON delivery_attempts (at);
