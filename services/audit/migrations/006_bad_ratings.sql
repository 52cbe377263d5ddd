-- The bad-rating ledger (差评台账, ADR 37): one row per bad rating with its verification visit (回访核实),
-- rectification (整改) and appeal (申诉复核), folded from the log like the rest of the read model. Columns stay
-- null until their event arrives; due dates are the county's, from FollowUpOpened (null until it is seen).
CREATE TABLE audit_bad_ratings (
    rating_event_id          uuid PRIMARY KEY,
    case_id                  uuid,
    case_no                  text,
    township_id              text,
    department_code          text,
    owner_staff_id           text,
    score                    smallint,        -- null while only a second rating or a loop event has been seen
    rating_round             smallint NOT NULL DEFAULT 1,
    follows_rating_id        uuid,
    comment                  text,
    rated_at                 timestamptz,
    opened_at                timestamptz,
    opened_event_id          uuid,
    visit_due                timestamptz,
    rectification_due        timestamptz,
    visited_at               timestamptz,
    visit_event_id           uuid,
    visit_on_time            boolean,
    last_visit_at            timestamptz,
    reached                  boolean,
    means                    text,
    resident_said            text,
    complaint_holds          boolean,
    rectified_at             timestamptz,
    rectification_event_id   uuid,
    rectification_on_time    boolean,
    measures                 text,
    answer_to_resident       text,
    appealed_at              timestamptz,
    appeal_event_id          uuid,
    appeal_ground            text,
    appeal_reason            text,
    appellant_staff_id       text,
    appeal_decided_at        timestamptz,
    appeal_decision_event_id uuid,
    appeal_upheld            boolean,
    appeal_decided_by        text,
    appeal_decision_reason   text,
    second_score             smallint,
    second_rated_at          timestamptz,
    second_rating_event_id   uuid
);
-- The ledger and the two anomaly lists page on (rated_at, rating_event_id::text).
CREATE INDEX audit_bad_ratings_rated ON audit_bad_ratings (rated_at, (rating_event_id::text)) WHERE score IS NOT NULL;
CREATE INDEX audit_bad_ratings_township ON audit_bad_ratings (township_id, rated_at) WHERE score IS NOT NULL;

-- Which ratings of a case an upheld appeal removed (its rating_excluded is whether the first is among them).
ALTER TABLE audit_cases ADD COLUMN excluded_rating_ids uuid[] NOT NULL DEFAULT '{}';

-- Bad ratings the log already holds when this migration runs (none of the loop's events existed before it).
INSERT INTO audit_bad_ratings (rating_event_id, case_id, township_id, score, rating_round, comment, rated_at)
SELECT l.event_id, l.case_id, l.township_id, ((l.envelope::jsonb) -> 'payload' ->> 'score')::smallint,
       coalesce(((l.envelope::jsonb) -> 'payload' ->> 'rating_round')::smallint, 1),
       (l.envelope::jsonb) -> 'payload' ->> 'comment', l.occurred_at
  FROM audit_log l JOIN audit_read_model_state s ON l.seq <= s.folded_seq
 WHERE l.event_type = 'CaseRated' AND ((l.envelope::jsonb) -> 'payload' ->> 'score')::int <= 2
ON CONFLICT (rating_event_id) DO NOTHING;
