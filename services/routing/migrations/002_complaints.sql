-- Complaints and reports (投诉/举报) routing holds for investigation, from intake's ComplaintRegistered,
-- answered here (ComplaintAnswered) in the same transaction as the event.
CREATE TABLE complaints (
    complaint_id     uuid PRIMARY KEY,
    complaint_no     text NOT NULL,
    township_id      text NOT NULL,
    complaint_kind   text NOT NULL,
    subject          text NOT NULL,
    content          text NOT NULL,
    department_code  text,            -- investigates beside the centre head; NULL: the centre head alone
    about_staff_id   text,            -- may never answer it
    about_case_id    uuid,
    anonymous        boolean NOT NULL,
    complainant_name text,
    registered_at    timestamptz NOT NULL,
    answer_due       timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('open', 'answered')),
    answer           text,
    upheld           boolean,
    answered_by      text,
    answered_at      timestamptz,
    on_time          boolean
);
-- The centre head's list: a township's open complaints first, by answer_due.
CREATE INDEX complaints_township ON complaints (township_id, status, answer_due);
