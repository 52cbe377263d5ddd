-- Village agents (代办员) are rows of the staff file too: department `village_point`, never given a case
-- (assignment picks role 'staff' only), published on the staff-contacts topic so notify can text them.
ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check CHECK (role IN ('staff', 'centre_head', 'village_agent'));
-- Their department code, so the staff row's reference holds; no case is ever routed to it (cases carry a
-- department of the catalogue, which contracts/departments.py lists and this is not one of).
INSERT INTO departments (department_code, name) VALUES ('village_point', '村级代办点') ON CONFLICT DO NOTHING;
