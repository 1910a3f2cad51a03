-- 0003: comments imported from other systems (parley import) keep their id
-- there, so that running an import again adds nothing and a reply finds the
-- parent imported before it.

CREATE TABLE imports (
	site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	source     text NOT NULL,             -- disqus, wordpress, remark42, parley
	source_id  text NOT NULL,             -- the comment's id on the source
	comment_id bigint NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
	PRIMARY KEY (site_id, source, source_id)
);
