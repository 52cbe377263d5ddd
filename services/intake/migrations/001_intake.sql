CREATE TABLE townships (
    township_id text PRIMARY KEY,
    name        text NOT NULL,
    case_prefix text NOT NULL UNIQUE
);

CREATE TABLE service_items (
    item_code           text PRIMARY KEY,
    name                text NOT NULL,
    category            text NOT NULL,
    kind                text NOT NULL,
    department_code     text NOT NULL,
    handling_level      text NOT NULL,
    legal_limit_days    integer NOT NULL,
    promised_limit_days integer NOT NULL CHECK (promised_limit_days <= legal_limit_days),
    materials           jsonb NOT NULL
);

-- Per township and local day, so case numbers read QS-20261123-0001.
CREATE TABLE case_counters (
    township_id text NOT NULL,
    day         date NOT NULL,
    last_no     integer NOT NULL,
    PRIMARY KEY (township_id, day)
);

-- Read model of intake's cases, kept in the same transaction as the events that change it.
CREATE TABLE cases (
    case_id             uuid PRIMARY KEY,
    case_no             text NOT NULL UNIQUE,
    township_id         text NOT NULL,
    item_code           text NOT NULL,
    item_name           text NOT NULL,
    department_code     text NOT NULL,
    channel             text NOT NULL,
    applicant_name      text NOT NULL,
    applicant_id_masked text NOT NULL,
    status              text NOT NULL,
    promised_deadline   timestamptz NOT NULL,
    submitted_at        timestamptz NOT NULL,
    completed_at        timestamptz,
    result              text,
    overdue             boolean NOT NULL DEFAULT false,
    rating_score        integer,
    rated_at            timestamptz
);
CREATE INDEX cases_township ON cases (township_id, submitted_at DESC);
