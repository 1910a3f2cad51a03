-- 0016: the duplicate search (Activity) seeks one index on every post,
-- whatever the planner knows of the table.
--
-- It looked for (author_id, text_hash, created) in comments_author_text,
-- but comments_author (author_id, created) matches two of the three
-- conditions too, and on a young table (a new deployment, the bench's
-- database: no statistics yet) both promise one row and the smaller index
-- wins. The cached plan then read every comment of the author in the
-- window and compared the hash of each: a prolific poster's posts grew
-- slower with each one (3-4 ms apiece in the bench). This index leads
-- with the hash and holds the author as an expression, which the search
-- names as such: no other index matches any of its conditions, so no
-- statistics can make it lose.
CREATE INDEX comments_dup ON comments (text_hash, (author_id || ''), created);
DROP INDEX comments_author_text;
