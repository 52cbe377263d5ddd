-- How to reach each case's applicant: the only place intake keeps a phone number. It leaves the
-- service only on the compacted contact topic; `version` > `published_version` means the current
-- state (the number, or its erasure as a tombstone) still has to be published there.
CREATE TABLE case_contacts (
    case_id           uuid PRIMARY KEY REFERENCES cases (case_id),
    township_id       text NOT NULL,
    phone             text,               -- E.164; NULL once erased
    version           integer NOT NULL,
    recorded_at       timestamptz NOT NULL,
    erased_at         timestamptz,
    published_version integer NOT NULL DEFAULT 0,
    CHECK ((phone IS NULL) = (erased_at IS NOT NULL))
);
CREATE INDEX case_contacts_unpublished ON case_contacts (recorded_at) WHERE version > published_version;
