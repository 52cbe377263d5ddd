-- The deadline clock (暂停计时, 延期, provisional calendar), transfers' path, joint shares and escalation.
ALTER TABLE cases
    ADD COLUMN kind                text NOT NULL DEFAULT 'promised',
    ADD COLUMN clock_start         timestamptz,
    ADD COLUMN limit_days          integer NOT NULL DEFAULT 0,
    ADD COLUMN legal_limit_days    integer,
    ADD COLUMN paused_working_days integer NOT NULL DEFAULT 0,
    ADD COLUMN paused_since        timestamptz,
    ADD COLUMN pause_reason        text,
    ADD COLUMN extension_days      integer NOT NULL DEFAULT 0,
    ADD COLUMN deadline_provisional boolean NOT NULL DEFAULT false,
    ADD COLUMN path                text[] NOT NULL DEFAULT '{}',
    ADD COLUMN flagged             boolean NOT NULL DEFAULT false,
    ADD COLUMN warned_keys         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN breached_keys       text[] NOT NULL DEFAULT '{}',
    ADD COLUMN escalated_to        text,
    ADD COLUMN escalation_result   text,
    ADD COLUMN tasks               jsonb NOT NULL DEFAULT '[]';
UPDATE cases SET breached_keys = '{case}' WHERE breached_at IS NOT NULL;
CREATE INDEX cases_provisional ON cases (case_id) WHERE status = 'assigned' AND deadline_provisional;

-- Durable timers: one row per alert of a deadline, found by due time. The scan reads only what is
-- due (the partial index), so its cost follows what falls due, not how many deadlines are open.
-- A row fires once (fired_at, in the transaction that appends the event) and is never armed again.
CREATE TABLE deadline_timers (
    case_id       uuid NOT NULL,        -- a case, or a complaint (its id is its stream)
    deadline_key  text NOT NULL,        -- case | material:<code> | complaint | follow_up
    kind          text NOT NULL CHECK (kind IN ('warning', 'breach')),
    due_at        timestamptz NOT NULL,
    deadline      timestamptz NOT NULL,
    deadline_kind text NOT NULL,
    subject       text NOT NULL DEFAULT '',
    fired_at      timestamptz,
    PRIMARY KEY (case_id, deadline_key, kind)
);
CREATE INDEX deadline_timers_due ON deadline_timers (due_at) WHERE fired_at IS NULL;

-- Open cases not yet breached keep their one breach, now as a timer.
INSERT INTO deadline_timers (case_id, deadline_key, kind, due_at, deadline, deadline_kind, subject)
SELECT case_id, 'case', 'breach', promised_deadline + interval '1 microsecond', promised_deadline, 'case', item_name
  FROM cases WHERE status = 'assigned' AND breached_at IS NULL;
DROP INDEX cases_due;
