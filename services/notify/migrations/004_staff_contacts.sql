-- Staff numbers come from routing's compacted staff-contacts topic (key = staff id) instead of a
-- duty directory shipped with notify: one row per staff member, the highest version seen. A
-- tombstone (the staff member left) clears the number; only a higher version brings one back.
CREATE TABLE staff_contacts (
    staff_id        text PRIMARY KEY,
    township_id     text NOT NULL,
    department_code text NOT NULL,
    role            text NOT NULL CHECK (role IN ('staff', 'centre_head')),
    name            text NOT NULL,
    phone           text,                -- E.164; NULL once the staff member left
    version         integer NOT NULL,
    left_at         timestamptz,
    CHECK ((phone IS NULL) = (left_at IS NOT NULL))
);
CREATE INDEX staff_contacts_heads ON staff_contacts (township_id) WHERE role = 'centre_head';
DROP TABLE duty_contacts;

-- A breach reaches its holder and the township's centre head(s): several staff messages per event,
-- still one per recipient however often the event is delivered.
ALTER TABLE messages ADD COLUMN recipient_id text NOT NULL DEFAULT '';  -- staff id; '' for the resident
ALTER TABLE messages DROP CONSTRAINT messages_trigger_event_id_recipient_kind_key;
ALTER TABLE messages ADD CONSTRAINT messages_one_per_recipient UNIQUE (trigger_event_id, recipient_kind, recipient_id);
CREATE INDEX messages_staff ON messages (recipient_id) WHERE recipient_kind = 'staff';

-- Staff who should have been told and could not be: no number known for the holder, or no centre
-- head with a number in the township. Kept with the event id, never silently dropped.
CREATE TABLE unreachable_notices (
    trigger_event_id uuid NOT NULL,
    recipient_id     text NOT NULL,      -- staff id, or 'centre_head' when the township has none reachable
    case_id          uuid NOT NULL,
    township_id      text NOT NULL,
    template_code    text NOT NULL,
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (trigger_event_id, recipient_id)
);
