-- 0008: OpenID Connect sign-in. A site names its provider; each sign-in in
-- progress is a row keyed by a hash of its state (and, once the provider
-- has answered, of the one-time ticket the widget redeems), taken once.

CREATE TABLE site_oidc (
	site_id        TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
	issuer         TEXT NOT NULL,
	client_id      TEXT NOT NULL,
	client_secret  BLOB,
	scopes         TEXT NOT NULL DEFAULT '',  -- space-separated
	provider_name  TEXT NOT NULL DEFAULT '',
	moderators     INTEGER NOT NULL DEFAULT 0, -- 1: the site's moderators may sign in with it
	staff_subjects TEXT NOT NULL DEFAULT '{}', -- JSON object: provider subject → staff user id
	updated        INTEGER NOT NULL            -- Unix ms
) STRICT;

CREATE TABLE oidc_logins (
	key_hash TEXT PRIMARY KEY,           -- SHA-256 of the state or the ticket, hex
	site_id  TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	purpose  TEXT NOT NULL,              -- reader, moderator, ticket
	binder   TEXT NOT NULL DEFAULT '',   -- SHA-256 of the browser's binding cookie, hex
	nonce    TEXT NOT NULL DEFAULT '',
	verifier TEXT NOT NULL DEFAULT '',   -- the PKCE code verifier
	origin   TEXT NOT NULL DEFAULT '',   -- the embedding page's origin (readers)
	user_id  TEXT NOT NULL DEFAULT '',   -- tickets: the signed-in reader
	created  INTEGER NOT NULL,
	expires  INTEGER NOT NULL            -- Unix ms
) STRICT, WITHOUT ROWID;

CREATE INDEX oidc_logins_expires ON oidc_logins (expires);

-- A reader's data rights: how a site treats an erased reader's comments.
CREATE TABLE site_privacy (
	site_id TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
	erasure TEXT NOT NULL CHECK (erasure IN ('anonymise', 'remove'))
) STRICT;

