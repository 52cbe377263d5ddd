-- A resident without a mobile is reached through the village agent (代办员) who took the case: the contact
-- record names the agent instead of a number, and notify texts the agent's work number (staff_contacts).
-- An erasure clears both.
ALTER TABLE resident_phones ADD COLUMN agent_id text;
ALTER TABLE resident_phones DROP CONSTRAINT resident_phones_check;
ALTER TABLE resident_phones ADD CONSTRAINT resident_phones_reachable CHECK (
    CASE WHEN erased_at IS NULL THEN phone IS NOT NULL OR agent_id IS NOT NULL
         ELSE phone IS NULL AND agent_id IS NULL END);
ALTER TABLE staff_contacts DROP CONSTRAINT staff_contacts_role_check;
ALTER TABLE staff_contacts ADD CONSTRAINT staff_contacts_role_check
    CHECK (role IN ('staff', 'centre_head', 'village_agent'));
