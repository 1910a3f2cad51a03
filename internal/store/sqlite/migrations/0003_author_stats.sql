-- 0003: keep the moderation pipeline's reads of a poster's record cheap on
-- every post, however much the poster has written.

-- A hash of the text finds a poster's duplicate by an index seek instead of
-- comparing every text of theirs in the window. Rows written before this
-- migration have 0 and are compared by text.
ALTER TABLE comments ADD COLUMN text_hash INTEGER NOT NULL DEFAULT 0;
CREATE INDEX comments_author_text ON comments (author_id, text_hash, created);

-- Per-author counters, kept by every write that changes a comment's status
-- or upholds a report on it, so History does not count rows.
CREATE TABLE author_stats (
	author_id TEXT PRIMARY KEY,
	approved  INTEGER NOT NULL DEFAULT 0,
	rejected  INTEGER NOT NULL DEFAULT 0,
	pending   INTEGER NOT NULL DEFAULT 0,
	upheld    INTEGER NOT NULL DEFAULT 0  -- reports against their comments that were upheld
) STRICT, WITHOUT ROWID;

INSERT INTO author_stats (author_id, approved, rejected, pending)
	SELECT author_id, sum(status = 'approved'), sum(status = 'rejected'), sum(status = 'pending')
	FROM comments GROUP BY author_id;

UPDATE author_stats SET upheld = (SELECT count(*) FROM reports r JOIN comments c ON c.id = r.comment_id
	WHERE c.author_id = author_stats.author_id AND r.outcome = 'upheld');
