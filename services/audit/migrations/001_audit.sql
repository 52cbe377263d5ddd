-- The audit log: one row per event seen on any topic, append-only and hash-chained.
-- seq is assigned as head + 1 under the append lock rather than drawn from a sequence, so a
-- rolled-back append leaves no hole and a hole in seq always means a deleted row.
CREATE TABLE audit_log (
    seq            bigint PRIMARY KEY CHECK (seq >= 1),
    event_id       uuid NOT NULL UNIQUE,
    topic          text NOT NULL,
    event_type     text NOT NULL,
    case_id        uuid NOT NULL,
    township_id    text NOT NULL,
    source         text NOT NULL,
    stream_version integer NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    trace_id       text,
    envelope       text NOT NULL,          -- canonical JSON, phone masked: exactly what was hashed
    prev_hash      text NOT NULL,
    hash           text NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, occurred_at, seq);

-- The database refuses changes; the hash chain catches an owner who disables these triggers.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '审计日志只允许追加，禁止%操作', CASE TG_OP WHEN 'UPDATE' THEN '修改'
        WHEN 'DELETE' THEN '删除' ELSE '清空' END
        USING ERRCODE = 'restrict_violation', HINT = '审计记录一经写入不可更改';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
