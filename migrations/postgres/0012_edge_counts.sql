-- Cluster mode: each account's edge messages per input and outcome, summed over every
-- instance (the Edge page's "last event received from your edge" and counts).
CREATE TABLE edge_counts (
    account_id     BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    input          TEXT    NOT NULL,
    outcome        TEXT    NOT NULL,
    messages       BIGINT  NOT NULL,
    last_event_at  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, input, outcome)
);
