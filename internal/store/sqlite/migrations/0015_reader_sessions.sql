-- 0015: reader sessions that end on the server. A reader's cookie is
-- signed, not stored, so signing out (or signing in over an older session)
-- records the session here, by a hash of the cookie's value: that cookie is
-- no longer accepted, whoever replays it. A row is kept until the cookie
-- would have expired anyway.

CREATE TABLE reader_session_revocations (
	token_hash TEXT PRIMARY KEY,        -- SHA-256 of the cookie's value, hex
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires    INTEGER NOT NULL         -- Unix ms: when the cookie expires
) STRICT, WITHOUT ROWID;

CREATE INDEX reader_session_revocations_expires ON reader_session_revocations (expires);
