CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email          TEXT    NOT NULL UNIQUE,
    -- argon2id PHC string; never the password itself.
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at     BIGINT  NOT NULL
);
CREATE INDEX users_account ON users (account_id);

-- tower-sessions records (JSON), so sessions survive a restart.
CREATE TABLE sessions (
    id           TEXT   PRIMARY KEY,
    record       TEXT   NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE domains (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (account_id, name)
);
