-- 0017: an idempotency key of a write that is of no one site (a bulk
-- decision, which may span sites; a reader's erasure; the global ban) is
-- stored with no site: site_id may be NULL. SQLite cannot drop NOT NULL in
-- place, so the table is rebuilt (nothing references it).

CREATE TABLE idempotency_keys_0017 (
	key_hash BLOB PRIMARY KEY,          -- SHA-256 of site, caller and the client's key
	site_id  TEXT REFERENCES sites (id) ON DELETE CASCADE, -- NULL: a write of no one site
	request  BLOB NOT NULL,             -- SHA-256 of the operation and its input
	result   BLOB NOT NULL,             -- the outcome, as the service encoded it
	created  INTEGER NOT NULL           -- Unix ms
) STRICT, WITHOUT ROWID;

INSERT INTO idempotency_keys_0017 (key_hash, site_id, request, result, created)
	SELECT key_hash, site_id, request, result, created FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_0017 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created);
