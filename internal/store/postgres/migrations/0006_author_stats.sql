-- 0006: keep the moderation pipeline's reads of a poster's record cheap on
-- every post, however much the poster has written (as SQLite's 0003 does).

-- A hash of the text (store.TextHash) finds a poster's duplicate by an index
-- seek instead of comparing every text of theirs in the window. Rows written
-- before this migration have 0 and are compared by text; they leave the
-- duplicate window (a week at most) soon enough.
ALTER TABLE comments ADD COLUMN text_hash bigint NOT NULL DEFAULT 0;
CREATE INDEX comments_author_text ON comments (author_id, text_hash, created);

-- A poster's newest comments (History) in the index's own order, ties of
-- created included, so that reading the newest ten never sorts all of them.
DROP INDEX comments_author;
CREATE INDEX comments_author ON comments (author_id, created, id);

-- Per-author counters, kept by every write that changes a comment's status
-- or upholds a report on it, in its transaction, so that History does not
-- count rows. Writes update a row here after every other row they lock but
-- before the event lock (see event.go), in author order when there are
-- several, so that these locks take part in no deadlock. The row of a
-- prolific author is updated on each of their posts: the fill factor leaves
-- room on its page for HOT updates.
CREATE TABLE author_stats (
	author_id text PRIMARY KEY,
	approved  integer NOT NULL DEFAULT 0,
	rejected  integer NOT NULL DEFAULT 0,
	pending   integer NOT NULL DEFAULT 0,
	upheld    integer NOT NULL DEFAULT 0  -- reports against their comments that were upheld
) WITH (fillfactor = 50);

INSERT INTO author_stats (author_id, approved, rejected, pending, upheld)
	SELECT c.author_id, count(*) FILTER (WHERE c.status = 'approved'), count(*) FILTER (WHERE c.status = 'rejected'),
		count(*) FILTER (WHERE c.status = 'pending'), coalesce(max(u.upheld), 0)
	FROM comments c LEFT JOIN (
		SELECT c.author_id, count(*) AS upheld FROM reports r JOIN comments c ON c.id = r.comment_id
		WHERE r.outcome = 'upheld' GROUP BY c.author_id
	) u ON u.author_id = c.author_id
	GROUP BY c.author_id;
