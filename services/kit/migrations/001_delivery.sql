-- Rows the broker refuses for good (too large, invalid) are set aside instead of blocking the
-- relay for every other case; they stay in the stream with the reason, for an operator.
ALTER TABLE events ADD COLUMN set_aside_at timestamptz, ADD COLUMN set_aside_reason text;
DROP INDEX events_unpublished;
CREATE INDEX events_to_publish ON events (position) WHERE published_at IS NULL AND set_aside_at IS NULL;

-- A dead letter keeps the whole message, so it can be re-driven through the same handler once
-- the cause is fixed; one row per (group, topic, partition, offset), however often it was tried.
ALTER TABLE dead_letters
    ADD COLUMN consumer_group text,
    ADD COLUMN message_key    bytea,
    ADD COLUMN message_value  bytea,
    ADD COLUMN headers        jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN redriven_at    timestamptz,
    ADD COLUMN redrive_error  text;
CREATE UNIQUE INDEX dead_letters_message ON dead_letters (consumer_group, topic, partition, "offset");
CREATE INDEX dead_letters_pending ON dead_letters (id) WHERE redriven_at IS NULL;
