-- The Merkle tree over the audit log (RFC 9162): the hash of every complete, aligned subtree,
-- (level, idx) covering leaves idx * 2^level .. (idx + 1) * 2^level - 1, leaf index = seq - 1.
-- Written in the transaction that appends the record, never changed: the primary key makes a
-- reused record number (a deleted tail appended again) fail instead of forking the tree.
-- Records that were logged before this table existed are added by the service at start
-- (merkle_store.catch_up), since leaf data is the canonical JSON the service computes.
CREATE TABLE merkle_nodes (
    level  smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx    bigint NOT NULL CHECK (idx >= 0),
    hash   bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);

-- Evidence, like audit_log: the database refuses changes, and a signed tree head catches an
-- owner who switches the triggers off.
CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
