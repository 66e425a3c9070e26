-- wa-send queue, one schema for SQLite and PostgreSQL (only TEXT and BIGINT columns, partial
-- indexes). Times are Unix milliseconds. `outbound` (the message, JSON) is written once;
-- `lifecycle` (status, timeline, last error, JSON) changes with the status.
CREATE TABLE IF NOT EXISTS wa_messages (
    id TEXT PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    batch_id TEXT,
    status TEXT NOT NULL,
    -- When a claim may take it: next attempt while waiting, lease end while processing,
    -- NULL once sent or finished. The claim query reads this index only.
    due_at BIGINT,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    attempts BIGINT NOT NULL,
    throttles BIGINT NOT NULL,
    first_attempt_at BIGINT,
    provider_message_id TEXT,
    backend TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    send_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    outbound TEXT NOT NULL,
    lifecycle TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wa_messages_due ON wa_messages (due_at) WHERE due_at IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS wa_messages_idempotency ON wa_messages (account, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS wa_messages_provider ON wa_messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS wa_messages_account ON wa_messages (account, id);
CREATE INDEX IF NOT EXISTS wa_messages_account_status ON wa_messages (account, status, id);
CREATE INDEX IF NOT EXISTS wa_messages_batch ON wa_messages (batch_id, id) WHERE batch_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS wa_batches (
    id TEXT PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    created_at BIGINT NOT NULL,
    result TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS wa_batches_idempotency ON wa_batches (account, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS wa_webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    reference TEXT,
    state TEXT NOT NULL,
    due_at BIGINT,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT,
    created_at BIGINT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS wa_webhook_deliveries_due ON wa_webhook_deliveries (due_at) WHERE due_at IS NOT NULL;
