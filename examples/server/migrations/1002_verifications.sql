-- Verifications (wa-verify's VerificationStore): the columns queried, and the whole
-- verification as JSON (`data`, written by `Verification::to_json`).
CREATE TABLE wa_verifications (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Bumped by every change; updates are written over the previous revision only.
    revision BIGINT NOT NULL,
    data TEXT NOT NULL
);
-- A code is unique among one application's pending verifications.
CREATE UNIQUE INDEX wa_verifications_pending_code
    ON wa_verifications (app_id, code) WHERE status = 'requested';
CREATE INDEX wa_verifications_code ON wa_verifications (app_id, code, requested_at);
-- The expiry sweep.
CREATE INDEX wa_verifications_due ON wa_verifications (expires_at) WHERE status = 'requested';

-- Velocity-limit events (per application, number, number prefix and sender).
CREATE TABLE wa_verify_events (
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX wa_verify_events_key ON wa_verify_events (key, at);
CREATE INDEX wa_verify_events_at ON wa_verify_events (at);
