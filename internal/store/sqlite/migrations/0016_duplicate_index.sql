-- 0016: PostgreSQL's duplicate search moved to an index of its own (see
-- its 0016). SQLite's planner already seeks comments_author_text for it
-- (it prefers the index that matches the most equalities, with or without
-- statistics): nothing changes here. The file keeps the two stores'
-- migrations numbered alike.
SELECT 1;
