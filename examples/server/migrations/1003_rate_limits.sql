-- Shared GCRA limiter state (used on PostgreSQL, so per-key limits hold across
-- replicas): the key's theoretical arrival time in Unix microseconds, and whether the
-- last request was admitted.
CREATE TABLE IF NOT EXISTS wa_rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    tat BIGINT NOT NULL,
    ok BIGINT NOT NULL
);
