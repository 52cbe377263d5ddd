-- One row per case stream holding its latest version (ADR 38). An append bumps it with
-- INSERT … ON CONFLICT DO UPDATE, which locks just that row until commit: appends to one case
-- queue behind each other and get the next versions, appends to other cases run side by side
-- (they used to queue behind LOCK TABLE events). Filled here from the events already stored.
CREATE TABLE event_streams (
    case_id uuid PRIMARY KEY,
    version integer NOT NULL CHECK (version >= 0)  -- 0: a first append refused (see append)
);
INSERT INTO event_streams (case_id, version)
SELECT case_id, max(stream_version) FROM events GROUP BY case_id;
