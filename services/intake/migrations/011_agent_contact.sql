-- A resident without a mobile whose application a village agent (代办员) took is reached through the agent:
-- the contact names the agent instead of a number (published as CaseContact.agent_id). An erasure clears both.
ALTER TABLE case_contacts ADD COLUMN agent_id text;
ALTER TABLE case_contacts DROP CONSTRAINT case_contacts_check;
ALTER TABLE case_contacts ADD CONSTRAINT case_contacts_reachable CHECK (
    CASE WHEN erased_at IS NULL THEN phone IS NOT NULL OR agent_id IS NOT NULL
         ELSE phone IS NULL AND agent_id IS NULL END);
