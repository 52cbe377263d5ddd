CREATE TABLE departments (
    department_code text PRIMARY KEY,
    name            text NOT NULL
);

CREATE TABLE staff (
    staff_id        text PRIMARY KEY,
    township_id     text NOT NULL,
    department_code text NOT NULL REFERENCES departments,
    name            text NOT NULL,
    on_duty         boolean NOT NULL DEFAULT true   -- 在岗: only staff at their post get new cases
);
CREATE INDEX staff_unit ON staff (township_id, department_code);

-- Routing's state of each case, written in the same transaction as the events that change it.
CREATE TABLE cases (
    case_id           uuid PRIMARY KEY,
    case_no           text NOT NULL,
    township_id       text NOT NULL,
    item_code         text NOT NULL,
    item_name         text NOT NULL,
    department_code   text NOT NULL,
    department_name   text NOT NULL,
    staff_id          text,
    status            text NOT NULL CHECK (status IN ('assigned', 'completed')),
    promised_deadline timestamptz NOT NULL,
    transfer_count    integer NOT NULL DEFAULT 0,
    breached_at       timestamptz,           -- set once, with the one DeadlineBreached of the case
    completed_at      timestamptz,
    result            text,
    note              text NOT NULL DEFAULT '',
    on_time           boolean
);
-- What the deadline scanner looks for: open, not yet flagged, by deadline.
CREATE INDEX cases_due ON cases (promised_deadline) WHERE status = 'assigned' AND breached_at IS NULL;
CREATE INDEX cases_staff_open ON cases (staff_id) WHERE status = 'assigned';
CREATE INDEX cases_township_open ON cases (township_id, promised_deadline DESC) WHERE status = 'assigned';
