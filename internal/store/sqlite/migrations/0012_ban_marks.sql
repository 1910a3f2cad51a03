-- 0012: bans that stick. A ban binds, besides the reader's id, what they
-- cannot shed with a cookie: the network addresses they posted from (a
-- keyed hash of the IPv4 address or the IPv6 /64, never the address), their
-- e-mail address (a keyed hash), their display name's key and a signature of
-- each recent comment's text. Each mark lasts for the ban's length or less
-- (addresses: 30 days at most) and is then ignored, and pruned.

CREATE TABLE ban_marks (
	id        INTEGER PRIMARY KEY,
	site_id   TEXT NOT NULL,            -- '' for a ban on every site
	banned_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind      TEXT NOT NULL CHECK (kind IN ('address', 'email', 'name', 'text')),
	value     TEXT NOT NULL,
	seen      INTEGER NOT NULL,         -- Unix ms: when the banned reader last used it
	created   INTEGER NOT NULL,         -- Unix ms
	expires   INTEGER NOT NULL          -- Unix ms
) STRICT;

CREATE INDEX ban_marks_site ON ban_marks (site_id, expires);
CREATE INDEX ban_marks_banned ON ban_marks (banned_id, site_id);
