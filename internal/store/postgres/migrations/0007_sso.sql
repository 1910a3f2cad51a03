-- 0007: single sign-on. A site's publisher signs its readers in with a
-- token signed by an HS256 secret or by keys published at a JWKS URL; each
-- token id (jti) is accepted once while the token lives, on every instance.

CREATE TABLE site_sso (
	site_id  text PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
	secret   bytea,                     -- the HS256 key; NULL when none
	jwks_url text NOT NULL DEFAULT '',
	only_sso boolean NOT NULL DEFAULT false, -- guests may not post
	updated  timestamptz NOT NULL
);

CREATE TABLE sso_tokens (
	site_id text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	jti     text NOT NULL,
	expires timestamptz NOT NULL,       -- the token's exp; pruned after
	PRIMARY KEY (site_id, jti)
);

CREATE INDEX sso_tokens_expires ON sso_tokens (expires);
