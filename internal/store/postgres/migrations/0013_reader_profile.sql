-- 0013: a reader's picture, from the publisher's SSO token or the OpenID
-- provider (an https URL, shown as their avatar), and the time before which
-- their session cookies no longer count: "sign out everywhere", a ban and a
-- suspension move it to now, revoking every session issued before on every
-- device and every instance (the cookie carries its issue time). own_name:
-- the reader chose their display name, which their sign-ins then keep.
ALTER TABLE users ADD COLUMN picture text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sessions_after timestamptz; -- NULL for none
ALTER TABLE users ADD COLUMN own_name boolean NOT NULL DEFAULT false;
