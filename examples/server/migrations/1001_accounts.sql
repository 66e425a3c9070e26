-- The reference server's own tables (versions 1000+; wa-send's queue uses 1-999), one
-- schema for SQLite and PostgreSQL. Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS wa_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the API key (hex); the key itself is never stored.
    key_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Delivery credentials as JSON with sealed secrets, or NULL (dry-run backend).
    credentials TEXT,
    -- The Meta phone number id this account proved it owns (credential check); routes
    -- inbound traffic, so it belongs to one account at most.
    phone_number_id TEXT,
    webhook_url TEXT,
    -- Sealed `whsec_` secrets: status webhooks, verification callbacks.
    signing_secret TEXT NOT NULL,
    callback_secret TEXT NOT NULL,
    -- Per-account defaults of the verification API's parameters (JSON).
    verification_defaults TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS wa_accounts_phone_number_id ON wa_accounts (phone_number_id) WHERE phone_number_id IS NOT NULL;

-- Ids of Meta webhook events already handled (message wamids, status ids + status), so a
-- redelivery changes nothing. Kept for a retention window.
CREATE TABLE IF NOT EXISTS wa_inbound_seen (
    id TEXT PRIMARY KEY NOT NULL,
    seen_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS wa_inbound_seen_at ON wa_inbound_seen (seen_at);
