-- The metrics loop counts set-aside rows every few seconds; without this index that count would
-- read the whole event stream. Set-aside rows are rare, so the index stays tiny.
CREATE INDEX events_set_aside ON events (position) WHERE set_aside_at IS NOT NULL;
