-- Matters that are not catalogue cases (咨询, 投诉/举报, 转介): each is its own stream in the events
-- table; consultations and complaints also get a row here for the heads' counts and staff's look-ups.
CREATE TABLE consultations (
    consultation_id        uuid PRIMARY KEY,
    township_id            text NOT NULL,
    logged_at              timestamptz NOT NULL,
    day                    date NOT NULL,        -- local day (Asia/Shanghai) it was logged on
    channel                text NOT NULL,
    item_code              text,
    department_code        text,
    question               text NOT NULL,
    answer                 text NOT NULL,
    first_contact_staff_id text
);
CREATE INDEX consultations_township_day ON consultations (township_id, day, department_code);

-- Per township and local day, so complaint numbers read QS-T-20261123-0001.
CREATE TABLE complaint_counters (
    township_id text NOT NULL,
    day         date NOT NULL,
    last_no     integer NOT NULL,
    PRIMARY KEY (township_id, day)
);

-- Intake's read model of each complaint: registered here, answered by routing (ComplaintAnswered).
CREATE TABLE complaints (
    complaint_id           uuid PRIMARY KEY,
    complaint_no           text NOT NULL UNIQUE,
    township_id            text NOT NULL,
    complaint_kind         text NOT NULL CHECK (complaint_kind IN ('complaint', 'report')),
    subject                text NOT NULL,
    department_code        text,
    about_staff_id         text,
    about_case_id          uuid,
    anonymous              boolean NOT NULL,
    complainant_name       text,
    registered_at          timestamptz NOT NULL,
    answer_due             timestamptz NOT NULL,
    first_contact_staff_id text,
    status                 text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered')),
    answered_at            timestamptz,
    upheld                 boolean,
    on_time                boolean
);
CREATE INDEX complaints_township ON complaints (township_id, registered_at DESC);

-- A complainant's phone number takes the same erasable path as an applicant's: case_contacts,
-- keyed by the complaint's id. Its owner is a case or a complaint now, so the foreign key to
-- cases becomes a check against both (nothing deletes either, so a check on write suffices).
ALTER TABLE case_contacts DROP CONSTRAINT case_contacts_case_id_fkey;
CREATE FUNCTION case_contact_has_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cases WHERE case_id = NEW.case_id)
       AND NOT EXISTS (SELECT 1 FROM complaints WHERE complaint_id = NEW.case_id) THEN
        RAISE foreign_key_violation USING MESSAGE = format('case_contacts.case_id %s is neither a case nor a complaint', NEW.case_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER case_contacts_owner BEFORE INSERT OR UPDATE OF case_id ON case_contacts
    FOR EACH ROW EXECUTE FUNCTION case_contact_has_owner();
