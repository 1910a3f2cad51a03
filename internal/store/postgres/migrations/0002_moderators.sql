-- 0002: moderator accounts and sessions, per-site sanctions, the audit log,
-- notes on readers, and the index that weighs reports by their reporters.

ALTER TABLE users ADD COLUMN password_hash text NOT NULL DEFAULT '';

-- Staff sign in by e-mail address (stored lower-case): one account per address.
CREATE UNIQUE INDEX users_staff_email ON users (email) WHERE role IN ('moderator', 'admin');

CREATE TABLE staff_sessions (
	token_hash text PRIMARY KEY,            -- SHA-256 of the cookie's token, hex
	user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created    timestamptz NOT NULL,
	expires    timestamptz NOT NULL,
	revoked    boolean NOT NULL DEFAULT false
);

CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

CREATE TABLE sanctions (
	user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	site_id         text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	suspended_until timestamptz,            -- NULL when not suspended
	premoderated    boolean NOT NULL,
	updated         timestamptz NOT NULL,
	PRIMARY KEY (user_id, site_id)
);

CREATE TABLE actions (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	actor_id   text NOT NULL,               -- '' for the admin token
	actor_name text NOT NULL,
	action     text NOT NULL,
	comment_id bigint NOT NULL,             -- 0 for none
	user_id    text NOT NULL,               -- '' for none
	site_id    text NOT NULL,
	note       text NOT NULL,
	before     bytea,                       -- JSON object kept byte for byte, NULL for none
	after      bytea,
	created    timestamptz NOT NULL
);

CREATE INDEX actions_comment ON actions (comment_id, id) WHERE comment_id <> 0;
CREATE INDEX actions_user ON actions (user_id, id) WHERE user_id <> '';
CREATE INDEX actions_site ON actions (site_id, id);

CREATE TABLE notes (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	site_id     text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	author_id   text NOT NULL,
	author_name text NOT NULL,
	text        text NOT NULL,
	created     timestamptz NOT NULL
);

CREATE INDEX notes_user ON notes (user_id, site_id, id);

-- A reporter's record (upheld and dismissed reports) weighs each open report.
CREATE INDEX reports_reporter ON reports (reporter_id, outcome);
