-- Phone numbers now come from the compacted contact topic, not from CaseSubmitted: one row per
-- case, the highest version seen; an erasure (a tombstone on the topic) clears the number for
-- good and a later record never brings it back.
CREATE TABLE resident_phones (
    case_id   uuid PRIMARY KEY,
    phone     text,                -- E.164; NULL once erased
    version   integer NOT NULL,
    erased_at timestamptz,
    CHECK ((phone IS NULL) = (erased_at IS NOT NULL))
);
INSERT INTO resident_phones (case_id, phone, version) SELECT case_id, phone, 1 FROM case_contacts;
ALTER TABLE case_contacts DROP COLUMN phone;
COMMENT ON TABLE case_contacts IS 'What notify knows of each case from its CaseSubmitted; the number is in resident_phones.';
