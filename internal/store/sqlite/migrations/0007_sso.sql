-- 0007: single sign-on. A site's publisher signs its readers in with a
-- token signed by an HS256 secret or by keys published at a JWKS URL; each
-- token id (jti) is accepted once while the token lives, on every instance.

CREATE TABLE site_sso (
	site_id  TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
	secret   BLOB,                      -- the HS256 key; NULL when none
	jwks_url TEXT NOT NULL DEFAULT '',
	only_sso INTEGER NOT NULL DEFAULT 0, -- 1: guests may not post
	updated  INTEGER NOT NULL           -- Unix ms
) STRICT;

CREATE TABLE sso_tokens (
	site_id TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	jti     TEXT NOT NULL,
	expires INTEGER NOT NULL,           -- Unix ms: the token's exp; pruned after
	PRIMARY KEY (site_id, jti)
) STRICT, WITHOUT ROWID;

CREATE INDEX sso_tokens_expires ON sso_tokens (expires);
