-- The second rating (整改后再评价, ADR 36): asked for by a rectification on routing's case stream, given once,
-- recorded beside the first and never in its place.
ALTER TABLE cases
    ADD COLUMN rating_event_id       uuid,         -- the first rating's CaseRated, which a second one follows
    ADD COLUMN rate_again_asked_at   timestamptz,  -- a RectificationRecorded with rate_again
    ADD COLUMN second_rating_score   smallint,
    ADD COLUMN second_rating_channel text,
    ADD COLUMN rated_again_at        timestamptz;

-- Ratings given before this migration: their CaseRated is in intake's own event store.
UPDATE cases c SET rating_event_id = e.event_id
  FROM events e WHERE e.case_id = c.case_id AND e.event_type = 'CaseRated' AND c.rated_at IS NOT NULL;

-- Which round a link rates, and which round the link on the contact record is for (notify words it).
ALTER TABLE rating_links ADD COLUMN rating_round smallint NOT NULL DEFAULT 1 CHECK (rating_round IN (1, 2));
ALTER TABLE case_contacts ADD COLUMN rating_link_round smallint NOT NULL DEFAULT 1 CHECK (rating_link_round IN (1, 2));
