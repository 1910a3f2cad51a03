-- 0011: idempotency keys. A reader's write made with an Idempotency-Key
-- stores its outcome here in the write's own transaction, so a retry is
-- answered from it and never writes twice. Pruned a day after created.

CREATE TABLE idempotency_keys (
	key_hash bytea PRIMARY KEY,         -- SHA-256 of site, caller and the client's key
	site_id  text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	request  bytea NOT NULL,            -- SHA-256 of the operation and its input
	result   bytea NOT NULL,            -- the outcome, as the service encoded it
	created  timestamptz NOT NULL
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created);
