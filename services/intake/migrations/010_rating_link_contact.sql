-- A case's SMS rating link travels to notify on the contact record (ADR 29): the row keeps the link's id
-- and expiry, never the token, which the relay makes again with the secret when it publishes the record.
ALTER TABLE case_contacts
    ADD COLUMN rating_link_id         uuid,
    ADD COLUMN rating_link_expires_at timestamptz;
