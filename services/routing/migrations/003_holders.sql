-- A case nobody able was present for waits at the general window (综合窗口) until someone returns.
ALTER TABLE cases ADD COLUMN held_by_general_window boolean NOT NULL DEFAULT false;
CREATE INDEX cases_held ON cases (township_id, department_code) WHERE status = 'assigned' AND held_by_general_window;
