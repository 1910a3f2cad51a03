-- 0005: per-site tuned toxicity models live in the database, so that every
-- instance scores a site's comments with the same model. Only a site's
-- current model is kept; version grows by one with every save, and each save
-- records a site.model event that tells the other instances to load it.
-- (0004 is another change's number.)

CREATE TABLE site_models (
	site_id   text PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
	version   bigint NOT NULL CHECK (version > 0),
	model     bytea NOT NULL,              -- weights and calibration, toxicity's site-model format
	decisions integer NOT NULL,            -- moderator decisions it was tuned on
	base      text NOT NULL,               -- the base model it adapts, "" when unknown
	created   timestamptz NOT NULL
);
