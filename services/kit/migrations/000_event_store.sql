-- Shared by every service, applied in its own schema before the service's migrations.
-- `events` is both the service's event stream and its outbox; `processed_events` is the inbox.
CREATE TABLE events (
    position       bigserial PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    case_id        uuid NOT NULL,
    stream_version integer NOT NULL CHECK (stream_version >= 1),
    event_type     text NOT NULL,
    topic          text NOT NULL,
    body           text NOT NULL,          -- the exact JSON published, so a republish is byte-identical
    traceparent    text,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    UNIQUE (case_id, stream_version)       -- optimistic concurrency per case stream
);
CREATE INDEX events_unpublished ON events (position) WHERE published_at IS NULL;

CREATE TABLE processed_events (
    event_id     uuid PRIMARY KEY,
    topic        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    "offset"     bigint NOT NULL,
    reason       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
