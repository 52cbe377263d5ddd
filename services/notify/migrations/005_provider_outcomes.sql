-- Real providers: what each attempt came to, in GOV.UK Notify's failure classes, and the carriers'
-- delivery receipts (状态报告).
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN ('queued', 'sent', 'delivered', 'failed'));
ALTER TABLE messages
    ADD COLUMN failure_kind         text CHECK (failure_kind IN ('temporary', 'permanent', 'technical')),
    ADD COLUMN provider_code        text,         -- the provider's last error or receipt code
    ADD COLUMN delivered_at         timestamptz,  -- the carrier's receipt: delivered (or, if failed, reported)
    -- A send that timed out: the provider may have the message. Never sent again before that provider
    -- says it has not (services/notify/sender.py).
    ADD COLUMN unconfirmed_provider text,
    ADD COLUMN unconfirmed_since    timestamptz;
CREATE INDEX messages_provider_id ON messages (provider, provider_message_id) WHERE provider_message_id IS NOT NULL;

-- The template's parameters as text, for providers that send their own pre-registered templates; a
-- table of its own, written with the message, so the queue's rows are never rewritten for it.
CREATE TABLE message_params (
    message_id uuid PRIMARY KEY REFERENCES messages (message_id) ON DELETE CASCADE,
    params     jsonb NOT NULL
);
