-- wa-send queue: messages and outbound webhook deliveries. `body` holds the whole record as
-- JSON; the other columns mirror the fields queries filter on.
CREATE TABLE IF NOT EXISTS wa_messages (
    id TEXT PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    batch_id TEXT,
    status TEXT NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    provider_message_id TEXT,
    idempotency_key TEXT,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS wa_messages_idempotency ON wa_messages (account, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS wa_messages_due ON wa_messages (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS wa_messages_lease ON wa_messages (status, lease_until);
CREATE INDEX IF NOT EXISTS wa_messages_provider ON wa_messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS wa_messages_account ON wa_messages (account, id);

CREATE TABLE IF NOT EXISTS wa_webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wa_webhook_deliveries_due ON wa_webhook_deliveries (state, next_attempt_at);
