-- 0001: the first schema of Parley.
--
-- Times are integer Unix milliseconds in UTC; 0 stands for the zero time.
-- Lists and reasons are JSON text. Every table is STRICT so a value of the
-- wrong type is an error instead of a silent conversion.

CREATE TABLE sites (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	origins       TEXT NOT NULL,          -- JSON array of strings
	policy_url    TEXT NOT NULL,
	ignore_params TEXT NOT NULL,          -- JSON array of strings
	policy        BLOB,                   -- opaque JSON, NULL for none
	created       INTEGER NOT NULL
) STRICT;

CREATE TABLE pages (
	id          INTEGER PRIMARY KEY,
	site_id     TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	url         TEXT NOT NULL,
	title       TEXT NOT NULL,
	closed      INTEGER NOT NULL DEFAULT 0,
	count       INTEGER NOT NULL DEFAULT 0, -- approved comments
	last_number INTEGER NOT NULL DEFAULT 0, -- the number of the page's newest comment
	rev         INTEGER NOT NULL DEFAULT 0, -- bumped by every change to the page's comments
	policy      BLOB,
	created     INTEGER NOT NULL,
	UNIQUE (site_id, url)
) STRICT;

CREATE TABLE users (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	email        TEXT NOT NULL,
	role         TEXT NOT NULL,
	site_id      TEXT NOT NULL,           -- "" for every site
	banned_until INTEGER NOT NULL,
	created      INTEGER NOT NULL
) STRICT;

-- Comments are never deleted (a deleted comment keeps its row and number), so
-- parent_id, root_id and quote_id are plain ids, 0 for none; root_id is 0 for a
-- top-level comment, whose root is itself. site_id copies the page's site for
-- the moderation queues.
CREATE TABLE comments (
	id          INTEGER PRIMARY KEY,
	site_id     TEXT NOT NULL,
	page_id     INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
	parent_id   INTEGER NOT NULL,
	root_id     INTEGER NOT NULL,
	quote_id    INTEGER NOT NULL,
	number      INTEGER NOT NULL,
	author_id   TEXT NOT NULL,
	author_name TEXT NOT NULL,
	ip_hash     TEXT NOT NULL,
	featured    INTEGER NOT NULL,
	seen        INTEGER NOT NULL,
	text        TEXT NOT NULL,
	html        TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('approved', 'pending', 'rejected', 'deleted')),
	reasons     TEXT,                     -- JSON array of reasons, NULL for none
	toxicity    REAL NOT NULL,
	created     INTEGER NOT NULL,
	edited      INTEGER NOT NULL,
	score       INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX comments_page_number ON comments (page_id, number);
CREATE INDEX comments_queue ON comments (site_id, status, created);
CREATE INDEX comments_author ON comments (author_id, created);
CREATE INDEX comments_ip ON comments (ip_hash, created);

CREATE TABLE reports (
	id          INTEGER PRIMARY KEY,
	comment_id  INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
	reporter_id TEXT NOT NULL,
	reason      TEXT NOT NULL,
	note        TEXT NOT NULL,
	outcome     TEXT NOT NULL,            -- "" while open, then upheld or dismissed
	created     INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX reports_comment_reporter ON reports (comment_id, reporter_id);
-- The reported queue scans open reports only.
CREATE INDEX reports_open ON reports (comment_id) WHERE outcome = '';

CREATE TABLE votes (
	comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL,
	value      INTEGER NOT NULL CHECK (value IN (-1, 1)),
	PRIMARY KEY (comment_id, user_id)
) STRICT, WITHOUT ROWID;

-- A reader's votes on a page are found from the reader's side.
CREATE INDEX votes_user ON votes (user_id, comment_id);

-- AUTOINCREMENT: event ids resume live streams, so they must never be reused,
-- not even after the newest events were pruned.
CREATE TABLE events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	type       TEXT NOT NULL,
	site_id    TEXT NOT NULL,
	page_id    INTEGER NOT NULL,
	comment_id INTEGER NOT NULL,
	created    INTEGER NOT NULL
) STRICT;

CREATE INDEX events_created ON events (created);
