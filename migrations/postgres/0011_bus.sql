-- Cluster mode (`--bus`): how far each stream's records were delivered from each partition
-- of a bus topic, and by which instance (the next owner of a partition skips what was
-- delivered; the dashboard names who delivers).
CREATE TABLE bus_progress (
    stream_id      BIGINT   NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    account_id     BIGINT   NOT NULL,
    topic          TEXT     NOT NULL,
    bus_partition  INTEGER  NOT NULL,
    next_offset    BIGINT   NOT NULL,
    -- The block being sent ends below this: a next owner seals its first block there, so
    -- the re-sent block has the same records and id.
    sending_until  BIGINT,
    instance       TEXT     NOT NULL,
    delivered_at   BIGINT   NOT NULL,
    PRIMARY KEY (stream_id, topic, bus_partition)
);
CREATE INDEX bus_progress_partition ON bus_progress (topic, bus_partition);

-- Records and bytes each stream's ingest put on the bus and its delivery took off, summed
-- over every instance: the difference is the stream's bus lag.
CREATE TABLE bus_lag (
    stream_id          BIGINT  PRIMARY KEY REFERENCES streams (id) ON DELETE CASCADE,
    account_id         BIGINT  NOT NULL,
    accepted_records   BIGINT  NOT NULL DEFAULT 0,
    accepted_bytes     BIGINT  NOT NULL DEFAULT 0,
    delivered_records  BIGINT  NOT NULL DEFAULT 0,
    delivered_bytes    BIGINT  NOT NULL DEFAULT 0
);
