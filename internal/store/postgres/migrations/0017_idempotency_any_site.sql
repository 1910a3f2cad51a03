-- 0017: an idempotency key of a write that is of no one site (a bulk
-- decision, which may span sites; a reader's erasure; the global ban) is
-- stored with no site: site_id may be NULL.

ALTER TABLE idempotency_keys ALTER COLUMN site_id DROP NOT NULL;
