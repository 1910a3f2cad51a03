-- 0008: OpenID Connect sign-in. A site names its provider; each sign-in in
-- progress is a row keyed by a hash of its state (and, once the provider
-- has answered, of the one-time ticket the widget redeems), taken once.

CREATE TABLE site_oidc (
	site_id        text PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
	issuer         text NOT NULL,
	client_id      text NOT NULL,
	client_secret  bytea,
	scopes         text NOT NULL DEFAULT '',      -- space-separated
	provider_name  text NOT NULL DEFAULT '',
	moderators     boolean NOT NULL DEFAULT false, -- the site's moderators may sign in with it
	staff_subjects jsonb NOT NULL DEFAULT '{}',    -- provider subject → staff user id
	updated        timestamptz NOT NULL
);

CREATE TABLE oidc_logins (
	key_hash text PRIMARY KEY,           -- SHA-256 of the state or the ticket, hex
	site_id  text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
	purpose  text NOT NULL,              -- reader, moderator, ticket
	binder   text NOT NULL DEFAULT '',   -- SHA-256 of the browser's binding cookie, hex
	nonce    text NOT NULL DEFAULT '',
	verifier text NOT NULL DEFAULT '',   -- the PKCE code verifier
	origin   text NOT NULL DEFAULT '',   -- the embedding page's origin (readers)
	user_id  text NOT NULL DEFAULT '',   -- tickets: the signed-in reader
	created  timestamptz NOT NULL,
	expires  timestamptz NOT NULL
);

CREATE INDEX oidc_logins_expires ON oidc_logins (expires);

-- A reader's data rights: how a site treats an erased reader's comments.
CREATE TABLE site_privacy (
	site_id text PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
	erasure text NOT NULL CHECK (erasure IN ('anonymise', 'remove'))
);

