-- Ratings through the national channels (ADR 21). Which channel a rating came by; never who gave it.
ALTER TABLE cases
    ADD COLUMN rating_channel  text,
    -- The deciding department's name as routing last told it, for the resident's status page.
    ADD COLUMN department_name text;

-- One SMS rating link per case (短信评价链接). The token itself is never stored: only its SHA-256,
-- so the table alone yields no usable link. A reissued link replaces the row, and with it the old token.
CREATE TABLE rating_links (
    case_id     uuid PRIMARY KEY REFERENCES cases (case_id),
    link_id     uuid NOT NULL UNIQUE,
    token_hash  text NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    issued_at   timestamptz NOT NULL,
    issued_by   text NOT NULL,        -- 'system' when issued on completion, else the staff id
    used_at     timestamptz,
    sms_sent_at timestamptz           -- set by whatever hands the link to the SMS sender
);
-- Links still to be sent to the resident.
CREATE INDEX rating_links_unsent ON rating_links (issued_at) WHERE sms_sent_at IS NULL AND used_at IS NULL;
