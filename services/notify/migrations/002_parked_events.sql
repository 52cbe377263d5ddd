-- Routing's events that need the case's contact and arrived before its CaseSubmitted (another
-- topic, no mutual order). Kept here instead of retried, released when the contact arrives.
CREATE TABLE parked_events (
    event_id       uuid PRIMARY KEY,
    case_id        uuid NOT NULL,
    source         text NOT NULL,
    stream_version integer NOT NULL,
    body           text NOT NULL,      -- the event as received; routing's events carry no phone
    parked_at      timestamptz NOT NULL
);
CREATE INDEX parked_events_case ON parked_events (case_id, source, stream_version);
