-- Who is there: the staff directory county IT maintains, presence set by staff (去向公示), weekly rosters
-- (排班), absences noticed during duty hours, and the staff contacts published on the compacted topic.
ALTER TABLE staff
    ADD COLUMN role        text NOT NULL DEFAULT 'staff' CHECK (role IN ('staff', 'centre_head')),
    ADD COLUMN window_no   text,
    ADD COLUMN skills      text[] NOT NULL DEFAULT '{}',   -- item codes of other departments (一专多能)
    ADD COLUMN active      boolean NOT NULL DEFAULT true,
    ADD COLUMN presence    text NOT NULL DEFAULT 'on_duty' CHECK (presence IN ('on_duty', 'away', 'off_duty')),
    ADD COLUMN away_reason text,
    ADD COLUMN away_note   text NOT NULL DEFAULT '',
    ADD COLUMN away_until  timestamptz,
    ADD COLUMN presence_at timestamptz;
-- `presence` replaces the flag: away and off duty are both "not at the post", for different reasons.
ALTER TABLE staff DROP COLUMN on_duty;
CREATE INDEX staff_township ON staff (township_id, staff_id);

-- The phones the presence board shows: a department's office line, or ('' department) the centre's enquiry line.
-- Never a personal mobile number.
CREATE TABLE office_lines (
    township_id     text NOT NULL,
    department_code text NOT NULL,
    phone           text NOT NULL,
    PRIMARY KEY (township_id, department_code)
);

-- How notify reaches a staff member: a work mobile, published keyed by staff id; phone NULL once inactive
-- (a tombstone). `version` > `published_version` means the current state is not on the topic yet.
CREATE TABLE staff_contacts (
    staff_id          text PRIMARY KEY,
    township_id       text NOT NULL,
    department_code   text NOT NULL,
    role              text NOT NULL,
    name              text NOT NULL,
    phone             text,
    version           integer NOT NULL DEFAULT 1,
    published_version integer NOT NULL DEFAULT 0,
    recorded_at       timestamptz NOT NULL
);
CREATE INDEX staff_contacts_unpublished ON staff_contacts (recorded_at) WHERE version > published_version;

-- One township's duty days (轮流值班): who is on duty, and whether every window must be staffed.
CREATE TABLE roster_days (
    township_id text NOT NULL,
    duty_date   date NOT NULL,
    week_of     date NOT NULL,
    day_kind    text NOT NULL CHECK (day_kind IN ('ordinary', 'market_day', 'office_day')),
    staff_ids   text[] NOT NULL,
    PRIMARY KEY (township_id, duty_date)
);

-- Absences during duty hours, recorded once per staff member, day and kind, with their StaffAbsenceRecorded.
CREATE TABLE staff_absences (
    staff_id    text NOT NULL,
    duty_date   date NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('not_at_post', 'overdue_return')),
    township_id text NOT NULL,
    noticed_at  timestamptz NOT NULL,
    PRIMARY KEY (staff_id, duty_date, kind)
);
CREATE INDEX staff_absences_township ON staff_absences (township_id, duty_date DESC);
