-- Tokens that authenticate the ingest API. Only a SHA-256 of the token is stored (tokens
-- are 256-bit random, so a fast hash suffices); the prefix lets users tell them apart.
CREATE TABLE ingest_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    token_prefix  TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX ingest_tokens_account ON ingest_tokens (account_id);
