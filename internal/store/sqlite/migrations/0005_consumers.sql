-- 0005: durable consumers of the event log (e-mail, webhooks, …): each
-- stores the id of the last event it consumed, and pruning keeps the
-- events after it (see DB.prune).

CREATE TABLE consumers (
	name     TEXT PRIMARY KEY,
	position INTEGER NOT NULL,  -- the last event id consumed
	updated  INTEGER NOT NULL   -- Unix ms of the last SetConsumerPosition
) STRICT, WITHOUT ROWID;
