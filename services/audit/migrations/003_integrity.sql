-- Lost events and forged replays, kept where an inspector can see them.

-- One row per stream_version missing below the highest seen in a (case, source) stream: opened
-- when a higher version is appended, closed (never deleted) when the late event arrives.
CREATE TABLE stream_gaps (
    case_id     uuid NOT NULL,
    source      text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    detected_at timestamptz NOT NULL,
    closed_at   timestamptz,
    PRIMARY KEY (case_id, source, version)
);
CREATE INDEX stream_gaps_open ON stream_gaps (detected_at) WHERE closed_at IS NULL;
-- The highest version seen so far of a stream, read on every append.
CREATE INDEX audit_log_stream ON audit_log (case_id, source, stream_version);

-- Gaps already in the log: detected when the first record above them was recorded; at most
-- 1000 per stream (domain.MAX_MISSING), like the rule that maintains them from now on.
INSERT INTO stream_gaps (case_id, source, version, detected_at)
SELECT case_id, source, version, detected_at FROM (
    SELECT s.case_id, s.source, v.version,
           (SELECT min(a.recorded_at) FROM audit_log a WHERE a.case_id = s.case_id AND a.source = s.source
                                                         AND a.stream_version > v.version) AS detected_at,
           row_number() OVER (PARTITION BY s.case_id, s.source ORDER BY v.version) AS n
    FROM (SELECT case_id, source, max(stream_version) AS top FROM audit_log GROUP BY case_id, source
          HAVING count(DISTINCT stream_version) < max(stream_version)) s
    CROSS JOIN LATERAL generate_series(1, s.top - 1) AS v(version)
    WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.case_id = s.case_id AND a.source = s.source
                                                  AND a.stream_version = v.version)
) missing WHERE n <= 1000;

-- A known event_id that came again with other content: refused, never appended, kept here as evidence.
CREATE TABLE replays_refused (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL,
    topic           text NOT NULL,
    partition       integer NOT NULL,
    "offset"        bigint NOT NULL,
    received_at     timestamptz NOT NULL,
    stored_sha256   text NOT NULL,          -- of the envelope in audit_log
    received_sha256 text NOT NULL,          -- of the canonical envelope that came
    received_text   text NOT NULL,          -- that envelope, cut at 16 KiB
    UNIQUE (topic, partition, "offset")     -- a redelivery of the same message is recorded once
);
CREATE INDEX replays_refused_event ON replays_refused (event_id);

CREATE TRIGGER replays_refused_no_update BEFORE UPDATE ON replays_refused
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER replays_refused_no_delete BEFORE DELETE ON replays_refused
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER replays_refused_no_truncate BEFORE TRUNCATE ON replays_refused
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
