-- 0002: moderator accounts and sessions, per-site sanctions, the audit log,
-- notes on readers, and the indexes that weigh reports by their reporters.

ALTER TABLE users ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';

-- Staff sign in by e-mail address (stored lower-case): one account per address.
CREATE UNIQUE INDEX users_staff_email ON users (email) WHERE role IN ('moderator', 'admin');

CREATE TABLE staff_sessions (
	token_hash TEXT PRIMARY KEY,            -- SHA-256 of the cookie's token, hex
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	revoked    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

CREATE TABLE sanctions (
	user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	site_id         TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	suspended_until INTEGER NOT NULL,       -- 0 when not suspended
	premoderated    INTEGER NOT NULL,
	updated         INTEGER NOT NULL,
	PRIMARY KEY (user_id, site_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE actions (
	id         INTEGER PRIMARY KEY,
	actor_id   TEXT NOT NULL,               -- "" for the admin token
	actor_name TEXT NOT NULL,
	action     TEXT NOT NULL,
	comment_id INTEGER NOT NULL,            -- 0 for none
	user_id    TEXT NOT NULL,               -- "" for none
	site_id    TEXT NOT NULL,
	note       TEXT NOT NULL,
	before     TEXT,                        -- JSON object, NULL for none
	after      TEXT,
	created    INTEGER NOT NULL
) STRICT;

CREATE INDEX actions_comment ON actions (comment_id, id) WHERE comment_id <> 0;
CREATE INDEX actions_user ON actions (user_id, id) WHERE user_id <> '';
CREATE INDEX actions_site ON actions (site_id, id);

CREATE TABLE notes (
	id          INTEGER PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	site_id     TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	author_id   TEXT NOT NULL,
	author_name TEXT NOT NULL,
	text        TEXT NOT NULL,
	created     INTEGER NOT NULL
) STRICT;

CREATE INDEX notes_user ON notes (user_id, site_id, id);

-- A reporter's record (upheld and dismissed reports) weighs each open report.
CREATE INDEX reports_reporter ON reports (reporter_id, outcome);
