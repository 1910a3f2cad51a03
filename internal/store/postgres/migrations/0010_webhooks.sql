-- 0010: webhooks. A site's endpoints, and the deliveries the webhook
-- consumer of the event log queues for them: one row per event and
-- endpoint (unique, so a batch of events consumed twice queues once), with
-- the outcome of its latest attempt. Events name the reader they concern
-- (reader.banned).

ALTER TABLE events ADD COLUMN user_id text NOT NULL DEFAULT '';

CREATE TABLE webhooks (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	site_id text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	url     text NOT NULL,
	secret  text NOT NULL,
	events  text[] NOT NULL DEFAULT '{}', -- empty for all
	format  text NOT NULL DEFAULT 'json',
	created timestamptz NOT NULL
);

CREATE INDEX webhooks_site ON webhooks (site_id);

CREATE TABLE webhook_deliveries (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	webhook_id   bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id     bigint,                -- NULL for a test event
	type         text NOT NULL,
	body         bytea NOT NULL,
	state        text NOT NULL,         -- pending, delivered, failed
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt timestamptz NOT NULL,
	created      timestamptz NOT NULL,
	last_status  integer NOT NULL DEFAULT 0,
	last_error   text NOT NULL DEFAULT '',
	last_latency bigint NOT NULL DEFAULT 0, -- microseconds
	finished     timestamptz             -- NULL while pending
);

CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (webhook_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
