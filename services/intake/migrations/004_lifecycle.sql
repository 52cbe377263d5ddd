-- A case now exists from the moment its materials arrive, before it is accepted (受理):
-- status received | materials_requested | submitted | assigned | completed | rejected.
ALTER TABLE cases
    ADD COLUMN catalogue_version      text,
    ADD COLUMN kind                   text,
    ADD COLUMN village_id             text,
    ADD COLUMN agent_id               text,
    ADD COLUMN first_contact_staff_id text,
    ADD COLUMN received_at            timestamptz,
    ADD COLUMN notice_due             timestamptz,
    ADD COLUMN notices_given          integer NOT NULL DEFAULT 0,
    ADD COLUMN second_notices         integer NOT NULL DEFAULT 0,
    ADD COLUMN deemed_accepted        boolean NOT NULL DEFAULT false,
    ADD COLUMN accepted_at            timestamptz,
    ADD COLUMN rejected_at            timestamptz,
    ADD COLUMN delivered_at           timestamptz;
ALTER TABLE cases ALTER COLUMN promised_deadline DROP NOT NULL;  -- none before acceptance
UPDATE cases SET accepted_at = submitted_at;
-- Materials received for review wait for a notice or an acceptance; the art. 32 scanner reads this.
CREATE INDEX cases_notice_due ON cases (notice_due) WHERE status = 'received';

-- What a case still owes: essential materials of an open notice, or tolerated ones after
-- acceptance. A row leaves the owed set when supplied_at is set; it is never deleted.
CREATE TABLE owed_materials (
    case_id     uuid NOT NULL REFERENCES cases (case_id),
    code        text NOT NULL,
    name        text NOT NULL,
    essential   boolean NOT NULL,
    problem     text NOT NULL CHECK (problem IN ('missing', 'faulty')),
    note        text NOT NULL DEFAULT '',
    notice_no   integer,              -- NULL for a tolerated material
    due         timestamptz,          -- for a tolerated material
    supplied_at timestamptz,
    PRIMARY KEY (case_id, code)
);

-- A resent submission with the same Idempotency-Key returns the case it made.
CREATE TABLE idempotency_keys (
    principal    text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    case_id      uuid NOT NULL REFERENCES cases (case_id),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);
