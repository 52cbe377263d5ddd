-- Contact details of each case, taken from its CaseSubmitted: the only event that carries the phone.
CREATE TABLE case_contacts (
    case_id         uuid PRIMARY KEY,
    township_id     text NOT NULL,
    case_no         text NOT NULL,
    item_name       text NOT NULL,
    department_code text NOT NULL,
    applicant_name  text NOT NULL,
    phone           text NOT NULL,          -- E.164; never leaves this schema except towards the provider
    received_at     timestamptz NOT NULL
);

-- Duty phones per township and department; department_code NULL is the centre head (fallback).
CREATE TABLE duty_contacts (
    township_id     text NOT NULL,
    department_code text,
    name            text NOT NULL,
    phone           text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (township_id, department_code)
);

-- Every SMS, queued in the inbox transaction of the event that caused it.
CREATE TABLE messages (
    message_id          uuid PRIMARY KEY,   -- also the provider's idempotency key
    case_id             uuid NOT NULL,
    township_id         text NOT NULL,
    trigger_event_id    uuid NOT NULL,
    recipient_kind      text NOT NULL CHECK (recipient_kind IN ('resident', 'staff')),
    phone               text NOT NULL,
    template_code       text NOT NULL,
    text                text NOT NULL,
    status              text NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text,
    next_attempt_at     timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    sent_at             timestamptz,
    provider            text,
    provider_message_id text,
    UNIQUE (trigger_event_id, recipient_kind)  -- a redelivered event never queues twice
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'queued';
CREATE INDEX messages_case ON messages (case_id, created_at);

-- What the development provider "sent"; idempotent on the message id like a real provider.
CREATE TABLE dev_sms_log (
    message_id  uuid PRIMARY KEY,
    phone       text NOT NULL,
    text        text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
