-- The sign-in limiter's counts, shared by every instance on the database: per key (an
-- email and client address, or a client address), the attempts since the window began.
CREATE TABLE sign_in_attempts (
    key           TEXT    PRIMARY KEY,
    window_start  BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL
);
CREATE INDEX sign_in_attempts_window ON sign_in_attempts (window_start);
