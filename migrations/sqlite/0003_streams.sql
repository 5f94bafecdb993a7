CREATE TABLE streams (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    data_source       TEXT    NOT NULL,
    -- A preset id, or 'custom' with the data set in custom_template.
    template          TEXT    NOT NULL,
    custom_template   TEXT    NOT NULL,
    all_domains       BIGINT  NOT NULL,
    sampling          BIGINT  NOT NULL,
    endpoint_type     TEXT    NOT NULL,
    -- The endpoint's settings as JSON, without secrets.
    endpoint_config   TEXT    NOT NULL,
    -- The secrets (S3 secret key, header values) as JSON, AES-256-GCM sealed.
    endpoint_secrets  TEXT    NOT NULL,
    active            BIGINT  NOT NULL,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX streams_account ON streams (account_id);

-- A domain used by a stream cannot be deleted (no cascade on domain_id).
CREATE TABLE stream_domains (
    stream_id  BIGINT NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    domain_id  BIGINT NOT NULL REFERENCES domains (id),
    PRIMARY KEY (stream_id, domain_id)
);
CREATE INDEX stream_domains_domain ON stream_domains (domain_id);
