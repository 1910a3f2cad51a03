-- 0009: outbound e-mail. The durable consumer of the event log queues
-- messages here in units of work; the sender claims, sends and marks them
-- sent. Readers' notification settings, and the tokens of the links that
-- confirm an address or sign a reader in.

CREATE TABLE mail_queue (
	id         bigserial PRIMARY KEY,
	key        text NOT NULL UNIQUE,       -- the same notification is queued once
	grp        text NOT NULL DEFAULT '',   -- sent together, at most once per interval
	kind       text NOT NULL,
	user_id    text NOT NULL DEFAULT '',
	rcpt       text NOT NULL,
	data       bytea NOT NULL,             -- JSON the sender renders
	created    timestamptz NOT NULL,
	next_try   timestamptz NOT NULL,
	attempts   integer NOT NULL DEFAULT 0,
	last_error text NOT NULL DEFAULT '',
	sent       timestamptz,                -- NULL until accepted by the SMTP server
	message_id text NOT NULL DEFAULT ''
);

CREATE INDEX mail_queue_due ON mail_queue (next_try) WHERE sent IS NULL;
CREATE INDEX mail_queue_grp ON mail_queue (grp, sent);

CREATE TABLE mail_prefs (
	user_id      text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	no_replies   boolean NOT NULL DEFAULT false,
	no_alerts    boolean NOT NULL DEFAULT false,
	alert_digest boolean NOT NULL DEFAULT false,
	updated      timestamptz NOT NULL
);

CREATE TABLE mail_tokens (
	hash    text PRIMARY KEY,              -- SHA-256 of the token, hex
	kind    text NOT NULL,                 -- confirm | signin
	user_id text NOT NULL DEFAULT '',
	email   text NOT NULL,
	browser text NOT NULL DEFAULT '',      -- hash of the asking browser's cookie
	created timestamptz NOT NULL,
	expires timestamptz NOT NULL,
	used    timestamptz                    -- NULL until used
);

CREATE INDEX mail_tokens_email ON mail_tokens (email, kind, created);
