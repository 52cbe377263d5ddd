-- The hall's queue tickets (取号/叫号). Each ticket is its own event stream (case_id = ticket_id);
-- hall_tickets is its read model, kept in the same transaction as the events.

-- One letter per township and queue, for good: the general window is A, departments B, C …
CREATE TABLE hall_queue_letters (
    township_id text NOT NULL,
    queue       text NOT NULL,
    letter      char(1) NOT NULL,
    PRIMARY KEY (township_id, queue),
    UNIQUE (township_id, letter)
);

-- Ticket numbers start again at 001 every day in every queue.
CREATE TABLE hall_ticket_counters (
    township_id text NOT NULL,
    day         date NOT NULL,
    letter      char(1) NOT NULL,
    last_no     integer NOT NULL,
    PRIMARY KEY (township_id, day, letter)
);

CREATE TABLE hall_tickets (
    ticket_id       uuid PRIMARY KEY,
    township_id     text NOT NULL,
    day             date NOT NULL,           -- the day it was taken, Asia/Shanghai
    queue           text NOT NULL,
    ticket_no       text NOT NULL,
    status          text NOT NULL CHECK (status IN ('issued', 'called', 'started', 'ended')),
    issued_at       timestamptz NOT NULL,
    called_at       timestamptz,             -- the latest call
    calls           integer NOT NULL DEFAULT 0,
    window_no       text,
    staff_id        text,
    started_at      timestamptz,
    ended_at        timestamptz,
    outcome         text CHECK (outcome IN ('served', 'no_show')),
    wait_seconds    integer,                 -- to the start of service
    service_seconds integer,
    case_ids        uuid[] NOT NULL DEFAULT '{}',
    UNIQUE (township_id, day, ticket_no)
);
-- The display board and "call next": today's waiting tickets in the order they were taken.
CREATE INDEX hall_tickets_waiting ON hall_tickets (township_id, day, queue, issued_at) WHERE status = 'issued';
-- Who is at which window now.
CREATE INDEX hall_tickets_at_windows ON hall_tickets (township_id, day, window_no) WHERE status IN ('called', 'started');
