-- The bad-rating loop (差评闭环): every rating routing heard of a case, and a follow-up for each bad one
-- (score 1 or 2) with its verification visit (回访核实), rectification (整改) and appeal (申诉复核).
-- Its two deadlines are timers in deadline_timers keyed by the rating's event id (follow_up:visit,
-- follow_up:rectification), fired by the scan with the follow-up's row locked.
CREATE TABLE case_ratings (
    rating_event_id uuid PRIMARY KEY,   -- the CaseRated's event_id: a redelivery is heard once
    case_id         uuid NOT NULL,
    score           integer NOT NULL CHECK (score BETWEEN 1 AND 5),
    rating_round    integer NOT NULL,
    rated_at        timestamptz NOT NULL
);
CREATE INDEX case_ratings_case ON case_ratings (case_id);

CREATE TABLE follow_ups (
    rating_event_id          uuid PRIMARY KEY REFERENCES case_ratings (rating_event_id),
    case_id                  uuid NOT NULL,
    case_no                  text NOT NULL,
    township_id              text NOT NULL,
    department_code          text NOT NULL,
    item_name                text NOT NULL,
    score                    integer NOT NULL CHECK (score BETWEEN 1 AND 2),
    rating_round             integer NOT NULL,
    owner_staff_id           text,
    rated_at                 timestamptz NOT NULL,
    visit_due                timestamptz NOT NULL,
    rectification_due        timestamptz NOT NULL,
    visit_limit_days         integer NOT NULL,
    rectification_limit_days integer NOT NULL,
    closed                   boolean NOT NULL DEFAULT false,  -- nothing left to do: visited, and rectified or appeal upheld
    visited_at               timestamptz,
    reached                  boolean,
    means                    text,
    resident_said            text,
    complaint_holds          boolean,
    visited_by               text,
    visit_on_time            boolean,
    rectified_at             timestamptz,
    measures                 text,
    evidence                 text[] NOT NULL DEFAULT '{}',
    answer_to_resident       text,
    rate_again               boolean,
    rectified_by             text,
    rectification_on_time    boolean,
    appealed_at              timestamptz,
    appeal_ground            text,
    appeal_reason            text,
    appellant_staff_id       text,
    appeal_decided_at        timestamptz,
    appeal_upheld            boolean,
    appeal_decision_reason   text,
    appeal_decided_by        text,
    warned_keys              text[] NOT NULL DEFAULT '{}',
    breached_keys            text[] NOT NULL DEFAULT '{}'
);
-- The owner's and the centre head's lists: a township's open follow-ups.
CREATE INDEX follow_ups_open ON follow_ups (township_id, owner_staff_id) WHERE NOT closed;
CREATE INDEX follow_ups_case ON follow_ups (case_id);
