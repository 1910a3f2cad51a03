-- 0010: webhooks. A site's endpoints, and the deliveries the webhook
-- consumer of the event log queues for them: one row per event and
-- endpoint (unique, so a batch of events consumed twice queues once), with
-- the outcome of its latest attempt. Events name the reader they concern
-- (reader.banned).

ALTER TABLE events ADD COLUMN user_id TEXT NOT NULL DEFAULT '';

CREATE TABLE webhooks (
	id      INTEGER PRIMARY KEY,
	site_id TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	url     TEXT NOT NULL,
	secret  TEXT NOT NULL,
	events  TEXT NOT NULL DEFAULT '',   -- comma-separated types; '' for all
	format  TEXT NOT NULL DEFAULT 'json',
	created INTEGER NOT NULL            -- Unix ms
) STRICT;

CREATE INDEX webhooks_site ON webhooks (site_id);

CREATE TABLE webhook_deliveries (
	id           INTEGER PRIMARY KEY,
	webhook_id   INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id     INTEGER,               -- NULL for a test event
	type         TEXT NOT NULL,
	body         BLOB NOT NULL,
	state        TEXT NOT NULL,         -- pending, delivered, failed
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,      -- Unix ms
	created      INTEGER NOT NULL,
	last_status  INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	last_latency INTEGER NOT NULL DEFAULT 0, -- microseconds
	finished     INTEGER                -- Unix ms; NULL while pending
) STRICT;

CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (webhook_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
