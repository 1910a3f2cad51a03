-- 0019: a message the SMTP server refused for good (a permanent 5xx for its
-- recipient or its content) is given up, not retried for ever: it is never
-- claimed again, is not counted as queued, and is pruned like a sent one.
ALTER TABLE mail_queue ADD COLUMN failed timestamptz; -- NULL unless given up

DROP INDEX mail_queue_due;
CREATE INDEX mail_queue_due ON mail_queue (next_try) WHERE sent IS NULL AND failed IS NULL;
