-- Session ids are stored as their SHA-256 (a copy of this table holds no usable session),
-- with the user each belongs to, so a password change or a removal ends that user's
-- sessions. Sessions stored before this held the plain id: they end here.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
CREATE INDEX sessions_user ON sessions (user_id);
