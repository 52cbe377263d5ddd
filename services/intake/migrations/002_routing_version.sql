-- The stream_version of the last routing event applied to each case, so a redelivered older
-- event never overwrites what a newer one set.
ALTER TABLE cases ADD COLUMN routing_version integer NOT NULL DEFAULT 0;
