-- The automation API: tokens per user, a revision per resource for ETag / If-Match, and
-- the activity history of configuration changes.

-- Bumped on every change; the API's ETag is it, and a write with If-Match updates only
-- the revision it names.
ALTER TABLE streams ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE templates ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE domains ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- API tokens of a user. Only a SHA-256 of the token is stored; a token acts with the
-- lower of its role and its user's current role, and goes with its user.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    token_prefix  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    expires_at    BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- Every configuration change of an account: who, when, through what, what changed
-- (secrets masked before they are written here).
CREATE TABLE activity (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    via         TEXT    NOT NULL CHECK (via IN ('console', 'api')),
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    changes     TEXT    NOT NULL
);
CREATE INDEX activity_account_at ON activity (account_id, id);
