-- Delivery status per stream, shown on the Data Streaming list.
CREATE TABLE stream_status (
    stream_id          BIGINT PRIMARY KEY REFERENCES streams (id) ON DELETE CASCADE,
    account_id         BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_success_at    BIGINT,
    last_error_at      BIGINT,
    -- A short reason: status code or error kind; never a secret.
    last_error         TEXT,
    records_delivered  BIGINT NOT NULL DEFAULT 0,
    bytes_delivered    BIGINT NOT NULL DEFAULT 0,
    blocks_failed      BIGINT NOT NULL DEFAULT 0
);
