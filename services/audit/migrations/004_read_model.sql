-- The inspectors' read model (ADR 33): facts folded from the audit log by the consumer, in the same
-- transaction as each record, so a query never sees a record without its facts or facts without it.
-- Nothing here is evidence: every row can be rebuilt from audit_log (the watermark set to 0).

-- How far the log has been folded; the consumer folds live only when this is the head.
CREATE TABLE audit_read_model_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    folded_seq  bigint NOT NULL CHECK (folded_seq >= 0)
);
INSERT INTO audit_read_model_state (id, folded_seq) VALUES (1, 0);

-- One row per case (办件): what inspectors filter and judge on. *_rank columns keep folding
-- independent of arrival order (the value of the event with the highest routing stream_version wins).
CREATE TABLE audit_cases (
    case_id              uuid PRIMARY KEY,
    case_no              text,
    township_id          text,
    item_code            text,
    item_name            text,
    kind                 text,
    channel              text,
    department_code      text,
    staff_id             text,
    holder_rank          integer NOT NULL DEFAULT -1,
    first_contact_staff_id text,
    received_at          timestamptz,
    submitted_at         timestamptz,
    submitted_event_id   uuid,
    promised_deadline    timestamptz,
    deadline_rank        integer NOT NULL DEFAULT -1,
    completed_at         timestamptz,
    completed_event_id   uuid,
    completed_by         text,
    result               text,
    on_time              boolean,
    breached_at          timestamptz,
    breached_event_id    uuid,
    breached_staff_id    text,
    ping_pong_at         timestamptz,
    ping_pong_event_id   uuid,
    ping_pong_path       text[],
    transfers            integer NOT NULL DEFAULT 0,
    notices              integer NOT NULL DEFAULT 0,
    second_notices       integer NOT NULL DEFAULT 0,
    second_notice_event_id uuid,
    second_notice_at     timestamptz,
    rejected_at          timestamptz,
    rejected_event_id    uuid,
    rejection_approved_by text,
    rejection_proposed_by text,
    resident_told_at     timestamptz,
    resident_told_event_id uuid,
    rating_score         smallint,
    rated_at             timestamptz,
    rating_event_id      uuid,
    rating_excluded      boolean NOT NULL DEFAULT false,
    followed_up_at       timestamptz,
    rectified_at         timestamptz
);
-- Not unique: case numbers are made by intake per township and day, and the log must take whatever came.
CREATE INDEX audit_cases_case_no ON audit_cases (case_no) WHERE case_no IS NOT NULL;
CREATE INDEX audit_cases_township_submitted ON audit_cases (township_id, submitted_at);
CREATE INDEX audit_cases_submitted ON audit_cases (submitted_at);
-- The anomaly lists page on (the moment, case_id::text): each index is on exactly that, with the list's
-- condition as its predicate, so a page is an index range scan whatever the size of the county.
CREATE INDEX audit_cases_overdue ON audit_cases ((coalesce(promised_deadline, breached_at)), (case_id::text))
    WHERE breached_at IS NOT NULL OR on_time = false OR (completed_at IS NULL AND rejected_at IS NULL);
CREATE INDEX audit_cases_ping_pong ON audit_cases (ping_pong_at, (case_id::text)) WHERE ping_pong_at IS NOT NULL;
CREATE INDEX audit_cases_second_notice ON audit_cases (second_notice_at, (case_id::text)) WHERE second_notices > 0;
CREATE INDEX audit_cases_rejected ON audit_cases (rejected_at, (case_id::text)) WHERE rejected_at IS NOT NULL;
CREATE INDEX audit_cases_completed ON audit_cases (completed_at, (case_id::text)) WHERE completed_at IS NOT NULL;
CREATE INDEX audit_cases_bad_rating ON audit_cases (rated_at, (case_id::text)) WHERE rating_score <= 2;
CREATE INDEX audit_cases_rated ON audit_cases (rated_at) WHERE rated_at IS NOT NULL;

-- Every record of the log with the township, department and staff member it names, for paged queries.
CREATE TABLE audit_event_index (
    seq             bigint PRIMARY KEY,
    case_id         uuid NOT NULL,
    township_id     text NOT NULL,
    department_code text,
    staff_id        text,
    event_type      text NOT NULL,
    occurred_at     timestamptz NOT NULL
);
CREATE INDEX audit_event_index_time ON audit_event_index (occurred_at, seq);
CREATE INDEX audit_event_index_case ON audit_event_index (case_id, occurred_at, seq);
CREATE INDEX audit_event_index_township ON audit_event_index (township_id, occurred_at, seq);
CREATE INDEX audit_event_index_department ON audit_event_index (department_code, occurred_at, seq)
    WHERE department_code IS NOT NULL;
CREATE INDEX audit_event_index_staff ON audit_event_index (staff_id, occurred_at, seq) WHERE staff_id IS NOT NULL;
CREATE INDEX audit_event_index_type ON audit_event_index (event_type, occurred_at, seq);

-- Staff as county IT recorded them (StaffRecorded; the highest stream_version wins).
CREATE TABLE audit_staff (
    staff_id        text PRIMARY KEY,
    name            text NOT NULL,
    role            text NOT NULL,
    department_code text NOT NULL,
    township_id     text NOT NULL,
    version         integer NOT NULL
);

-- Each rostered day of a township (RosterSet; the latest roster of the week wins).
CREATE TABLE audit_roster_days (
    township_id text NOT NULL,
    duty_date   date NOT NULL,
    day_kind    text NOT NULL,
    staff_ids   text[] NOT NULL,
    version     integer NOT NULL,
    PRIMARY KEY (township_id, duty_date)
);

-- Absences from duty without a reason (StaffAbsenceRecorded).
CREATE TABLE audit_absences (
    event_id    uuid PRIMARY KEY,
    seq         bigint NOT NULL,
    staff_id    text NOT NULL,
    township_id text NOT NULL,
    duty_date   date NOT NULL,
    kind        text NOT NULL,
    noticed_at  timestamptz NOT NULL
);
CREATE INDEX audit_absences_day ON audit_absences (township_id, duty_date);
CREATE INDEX audit_absences_staff ON audit_absences (staff_id);

-- Complaints and reports (投诉举报): when registered, when the answer was due, when answered.
CREATE TABLE audit_complaints (
    complaint_id        uuid PRIMARY KEY,
    complaint_no        text,
    township_id         text,
    subject             text,
    department_code     text,
    about_staff_id      text,
    registered_at       timestamptz,
    registered_event_id uuid,
    answer_due          timestamptz,
    answered_at         timestamptz,
    answered_event_id   uuid,
    upheld              boolean
);
CREATE INDEX audit_complaints_due ON audit_complaints (answer_due, (complaint_id::text)) WHERE answered_at IS NULL;
