-- 0004: durable consumers of the event log (e-mail, webhooks, …): each
-- stores the id of the last event it consumed, and pruning keeps the
-- events after it (see DB.prune).

CREATE TABLE consumers (
	name     text PRIMARY KEY,
	position bigint NOT NULL,      -- the last event id consumed
	updated  timestamptz NOT NULL  -- when SetConsumerPosition last stored it
);
