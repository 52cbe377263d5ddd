-- Sending rules (services/notify/send_rules.py). Once per (trigger event, recipient, template): a
-- redelivered event, a restart or a second sender never queue the same SMS twice, while one event
-- may still tell one person two different things.
ALTER TABLE messages DROP CONSTRAINT messages_one_per_recipient;
ALTER TABLE messages ADD CONSTRAINT messages_once_per_event_recipient_template
    UNIQUE (trigger_event_id, recipient_id, template_code);

-- Why a queued message is not due yet (NULL: it is, or it waits for a retry after a failed attempt).
ALTER TABLE messages ADD COLUMN waiting_for text
    CHECK (waiting_for IN ('quiet_hours', 'merge_window', 'rate_limit'));
-- The message whose provider call carried this one (its own id when it went alone), and that call's
-- text: several messages to one number close together go out merged in one SMS.
ALTER TABLE messages ADD COLUMN sent_in uuid;
ALTER TABLE messages ADD COLUMN sent_text text;
-- One row per provider call and number: what the per-number limits count.
CREATE INDEX messages_calls_to ON messages (phone, sent_at) WHERE sent_in = message_id;
