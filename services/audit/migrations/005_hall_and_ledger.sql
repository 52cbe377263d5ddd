-- Inspectors read the chain by event type: the access record (AuditQueried), the ledger (AccountabilityRecorded).
CREATE INDEX audit_log_event_type ON audit_log (event_type, seq);

-- The hall's visits, one row per queue ticket, kept from TicketIssued, TicketCalled, ServiceStarted and
-- ServiceEnded in the transaction that chains them. A read model: rebuilt from audit_log at any time.
-- Columns stay null until their event arrives (an event of one ticket may come before the one that issued it).
CREATE TABLE hall_visits (
    ticket_id       uuid PRIMARY KEY,
    township_id     text NOT NULL,
    queue           text,
    issued_at       timestamptz,
    called          boolean NOT NULL DEFAULT false,
    wait_seconds    integer,          -- from taking the ticket to the start of service
    service_seconds integer,          -- from the start to the end of service
    outcome         text              -- served | no_show; null while not ended
);
CREATE INDEX hall_visits_township_issued ON hall_visits (township_id, issued_at);

-- What the log already holds when this migration runs.
INSERT INTO hall_visits (ticket_id, township_id, queue, issued_at, called, wait_seconds, service_seconds, outcome)
SELECT case_id, min(township_id),
       max((envelope::jsonb) -> 'payload' ->> 'queue') FILTER (WHERE event_type = 'TicketIssued'),
       max(((envelope::jsonb) -> 'payload' ->> 'issued_at')::timestamptz) FILTER (WHERE event_type = 'TicketIssued'),
       bool_or(event_type = 'TicketCalled'),
       max(((envelope::jsonb) -> 'payload' ->> 'wait_seconds')::integer) FILTER (WHERE event_type = 'ServiceStarted'),
       max(((envelope::jsonb) -> 'payload' ->> 'service_seconds')::integer)
           FILTER (WHERE event_type = 'ServiceEnded' AND (envelope::jsonb) -> 'payload' ->> 'outcome' = 'served'),
       max((envelope::jsonb) -> 'payload' ->> 'outcome') FILTER (WHERE event_type = 'ServiceEnded')
  FROM audit_log
 WHERE event_type IN ('TicketIssued', 'TicketCalled', 'ServiceStarted', 'ServiceEnded')
 GROUP BY case_id;

-- Idempotency-Key of a ledger entry: a resent POST answers the entry it made, never a second one.
CREATE TABLE accountability_requests (
    actor_id        text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    text NOT NULL,
    event_id        uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (actor_id, idempotency_key)
);
