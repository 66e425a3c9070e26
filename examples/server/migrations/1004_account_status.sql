-- Accounts the operator deactivated (their keys answer 403 `account_deactivated`).
ALTER TABLE wa_accounts ADD COLUMN deactivated_at BIGINT;
