-- A deadline counted on the provisional calendar (暂定日历) is shown as such until routing recounts it,
-- and the status page says when routing's clock stands still (暂停计时) and why.
ALTER TABLE cases
    ADD COLUMN deadline_provisional boolean NOT NULL DEFAULT false,
    ADD COLUMN clock_paused_reason  text,
    ADD COLUMN clock_paused_note    text,
    ADD COLUMN clock_paused_at      timestamptz;
ALTER TABLE owed_materials ADD COLUMN due_provisional boolean NOT NULL DEFAULT false;
