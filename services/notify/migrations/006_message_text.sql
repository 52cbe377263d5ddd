-- What each message is as carriers bill it and which template wording it came from: the number of
-- SMS parts (70 characters for one, 67 per part of a long one) and `<file version>/<template version>`
-- of deploy/sms/templates.yaml. A message that could not be rendered (a field missing from its event)
-- is kept as failed with the reason and no text.
ALTER TABLE messages ADD COLUMN segments integer NOT NULL DEFAULT 1 CHECK (segments >= 0);
ALTER TABLE messages ADD COLUMN template_version text NOT NULL DEFAULT '';
-- The order messages were queued in: several queued in one transaction share created_at (a released
-- completion after its submission), and the message list shows them in the order they were decided.
ALTER TABLE messages ADD COLUMN queued_seq bigint GENERATED ALWAYS AS IDENTITY;
