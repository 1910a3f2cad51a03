-- 0009: outbound e-mail. The durable consumer of the event log queues
-- messages here in units of work; the sender claims, sends and marks them
-- sent. Readers' notification settings, and the tokens of the links that
-- confirm an address or sign a reader in.

CREATE TABLE mail_queue (
	id         INTEGER PRIMARY KEY,
	key        TEXT NOT NULL UNIQUE,       -- the same notification is queued once
	grp        TEXT NOT NULL DEFAULT '',   -- sent together, at most once per interval
	kind       TEXT NOT NULL,
	user_id    TEXT NOT NULL DEFAULT '',
	rcpt       TEXT NOT NULL,
	data       BLOB NOT NULL,              -- JSON the sender renders
	created    INTEGER NOT NULL,           -- Unix ms
	next_try   INTEGER NOT NULL,           -- Unix ms
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	sent       INTEGER,                    -- Unix ms; NULL until accepted by the SMTP server
	message_id TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX mail_queue_due ON mail_queue (next_try) WHERE sent IS NULL;
CREATE INDEX mail_queue_grp ON mail_queue (grp, sent);

CREATE TABLE mail_prefs (
	user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	no_replies   INTEGER NOT NULL DEFAULT 0,
	no_alerts    INTEGER NOT NULL DEFAULT 0,
	alert_digest INTEGER NOT NULL DEFAULT 0,
	updated      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE mail_tokens (
	hash    TEXT PRIMARY KEY,              -- SHA-256 of the token, hex
	kind    TEXT NOT NULL,                 -- confirm | signin
	user_id TEXT NOT NULL DEFAULT '',
	email   TEXT NOT NULL,
	browser TEXT NOT NULL DEFAULT '',      -- hash of the asking browser's cookie
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	used    INTEGER                        -- NULL until used
) STRICT, WITHOUT ROWID;

CREATE INDEX mail_tokens_email ON mail_tokens (email, kind, created);
